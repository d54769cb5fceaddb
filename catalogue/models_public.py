"""What visitors tell us: "this is wrong" (a flag) and "this is right" (a confirmation)."""

from __future__ import annotations

import uuid

from django.db import models


class Flag(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey("catalogue.Record", on_delete=models.CASCADE, related_name="flags")
    field = models.ForeignKey("catalogue.Field", on_delete=models.CASCADE, related_name="flags")
    prediction = models.ForeignKey(
        "catalogue.Prediction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flags",
    )
    flagged_label = models.CharField(max_length=50, blank=True)
    proposed_label = models.CharField(max_length=50, blank=True)
    comment = models.TextField(blank=True, max_length=2000)
    # A salted hash of the client address: enough to rate-limit, not enough to identify.
    client_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"flag on {self.record_id} {self.field_id} ({self.status})"


class Confirmation(models.Model):
    """A visitor said a value or suggestion is right: weak evidence, shown to cataloguers.

    It never changes a value, never overrides a cataloguer and is not a training label on its
    own; it is rate-limited with flags, by the same salted hash of the client address.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(
        "catalogue.Record", on_delete=models.CASCADE, related_name="confirmations"
    )
    field = models.ForeignKey(
        "catalogue.Field", on_delete=models.CASCADE, related_name="confirmations"
    )
    # The model's prediction the visitor saw, when the value shown was a model's.
    prediction = models.ForeignKey(
        "catalogue.Prediction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmations",
    )
    label = models.CharField(max_length=50)
    # What the visitor saw: "model" (an applied value or a waiting suggestion), "import", "human".
    source = models.CharField(max_length=20)
    client_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["record", "field", "label"]),
            models.Index(fields=["client_hash", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.field_id}={self.label} confirmed"
