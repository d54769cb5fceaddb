"""A field's label vocabulary."""

from __future__ import annotations

from collections.abc import Iterable

from catalogue.models import Field, Label
from glamml.ml.languages import UnknownLanguageError, language_name, normalise_language

UNKNOWN_LABEL = "{value!r} is not a label of field {field!r}."


class UnknownLabelError(ValueError):
    pass


def label_normalise(*, field: Field, value: str) -> str:
    """The field's code for ``value``; language fields accept ISO 639-1/2/3 codes and names."""
    value = value.strip()
    if field.kind == Field.Kind.LANGUAGE:
        try:
            return normalise_language(value)
        except UnknownLanguageError as exc:
            raise UnknownLabelError(str(exc)) from None
    if field.labels.filter(code=value).exists():
        return value
    raise UnknownLabelError(UNKNOWN_LABEL.format(value=value, field=field.key))


def labels_ensure(*, field: Field, codes: Iterable[str]) -> None:
    """Add missing codes to a language field's vocabulary (other fields' vocabularies are fixed)."""
    codes = set(codes)
    if field.kind != Field.Kind.LANGUAGE or not codes:
        return
    known = set(field.labels.filter(code__in=codes).values_list("code", flat=True))
    Label.objects.bulk_create(
        [Label(field=field, code=c, name=language_name(c)) for c in sorted(codes - known)],
        ignore_conflicts=True,
    )
