"""Factories for tests: small, real objects, no fake models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from catalogue import models
from catalogue.roles import cataloguer_group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("a-long-test-password")


class CataloguerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"cataloguer{n}")

    @factory.post_generation
    def group(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.groups.add(cataloguer_group())


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Collection
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"collection-{n}")
    name = factory.Sequence(lambda n: f"Collection {n}")
    is_public = True
    licence = "CC0 1.0"


class RecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Record

    collection = factory.SubFactory(CollectionFactory)
    identifier = factory.Sequence(lambda n: f"rec-{n:05d}")
    title = "Histoire de la littérature française depuis les origines"


def language_field() -> models.Field:
    from catalogue.services.fields import LANGUAGE, field_ensure_language

    # Factories ask for the field once for each object they make (a test may make hundreds).
    # field_ensure_language makes it with its policy and vocabulary and is the only way the
    # field is made, so once it exists one query finds it instead of three.
    return models.Field.objects.filter(key=LANGUAGE).first() or field_ensure_language()


class ModelVersionFactory(factory.django.DjangoModelFactory):
    """A version row without a real artefact: for pages that show predictions, not for inference."""

    class Meta:
        model = models.ModelVersion

    field = factory.LazyFunction(language_field)
    version = factory.Sequence(lambda n: n + 1)
    status = models.ModelVersion.Status.ACTIVE
    artefact = factory.LazyAttribute(lambda o: f"{o.field.key}/v{o.version:04d}.npz")
    checksum = "0" * 64
    format_version = 1
    training_fingerprint = "f" * 64
    metrics = factory.LazyFunction(lambda: {"accuracy": 0.9, "macro_f1": 0.8, "n": 10})


class PredictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Prediction

    record = factory.SubFactory(RecordFactory)
    field = factory.LazyFunction(language_field)
    model_version = factory.LazyAttribute(
        lambda o: (
            models.ModelVersion.objects.filter(field=o.field, status="active").first()
            or ModelVersionFactory(field=o.field)
        )
    )
    label = "fra"
    confidence = 0.62
    alternatives = factory.LazyAttribute(
        lambda o: [[o.label, o.confidence], ["ita", 0.2], ["spa", 0.1]]
    )
    status = models.Prediction.Status.QUEUED
    routed_by = "threshold"


class FieldValueFactory(factory.django.DjangoModelFactory):
    """A record's value for the language field; ``source`` says where it came from."""

    class Meta:
        model = models.FieldValue

    record = factory.SubFactory(RecordFactory)
    field = factory.LazyFunction(language_field)
    label = "fra"
    source = models.FieldValue.Source.IMPORT
    is_current = True


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Flag

    record = factory.SubFactory(RecordFactory)
    field = factory.LazyFunction(language_field)
    flagged_label = "fra"
    client_hash = factory.Sequence(lambda n: f"{n:064x}")


class LabelFactory(factory.django.DjangoModelFactory):
    """A label in the language field's vocabulary (``name`` defaults to the code)."""

    class Meta:
        model = models.Label
        django_get_or_create = ("field", "code")

    field = factory.LazyFunction(language_field)
    code = "fra"
    name = factory.LazyAttribute(lambda o: o.code)


class TrainingRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.TrainingRun

    field = factory.LazyFunction(language_field)
    status = models.TrainingRun.Status.QUEUED


def applied_prediction(**kwargs: object) -> models.Prediction:
    """A prediction the policy applied, and the model value it wrote on its record."""
    kwargs.setdefault("status", models.Prediction.Status.APPLIED)
    prediction: models.Prediction = PredictionFactory(**kwargs)
    FieldValueFactory(
        record=prediction.record,
        field=prediction.field,
        label=prediction.label,
        source=models.FieldValue.Source.MODEL,
        prediction=prediction,
        model_version=prediction.model_version,
        confidence=prediction.confidence,
    )
    return prediction


def spot_checked_prediction(**kwargs: object) -> models.Prediction:
    """A value the policy applied, drawn for a spot check: it waits, its value stays applied."""
    from catalogue.services.monitoring.spotchecks import spot_checks_select

    kwargs.setdefault("routed_by", "auto")
    prediction = applied_prediction(**kwargs)
    spot_checks_select(field=prediction.field, prediction_ids=[prediction.id])
    prediction.refresh_from_db()
    assert (prediction.status, prediction.routed_by) == ("queued", "spot-check")
    return prediction


def spot_checks_off(field: models.Field) -> None:
    """No applied value of this field is drawn for a spot check.

    Which values are drawn depends on a hash of the record's id, so a test that expects every
    value applied, with the default audit rate, would pass in some runs only.
    """
    models.MonitoringPolicy.objects.update_or_create(field=field, defaults={"audit_rate": 0.0})
