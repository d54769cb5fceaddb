"""A clean CSV file is staged set-wise on PostgreSQL and stores exactly what the row-by-row
reader stores; a file with any problem is read row by row, whose message names the line."""

from __future__ import annotations

import json
import sys

import pytest
from django.db import connection, transaction

from catalogue.models import FieldValue, Record
from catalogue.services import imports
from catalogue.services.import_csv_copy import WHITESPACE
from catalogue.services.imports import ImportFileError, records_import
from tests.factories import CollectionFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the set-wise path is PostgreSQL's"
)

# A byte-order mark, CRLF line ends, a title over two lines, Unicode spaces around values,
# a line of empty cells, label spellings of several kinds, a quote in a column's name and
# extra columns that are empty, blank or filled.
AWKWARD = (
    '\ufeffid,title,lang,notes,"it\'s ""odd""",empty\r\n'
    'a1,"Two\r\nlines",German,  kept as is ,x,\r\n'
    '\u00a0a2\u3000, Padded title\u2003, de ,," ",\r\n'
    ",,,,,\r\n"
    "a3,No language,,n,y,\r\n"
    "a4,Code,\tFRE ,,,\r\n"
)
MAPPING = {"identifier": "id", "language": "lang"}


def stored(slug: str) -> list[tuple[object, ...]]:
    records = Record.objects.filter(collection__slug=slug).order_by("identifier")
    rows: list[tuple[object, ...]] = []
    for r in records:
        value = FieldValue.objects.filter(record=r, is_current=True).first()
        rows.append(
            (r.identifier, r.title, r.description, r.extra, value and (value.label, value.source))
        )
    return rows


def no_row_reader(**kwargs: object) -> None:
    raise AssertionError("the row-by-row reader was used")


@pytest.mark.django_db
def test_a_clean_file_stores_what_the_row_by_row_reader_stores(field, tmp_path, monkeypatch):
    path = tmp_path / "awkward.csv"
    path.write_bytes(AWKWARD.encode("utf-8"))
    with monkeypatch.context() as m:
        m.setattr(imports, "csv_copy_stage", lambda **kwargs: None)
        slow = records_import(path=path, collection=CollectionFactory(slug="slow"), mapping=MAPPING)
    with monkeypatch.context() as m:
        m.setattr(imports, "_staged_rows", no_row_reader)
        quick = records_import(
            path=path, collection=CollectionFactory(slug="quick"), mapping=MAPPING
        )
    assert stored("quick") == stored("slow")
    assert (quick.created, quick.values_set) == (slow.created, slow.values_set) == (4, 3)
    assert stored("quick")[0] == (
        "a1",
        "Two\r\nlines",
        "",
        {"notes": "  kept as is ", 'it\'s "odd"': "x"},
        ("deu", "import"),
    )
    assert stored("quick")[1][:2] == ("a2", "Padded title")


@pytest.mark.django_db
def test_a_duplicate_after_a_title_over_two_lines_is_named_as_row_by_row(tmp_path, monkeypatch):
    path = tmp_path / "dup.csv"
    path.write_text('identifier,title\na,"One\nand more"\nb,Two\na,Three\n', encoding="utf-8")
    messages = []
    for name, stand_in in (("_staged_rows", no_row_reader), ("csv_copy_stage", lambda **k: None)):
        with monkeypatch.context() as m, pytest.raises(ImportFileError) as excinfo:
            m.setattr(imports, name, stand_in)
            records_import(path=path, collection=CollectionFactory())
        messages.append(str(excinfo.value))
    # A line number is where the record ends, as the csv module counts it, on either path.
    assert messages[0] == messages[1]
    assert (
        "dup.csv, line 5, column 'identifier': identifier 'a' already appears on line 3"
        in (messages[0])
    )
    assert not Record.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,lang\nok,ger\n,fre\n", "line 3, column 'id': the identifier is empty"),
        ("id,lang\nok,ger\nbad,Notalanguage\n", "line 3, column 'lang'"),
        ("id,lang\nok,ger\nbad,fre,extra\n", "line 3: expected 2 columns, found 3"),
    ],
)
@pytest.mark.django_db
def test_a_file_the_quick_path_refuses_is_named_by_the_row_by_row_reader(
    field, tmp_path, content, message
):
    collection = CollectionFactory(slug="keep")
    Record.objects.create(collection=collection, identifier="c001", title="Stored before")
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError, match=message):
        records_import(path=path, collection=collection, mapping=MAPPING)
    assert list(Record.objects.values_list("identifier", flat=True)) == ["c001"]
    assert not FieldValue.objects.exists()


def test_sql_strips_every_character_python_strips():
    python = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert python == WHITESPACE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_after_a_bulk_import_a_deep_page_reads_the_index_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "ANALYZE_AFTER", 100)
    path = tmp_path / "many.csv"
    path.write_text(
        "identifier,title\n" + "".join(f"r{i:05d},Title {i}\n" for i in range(300)),
        encoding="utf-8",
    )
    collection = CollectionFactory(slug="many")
    records_import(path=path, collection=collection)  # commits: the hook runs after it

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT identifier FROM catalogue_record "
            "WHERE collection_id = %s ORDER BY identifier LIMIT 1 OFFSET 250",
            [collection.id],
        )
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    scan = plan[0]["Plan"]["Plans"][0]
    assert scan["Node Type"] == "Index Only Scan"
    assert scan["Heap Fetches"] == 0  # the import's VACUUM marked every new page all-visible
