"""The monitoring section: what watches a version now, since when, and the latest figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glamml.ml.cards.document import (
    NONE,
    Block,
    Bullets,
    Paragraph,
    Row,
    Section,
    Table,
    Text,
    plain,
)


def _share(p: Mapping[str, Any]) -> str:
    return (
        f"{p['estimate']:.0%} ({p['successes']} of {p['n']}; 95% Wilson interval "
        f"{p['low']:.0%}–{p['high']:.0%})"
    )


def monitoring_section(facts: Mapping[str, Any]) -> Section:
    """What watches the version now, since when, and the latest figures: only what is true.

    ``facts`` come from the app when the card is shown (they change after the version is made):
    ``live`` (is it the active version), ``watched_since`` and ``latest_day`` (ISO dates, or
    absent when no snapshot has been taken), the settings, ``precision`` (its spot checks) and
    ``drift`` (the latest scores).
    """
    blocks: list[Block] = []
    precision = facts.get("precision")
    if not facts.get("live"):
        blocks.append(
            plain(
                "This version is not live, so nothing watches its predictions now: "
                "monitoring follows the field's active version."
            )
        )
    elif not facts.get("watched_since"):
        blocks.append(
            plain(
                "Not monitored yet: no monitoring snapshot has been taken since this version "
                "went live, so there are no live figures to report."
            )
        )
    else:
        blocks += _watched(facts)
    if precision and precision.get("n") and not facts.get("live"):
        blocks.append(plain(f"While it was live, spot checks confirmed {_share(precision)}."))
    return Section("Monitoring", tuple(blocks))


def _watched(facts: Mapping[str, Any]) -> list[Block]:
    """A live, monitored version: since when, what is checked, the latest figures, alerts."""
    rate = float(facts.get("audit_rate") or 0.0)
    blocks: list[Block] = [
        Paragraph(
            (
                Text("Watched since "),
                Text(str(facts["watched_since"]), "strong"),
                Text(f"; latest snapshot {facts.get('latest_day') or NONE}."),
            )
        )
    ]
    watched = [
        f"Spot checks: {rate:.0%} of the values it applies on its own, drawn at random, "
        "go to a person; the share confirmed is its live precision."
        if rate
        else "Spot checks are switched off (audit rate 0): no live precision is measured.",
        "Every day, per collection: predictions by status and label, confidence, the share "
        "sent to people, how often reviewers accept by confidence band, public flags.",
        f"Drift over {facts.get('window_days')} days: predicted labels, confidence, text "
        "length, script and the share of trigrams never seen in training, against the "
        "records it was trained and tested on (Jensen–Shannon distance; an alert at "
        f"{float(facts.get('drift_threshold') or 0):.2f} when chance explains the shift less "
        f"than once in a thousand and at least {facts.get('min_records')} records stand on "
        "each side).",
    ]
    blocks.append(Bullets(tuple((Text(line),) for line in watched)))
    rows = _latest_figures(facts)
    if rows:
        blocks.append(Table(("Latest figures", "value", "line"), tuple(rows)))
    alerts = int(facts.get("open_alerts") or 0)
    blocks.append(
        plain(f"{alerts} open alert{'s' if alerts != 1 else ''}." if alerts else "No open alert.")
    )
    return blocks


def _latest_figures(facts: Mapping[str, Any]) -> list[Row]:
    """Live precision against the held-out one, and each drift score against its line."""
    rows = []
    precision = facts.get("precision")
    if precision and precision.get("n"):
        expected = precision.get("expected")
        rows.append(
            Row(
                "Live precision (spot checks)",
                (_share(precision), f"{expected:.0%} held-out" if expected else NONE),
                strong=bool(precision.get("below_expected")),
            )
        )
    for score in facts.get("drift") or []:
        crossed = " (crossed)" if score.get("crossed") else ""
        rows.append(
            Row(
                str(score["title"]),
                (f"{float(score['distance']):.3f}{crossed}", f"{float(score['line']):.2f}"),
                strong=bool(score.get("crossed")),
            )
        )
    return rows
