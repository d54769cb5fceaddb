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


# -- every code a catalogue uses ------------------------------------------------------------------

# Not languages a text can be identified as: multiple, undetermined, no linguistic content,
# uncoded. Catalogues use them; they are stored and shown, never a training label.
SPECIAL_CODES = frozenset({"mul", "und", "zxx", "mis"})

# Codes the MARC Code List for Languages marks obsolete, with the code that replaced each.
# Old records still carry them, and ISO 639-3 gives most of these letters to other languages
# (``far`` is Fataleka there, Faroese in a MARC record), so they are read before any lookup.
# Aljamía (``ajm``) was discontinued without a successor; such a record keeps no language.
MARC_OBSOLETE = {
    "cam": "khm", "esk": "esx", "esp": "epo", "eth": "gez", "far": "fao", "fri": "fry",
    "gae": "gla", "gag": "glg", "gal": "orm", "gua": "grn", "int": "ina", "iri": "gle",
    "kus": "kos", "lan": "oci", "lap": "smi", "max": "glv", "mla": "mlg", "mol": "rum",
    "sao": "smo", "scc": "srp", "scr": "hrv", "sho": "sna", "snh": "sin", "sso": "sot",
    "swz": "ssw", "tag": "tgl", "taj": "tgk", "tar": "tat", "tru": "chk", "tsw": "tsn",
}  # fmt: skip


def _collective(value: str) -> str | None:
    """The ISO 639-5 code of a language family or group (``myn``, ``sai``), else None."""
    try:
        lang = Lang(value.strip().lower())
    except (InvalidLanguageValue, DeprecatedLanguageValue):
        return None
    return lang.pt5 or None


@lru_cache(maxsize=4096)
def normalise_catalogue_language(value: str, *, marc: bool = False) -> str:
    """Like :func:`normalise_language`, but also every code a catalogue may hold.

    Collective codes (ISO 639-5: ``myn`` Mayan languages, ``sai``, ``map``) are kept as they
    are; ``mul``, ``und``, ``zxx`` and ``mis`` too; a deprecated code with a successor
    (``scc``) becomes the successor. With ``marc`` the value comes from a MARC record, whose
    obsolete codes (``far`` Faroese) mean what the MARC list says. Raises
    :class:`UnknownLanguageError` for anything else.
    """
    if not isinstance(value, str):
        raise UnknownLanguageError(f"Unknown language: {value!r} is not a string")
    cleaned = value.strip()
    if marc and cleaned.lower() in MARC_OBSOLETE:
        cleaned = MARC_OBSOLETE[cleaned.lower()]
    try:
        return normalise_language(cleaned)
    except UnknownLanguageError:
        pass
    collective = _collective(cleaned)
    if collective:
        return collective
    try:
        Lang(cleaned.lower())
    except DeprecatedLanguageValue as exc:
        if exc.change_to:
            return normalise_language(exc.change_to)
    except InvalidLanguageValue:
        pass
    raise UnknownLanguageError(f"Unknown language: {value!r}")


def is_training_language(code: str) -> bool:
    """Whether a stored code can be a label a model learns: not ``und``/``mul``/``zxx``/``mis``,
    not a collective code, not a code the language model does not know."""
    if code in SPECIAL_CODES:
        return False
    try:
        normalise_language(code)
    except UnknownLanguageError:
        return False
    return True


def catalogue_language_name(code: str) -> str:
    """English name of any stored code, collective ones included (``myn`` Mayan languages)."""
    try:
        return language_name(code)
    except UnknownLanguageError:
        collective = _collective(code)
        if collective:
            return str(Lang(collective).name)
        raise
