from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from pymarc import Field, Indicators, Subfield

from catalogue.models import Collection, FieldValue, Record
from catalogue.services.imports import ImportFileError, records_import
from catalogue.services.training.examples import training_examples
from tests.catalogue.interop.marc_files import book, write_marc, write_marcxml
from tests.factories import CollectionFactory


def language_of(identifier: str) -> str | None:
    value = FieldValue.objects.filter(
        record__identifier=identifier, field__key="language", is_current=True
    ).first()
    return value.label if value else None


def two_books():
    return [
        book(
            "b001",
            "Geschichte der deutschen Literatur",
            subtitle="ein Handbuch",
            original_script="Исторія нѣмецкой литературы",
            notes=("Facsimile of the 1875 edition.", "Includes index."),
            subjects=("German literature", "History and criticism"),
        ),
        book("b002", "Histoire de la littérature française", language="fre", place="Paris :"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("writer", [write_marc, write_marcxml], ids=["marc", "marcxml"])
def test_it_imports_marc_with_the_default_mapping(tmp_path, writer):
    fmt = "marc" if writer is write_marc else "marcxml"
    path = writer(tmp_path / f"books.{fmt}", two_books())
    call_command("import_records", str(path), "--collection", "books", "--format", fmt)
    record = Record.objects.get(identifier="b001")
    assert record.title == "Geschichte der deutschen Literatur : ein Handbuch"
    assert record.description == "Facsimile of the 1875 edition. | Includes index."
    assert record.extra == {
        "title_original_script": "Исторія нѣмецкой литературы",
        "place": "Leipzig",
        "publisher": "Teubner",
        "date": "1875",
        "subjects": "German literature | History and criticism",
    }
    assert (language_of("b001"), language_of("b002")) == ("deu", "fra")
    assert FieldValue.objects.filter(source="import").count() == 2


@pytest.mark.django_db
def test_other_titles_the_publication_264_and_only_the_880_linked_to_245(tmp_path):
    record = book("v1", "Voĭna i mir", original_script="Война и мир")
    record.remove_fields("260")
    for second, place, name in [("0", "Tula :", "Printer,"), ("1", "Moskva :", "Khud. lit.,")]:
        record.add_field(
            Field(
                tag="264",
                indicators=Indicators(" ", second),
                subfields=[Subfield("a", place), Subfield("b", name)],
            )
        )
    record.add_field(
        Field(
            tag="246", indicators=Indicators("3", "1"), subfields=[Subfield("a", "War and peace")]
        )
    )
    record.add_field(
        Field(tag="240", indicators=Indicators("1", "0"), subfields=[Subfield("a", "Vojna i mir")])
    )
    # An 880 linked to the publication field comes first: it is not the original-script title.
    record.fields.insert(
        0,
        Field(
            tag="880",
            indicators=Indicators(" ", "1"),
            subfields=[Subfield("6", "264-02"), Subfield("a", "Москва :")],
        ),
    )
    path = write_marc(tmp_path / "264.mrc", [record])
    records_import(path=path, collection=CollectionFactory(), fmt="marc")
    extra = Record.objects.get().extra
    assert extra["title_original_script"] == "Война и мир"
    assert extra["other_titles"] == "War and peace | Vojna i mir"
    assert (extra["place"], extra["publisher"]) == ("Moskva", "Khud. lit.")


@pytest.mark.django_db
def test_it_reads_marc_8_records_as_unicode(tmp_path):
    # 0xE8 is MARC-8's combining umlaut, written before the letter it goes on.
    path = write_marc(tmp_path / "marc8.mrc", [book("m1", "M\xe8uller und S\xe8ohne", marc8=True)])
    records_import(path=path, collection=CollectionFactory(), fmt="marc")
    assert Record.objects.get().title == "Müller und Söhne"


@pytest.mark.django_db
def test_it_reads_a_mapped_marc_field_into_a_field_or_an_extra_column(tmp_path, genre):
    record = book("g1", "A novel")
    record.add_field(
        Field(tag="655", indicators=Indicators(" ", "7"), subfields=[Subfield("a", "Fiction")])
    )
    path = write_marc(tmp_path / "g.mrc", [record])
    records_import(path=path, collection=CollectionFactory(), fmt="marc", mapping={"genre": "655a"})
    value = FieldValue.objects.get(field=genre, is_current=True)
    assert (value.record.identifier, value.label, value.source) == ("g1", "Fiction", "import")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "stored", "name"),
    [
        ("myn", "myn", "Mayan languages"),
        ("sai", "sai", "South American Indian languages"),
        ("map", "map", "Austronesian languages"),
        ("mul", "mul", "Multiple languages"),
        ("und", "und", "Undetermined"),
        ("zxx", "zxx", "No linguistic content"),
        ("mis", "mis", "Uncoded languages"),
        ("far", "fao", "Faroese"),  # obsolete MARC code: Faroese, not ISO 639-3's Fataleka
        ("scc", "srp", "Serbian"),
    ],
)
def test_every_marc_language_code_is_stored_and_named(tmp_path, code, stored, name):
    path = write_marc(tmp_path / "codes.mrc", [book("c1", "Title", language=code)])
    records_import(path=path, collection=CollectionFactory(), fmt="marc")
    value = FieldValue.objects.get(is_current=True)
    assert value.label == stored
    assert value.field.labels.get(code=stored).name == name


@pytest.mark.django_db
def test_collective_and_special_codes_are_never_training_labels(tmp_path, field):
    records = [
        book(f"r{i}", f"Title number {i}", language=code)
        for i, code in enumerate(["myn", "mul", "und", "zxx", "mis", "sai", "ger", "fre"])
    ]
    path = write_marc(tmp_path / "mixed.mrc", records)
    records_import(path=path, collection=CollectionFactory(), fmt="marc")
    assert FieldValue.objects.filter(is_current=True, source="import").count() == 8
    assert sorted(e.label for e in training_examples(field=field)) == ["deu", "fra"]


@pytest.mark.django_db
def test_a_code_outside_the_marc_list_falls_back_to_041_and_never_stops_the_import(tmp_path):
    path = write_marc(
        tmp_path / "odd.mrc",
        [
            book("o1", "Zwei Sprachen", language="xx1", languages_041=("ger", "eng")),
            book("o2", "Unknown", language="qqq"),
            book("o3", "Not coded", language="|||"),
        ],
    )
    records_import(path=path, collection=CollectionFactory(), fmt="marc")
    assert language_of("o1") == "deu"
    assert language_of("o2") is None
    assert Record.objects.get(identifier="o2").extra["language_as_catalogued"] == "qqq"
    assert language_of("o3") is None
    assert Record.objects.count() == 3


@pytest.mark.django_db
def test_a_csv_with_collective_codes_imports_too(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("id,title,language\n1,Popol Vuh,myn\n2,Atlas,mul\n3,Srbija,scr\n")
    records_import(
        path=path,
        collection=CollectionFactory(),
        mapping={"identifier": "id", "language": "language"},
    )
    assert [language_of(i) for i in "123"] == ["myn", "mul", "hrv"]


# -- bad input: a clear message naming file, record and field, and nothing stored ---------------


def assert_nothing_stored(path, fmt, *fragments):
    collection = CollectionFactory()
    with pytest.raises(ImportFileError) as caught:
        records_import(path=path, collection=collection, fmt=fmt)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert not Record.objects.exists()
    assert not FieldValue.objects.exists()


@pytest.mark.django_db
def test_a_truncated_record_names_the_file_and_record(tmp_path):
    good, cut = book("t1", "Whole").as_marc(), book("t2", "Cut short").as_marc()
    path = tmp_path / "truncated.mrc"
    path.write_bytes(good + cut[: len(cut) // 2])
    assert_nothing_stored(path, "marc", str(path), "record 2", "truncated")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("length", "problem"),
    [
        (b"x0abc", "is not a number"),
        (b"00100", "does not end with the record terminator"),  # shorter than the record
    ],
)
def test_a_wrong_record_length_names_the_leader(tmp_path, length, problem):
    data = book("l1", "Title").as_marc() + book("l2", "Second").as_marc()
    path = tmp_path / "leader.mrc"
    path.write_bytes(length + data[5:])
    assert_nothing_stored(path, "marc", "record 1", "leader (bytes 0-4)", problem)


@pytest.mark.django_db
def test_a_marcxml_leader_of_the_wrong_length_is_named(tmp_path):
    path = write_marcxml(tmp_path / "leader.xml", [book("x1", "Fine"), book("x2", "Short leader")])
    element = f"<leader>{book('x2', 'Short leader').leader}</leader>"
    text = path.read_text()
    last = text.rindex(element)  # the second record's
    path.write_text(
        text[:last] + element.replace(element[8:32], element[8:28]) + text[last + len(element) :]
    )
    assert_nothing_stored(
        path, "marcxml", "record 2", "the leader has 20 characters; a MARC leader has 24"
    )


@pytest.mark.django_db
def test_a_bad_directory_names_the_directory(tmp_path):
    data = bytearray(book("d1", "Title").as_marc())
    data[24:36] = b"24500X7000ZZ"  # a directory entry whose length and offset are not numbers
    path = tmp_path / "directory.mrc"
    path.write_bytes(bytes(data))
    assert_nothing_stored(path, "marc", "record 1", "directory")


@pytest.mark.django_db
def test_marcxml_in_the_wrong_namespace_is_refused(tmp_path):
    path = tmp_path / "wrong-ns.xml"
    path.write_text(
        '<collection xmlns="http://example.org/not-marc"><record>'
        '<controlfield tag="001">x1</controlfield></record></collection>'
    )
    assert_nothing_stored(
        path, "marcxml", str(path), "http://example.org/not-marc", "http://www.loc.gov/MARC21/slim"
    )


@pytest.mark.django_db
def test_broken_marcxml_names_the_line(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text(
        '<collection xmlns="http://www.loc.gov/MARC21/slim">\n<record>\n'
        '<controlfield tag="001">x1</controlfield>\n</collection>\n'
    )
    assert_nothing_stored(path, "marcxml", "line 4", "not well-formed")


@pytest.mark.django_db
def test_a_record_without_001_names_the_record_and_field(tmp_path):
    record = book("", "No identifier")
    path = write_marcxml(tmp_path / "no-001.xml", [book("ok", "Fine"), record])
    assert_nothing_stored(path, "marcxml", "record 2", "field 001", "identifier is empty")


@pytest.mark.django_db
def test_a_failed_marc_import_from_the_command_line_leaves_no_new_collection(tmp_path):
    path = tmp_path / "bad.mrc"
    path.write_bytes(b"00042xxxxx")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_records", str(path), "--collection", "fresh")
    assert not Collection.objects.filter(slug="fresh").exists()
