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
    rows, first_s = records_import_file(path)
    peak = peak_rss_mb()
    _, again_s = records_import_file(path)
    copy_rate, rate = rows / copy_s, rows / first_s
    return [
        Figure("import", f"raw COPY of the {size_mb:.0f} MB CSV", copy_rate, "rows/s"),
        Figure(
            "import",
            f"import_records, {rows:,} new records",
            rate,
            "rows/s",
            baseline=f"raw COPY {copy_rate:,.0f} rows/s",
            ratio=rate / copy_rate,
        ),
        Figure("import", "import_records again, nothing changed", rows / again_s, "rows/s"),
        Figure("import", "import process peak memory", peak, "MB", note=f"file {size_mb:.0f} MB"),
    ]
