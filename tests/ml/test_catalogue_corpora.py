from __future__ import annotations

from pathlib import Path

from glamml.ml.catalogue_corpora import (
    SMALL_SOURCES_GROUP,
    is_romanised,
    loso_groups,
    marc_label,
    read_catalogue_marc,
    read_classics,
    text_script,
)

SHARED = Path(__file__).resolve().parent / "fixtures" / "shared-data"
NATIVE_SCRIPTS = {"rus": "CYRILLIC", "deu": "LATIN", "eng": "LATIN"}


def test_it_reads_obsolete_marc_codes_as_their_successors():
    assert marc_label("scr") == "hrv"
    assert marc_label("scc") == "srp"
    assert marc_label("ger") == "deu"


def test_a_collective_code_stays_a_label_no_identifier_can_answer():
    records = {r.key: r for r in read_catalogue_marc(SHARED)}
    assert records["little:1"].label == "roa"
    assert records["little:1"].code == "roa"


def test_each_record_keeps_the_fields_a_model_reads():
    record = next(r for r in read_catalogue_marc(SHARED) if r.key == "big:1")
    assert record.title == "Geschichte der deutschen Literatur"
    assert record.fields["place"] == "Leipzig"
    assert record.fields["publisher"] == "Verlag von F. A. Brockhaus"
    assert record.label == "deu"


def test_sources_too_small_to_score_alone_are_left_out_together():
    records = read_catalogue_marc(SHARED)
    assert loso_groups(records, min_rows=3) == {"big": "big", "little": SMALL_SOURCES_GROUP}


def test_a_latin_title_of_a_cyrillic_language_is_romanised():
    records = {r.key: r for r in read_catalogue_marc(SHARED)}
    assert is_romanised(records["big:2"], NATIVE_SCRIPTS)
    assert is_romanised(records["big:3"], NATIVE_SCRIPTS)  # no original script given
    assert not is_romanised(records["big:1"], NATIVE_SCRIPTS)


def test_the_script_of_a_text_is_that_of_most_of_its_letters():
    assert text_script("Слова и краски : ocherki") == "CYRILLIC"
    assert text_script("Novai︠a︡ niva") == "LATIN"
    assert text_script("1, 2, 3") == ""


def test_a_monotonic_copy_falls_in_the_same_split_as_its_polytonic_row():
    rows = {row.key: row for row in read_classics(SHARED)}
    polytonic = rows["tlg0085.tlg003.grc1:s1"]
    monotonic = rows["tlg0085.tlg003.grc1:s1:mono"]
    assert polytonic.split == monotonic.split
    assert {row.label for row in rows.values()} == {"grc", "lat"}
