"""Romanise native-script text the way catalogues write titles, to learn romanised languages.

Catalogues give Russian, Chinese, Japanese, Arabic... titles in romanisation (ALA-LC with ʹ ʻ
and ligature halves, pinyin, Wade-Giles, Hepburn, Revised Romanization). The base model learns
what such titles look like from native-script text (UDHR, Tatoeba, original-script catalogue
titles) put through maintained transliteration libraries. Only the derived n-gram counts ship;
the libraries are needed at build time alone (``pip install -e ".[build]"``), and are imported
lazily so that the app never loads them.

The library used for each language was chosen by ``scripts/measure_romanisers.py``: the one
whose output comes closest to the romanised titles that catalogue records carry beside the
original script. Each text gives two forms: the library's, and the same folded to plain
letters (many catalogues and most users drop the macrons and primes).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cache
from typing import Any

Romaniser = Callable[[str], str]


def fold_to_letters(text: str) -> str:
    """Lower case, without diacritics, modifier letters (ʹ ʻ ʼ) or ligature halves."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    kept = (c for c in decomposed if unicodedata.category(c) not in ("Mn", "Lm", "Sk"))
    return unicodedata.normalize("NFC", "".join(kept))


# -- the libraries, loaded on first use --------------------------------------------------------


@cache
def _uroman() -> object:
    from uroman import Uroman

    return Uroman()


def uroman(text: str) -> str:
    return str(_uroman().romanize_string(text))  # type: ignore[attr-defined]


def unidecode(text: str) -> str:
    from unidecode import unidecode as convert

    return str(convert(text))


def anyascii(text: str) -> str:
    from anyascii import anyascii as convert

    return str(convert(text))


def pinyin(text: str) -> str:
    """Pinyin without tones, one syllable a word (the older ALA-LC practice), ü kept."""
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text, v_to_u=True, errors=lambda chars: " ".join(chars)))


def wade_giles(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(text, style=Style.WADEGILES, errors=lambda chars: " ".join(chars)))


@cache
def _kakasi() -> object:
    import pykakasi

    # Untyped where installed, absent where not (CI): called through Any either way.
    factory: Any = pykakasi.kakasi
    return factory()


def kakasi_hepburn(text: str) -> str:
    return " ".join(item["hepburn"] for item in _kakasi().convert(text))  # type: ignore[attr-defined]


@cache
def _cutlet() -> object:
    import cutlet

    return cutlet.Cutlet()


def cutlet_hepburn(text: str) -> str:
    return str(_cutlet().romaji(text))  # type: ignore[attr-defined]


def cutlet_macrons(text: str) -> str:
    """cutlet's Hepburn with long vowels as ALA-LC writes them (ō, ū): cutlet spells them out."""
    romaji = cutlet_hepburn(text)
    for long, macron in (("ou", "ō"), ("oo", "ō"), ("uu", "ū"), ("Ou", "Ō"), ("Uu", "Ū")):
        romaji = romaji.replace(long, macron)
    return romaji


def iuliia_ala_lc(text: str) -> str:
    import iuliia

    return str(iuliia.ALA_LC.translate(text))


def cyrtranslit_for(code: str) -> Romaniser:
    def convert(text: str) -> str:
        import cyrtranslit

        return str(cyrtranslit.to_latin(text, code))

    return convert


def hangul_academic(text: str) -> str:
    from hangul_romanize import Transliter
    from hangul_romanize.rule import academic

    return str(Transliter(academic).translit(text))


def korean_romanizer(text: str) -> str:
    from korean_romanizer.romanizer import Romanizer

    return str(Romanizer(text).romanize())


def iast(text: str) -> str:
    from indic_transliteration import sanscript

    return str(sanscript.transliterate(text, sanscript.DEVANAGARI, sanscript.IAST))


_GENERIC: dict[str, Romaniser] = {"uroman": uroman, "unidecode": unidecode, "anyascii": anyascii}

# Candidates measured per language ("*": every other language).
CANDIDATES: dict[str, dict[str, Romaniser]] = {
    "*": _GENERIC,
    "zho": {"pypinyin": pinyin, "pypinyin Wade-Giles": wade_giles, **_GENERIC},
    "jpn": {
        "pykakasi": kakasi_hepburn,
        "cutlet": cutlet_hepburn,
        "cutlet, long vowels as macrons": cutlet_macrons,
        **_GENERIC,
    },
    "kor": {
        "hangul-romanize": hangul_academic,
        "korean-romanizer": korean_romanizer,
        **_GENERIC,
    },
    "rus": {
        "iuliia ALA-LC": iuliia_ala_lc,
        "cyrtranslit": cyrtranslit_for("ru"),
        **_GENERIC,
    },
    "ell": {"cyrtranslit": cyrtranslit_for("el"), **_GENERIC},
    "san": {"indic-transliteration IAST": iast, **_GENERIC},
    "hin": {"indic-transliteration IAST": iast, **_GENERIC},
}
