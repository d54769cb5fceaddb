"""Background work on a whole field that a person waits for: re-routing and re-predicting.

Imported at the end of ``catalogue.models`` so that Django registers the table with the
catalogue app; import it from there. ``catalogue.services.jobs`` is the only writer. Training
has its own row (``TrainingRun``), which a page polls the same way.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class FieldJob(models.Model):
    """One background job on a field, created with the change that asked for it.

    ``done`` of ``total`` is what the page's progress bar shows; ``message`` says how it ended
    (or why it failed).
    """

    class Kind(models.TextChoices):
        REROUTE = "reroute", "Re-routing waiting predictions"
        REPREDICT = "repredict", "Predicting again with the active model"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    field = models.ForeignKey("catalogue.Field", on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    # Why it runs, in words ("after the threshold changed from 0.80 to 0.90").
    reason = models.CharField(max_length=300, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last sign of life (created, claimed, a count, or the queue moving in front of its waiting
    # work): a job quiet for too long lost its worker.
    touched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["field", "-created_at"], name="field_job_latest")]

    def __str__(self) -> str:
        return f"{self.field_id} {self.kind} {self.code} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, round(100 * self.done / self.total))
