"""Scale benchmark, part ``import``: the app's import against a raw COPY of the same file."""

from __future__ import annotations

from pathlib import Path

from scale_common import Bench, Figure, peak_rss_mb, timed

COLLECTION = "scale"
MAPPING = {"language": "language"}


def raw_copy_seconds(path: Path) -> float:
    """COPY the file into a bare table of text columns: the database's own speed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_raw "
            "(identifier text, title text, description text, language text, source text)"
        )
        with timed() as t, path.open("rb") as handle:
            copy_sql = "COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)"
            with cursor.cursor.copy(copy_sql) as copy:
                while block := handle.read(1 << 20):
                    copy.write(block)
        cursor.execute("DROP TABLE bench_raw")
    return t[0]


def indexed_copy_seconds(path: Path, *, gin_after: bool = False) -> float:
    """COPY the file, then store its rows in a table shaped like ``catalogue_record`` with the
    same indexes (the title and identifier trigram indexes among them): the floor for any
    import that keeps the catalogue searchable. ``gin_after``: the GIN (trigram) indexes are
    built once the rows are in (with 256 MB of ``maintenance_work_mem``), the floor of an
    import that would drop and rebuild them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw, bench_records")
        cursor.execute(
            "CREATE TABLE bench_raw "
            "(identifier text, title text, description text, language text, source text)"
        )
        cursor.execute(
            "CREATE TABLE bench_records "
            "(LIKE catalogue_record INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
        )
        gin = []
        if gin_after:
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index AS i "
                "JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS a ON a.oid = c.relam "
                "WHERE i.indrelid = 'bench_records'::regclass AND a.amname = 'gin'"
            )
            gin = cursor.fetchall()
            for name, _ in gin:
                cursor.execute(f'DROP INDEX "{name}"')
            cursor.execute("SET maintenance_work_mem = '256MB'")
        with timed() as t:
            with path.open("rb") as handle:
                copy_sql = "COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)"
                with cursor.cursor.copy(copy_sql) as copy:
                    while block := handle.read(1 << 20):
                        copy.write(block)
            cursor.execute(
                "INSERT INTO bench_records (code, collection_id, identifier, title, description, "
                "extra, created_at, updated_at) SELECT gen_random_uuid(), 1, identifier, title, "
                "coalesce(description, ''), '{}', now(), now() FROM bench_raw"
            )
            for _, definition in gin:
                cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("DROP TABLE bench_raw, bench_records")
    return t[0]


class _RolledBack(Exception):
    pass


def import_rolled_back(path: Path, *, row_by_row: bool) -> float:
    """Seconds of one import into an empty collection, rolled back so the next starts alike.

    ``row_by_row`` turns the set-wise CSV path off (``catalogue/services/import_csv_copy.py``):
    the reader that checks every cell in Python, as before it, on the same file.
    """
    from django.db import transaction

    from catalogue.models import Collection
    from catalogue.services import imports

    collection, _ = Collection.objects.get_or_create(slug="scale-ab", defaults={"name": "A/B"})
    quick = imports.csv_copy_stage
    if row_by_row:
        imports.csv_copy_stage = lambda **kwargs: None
    try:
        with timed() as t:
            try:
                with transaction.atomic():
                    imports.records_import(path=path, collection=collection, mapping=MAPPING)
                    raise _RolledBack
            except _RolledBack:
                pass
    finally:
        imports.csv_copy_stage = quick
    collection.delete()
    return t[0]


def records_import_file(path: Path) -> tuple[int, float]:
    """Import through the app (as ``import_records``); rows and seconds."""
    from catalogue.models import Collection
    from catalogue.services.imports import records_import

    collection, _ = Collection.objects.get_or_create(slug=COLLECTION, defaults={"name": "Scale"})
    with timed() as t:
        result = records_import(path=path, collection=collection, mapping=MAPPING)
    return result.created + result.updated + result.unchanged, t[0]


def records_ensure(bench: Bench) -> None:
    """The generated records are in the database (imported unmeasured if no part did it)."""
    from catalogue.models import Record

    if not Record.objects.exists():
        records_import_file(Path(bench.data_file))


def run(bench: Bench) -> list[Figure]:
    import catalogue.services.imports  # noqa: F401 - loaded before the clock starts

    path = Path(bench.data_file)
    size_mb = path.stat().st_size / 2**20
    copy_s = raw_copy_seconds(path)
    indexed_s = indexed_copy_seconds(path)
    gin_after_s = indexed_copy_seconds(path, gin_after=True)
    # Side by side on the same table, alternating: before (row by row) and after (set-wise).
    rows_s = [import_rolled_back(path, row_by_row=flag) for flag in (True, False, True, False)]
    rows, first_s = records_import_file(path)
    peak = peak_rss_mb()
    _, again_s = records_import_file(path)
    copy_rate, indexed_rate, rate = rows / copy_s, rows / indexed_s, rows / first_s
    gin_after_rate = rows / gin_after_s
    before, after = rows / min(rows_s[0::2]), rows / min(rows_s[1::2])
    return [
        Figure("import", f"raw COPY of the {size_mb:.0f} MB CSV", copy_rate, "rows/s"),
        Figure(
            "import",
            "raw COPY, then stored in a copy of catalogue_record with its indexes",
            indexed_rate,
            "rows/s",
            baseline=f"raw COPY {copy_rate:,.0f} rows/s",
            ratio=indexed_rate / copy_rate,
        ),
        Figure(
            "import",
            "raw COPY, then stored in that copy, its GIN indexes built afterwards",
            gin_after_rate,
            "rows/s",
            baseline=f"raw COPY {copy_rate:,.0f} rows/s",
            ratio=gin_after_rate / copy_rate,
        ),
        Figure(
            "import",
            "before: rows checked one by one in Python (rolled back, best of 2)",
            before,
            "rows/s",
            baseline=f"raw COPY {copy_rate:,.0f} rows/s",
            ratio=before / copy_rate,
        ),
        Figure(
            "import",
            "after: COPY as parsed, checked in SQL (rolled back, best of 2)",
            after,
            "rows/s",
            baseline=f"before {before:,.0f} rows/s",
            ratio=after / before,
        ),
        Figure(
            "import",
            f"import_records, {rows:,} new records, committed",
            rate,
            "rows/s",
            baseline=f"raw COPY {copy_rate:,.0f} rows/s; with indexes {indexed_rate:,.0f}",
            ratio=rate / copy_rate,
            note=f"{rate / indexed_rate:.2f} of the indexed COPY",
        ),
        Figure("import", "import_records again, nothing changed", rows / again_s, "rows/s"),
        Figure("import", "import process peak memory", peak, "MB", note=f"file {size_mb:.0f} MB"),
    ]
