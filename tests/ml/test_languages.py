from __future__ import annotations

import pytest

from glamml.ml.languages import (
    UnknownLanguageError,
    catalogue_language_name,
    is_training_language,
    language_name,
    normalise_catalogue_language,
    normalise_language,
    to_marc,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("de", "deu"),  # ISO 639-1
        ("ger", "deu"),  # MARC / ISO 639-2/B
        ("deu", "deu"),  # ISO 639-3
        ("chi", "zho"),
        ("per", "fas"),
        ("fre", "fra"),
        ("arb", "ara"),  # individual language folded into its macrolanguage
        ("cmn", "zho"),
        ("yue", "zho"),
        ("pes", "fas"),
        ("nob", "nor"),
        ("ekk", "est"),
        ("zsm", "msa"),
        ("German", "deu"),  # English name
        ("english", "eng"),
        ("Dutch", "nld"),
        (" FR ", "fra"),
        ("se", "sme"),  # FinGreyLit's Northern Sami
    ],
)
def test_it_normalises_codes_and_names_to_folded_iso639_3(value, expected):
    assert normalise_language(value) == expected


def test_it_keeps_individual_languages_that_have_their_own_marc_code():
    # Croatian and Indonesian are members of macrolanguages, but catalogues code them apart.
    assert normalise_language("hrv") == "hrv"
    assert normalise_language("ind") == "ind"


@pytest.mark.parametrize("value", ["klingonese", "xx", "", "   ", "sh"])
def test_unknown_values_raise_an_error_naming_the_value(value):
    with pytest.raises(UnknownLanguageError) as caught:
        normalise_language(value)
    assert repr(value) in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_it_gives_english_names_and_marc_codes():
    assert language_name("deu") == "German"
    assert language_name("cmn") == "Chinese"
    assert to_marc("deu") == "ger"
    assert to_marc("zho") == "chi"
    assert to_marc("pes") == "per"
    assert to_marc("nld") == "dut"
    assert to_marc("eng") == "eng"


def test_to_marc_refuses_a_language_without_a_marc_code():
    # Serbo-Croatian is an ISO 639-3 macrolanguage with no ISO 639-2 code.
    with pytest.raises(UnknownLanguageError, match="no MARC"):
        to_marc("hbs")


@pytest.mark.parametrize(
    ("value", "marc", "expected"),
    [
        ("myn", False, "myn"),  # ISO 639-5 collective codes are kept
        ("roa", False, "roa"),
        ("mul", False, "mul"),
        ("zxx", False, "zxx"),
        ("scr", False, "hrv"),  # deprecated ISO 639-2 code with a successor
        ("far", True, "fao"),  # obsolete MARC code: Faroese in a MARC record
        ("far", False, "far"),  # ... and Fataleka in ISO 639-3
        ("ger", True, "deu"),
    ],
)
def test_catalogue_codes_are_all_accepted(value, marc, expected):
    assert normalise_catalogue_language(value, marc=marc) == expected


def test_a_catalogue_code_that_is_no_code_is_still_refused():
    with pytest.raises(UnknownLanguageError, match="'qqq'"):
        normalise_catalogue_language("qqq")


@pytest.mark.parametrize("code", ["myn", "sai", "mul", "und", "zxx", "mis"])
def test_collective_and_special_codes_are_not_training_languages(code):
    assert not is_training_language(code)
    assert catalogue_language_name(code)


def test_ordinary_languages_are_training_languages():
    assert is_training_language("deu") and is_training_language("grc")
