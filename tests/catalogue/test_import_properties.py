"""Property-based tests of every importer (CSV, JSON Lines, MARC, MARCXML): whatever the
bytes, an import either stores the file or refuses it with a message that names the file and
where in it, and a refused file stores nothing. Never a traceback.

Inputs are near misses of real files (cells with control characters, NULs, quotes, lone
surrogates, long identifiers, unknown languages, truncated or flipped bytes) as well as noise.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from catalogue.models import Collection, FieldValue, Record
from catalogue.services.imports import ImportFileError, records_import
from tests.catalogue.interop.marc_files import book, write_marc, write_marcxml
from tests.factories import CollectionFactory
from tests.processes import sized

# 60 examples per importer in the suite; 500 in the full-size run (scripts/reliability.sh).
PROPERTY = settings(
    max_examples=sized(60, 500),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MAPPING = {"identifier": "id", "language": "lang", "description": "notes"}
# Where in the file: a line (text formats, XML) or a record (binary MARC); or the whole file.
WHERE = re.compile(r", (line|record) \d+|: the file is empty|: cannot read the file")

cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["fra", "German", "en", "zzz", "", " ", '"', "\x00", "a\nb", "x" * 201]),
)
# Mostly a language the vocabulary knows (so that files import), sometimes anything.
language = st.one_of(st.sampled_from(["fra", "deu", "English", "it", ""]), cell)
csv_row = st.tuples(st.text(min_size=1, max_size=12), cell, language, cell).map(list)
marc_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x1d\x1e\x1f"),
    min_size=1,
    max_size=20,
)


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "title", "lang", "notes"])
    writer.writerows(rows)
    return out.getvalue()


def jsonl_text(objects: list[dict[str, object]], noise: list[str]) -> str:
    lines = [json.dumps(o) for o in objects] + noise
    return "\n".join(lines)


def corrupt(data: bytes, cut: int | None, flips: list[tuple[int, int]]) -> bytes:
    """Cut the file short and overwrite a few bytes: what a broken transfer leaves."""
    out = bytearray(data if cut is None else data[:cut])
    for position, value in flips:
        if out:
            out[position % len(out)] = value
    return bytes(out)


def import_or_refuse(data: bytes, fmt: str) -> None:
    """The property, for one file: stored entirely, or refused naming where, storing nothing."""
    with TemporaryDirectory() as directory, transaction.atomic():
        path = Path(directory) / f"records.{fmt}"
        path.write_bytes(data)
        collection = CollectionFactory(slug="property")
        mapping = MAPPING if fmt in ("csv", "jsonl") else {}
        try:
            result = records_import(path=path, collection=collection, fmt=fmt, mapping=mapping)
        except ImportFileError as exc:
            message = str(exc)
            assert message.startswith(str(path)), message
            assert WHERE.search(message), message
            assert not Record.objects.exists()
            assert not FieldValue.objects.exists()
            event("refused: " + re.sub(r"'.*'|\(.*\)|0x..|\d+", "…", message.split(": ")[-1]))
        else:
            event("imported" if result.created else "imported nothing")
            assert Record.objects.filter(collection=collection).count() == result.created
        transaction.set_rollback(True)  # the next example starts from an empty database


pytestmark = pytest.mark.django_db


@PROPERTY
@given(
    rows=st.lists(
        # Mostly rows of the header's four columns (which may import), sometimes not.
        st.one_of(csv_row, csv_row, st.lists(cell, max_size=6)),
        max_size=6,
    )
)
def test_any_csv_of_near_miss_cells_imports_or_is_refused_naming_the_line(field, rows):
    import_or_refuse(csv_text(rows).encode("utf-8", "surrogatepass"), "csv")


@PROPERTY
@given(data=st.binary(max_size=300), encoding=st.sampled_from(["utf-8", "latin-1"]))
def test_any_bytes_as_csv_import_or_are_refused_naming_the_line(field, data, encoding):
    header = "id,title,lang,notes\n".encode(encoding)
    import_or_refuse(header + data, "csv")


json_value = st.one_of(
    cell, st.integers(), st.none(), st.booleans(), st.lists(st.text(max_size=3), max_size=2)
)


@PROPERTY
@given(
    objects=st.lists(
        st.fixed_dictionaries(
            {"id": cell},
            optional={
                "title": json_value,
                "lang": json_value,
                "notes": json_value,
                "x": json_value,
            },
        ),
        max_size=5,
    ),
    noise=st.lists(
        st.sampled_from(["", "{", "[1]", '"text"', '{"id": "\\ud83d"}', "{'id': 1}", "null"]),
        max_size=2,
    ),
)
def test_any_json_lines_import_or_are_refused_naming_the_line(field, objects, noise):
    import_or_refuse(jsonl_text(objects, noise).encode("utf-8"), "jsonl")


@PROPERTY
@given(
    records=st.lists(
        st.tuples(marc_text, marc_text, st.sampled_from(["ger", "fre", "eng", "zzz", "   "])),
        min_size=1,
        max_size=3,
    ),
    fmt=st.sampled_from(["marc", "marcxml"]),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=5000)),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=3),
)
def test_any_marc_file_even_cut_short_or_garbled_imports_or_is_refused(
    field, records, fmt, cut, flips
):
    writer = write_marc if fmt == "marc" else write_marcxml
    with TemporaryDirectory() as directory:
        books = [book(identifier, title, language=lang) for identifier, title, lang in records]
        data = writer(Path(directory) / f"books.{fmt}", books).read_bytes()
    import_or_refuse(corrupt(data, cut, flips), fmt)


def test_a_refused_import_leaves_the_collection_as_it_was(field, tmp_path):
    """The property's 'stores nothing', shown once with records already there."""
    collection = CollectionFactory(slug="kept")
    Record.objects.create(collection=collection, identifier="old", title="Kept")
    path = tmp_path / "bad.csv"
    path.write_text(csv_text([["new", "Fine", "fra", ""], ["bad\x00", "NUL", "fra", ""]]))

    with pytest.raises(ImportFileError, match=r"line 3, column 'id'"):
        records_import(path=path, collection=collection, fmt="csv", mapping=MAPPING)

    assert list(Record.objects.values_list("identifier", flat=True)) == ["old"]
    assert Collection.objects.filter(slug="kept").exists()
