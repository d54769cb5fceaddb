"""Setting up predicted fields."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from catalogue.models import DecisionPolicy, Field, Label
from glamml.ml.langid import UNDETERMINED
from glamml.ml.languages import language_name

LANGUAGE = "language"


@transaction.atomic
def field_ensure_language() -> Field:
    """The ``language`` field with its policy and an ISO 639-3 vocabulary; safe to call often."""
    field, _ = Field.objects.get_or_create(
        key=LANGUAGE,
        defaults={"name": "Language", "kind": Field.Kind.LANGUAGE, "text_source": ["title"]},
    )
    DecisionPolicy.objects.get_or_create(
        field=field,
        defaults={
            "mode": DecisionPolicy.Mode.THRESHOLD,
            "threshold": settings.GLAMML_DEFAULT_THRESHOLD,
        },
    )
    Label.objects.get_or_create(
        field=field, code=UNDETERMINED, defaults={"name": language_name(UNDETERMINED)}
    )
    return field


def field_get(*, key: str) -> Field:
    """The field called ``key``; the language field is created on first use."""
    if key == LANGUAGE:
        return field_ensure_language()
    return Field.objects.select_related("policy").get(key=key)
