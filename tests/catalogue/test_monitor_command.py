from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Q

from catalogue.models import Prediction, Snapshot
from tests.catalogue.monitoring_data import watched_with_drift_and_spot_checks

pytestmark = pytest.mark.django_db


def test_monitor_prints_the_figures_the_page_shows_as_json(
    genre, tmp_path, django_capture_on_commit_callbacks, cataloguer, capsys
):
    field = watched_with_drift_and_spot_checks(
        genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
    )

    call_command("monitor", "--field", field.key, "--json")

    report = json.loads(capsys.readouterr().out)
    precision = report["live_precision"]
    assert (precision["successes"], precision["n"]) == (20, 30)
    assert precision["interval"] == "95% Wilson score"
    assert precision["low"] < 20 / 30 < precision["high"]
    # The same spot checks per collection and per confidence band, each with its interval.
    assert {slug: p["n"] for slug, p in precision["by_collection"].items()} == {"bl-more": 30}
    bands = precision["by_band"].values()
    assert sum(p["n"] for p in bands) == 30
    assert all(p["low"] <= p["estimate"] <= p["high"] for p in bands)
    assert report["drift"]["script"]["crossed"] is True
    assert report["settings"]["audit_rate"] == 0.5
    assert {a["collection"] for a in report["open_alerts"]} >= {"jp"}
    assert report["days"][-1]["predicted"] == 300
    # 10 of the 30 spot checks were corrected, each to the model's other label.
    assert (report["days"][-1]["corrections"], report["days"][-1]["corrections_unknown"]) == (10, 0)
    # What the model applied on its own (spot checks included) and what went to people.
    day = report["days"][-1]
    applied = Prediction.objects.filter(
        Q(status=Prediction.Status.APPLIED) | Q(spot_check__isnull=False), field=field
    ).count()
    assert 0 < applied < 300
    assert (day["applied_by_model"], day["sent_to_people"]) == (applied, 300 - applied)
    assert day["share_to_people"] == pytest.approx((300 - applied) / 300)
    assert day["flags"] == 0 and day["flags_per_thousand"] == 0
    # Live calibration: the 30 decisions by confidence band, 20 accepted and 10 corrected.
    reliability = report["reliability"]
    assert sum(row["decided"] for row in reliability) == 30
    assert sum(row["accepted"] for row in reliability) == 20
    assert sum(row["corrected"] for row in reliability) == 10
    # The charts' numbers too: the confidence histogram against the held-out records, and
    # each drift score day by day.
    assert sum(row["live"] for row in report["confidence"]) == 300
    assert all(row["held_out"] is not None for row in report["confidence"])
    (day,) = report["drift"]["script"]["by_day"]
    assert (day["day"], day["crossed"]) == (report["latest_snapshot"], True)


def test_monitor_can_take_the_snapshot_and_speaks_plainly(
    genre, tmp_path, django_capture_on_commit_callbacks, cataloguer, capsys
):
    field = watched_with_drift_and_spot_checks(
        genre, tmp_path, django_capture_on_commit_callbacks, cataloguer
    )
    Snapshot.objects.all().delete()

    call_command("monitor", "--field", field.key, "--collection", "jp", "--snapshot")

    out = capsys.readouterr().out
    assert out.startswith("genre in jp: watched since ")
    assert "drift script: 1.000 (line 0.20" in out
    assert "CROSSED" in out
    assert Snapshot.objects.filter(field=field, collection__slug="jp").exists()


def test_monitor_names_an_unknown_field_or_collection(field):
    with pytest.raises(CommandError, match="No field 'subject'"):
        call_command("monitor", "--field", "subject")
    with pytest.raises(CommandError, match="No collection 'nowhere'"):
        call_command("monitor", "--field", "language", "--collection", "nowhere")
