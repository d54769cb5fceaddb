"""The outbox: follow-up work written to Postgres in the transaction that needs it.

Imported at the end of ``catalogue.models`` so that Django registers the table with the
catalogue app; import it from there. ``catalogue.dispatch`` is the only writer.
"""

from __future__ import annotations

from django.db import models


class OutboxTask(models.Model):
    """One task to send to the queue. Sent once the change that wanted it commits; while the
    broker is unreachable it waits here, and the outbox sweep sends it when the broker answers.
    """

    name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The sweep reads only the unsent rows, oldest first.
            models.Index(
                fields=["id"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent"
            )
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "waiting"
        return f"{self.name}{tuple(self.args)} ({state})"
