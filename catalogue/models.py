"""Records, the values on them (with provenance), and the machine that suggests values.

A record's value for a field is never overwritten in place: every change adds a ``FieldValue``
row and moves the ``is_current`` mark, so the history of a field can always be shown.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Collection(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_public = models.BooleanField(default=True)
    is_sensitive = models.BooleanField(
        default=False, help_text="Predictions for records here always go to a person."
    )
    licence = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Record(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="records")
    identifier = models.CharField(max_length=200)
    title = models.TextField(blank=True)
    description = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Set only by the review queue's selector (Prefetch(..., to_attr=...)), for one query.
    current_values: list[FieldValue]
    open_flags: list[Flag]

    class Meta:
        ordering = ["collection_id", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "identifier"], name="record_identifier_unique_in_collection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.identifier}: {self.title[:60]}"


class Field(models.Model):
    """A metadata field a model can predict, such as ``language``."""

    class Kind(models.TextChoices):
        LANGUAGE = "language", "Language"
        LABEL = "label", "Label"

    class Metric(models.TextChoices):
        ACCURACY = "accuracy", "Accuracy"
        MACRO_F1 = "macro_f1", "Macro-F1 (every label counts the same)"

    key = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.LABEL)
    # Which record attributes make the text the model reads, in order.
    text_source = models.JSONField(default=list)
    # A label field's classifier settings (glamml.ml.textclf DEFAULT_PARAMS keys); empty: defaults.
    model_params = models.JSONField(default=dict, blank=True)
    metric = models.CharField(max_length=20, choices=Metric.choices, default=Metric.MACRO_F1)
    # Where the field applies; none chosen means every collection (as for language).
    collections = models.ManyToManyField(Collection, blank=True, related_name="fields")
    created_at = models.DateTimeField(auto_now_add=True, null=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="labels")
    code = models.CharField(max_length=50)
    name = models.CharField(max_length=200)
    is_sensitive = models.BooleanField(
        default=False, help_text="Never applied without a person, whatever the policy."
    )
    # The rules baseline: regular expressions, one per line, any of which suggests this label.
    rules = models.TextField(blank=True)

    class Meta:
        ordering = ["field_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["field", "code"], name="label_code_unique_in_field")
        ]

    def __str__(self) -> str:
        return label_title(self.code, self.name)


def label_title(code: str, name: str | None) -> str:
    """ "Italian (ita)": a label's name with its code once, as people read it; just the code when
    the label has no other name (the demo's genres and object types: never "Fiction (Fiction)")."""
    return f"{name} ({code})" if name and name != code else code


class DecisionPolicy(models.Model):
    class Mode(models.TextChoices):
        AUTO = "auto", "Apply every prediction"
        REVIEW = "review", "A person reviews every prediction"
        THRESHOLD = "threshold", "Apply at or above the threshold, review below"

    field = models.OneToOneField(Field, on_delete=models.CASCADE, related_name="policy")
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.REVIEW)
    threshold = models.FloatField(default=0.9)
    show_public = models.BooleanField(default=True)
    # A candidate at least as good as the active version (and better than the rules) goes live.
    auto_promote = models.BooleanField(default=True)
    # Scheduled retraining waits for this many new human decisions since the last run.
    retrain_after_decisions = models.PositiveIntegerField(default=50)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.field.key}: {self.mode} @ {self.threshold}"


class PolicyChange(models.Model):
    policy = models.ForeignKey(DecisionPolicy, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    attribute = models.CharField(max_length=50)
    old_value = models.JSONField(null=True)
    new_value = models.JSONField(null=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.attribute}: {self.old_value!r} -> {self.new_value!r}"


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    # The large JSON documents: reads that only name a version (its number) defer them.
    DOCUMENTS = ("params", "metrics", "baselines", "card")

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="model_versions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CANDIDATE)
    artefact = models.CharField(max_length=500, help_text="Path relative to the model directory.")
    checksum = models.CharField(max_length=64)
    format_version = models.PositiveIntegerField()
    params = models.JSONField(default=dict)
    training_fingerprint = models.CharField(max_length=64)
    n_train = models.PositiveIntegerField(default=0)
    n_test = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    metrics = models.JSONField(default=dict)
    baselines = models.JSONField(default=dict)
    # Everything the model card says, frozen when the version is made.
    card = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["field_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["field", "version"], name="model_version_unique"),
            models.UniqueConstraint(
                fields=["field"],
                condition=Q(status="active"),
                name="one_active_model_per_field",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field.key} v{self.version}"

    @classmethod
    def documents_through(cls, relation: str) -> tuple[str, ...]:
        """The documents of the version a query reaches through ``relation``, to defer."""
        return tuple(f"{relation}__{name}" for name in cls.DOCUMENTS)


class TrainingRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        SKIPPED = "skipped", "Skipped: nothing new to learn"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Started by a person"
        SCHEDULE = "schedule", "Scheduled: new decisions arrived"
        COMMAND = "command", "Command line"
        MONITORING = "monitoring", "Monitoring: drift or falling live precision"
        BASE = "base", "The shipped base model, for a new deployment"
        DEMO = "demo", "The demo's set-up (manage.py demo)"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="training_runs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    progress = models.PositiveSmallIntegerField(default=0)
    params = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    # Why it ran, in words, when more than the trigger says (which alert started it).
    reason = models.TextField(blank=True)
    model_version = models.OneToOneField(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="training_run"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field_id} training run {self.code} ({self.status})"


class Prediction(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        QUEUED = "queued", "Waiting for review"
        ACCEPTED = "accepted", "Accepted"
        CORRECTED = "corrected", "Corrected"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded"
        # Not a question for anyone: the record's catalogue or person's value says the same.
        AGREED = "agreed", "Agrees with the record's value"
        # A cataloguer said the field does not apply to this record: never asked again.
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    WAITING = (Status.QUEUED,)
    DECIDED = (Status.ACCEPTED, Status.CORRECTED, Status.REJECTED)

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # No index of their own: every prediction batch writes each index, and the record's is the
    # head of the unique (record, field, model_version), the field's of (field, status, …).
    record = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="predictions", db_index=False
    )
    field = models.ForeignKey(
        Field, on_delete=models.CASCADE, related_name="predictions", db_index=False
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="predictions"
    )
    label = models.CharField(max_length=50)
    confidence = models.FloatField()
    # [[label, confidence], ...] best first, the prediction itself included.
    alternatives = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Status.choices)
    raw_confidence = models.FloatField(null=True, blank=True)  # the model's; confidence: calibrated
    # Which rule sent it where: a policy mode, "sensitive-collection", "sensitive-label", "flag".
    routed_by = models.CharField(max_length=40, blank=True)
    # Gap between the two likeliest labels: small means the model hesitates between two.
    margin = models.FloatField(default=1.0)
    # A fixed pseudo-random rank, so a random audit sample is stable across pages.
    audit_rank = models.FloatField(default=0.0)
    # Bumped each time the item goes back to the queue, so a decision names the round it answers.
    review_round = models.PositiveIntegerField(default=0)
    flagged = models.BooleanField(default=False)
    # The record's collection, copied so "waiting in collection C, in order O" is one range of a
    # partial index rather than a join that reads the whole queue for a small collection. The
    # database keeps it (triggers of migration 0021: on an insert that does not name it, and when
    # a record moves), so every way of inserting predictions, set-wise SQL included, gets it; an
    # instance created without it holds None until read again.
    collection = models.ForeignKey(
        Collection,
        on_delete=models.CASCADE,
        null=True,
        editable=False,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["confidence", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "field", "model_version"], name="one_prediction_per_model"
            )
        ]
        indexes = [
            models.Index(fields=["field", "status", "confidence"]),
            # The review queue reads waiting items in each of its orders (flagged first), for all
            # fields, one field or one collection: partial indexes hold only the waiting rows, so
            # a page is an index range whatever the number of predictions
            # (review/selectors/queue_pages.py).
            *(
                models.Index(
                    fields=[*lead, "-flagged", *order],
                    condition=Q(status="queued"),
                    name=f"prediction_waiting{suffix}_{name}",
                )
                for name, order in (
                    ("conf", ["confidence", "id"]),
                    ("margin", ["margin", "confidence", "id"]),
                    ("audit", ["audit_rank", "id"]),
                )
                for lead, suffix in (([], ""), (["field"], "_f"), (["collection"], "_c"))
            ),
            # The queue narrowed to one predicted label of a field, least confident first.
            models.Index(
                fields=["field", "label", "-flagged", "confidence", "id"],
                condition=Q(status="queued"),
                name="prediction_waiting_fl_conf",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record.identifier} {self.field.key}={self.label} ({self.confidence:.2f})"


class SplitAssignment(models.Model):
    """Which side of a field's frozen held-out split a labelled record is on.

    Fixed the first time a record is labelled, so every model version of a field is compared
    on the same held-out records; the held-out side grows only with new human decisions.
    """

    class Side(models.TextChoices):
        TRAIN = "train", "Training"
        TEST = "test", "Held out"

    field = models.ForeignKey(Field, on_delete=models.CASCADE, related_name="split")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["field", "record"], name="one_split_side_per_record")
        ]

    def __str__(self) -> str:
        return f"{self.field_id}/{self.record_id}: {self.side}"


class FieldValue(models.Model):
    """One value of a field on a record, with where it came from."""

    class Source(models.TextChoices):
        IMPORT = "import", "From the source catalogue"
        MODEL = "model", "Suggested by a model"
        HUMAN = "human", "Checked by a cataloguer"

    class Action(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        CORRECTED = "corrected", "Corrected"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        # A person took a decision back and nothing was there before it.
        UNDONE = "undone", "Undone"
        # A person said the field does not apply to this record (an empty value, never a label).
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="values")
    # No index of its own: it heads (field, source, is_current), and each model value written
    # would update both.
    field = models.ForeignKey(
        Field, on_delete=models.CASCADE, related_name="values", db_index=False
    )
    # Empty when the value was removed (a rejection, or a model value withdrawn).
    label = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    action = models.CharField(max_length=20, choices=Action.choices, blank=True)
    prediction = models.ForeignKey(
        Prediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="values"
    )
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="values"
    )
    confidence = models.FloatField(null=True, blank=True)
    policy = models.CharField(max_length=40, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "field"],
                condition=Q(is_current=True),
                name="one_current_value_per_field",
            )
        ]
        indexes = [models.Index(fields=["field", "source", "is_current"])]

    def __str__(self) -> str:
        return f"{self.record_id} {self.field_id}={self.label or '∅'} ({self.source})"


class Decision(models.Model):
    class Action(models.TextChoices):
        ACCEPT = "accept", "Accept"
        CORRECT = "correct", "Correct"
        REJECT = "reject", "Reject"

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="decisions")
    review_round = models.PositiveIntegerField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    action = models.CharField(max_length=20, choices=Action.choices)
    label = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The record's value just before the decision, which undoing it brings back.
    value_before = models.ForeignKey(
        "FieldValue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when a person undoes or changes the decision: it stays in the history, but only
    # standing decisions (withdrawn_at is null) count as what people decided.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prediction", "review_round"], name="one_decision_per_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.label} on prediction {self.prediction_id}"


# Public flags and confirmations, monitoring's tables, the outbox, rate limits, harvest sources,
# API tokens and collection calibrations live in their own modules; importing them here
# registers them with the app.
from catalogue.models_api import ApiToken as ApiToken  # noqa: E402
from catalogue.models_calibration import CollectionCalibration as CollectionCalibration  # noqa: E402
from catalogue.models_harvest import HarvestSource as HarvestSource  # noqa: E402
from catalogue.models_jobs import FieldJob as FieldJob  # noqa: E402
from catalogue.models_monitoring import Alert as Alert  # noqa: E402
from catalogue.models_monitoring import DriftReference as DriftReference  # noqa: E402
from catalogue.models_monitoring import MonitoringPolicy as MonitoringPolicy  # noqa: E402
from catalogue.models_monitoring import Snapshot as Snapshot  # noqa: E402
from catalogue.models_monitoring import SpotCheck as SpotCheck  # noqa: E402
from catalogue.models_outbox import OutboxTask as OutboxTask  # noqa: E402
from catalogue.models_public import Confirmation as Confirmation  # noqa: E402
from catalogue.models_public import Flag as Flag  # noqa: E402
from catalogue.models_ratelimit import RateLimitClient as RateLimitClient  # noqa: E402
from catalogue.models_ratelimit import RateLimitHit as RateLimitHit  # noqa: E402
