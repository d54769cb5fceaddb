"""Language codes: everything is stored as ISO 639-3, folded to the macrolanguage a catalogue uses.

Catalogues code languages with MARC codes (ISO 639-2/B) at the level of the macrolanguage
(``ara``, ``fas``, ``zho``, ``nor``), while text corpora use individual ISO 639-3 languages
(``arb``, ``pes``, ``cmn``, ``nob``). The relation comes from iso639-lang, not from a
hand-written table.
"""

from __future__ import annotations

from functools import lru_cache

from iso639 import Lang
from iso639.exceptions import DeprecatedLanguageValue, InvalidLanguageValue

UNDETERMINED = "und"

# An individual language that has its own ISO 639-2 code is catalogued under that code
# (Croatian ``hrv``, Indonesian ``ind``), not under its macrolanguage (``hbs``, ``msa``).
# Norwegian is the exception catalogues make: Bokmål and Nynorsk are coded ``nor``.
_FOLD_DESPITE_OWN_CODE = frozenset({"nob", "nno"})


class UnknownLanguageError(ValueError):
    """The value is not a language code or English language name that iso639-lang knows."""


def _lookup(value: str) -> Lang | None:
    candidates = [value]
    if value.lower() != value:
        candidates.append(value.lower())
    if len(value) > 3:
        # English names: "german" -> "German", "modern greek" -> "Modern Greek".
        names = [value.capitalize(), value.title()]
        # iso639-lang names some macrolanguages "Malay (macrolanguage)", "Nepali (macrolanguage)".
        candidates += names + [f"{name} (macrolanguage)" for name in names]
    for candidate in candidates:
        try:
            return Lang(candidate)
        except (InvalidLanguageValue, DeprecatedLanguageValue):
            # Deprecated codes ("sh", "mol") count as unknown: their successors differ by case.
            continue
    return None


def _fold(lang: Lang) -> Lang:
    macro = lang.macro()
    if macro is None:
        return lang
    if lang.pt2b and lang.pt3 not in _FOLD_DESPITE_OWN_CODE:
        return lang
    return macro


@lru_cache(maxsize=4096)
def normalise_language(value: str) -> str:
    """Return the macrolanguage-folded ISO 639-3 code for a code or English name.

    Accepts ISO 639-1 (``de``), ISO 639-2/B MARC (``ger``), ISO 639-2/T and ISO 639-3 (``deu``,
    ``arb`` -> ``ara``) and English names (``German``). Raises :class:`UnknownLanguageError`.
    """
    if not isinstance(value, str):
        raise UnknownLanguageError(f"Unknown language: {value!r} is not a string")
    cleaned = value.strip()
    lang = _lookup(cleaned) if cleaned else None
    if lang is None:
        raise UnknownLanguageError(f"Unknown language: {value!r}")
    if not lang.pt3:
        # ISO 639-5 language families ("gem") have no ISO 639-3 code.
        raise UnknownLanguageError(f"Unknown language: {value!r} has no ISO 639-3 code")
    return _fold(lang).pt3


def language_name(code: str) -> str:
    """English name of a language code (any form :func:`normalise_language` accepts)."""
    return Lang(normalise_language(code)).name


def to_marc(code: str) -> str:
    """ISO 639-2/B (MARC) code of a language, for example ``deu`` -> ``ger``."""
    lang = Lang(normalise_language(code))
    if not lang.pt2b:
        raise UnknownLanguageError(
            f"Language {code!r} ({lang.name}) has no MARC (ISO 639-2/B) code"
        )
    return lang.pt2b


def is_known_language(value: str) -> bool:
    """True when :func:`normalise_language` accepts the value."""
    try:
        normalise_language(value)
    except UnknownLanguageError:
        return False
    return True
