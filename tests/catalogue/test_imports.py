from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalogue.models import Collection, FieldValue, Record
from catalogue.services.imports import ImportFileError, parse_mapping, records_import
from tests.factories import CollectionFactory

FIXTURES = Path(__file__).parent.parent / "fixtures"
MAP = ["--map", "identifier=id", "--map", "description=notes", "--map", "language=lang"]


def import_small(collection: str = "books", *extra: str) -> None:
    call_command(
        "import_records",
        str(FIXTURES / "records_small.csv"),
        "--collection",
        collection,
        *MAP,
        *extra,
    )


def current(identifier: str) -> FieldValue | None:
    return FieldValue.objects.filter(
        record__identifier=identifier, field__key="language", is_current=True
    ).first()


@pytest.mark.django_db
def test_it_imports_records_with_mapped_columns_and_keeps_the_rest_as_extra():
    import_small()
    record = Record.objects.get(identifier="b001")
    assert record.collection.slug == "books"
    assert record.title.startswith("Geschichte der deutschen Literatur")
    assert record.description == "Leipzig 1875"
    assert record.extra == {"shelfmark": "A.1"}
    assert Record.objects.count() == 6


@pytest.mark.django_db
def test_it_stores_mapped_language_codes_as_iso_639_3_with_source_import():
    import_small()
    assert (current("b001").label, current("b001").source) == ("deu", "import")
    assert current("b002").label == "fra"  # ISO 639-1
    assert current("b003").label == "eng"  # English name
    assert current("b004") is None  # blank: nothing imported, left for the model


@pytest.mark.django_db
def test_reimporting_updates_records_in_place_and_keeps_value_history():
    import_small()
    first_code = Record.objects.get(identifier="b001").code
    import_small()
    assert Record.objects.count() == 6
    assert Record.objects.get(identifier="b001").code == first_code
    # Same values again: no new value rows.
    assert FieldValue.objects.filter(record__identifier="b001").count() == 1


@pytest.mark.django_db
def test_reimporting_never_overwrites_a_cataloguers_value(field, cataloguer, tmp_path):
    from catalogue.services.values import value_set

    import_small()
    record = Record.objects.get(identifier="b001")
    value_set(record=record, field=field, label="gsw", source="human", user=cataloguer)
    collection = Collection.objects.get(slug="books")
    result = records_import(
        path=FIXTURES / "records_small.csv",
        collection=collection,
        mapping=parse_mapping(["identifier=id", "language=lang"]),
    )
    assert result.values_kept_human == 1
    assert (current("b001").label, current("b001").source) == ("gsw", "human")


@pytest.mark.django_db
def test_it_imports_json_lines():
    call_command(
        "import_records",
        str(FIXTURES / "records_small.jsonl"),
        "--collection",
        "jl",
        "--map",
        "identifier=id",
        "--map",
        "language=lang",
    )
    assert current("j001").label == "deu"
    assert Record.objects.get(identifier="j002").extra == {"subjects": '["novel", "France"]'}


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("records_broken_quote.csv", "records_broken_quote.csv, line 3"),
        (
            "records_wrong_columns.csv",
            "records_wrong_columns.csv, line 3: expected 3 columns, found 5",
        ),
        ("records_bad_language.csv", "records_bad_language.csv, line 3, column 'lang'"),
        ("records_latin1.csv", "records_latin1.csv, line 3: not valid UTF-8"),
    ],
)
@pytest.mark.django_db
def test_a_bad_file_stores_nothing_and_names_file_line_and_column(fixture, message):
    collection = CollectionFactory(slug="keep")
    Record.objects.create(collection=collection, identifier="c001", title="Stored before")
    with pytest.raises(ImportFileError) as excinfo:
        records_import(
            path=FIXTURES / fixture,
            collection=collection,
            mapping={"identifier": "id", "language": "lang"},
        )
    assert message in str(excinfo.value)
    assert list(Record.objects.values_list("identifier", "title")) == [("c001", "Stored before")]
    assert not FieldValue.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "nul.csv",
            "identifier,title\nok1,Fine\nbad1,Half\x00way\n",
            "nul.csv, line 3, column 'title': contains a NUL character",
        ),
        (
            "surrogate.jsonl",
            '{"identifier": "ok1", "title": "Fine"}\n{"identifier": "bad1", "title": "Smile \\ud83d"}\n',
            "surrogate.jsonl, line 2, column 'title': contains a lone surrogate (U+D83D)",
        ),
        (
            "long.csv",
            "identifier,title\n" + "x" * 201 + ",Too long\n",
            "long.csv, line 2, column 'identifier': the identifier is 201 characters long",
        ),
        (  # issue 11: the message named the file's last line, not where the quote opened
            "quote.csv",
            'identifier,title\nok1,Fine\nbad1,"Half way\nok2,Fine\nok3,Fine\n',
            "quote.csv, line 3: a quoted value starts in this row and its closing quote never",
        ),
    ],
)
@pytest.mark.django_db
def test_text_the_database_cannot_store_is_named_and_nothing_is_stored(
    tmp_path, name, content, message
):
    collection = CollectionFactory(slug="keep")
    Record.objects.create(collection=collection, identifier="c001", title="Stored before")
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError) as excinfo:
        records_import(path=path, collection=collection, fmt=path.suffix[1:])
    assert message in str(excinfo.value)
    assert list(Record.objects.values_list("identifier", "title")) == [("c001", "Stored before")]


@pytest.mark.django_db
def test_a_failed_import_leaves_no_new_collection_behind(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_text("identifier,title\nbad1,Half\x00way\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 2, column 'title'.*Nothing was imported"):
        call_command("import_records", str(path), "--collection", "fresh")
    assert not Collection.objects.filter(slug="fresh").exists()


@pytest.mark.django_db
def test_a_missing_mapped_column_is_named(field):
    with pytest.raises(CommandError, match=r"column 'nope' \(mapped to title\) is missing"):
        call_command(
            "import_records",
            str(FIXTURES / "records_small.csv"),
            "--collection",
            "x",
            "--map",
            "identifier=id",
            "--map",
            "title=nope",
        )
    assert not Collection.objects.filter(slug="x").exists()


@pytest.mark.django_db
def test_a_duplicate_identifier_in_one_file_is_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("identifier,title\na,One\nb,Two\na,Three\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"line 4.*'a' already appears on line 2"):
        records_import(path=path, collection=CollectionFactory())
    assert not Record.objects.exists()


def test_a_mapping_without_equals_sign_is_refused():
    with pytest.raises(ImportFileError, match="TARGET=COLUMN"):
        parse_mapping(["title"])


@pytest.mark.django_db
def test_importing_enqueues_prediction_after_commit(
    active_model, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        import_small()
    # b004 and b005 have no language in the file: the model predicted them.
    predicted = set(active_model.predictions.values_list("record__identifier", flat=True))
    assert {"b004", "b005"} <= predicted
    assert "b001" not in predicted  # the catalogue's own value is kept, not predicted
