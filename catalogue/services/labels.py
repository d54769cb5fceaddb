"""A field's label vocabulary."""

from __future__ import annotations

from collections.abc import Iterable

from catalogue.models import Field, Label
from glamml.ml.languages import (
    UnknownLanguageError,
    catalogue_language_name,
    normalise_catalogue_language,
)

UNKNOWN_LABEL = "{value!r} is not a label of field {field!r}."
_VOCABULARY = "_glamml_vocabulary"


class UnknownLabelError(ValueError):
    pass


def label_normalise(*, field: Field, value: str) -> str:
    """The field's code for ``value``; language fields accept ISO 639-1/2/3 codes and names.

    A language field also accepts every code a catalogue uses (collective codes, ``mul``,
    ``und``, ``zxx``, ``mis``): stored and shown, never a training label.
    """
    value = value.strip()
    if field.kind == Field.Kind.LANGUAGE:
        try:
            return normalise_catalogue_language(value)
        except UnknownLanguageError as exc:
            raise UnknownLabelError(str(exc)) from None
    code = _vocabulary(field).get(value) or _vocabulary(field).get(value.casefold())
    if code is not None:
        return code
    raise UnknownLabelError(UNKNOWN_LABEL.format(value=value, field=field.key))


def _vocabulary(field: Field) -> dict[str, str]:
    """Codes by code, and by case-folded code and name; read once per field object.

    An import checks every row, so the vocabulary is kept on the field instance it was given
    (in its ``__dict__``, like Django's own per-instance caches).
    """
    cached: dict[str, str] | None = field.__dict__.get(_VOCABULARY)
    if cached is None:
        cached = {}
        for code, name in field.labels.values_list("code", "name"):
            cached.setdefault(name.casefold(), code)
            cached.setdefault(code.casefold(), code)
        for code in list(cached.values()):
            cached[code] = code
        field.__dict__[_VOCABULARY] = cached
    return cached


def labels_ensure(*, field: Field, codes: Iterable[str]) -> None:
    """Add missing codes to a language field's vocabulary (other fields' vocabularies are fixed)."""
    codes = set(codes)
    if field.kind != Field.Kind.LANGUAGE or not codes:
        return
    known = set(field.labels.filter(code__in=codes).values_list("code", flat=True))
    Label.objects.bulk_create(
        [
            Label(field=field, code=c, name=catalogue_language_name(c))
            for c in sorted(codes - known)
        ],
        ignore_conflicts=True,
    )
