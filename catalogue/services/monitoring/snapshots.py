"""Daily snapshots of a field's live figures, per collection and for the field, with drift scores.

A snapshot row holds what happened on one day: predictions made (by status, label and
confidence band; how many the model applied and how many went to people), decisions made (by
action and confidence band: live calibration), spot checks drawn and decided, public flags,
and input statistics of a stable random sample of the day's predicted records (text length,
script, share of trigrams the model never saw). Drift scores compare the last ``window_days``
days with the active version's training data and with the ``window_days`` before them.

Rows are recomputed from the database for the days since the last snapshot, so taking a
snapshot twice with the same data writes nothing the second time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from catalogue.field_records import records_for_field
from catalogue.machine import ModelUnavailable, model_labels, model_load
from catalogue.models import (
    Decision,
    Field,
    Flag,
    ModelVersion,
    MonitoringPolicy,
    Prediction,
    Snapshot,
    SpotCheck,
)
from catalogue.services.inference import text_for_model
from catalogue.services.monitoring.policy import monitoring_policy_get
from catalogue.services.monitoring.references import drift_references, unseen_function
from catalogue.services.monitoring.spotchecks import live_precision, spot_check_outcomes
from glamml.ml.drift import (
    BAND_EDGES,
    UnseenFunction,
    band_index,
    distribution_shift,
    input_stats,
    merge_counts,
)

# Input statistics are computed on at most this many of a collection's records a day, drawn by
# their stable audit rank (a random sample that does not move when the snapshot is retaken).
INPUT_SAMPLE = 2000
N_BANDS = len(BAND_EDGES) - 1
ACTIONS = tuple(Decision.Action.values)

Stats = dict[str, Any]
# The figures drift is measured on: short name (table headings), what it is, and what the
# reference holds of it. Each is compared with the reference and with the previous window.
FIGURES = {
    "labels": ("Labels", "Predicted labels", "the reference"),
    "confidence": ("Confidence", "Confidence", "the held-out records"),
    "length": ("Length", "Text length", "the training records"),
    "script": ("Script", "Script", "the training records"),
    "unseen": ("Unseen trigrams", "Trigrams never seen in training,", "the held-out records"),
    # Among the labels people gave (accepted or corrected), those the model cannot predict. The
    # training data has no such decisions, so this one has only the previous window.
    "unknown": ("Unknown labels", "Labels people gave that the model cannot predict", None),
}
PREVIOUS = "_previous"
AGAINST_REFERENCE = "reference"
AGAINST_PREVIOUS = "previous"
SCORE_NAMES = {
    **{name: short for name, (short, _, ref) in FIGURES.items() if ref},
    **{name + PREVIOUS: f"{short} vs previous" for name, (short, _, _) in FIGURES.items()},
}
SCORES = {
    **{name: f"{what} against {ref}" for name, (_, what, ref) in FIGURES.items() if ref},
    **{
        name + PREVIOUS: f"{what} against the previous window"
        for name, (_, what, _) in FIGURES.items()
    },
}
KNOWN, UNKNOWN = "known", "unknown"


def score_against(name: str) -> str:
    """What a score compares the window with: the reference or the previous window."""
    return AGAINST_PREVIOUS if name.endswith(PREVIOUS) else AGAINST_REFERENCE


def in_scope(collection_id: int | None) -> Q:
    """Rows of one collection, or the field's own rows (no collection)."""
    if collection_id is None:
        return Q(collection__isnull=True)
    return Q(collection_id=collection_id)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _empty() -> Stats:
    return {
        "predicted": 0,
        "status": {},
        "applied_by_model": 0,
        "sent_to_people": 0,
        "superseded": 0,
        "labels": {},
        "confidence": [0] * N_BANDS,
        "model_confidence": [0] * N_BANDS,
        "confidence_sum": 0.0,
        "decisions": {action: [0] * N_BANDS for action in ACTIONS},
        "decided_confidence_sum": [0.0] * N_BANDS,
        "corrections": 0,
        "corrections_unknown": 0,
        "spot_checks": {"selected": 0, **dict.fromkeys(ACTIONS, 0)},
        "flags": 0,
        "records": 0,
        "input": {"n": 0},
    }


def _bump(counts: dict[str, int], key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


def day_stats(
    *, field: Field, day: date, unseen: UnseenFunction | None, classes: set[str]
) -> dict[int, Stats]:
    """One day's figures per collection (only collections where something happened)."""
    start, end = day_bounds(day)
    stats: dict[int, Stats] = defaultdict(_empty)
    predicted = Prediction.objects.filter(field=field, created_at__gte=start, created_at__lt=end)
    rows = predicted.values_list(
        "record__collection_id", "status", "label", "confidence", "raw_confidence", "spot_check__id"
    )
    for collection_id, status, label, confidence, raw, spot_check in rows.iterator(chunk_size=5000):
        s = stats[collection_id]
        s["predicted"] += 1
        _bump(s["status"], status)
        _bump(s["labels"], label)
        s["confidence"][band_index(confidence)] += 1
        # What the model itself said, before the collection's calibration: what the held-out
        # reference holds, so the confidence drift score compares like with like.
        s["model_confidence"][band_index(confidence if raw is None else raw)] += 1
        s["confidence_sum"] += confidence
        if spot_check is not None or status == Prediction.Status.APPLIED:
            s["applied_by_model"] += 1
        elif status == Prediction.Status.SUPERSEDED:
            s["superseded"] += 1
        else:
            s["sent_to_people"] += 1
    decisions = Decision.objects.filter(
        prediction__field=field,
        created_at__gte=start,
        created_at__lt=end,
        withdrawn_at__isnull=True,
    ).values_list("prediction__record__collection_id", "action", "prediction__confidence", "label")
    for collection_id, action, confidence, label in decisions:
        s = stats[collection_id]
        band = band_index(confidence)
        s["decisions"][action][band] += 1
        s["decided_confidence_sum"][band] += confidence
        if action == Decision.Action.CORRECT:
            s["corrections"] += 1
            s["corrections_unknown"] += label not in classes
    for collection_id, n in _count_by(
        SpotCheck.objects.filter(field=field, created_at__gte=start, created_at__lt=end),
        "collection_id",
    ):
        stats[collection_id]["spot_checks"]["selected"] += n
    for o in spot_check_outcomes(SpotCheck.objects.filter(field=field)):
        if o.outcome is not None and o.decided_at is not None and start <= o.decided_at < end:
            stats[o.collection_id]["spot_checks"][o.outcome] += 1
    flags = Flag.objects.filter(field=field, created_at__gte=start, created_at__lt=end)
    for collection_id, n in _count_by(flags, "record__collection_id"):
        stats[collection_id]["flags"] += n
    records = dict(_count_by(records_for_field(field=field), "collection_id"))
    for collection_id, s in stats.items():
        s["records"] = records.get(collection_id, 0)
        if s["predicted"]:
            s["input"] = _input_sample(predicted, collection_id, field=field, unseen=unseen)
    return dict(stats)


def _count_by(qs: Any, key: str) -> list[tuple[int, int]]:
    return list(qs.order_by().values_list(key).annotate(n=Count("id")).values_list(key, "n"))


def _input_sample(
    predicted: Any, collection_id: int, *, field: Field, unseen: UnseenFunction | None
) -> Stats:
    sample = (
        predicted.filter(record__collection_id=collection_id)
        .select_related("record")
        .order_by("audit_rank", "id")[:INPUT_SAMPLE]
    )
    texts = [text_for_model(record=p.record, field=field) for p in sample]
    stats = input_stats(texts, unseen=unseen)
    if "unseen_sum" in stats:
        stats["unseen_sum"] = round(stats["unseen_sum"], 6)
    return stats


def field_total(per_collection: dict[int, Stats], *, records: int) -> Stats:
    """The field's row: every collection's figures added up."""
    total: Stats = merge_counts([_empty(), *per_collection.values()])
    total["records"] = records
    return _rounded(total)


def _rounded(stats: Stats) -> Stats:
    """Sums of floats rounded, so a retaken snapshot compares equal to the stored one."""
    stats["confidence_sum"] = round(stats["confidence_sum"], 6)
    stats["decided_confidence_sum"] = [round(v, 6) for v in stats["decided_confidence_sum"]]
    if "unseen_sum" in stats["input"]:
        stats["input"]["unseen_sum"] = round(stats["input"]["unseen_sum"], 6)
    return stats


# -- drift ---------------------------------------------------------------------------------


def window_total(rows: Iterable[Stats]) -> Stats:
    # A row taken before snapshots kept the model's own confidence counts its calibrated one.
    total: Stats = merge_counts(
        [_empty(), *({"model_confidence": r.get("confidence"), **r} for r in rows)]
    )
    return total


def window_figures(stats: Stats) -> dict[str, Any]:
    """A window's figures as drift compares them (the same for this window and the one before)."""
    live_input = stats.get("input") or {}
    decisions = stats.get("decisions") or {}
    unknown = stats.get("corrections_unknown", 0)
    given = sum(decisions.get(Decision.Action.ACCEPT) or []) + stats.get("corrections", 0)
    return {
        "labels": stats.get("labels"),
        "confidence": stats.get("model_confidence"),
        "length": live_input.get("length"),
        "script": live_input.get("scripts"),
        "unseen": live_input.get("unseen"),
        "unknown": {KNOWN: given - unknown, UNKNOWN: unknown} if given else None,
        "unseen_sum": live_input.get("unseen_sum"),
    }


def reference_figures(profile: dict[str, Any]) -> dict[str, Any]:
    """The reference's figures, under the same names."""
    return {
        "labels": profile.get("labels"),
        "confidence": profile.get("confidence"),
        "length": profile.get("length"),
        "script": profile.get("scripts"),
        "unseen": profile.get("unseen"),
        "unseen_sum": profile.get("unseen_sum"),
    }


def drift_scores(
    *,
    window: Stats,
    previous: Stats,
    reference: dict[str, Any] | None,
    policy: MonitoringPolicy,
) -> dict[str, Any]:
    """Each score's distance, p-value, sizes, the alert line and whether it was crossed.

    Every figure of the window is scored twice, by the same test: against the reference (the
    active version's training data) and against the previous window (``<name>_previous``).
    """
    live = window_figures(window)
    against = {
        "": reference_figures(reference or {}),
        PREVIOUS: window_figures(previous) if previous else {},
    }
    scores: dict[str, Any] = {}
    for suffix, expected in against.items():
        for figure in FIGURES:
            shift = None
            if live.get(figure) and expected.get(figure):
                shift = distribution_shift(live[figure], expected[figure])
            if shift is None:
                continue
            crossed = shift.crosses(
                threshold=policy.drift_threshold, min_records=policy.min_records
            )
            score: dict[str, Any] = {
                **shift.as_dict(),
                "line": policy.drift_threshold,
                "crossed": crossed,
            }
            if figure == "unseen":
                score["live_mean"] = _mean(live["unseen_sum"], live["unseen"])
                score["reference_mean"] = _mean(expected["unseen_sum"], expected["unseen"])
            scores[figure + suffix] = score
    return scores


def _mean(total: float | None, histogram: list[int]) -> float | None:
    n = sum(histogram)
    return round(total / n, 4) if total is not None and n else None


# -- taking snapshots ----------------------------------------------------------------------


def snapshot_days(*, field: Field, today: date, window_days: int) -> list[date]:
    """The days to (re)compute: from the last snapshot's day (it may have been partial) to today.

    The first time, back to the field's first prediction, but no further than two windows (a
    window to judge and the one before it to compare with).
    """
    last = (
        Snapshot.objects.filter(field=field, collection__isnull=True)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    first = today - timedelta(days=2 * window_days - 1)
    if last is not None:
        first = max(first, last)
    else:
        earliest = (
            Prediction.objects.filter(field=field)
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        first = max(first, timezone.localdate(earliest) if earliest else today)
    return [first + timedelta(days=i) for i in range((today - first).days + 1)]


def snapshots_take(*, field: Field, today: date | None = None) -> list[Snapshot]:
    """Record the field's figures for the days since the last snapshot, with drift scores.

    Returns the rows written (none when nothing changed since the last time).
    """
    today = today or timezone.localdate()
    version = ModelVersion.objects.filter(field=field, status=ModelVersion.Status.ACTIVE).first()
    unseen, classes, references = None, set(), {}
    if version is not None:
        try:
            references = drift_references(version=version)
            unseen = unseen_function(version=version, references=references)
            classes = model_labels(model_load(version=version))
        except ModelUnavailable:
            version = None
    written: list[Snapshot] = []
    with transaction.atomic():
        policy = MonitoringPolicy.objects.select_for_update().get(
            pk=monitoring_policy_get(field=field).pk
        )
        records = records_for_field(field=field).count()
        for day in snapshot_days(field=field, today=today, window_days=policy.window_days):
            per_collection = day_stats(field=field, day=day, unseen=unseen, classes=classes)
            rows: dict[int | None, Stats] = {None: field_total(per_collection, records=records)}
            rows.update({cid: _rounded(s) for cid, s in per_collection.items()})
            precision = None
            if version is not None:
                until = day_bounds(day)[1]
                precision = live_precision(field=field, model_version=version, until=until)
            for collection_id, stats in rows.items():
                drift = _drift_for(
                    field=field,
                    collection_id=collection_id,
                    day=day,
                    stats=stats,
                    policy=policy,
                    references=references,
                )
                if precision is not None:
                    drift["precision"] = _precision_for(precision, collection_id)
                row = _write(field, collection_id, day, version=version, stats=stats, drift=drift)
                if row is not None:
                    written.append(row)
    return written


def _precision_for(precision: Any, collection_id: int | None) -> dict[str, Any]:
    if collection_id is None:
        share = precision.overall
    else:
        share = next((p for c, p in precision.by_collection if c.pk == collection_id), None)
    result: dict[str, Any] = {"expected": precision.expected, "pending": precision.pending}
    if share is not None:
        result.update(share.as_dict())
        result["below_expected"] = precision.expected is not None and share.excludes_above(
            precision.expected
        )
    return result


def _drift_for(
    *,
    field: Field,
    collection_id: int | None,
    day: date,
    stats: Stats,
    policy: MonitoringPolicy,
    references: dict[int | None, Any],
) -> dict[str, Any]:
    w = policy.window_days
    window_start = day - timedelta(days=w - 1)
    earlier = Snapshot.objects.filter(
        in_scope(collection_id),
        field=field,
        day__gte=day - timedelta(days=2 * w - 1),
        day__lt=day,
    ).values_list("day", "stats")
    window_rows: list[Stats] = [stats]
    previous_rows: list[Stats] = []
    for snapshot_day, snapshot_stats in earlier:
        (window_rows if snapshot_day >= window_start else previous_rows).append(snapshot_stats)
    reference = references.get(collection_id)
    if reference is None or _reference_size(reference.profile) < policy.min_records:
        # A collection the version barely learnt from is compared with the whole field.
        reference = references.get(None)
    window = window_total(window_rows)
    return {
        "window": [window_start.isoformat(), day.isoformat()],
        "n_window": window["predicted"],
        "reference": (
            {
                "collection": reference.collection_id,
                "labels_from": reference.profile.get("labels_from"),
                "built": reference.profile.get("built"),
            }
            if reference is not None
            else None
        ),
        "scores": drift_scores(
            window=window,
            previous=window_total(previous_rows) if previous_rows else {},
            reference=reference.profile if reference is not None else None,
            policy=policy,
        ),
        "flags": window["flags"],
        "records": stats["records"],
    }


def _reference_size(profile: dict[str, Any]) -> int:
    return int(profile.get("n_train", 0)) + int(profile.get("n_test", 0))


def _write(
    field: Field,
    collection_id: int | None,
    day: date,
    *,
    version: ModelVersion | None,
    stats: Stats,
    drift: dict[str, Any],
) -> Snapshot | None:
    """Insert or update the day's row; None (and no write) when it holds these figures already."""
    existing = Snapshot.objects.filter(in_scope(collection_id), field=field, day=day).first()
    version_id = version.pk if version is not None else None
    if existing is not None:
        if (
            existing.stats == stats
            and existing.drift == drift
            and existing.model_version_id == version_id
        ):
            return None
        existing.stats, existing.drift = stats, drift
        existing.model_version_id = version_id
        existing.taken_at = timezone.now()
        existing.save(update_fields=["stats", "drift", "model_version", "taken_at"])
        return existing
    return Snapshot.objects.create(
        field=field,
        collection_id=collection_id,
        day=day,
        model_version_id=version_id,
        stats=stats,
        drift=drift,
        taken_at=timezone.now(),
    )
