"""Watching a live model: spot checks of applied values, daily snapshots, drift references and
alerts. Imported at the end of ``catalogue.models`` so that Django registers these tables with
the catalogue app; import them from there. Relations name their models as strings, so this
module imports nothing back from ``catalogue.models``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class MonitoringPolicy(models.Model):
    """How closely a field's live model is watched, and what an alert does. Set by an admin."""

    class OnAlert(models.TextChoices):
        PROPOSE = "propose", "Propose retraining to an admin"
        RETRAIN = "retrain", "Start retraining at once"

    field = models.OneToOneField(
        "catalogue.Field", on_delete=models.CASCADE, related_name="monitoring"
    )
    audit_rate = models.FloatField(
        default=0.02, help_text="Share of the values a model applies that a person spot-checks."
    )
    window_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days of predictions each drift score looks at."
    )
    min_records = models.PositiveIntegerField(
        default=50, help_text="No drift is judged on fewer records than this (on either side)."
    )
    drift_threshold = models.FloatField(
        default=0.2, help_text="Jensen–Shannon distance at or above which a clear shift alerts."
    )
    precision_alerts = models.BooleanField(
        default=True,
        help_text="Alert when spot checks show precision below the held-out one.",
    )
    flags_per_thousand = models.FloatField(
        null=True, blank=True, help_text="Alert when public flags per 1,000 records exceed this."
    )
    on_alert = models.CharField(max_length=20, choices=OnAlert.choices, default=OnAlert.PROPOSE)
    email_to = models.TextField(blank=True, help_text="Comma-separated addresses told of alerts.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"monitoring of {self.field_id}"


class SpotCheck(models.Model):
    """An applied value drawn at random (the field's audit rate) for a person to check.

    The value stays applied meanwhile; the prediction waits in the queue as a spot check (in a
    collection made sensitive, or moved into one, its value is withdrawn and it waits for that
    reason; the row is kept). The outcome is the first decision on the prediction from
    ``review_round`` on.
    """

    prediction = models.OneToOneField(
        "catalogue.Prediction", on_delete=models.CASCADE, related_name="spot_check"
    )
    field = models.ForeignKey(
        "catalogue.Field", on_delete=models.CASCADE, related_name="spot_checks"
    )
    collection = models.ForeignKey(
        "catalogue.Collection", on_delete=models.CASCADE, related_name="+"
    )
    model_version = models.ForeignKey(
        "catalogue.ModelVersion", on_delete=models.CASCADE, related_name="+"
    )
    confidence = models.FloatField()
    review_round = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["field", "created_at"])]

    def __str__(self) -> str:
        return f"spot check of prediction {self.prediction_id}"


class DriftReference(models.Model):
    """What a model version's live data is compared with: its training and held-out records.

    One row for the field as a whole (``collection`` empty, with the trigram vocabulary of the
    training texts) and one per collection the labelled records came from.
    """

    model_version = models.ForeignKey(
        "catalogue.ModelVersion", on_delete=models.CASCADE, related_name="drift_references"
    )
    collection = models.ForeignKey(
        "catalogue.Collection", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    profile = models.JSONField(default=dict)
    vocabulary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version"],
                condition=Q(collection__isnull=True),
                name="one_field_drift_reference",
            ),
            models.UniqueConstraint(
                fields=["model_version", "collection"],
                condition=Q(collection__isnull=False),
                name="one_collection_drift_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"drift reference of version {self.model_version_id}/{self.collection_id}"


class Snapshot(models.Model):
    """One day of a field's live figures, for one collection or (``collection`` empty) all.

    Recomputed from the database while the day is recent, so taking it twice with the same data
    writes nothing the second time.
    """

    field = models.ForeignKey("catalogue.Field", on_delete=models.CASCADE, related_name="snapshots")
    collection = models.ForeignKey(
        "catalogue.Collection", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    model_version = models.ForeignKey(
        "catalogue.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stats = models.JSONField(default=dict)
    drift = models.JSONField(default=dict)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["field_id", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["field", "day"],
                condition=Q(collection__isnull=True),
                name="one_field_snapshot_a_day",
            ),
            models.UniqueConstraint(
                fields=["field", "collection", "day"],
                condition=Q(collection__isnull=False),
                name="one_collection_snapshot_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field_id}/{self.collection_id or 'all'} {self.day}"


class Alert(models.Model):
    """A line crossed: what, which line, when, for which records; kept once acknowledged."""

    class Kind(models.TextChoices):
        DRIFT = "drift", "Drift"
        PRECISION = "precision", "Live precision"
        FLAGS = "flags", "Public flags"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    field = models.ForeignKey("catalogue.Field", on_delete=models.CASCADE, related_name="alerts")
    collection = models.ForeignKey(
        "catalogue.Collection", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    day = models.DateField(help_text="The snapshot day that crossed the line.")
    window_start = models.DateField()
    message = models.TextField()
    # {score: {"value": …, "line": …, ...}} for every figure that crossed its line.
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    training_run = models.ForeignKey(
        "catalogue.TrainingRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["field", "kind", "day"])]

    def __str__(self) -> str:
        return f"{self.kind} alert on {self.field_id} ({self.day})"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
