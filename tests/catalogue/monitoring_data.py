"""Real records for the monitoring tests: a genre field trained on English titles only, and
collections to import into it afterwards (more English titles, Finnish ones, Japanese ones)."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from django.core.management.color import no_style
from django.db import connection

from catalogue.models import Collection, DecisionPolicy, Field, Record
from catalogue.services.imports import records_import
from catalogue.services.policy import policy_update
from tests.conftest import train
from tests.factories import CollectionFactory

REPO = Path(__file__).resolve().parents[2]
GENRE_SAMPLE = REPO / "data" / "label-samples" / "bl-genre.csv"
DEMO_SAMPLE = REPO / "data" / "sample" / "records.csv"
JAPANESE = REPO / "tests" / "fixtures" / "japanese_titles.csv"
TRAINING_ROWS = 300


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def genre_rows() -> list[dict[str, str]]:
    """The British Library genre sample, every language, in a fixed pseudo-random order."""
    rows = _rows(GENRE_SAMPLE)
    return sorted(rows, key=lambda r: hashlib.sha256(r["identifier"].encode()).hexdigest())


def english_rows() -> list[dict[str, str]]:
    """British Library books catalogued in English, in a fixed pseudo-random order."""
    return [r for r in genre_rows() if r["language"] == "eng"]


def finnish_rows() -> list[dict[str, str]]:
    """FinGreyLit reports catalogued in Finnish (National Library of Finland, CC0)."""
    return [r for r in _rows(DEMO_SAMPLE) if r["source"] == "FinGreyLit" and r["language"] == "fin"]


def japanese_rows() -> list[dict[str, str]]:
    return _rows(JAPANESE)


def import_rows(
    tmp_path: Path,
    rows: list[dict[str, str]],
    *,
    slug: str,
    name: str,
    columns: tuple[str, ...] = ("identifier", "title"),
    mapping: dict[str, str] | None = None,
) -> Collection:
    """Import the rows as a collection, the way an admin does (a CSV file through the importer)."""
    path = tmp_path / f"{slug}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows({key: row[key] for key in columns} for row in rows)
    collection = CollectionFactory(slug=slug, name=name)
    records_import(path=path, collection=collection, mapping=mapping or {})
    return collection


def trained_on_english(genre: Field, tmp_path: Path, *, threshold: float = 0.8) -> Field:
    """The genre field trained on 300 English titles, applying what it is sure of.

    Record ids decide the training split and the calibration's folds (a stable hash of each
    key), and a test database hands out ids that depend on the tests that ran before it in the
    same process: the model, and every score the tests compare, changed from run to run. The
    records' ids start afresh here (no record exists yet in the test's transaction).
    """
    assert not Record.objects.exists()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Record]):
            cursor.execute(sql)
    import_rows(
        tmp_path,
        english_rows()[:TRAINING_ROWS],
        slug="bl",
        name="British Library",
        columns=("identifier", "title", "genre"),
        mapping={"genre": "genre"},
    )
    run = train(genre)
    assert run.status == "succeeded", run.message
    policy_update(
        policy=genre.policy,
        changed_by=None,
        mode=DecisionPolicy.Mode.THRESHOLD,
        threshold=threshold,
    )
    genre.refresh_from_db()
    return genre


def watched_with_drift_and_spot_checks(genre: Field, tmp_path: Path, capture, cataloguer) -> Field:
    """English-trained genre, then 200 more English and 100 Japanese records predicted, half
    the applied values spot-checked (some confirmed, some corrected), and a snapshot taken."""
    from catalogue.models import SpotCheck
    from catalogue.services.decisions import decision_make
    from catalogue.services.monitoring.alerts import monitoring_run
    from catalogue.services.monitoring.policy import monitoring_policy_update

    field = trained_on_english(genre, tmp_path)
    monitoring_policy_update(field=field, changed_by=None, audit_rate=0.5)
    fresh = english_rows()[TRAINING_ROWS : TRAINING_ROWS + 200]
    with capture(execute=True):
        import_rows(tmp_path, fresh, slug="bl-more", name="More BL")
        import_rows(tmp_path, japanese_rows(), slug="jp", name="Japanese")
    checks = SpotCheck.objects.filter(field=field).select_related("prediction").order_by("id")
    for i, check in enumerate(checks[:30]):
        if i % 3:
            decision_make(prediction=check.prediction, reviewer=cataloguer, action="accept")
        else:
            wrong = "Fiction" if check.prediction.label == "Non-fiction" else "Non-fiction"
            decision_make(
                prediction=check.prediction, reviewer=cataloguer, action="correct", label=wrong
            )
    monitoring_run(field=field)
    return field
