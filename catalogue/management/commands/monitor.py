from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.models import Collection, Field
from catalogue.services.fields import field_get
from catalogue.services.monitoring.alerts import monitoring_run
from catalogue.services.monitoring.report import monitoring_report
from catalogue.services.monitoring.report_json import report_as_json


class Command(BaseCommand):
    help = (
        "A field's monitoring figures: live precision from spot checks (with its 95% Wilson "
        "interval), the latest drift scores against their alert line, daily counts and open "
        "alerts; the same numbers as the monitoring page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--field", required=True)
        parser.add_argument("--collection", help="One collection's figures (its slug)")
        parser.add_argument(
            "--snapshot",
            action="store_true",
            help="Take today's snapshot first (what the periodic task does), raising alerts",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: object, **options: object) -> None:
        try:
            field = field_get(key=str(options["field"]))
        except Field.DoesNotExist:
            raise CommandError(f"No field {options['field']!r}.") from None
        collection = None
        if options["collection"]:
            collection = Collection.objects.filter(slug=options["collection"]).first()
            if collection is None:
                raise CommandError(f"No collection {options['collection']!r}.")
        if options["snapshot"]:
            monitoring_run(field=field)
        report = report_as_json(monitoring_report(field=field, collection=collection))
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True))
            return
        self._print(report)

    def _print(self, report: dict[str, object]) -> None:
        out = self.stdout.write
        scope = f" in {report['collection']}" if report["collection"] else ""
        since = report["watched_since"] or "never (no snapshot yet)"
        out(
            f"{report['field']}{scope}: watched since {since}; latest snapshot "
            f"{report['latest_snapshot'] or '—'}; active version {report['active_version'] or '—'}"
        )
        precision = report["live_precision"]
        if isinstance(precision, dict) and precision.get("n"):
            expected = precision["held_out_at_threshold"]
            out(
                f"live precision {precision['estimate']:.1%} ({precision['successes']} of "
                f"{precision['n']} spot checks; 95% Wilson interval {precision['low']:.1%}–"
                f"{precision['high']:.1%}); held-out at the threshold "
                + (f"{expected:.1%}" if expected is not None else "—")
                + f"; {precision['pending']} waiting"
            )
        else:
            out("live precision: no spot check decided yet")
        drift = report["drift"]
        if isinstance(drift, dict) and drift:
            for name, score in drift.items():
                mark = "  CROSSED" if score["crossed"] else ""
                distance = "—" if score["distance"] is None else f"{score['distance']:.3f}"
                out(f"drift {name}: {distance} (line {score['line']:.2f}, {score['day']}){mark}")
        else:
            out("drift: no score yet")
        alerts = report["open_alerts"]
        out(f"open alerts: {len(alerts) if isinstance(alerts, list) else 0}")
        for alert in alerts if isinstance(alerts, list) else []:
            out(f"  {alert['kind']} {alert['day']}: {alert['message']}")
