"""Play out, on the demo database, what the monitoring screenshots in the README show.

    bash scripts/demo.sh                                # once, then stop the server
    .venv/bin/python scripts/monitoring_scenario.py     # then start it again

0. The demo's genre predictions (and any spot checks and decisions on them) are dated a week
   back, as if the demo had run for a week before what follows: the Japanese import then falls
   in the window after one of British Library books, so the drift against the previous window
   has a window to compare with. Its snapshots are retaken from that day.
1. The admin raises the genre field's spot-check rate to 20%; the sweep draws that share of the
   values the model applied on its own.
2. A cataloguer answers the genre queue (spot checks and all) with the genre the British
   Library's annotators gave each book (``data/label-samples/bl-genre.csv``): accept when the
   model agrees, correct it when not. Nothing is invented: every answer is the sample's.
3. The admin applies the genre field to a new collection, 100 Japanese books from the
   University of Florida's catalogue (``tests/fixtures/japanese_titles.csv``, titles in
   Japanese script), and imports it; the genre model predicts them.
4. The monitoring task runs: snapshots, drift scores, alerts.

Safe to run twice: the demo is dated back only once, decided items are not decided again and
the import updates in place.
"""

from __future__ import annotations

import csv
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamml.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402

from catalogue.models import (  # noqa: E402
    Collection,
    Decision,
    Field,
    Prediction,
    Snapshot,
    SpotCheck,
)
from catalogue.services.decisions import AlreadyDecided, decision_make  # noqa: E402
from catalogue.services.imports import records_import  # noqa: E402
from catalogue.services.monitoring.alerts import monitoring_run  # noqa: E402
from catalogue.services.monitoring.policy import monitoring_policy_update  # noqa: E402

GENRE_SAMPLE = ROOT / "data" / "label-samples" / "bl-genre.csv"
JAPANESE = ROOT / "tests" / "fixtures" / "japanese_titles.csv"


def a_week_of_history(genre: Field) -> None:
    """Date the demo's genre predictions a week back (once), and retake the snapshots."""
    week = timedelta(days=7)
    if Prediction.objects.filter(field=genre, created_at__lt=timezone.now() - week / 2).exists():
        return
    Prediction.objects.filter(field=genre).update(created_at=F("created_at") - week)
    SpotCheck.objects.filter(field=genre).update(created_at=F("created_at") - week)
    Decision.objects.filter(prediction__field=genre).update(created_at=F("created_at") - week)
    Snapshot.objects.filter(field=genre).delete()
    print(f"dated the genre predictions back to {timezone.localdate() - week}")


def main() -> None:
    users = get_user_model().objects
    admin, cataloguer = users.get(username="admin"), users.get(username="cataloguer")
    genre = Field.objects.get(key="genre")
    a_week_of_history(genre)

    monitoring_policy_update(field=genre, changed_by=admin, audit_rate=0.2)
    drawn = monitoring_run(field=genre).spot_checked
    print(f"spot-check rate 20%: {drawn} more applied values drawn")

    with GENRE_SAMPLE.open(encoding="utf-8", newline="") as handle:
        truth = {row["identifier"]: row["genre"] for row in csv.DictReader(handle)}
    answered = {"accept": 0, "correct": 0}
    waiting = Prediction.objects.filter(field=genre, status=Prediction.Status.QUEUED)
    for prediction in waiting.select_related("record", "field", "model_version").order_by("id"):
        label = truth.get(prediction.record.identifier)
        if not label:
            continue
        action = "accept" if label == prediction.label else "correct"
        try:
            decision_make(prediction=prediction, reviewer=cataloguer, action=action, label=label)
        except AlreadyDecided:
            continue
        answered[action] += 1
    print(f"the cataloguer accepted {answered['accept']} and corrected {answered['correct']}")

    japanese, _ = Collection.objects.get_or_create(
        slug="uf-japanese",
        defaults={
            "name": "University of Florida Japanese books",
            "licence": "CC BY 4.0, Library Carpentry (lc-marcedit)",
        },
    )
    genre.collections.add(japanese)
    result = records_import(path=JAPANESE, collection=japanese, mapping={})
    imported = result.created + result.updated + result.unchanged
    print(f"imported {imported} records into {japanese.slug}")

    run = monitoring_run(field=genre)
    print(f"monitoring: {run.snapshots} snapshot rows written, {len(run.alerts)} alerts raised")
    for alert in run.alerts:
        print(f"  {alert.get_kind_display()}: {alert.message}")


if __name__ == "__main__":
    main()
