"""Setting up predicted fields."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from catalogue.models import Collection, DecisionPolicy, Field, Label, PolicyChange
from glamml.ml.langid import UNDETERMINED
from glamml.ml.languages import language_name
from glamml.ml.textclf import DEFAULT_PARAMS, ParamError, check_params

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


FIELD_EXISTS = "A field with the key {key!r} exists already."
TOO_FEW_LABELS = "A label field needs at least two labels; {key!r} has {n}."
BAD_MODEL_PARAMS = "Field {key!r}: {error}"
BAD_TEXT_SOURCE = "Field {key!r} reads {name!r}, which is not title, description or a column name."
NO_MODEL_PARAMS = (
    "Field {key!r} is a language field: its model's settings are fitted when its profiles are "
    "built, not set here."
)


@transaction.atomic
def field_create(
    *,
    key: str,
    name: str,
    labels: list[tuple[str, str]],
    text_source: list[str],
    metric: str = Field.Metric.MACRO_F1,
    description: str = "",
    mode: str = DecisionPolicy.Mode.REVIEW,
    collections: list[Collection] | None = None,
    model_params: dict[str, Any] | None = None,
) -> Field:
    """Define a single-label text field: its vocabulary, what it reads, what it optimises.

    ``model_params`` are its classifier's settings (keys of ``glamml.ml.textclf``'s
    ``DEFAULT_PARAMS``; the others keep their defaults), used by every training run.
    A new field starts in ``review`` mode: nothing is applied before an admin decides so.
    """
    if Field.objects.filter(key=key).exists():
        raise ValueError(FIELD_EXISTS.format(key=key))
    codes = list(dict.fromkeys(code.strip() for code, _ in labels if code.strip()))
    if len(codes) < 2:
        raise ValueError(TOO_FEW_LABELS.format(key=key, n=len(codes)))
    for source in text_source:
        if not source.strip():
            raise ValueError(BAD_TEXT_SOURCE.format(key=key, name=source))
    if metric not in Field.Metric.values:
        raise ValueError(f"Unknown metric {metric!r}: use accuracy or macro_f1.")
    try:
        check_params(model_params)
    except ValueError as exc:
        raise ValueError(BAD_MODEL_PARAMS.format(key=key, error=exc)) from None
    field = Field.objects.create(
        key=key,
        name=name,
        kind=Field.Kind.LABEL,
        text_source=[s.strip() for s in text_source],
        metric=metric,
        description=description,
        model_params=dict(model_params or {}),
    )
    if collections:
        field.collections.set(collections)
    names = {code.strip(): label_name.strip() for code, label_name in labels}
    Label.objects.bulk_create(
        [Label(field=field, code=code, name=names.get(code) or code) for code in codes]
    )
    DecisionPolicy.objects.create(
        field=field, mode=mode, threshold=settings.GLAMML_DEFAULT_THRESHOLD
    )
    return field


def _off_default(params: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value != DEFAULT_PARAMS[name]}


def field_model_params(field: Field) -> dict[str, Any]:
    """Every setting a label field's next training run will use: its own over the defaults."""
    return check_params(field.model_params)


@transaction.atomic
def field_set_model_params(
    *, field: Field, params: dict[str, Any], changed_by: User | None
) -> bool:
    """Set a label field's classifier settings for its next training runs; ``True`` if changed.

    Only settings that differ from the defaults are kept, so a field left at a default follows
    it. Raises :class:`glamml.ml.textclf.ParamError` naming the bad parameter (nothing is
    saved). The active model version is not touched: the settings apply from the next run, and
    the change is logged with the field's policy.
    """
    if field.kind != Field.Kind.LABEL:
        raise ValueError(NO_MODEL_PARAMS.format(key=field.key))
    try:
        checked = check_params(params)
    except ParamError as exc:
        raise ParamError(exc.param, BAD_MODEL_PARAMS.format(key=field.key, error=exc)) from None
    kept = _off_default(checked)
    try:  # as the form writes them, so that the log shows only what changed
        before = _off_default(check_params(field.model_params))
    except ParamError:
        before = dict(field.model_params or {})
    if kept == before:
        return False
    field.model_params = kept
    field.save(update_fields=["model_params"])
    PolicyChange.objects.create(
        policy=field.policy,
        changed_by=changed_by,
        attribute="model_params",
        old_value=before,
        new_value=kept,
    )
    return True
