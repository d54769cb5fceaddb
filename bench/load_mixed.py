"""Load test, mixed: reads and writes at once against gunicorn and PostgreSQL, as deployed.

    .venv/bin/python bench/load_mixed.py --database-url postgres://.../glamml_load \
        [--duration 60] [--users 12]

Needs the ``bench`` extra (locust, gunicorn) and a database with records and waiting
predictions: ``manage.py migrate`` then ``manage.py demo`` into an empty database makes one. It
changes that database (flags, decisions, policy saves), so never point it at real data.

gunicorn (2 sync workers, ``DEBUG`` off, ``CONN_MAX_AGE=60`` with health checks, as in
production) serves the app; locust runs ``--users`` people for ``--duration`` seconds: visitors
(3 in 6) reading record and collection pages, searching and flagging, cataloguers (2 in 6)
opening the queue and accepting an item, an admin (1 in 6) opening the dashboard and saving the
language policy. Each waits 0.5-1.5 s between requests (a bounded load). It prints p50 / p95 /
p99 per request and the server errors, and exits 1 if any request failed (a 5xx or a status
the page should not give). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from scale_common import ROOT, Bench, django_setup  # noqa: E402
from scale_web import BIN, gunicorn  # noqa: E402


def plan_make() -> dict[str, Any]:
    """Sessions for a cataloguer and an admin, the pages to ask for, the policy form's data."""
    from django.contrib.auth.models import User
    from django.test import Client

    from catalogue.models import Collection, Field, Record
    from catalogue.roles import cataloguer_group
    from review.forms import PolicyForm

    sessions = {}
    for role in ("cataloguer", "admin"):
        user, _ = User.objects.get_or_create(username=f"load-{role}")
        if role == "admin":
            user.is_staff = user.is_superuser = True
            user.save()
        else:
            user.groups.add(cataloguer_group())
        client = Client()
        client.force_login(user)
        sessions[role] = client.cookies["sessionid"].value
    collection = Collection.objects.filter(is_public=True).order_by("id").first()
    if collection is None:
        raise SystemExit("no public collection: run manage.py demo on this database first")
    records = Record.objects.filter(collection__is_public=True).order_by("?")[:50]
    # A flag is about a value the record page shows: records with a language value.
    flaggable = (
        Record.objects.filter(
            collection__is_public=True, values__field__key="language", values__is_current=True
        )
        .order_by("?")
        .values_list("code", flat=True)[:50]
    )
    form = PolicyForm.for_policy(Field.objects.get(key="language").policy, prefix="language")
    policy: dict[str, Any] = {}
    for bound in form:
        value = bound.value()
        if isinstance(value, bool):
            if value:
                policy[bound.html_name] = "on"
        elif value is not None:
            policy[bound.html_name] = value
    return {
        **sessions,
        "collection": collection.slug,
        "records": [str(code) for code in records.values_list("code", flat=True)],
        "flaggable": [str(code) for code in flaggable],
        "words": ["the", "history", "voyage", "portrait", "de"],
        "policy": policy,
    }


def run_locust(
    url: str, plan: dict[str, Any], users: int, duration: int, out: Path
) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    """locust's summary rows (one per request name, then "Aggregated") and its tally of what the
    server answered as saved."""
    tally = out / "tally.json"
    done = subprocess.run(
        [str(BIN / "locust"), "-f", str(BENCH_DIR / "load_mixed_locust.py"), "--headless"]
        + ["--users", str(users), "--spawn-rate", str(users), "--run-time", f"{duration}s"]
        + ["--host", url, "--csv", str(out / "load"), "--only-summary", "--loglevel", "WARNING"],
        cwd=ROOT,
        env={**os.environ, "LOAD_MIXED_PLAN": json.dumps(plan), "LOAD_MIXED_TALLY": str(tally)},
        check=False,
        capture_output=True,
        text=True,
    )
    if not tally.exists():
        raise RuntimeError(f"locust stopped without its tally:\n{done.stdout}\n{done.stderr}")
    with (out / "load_stats.csv").open(newline="") as handle:
        return list(csv.DictReader(handle)), json.loads(tally.read_text())


def failures(rows: list[dict[str, str]]) -> int:
    """Requests that failed: a 5xx, or a status the page should not give."""
    return sum(int(row["Failure Count"]) for row in rows if row["Name"] != "Aggregated")


def table(rows: list[dict[str, str]]) -> list[str]:
    """p50 / p95 / p99 per request, as a Markdown table."""
    lines = ["| request | count | failed | p50 ms | p95 ms | p99 ms |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
        lines.append(
            f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} "
            f"| {row['50%']} | {row['95%']} | {row['99%']} |"
        )
    return lines


def lost(tally: dict[str, list[str]], *, since: datetime) -> list[str]:
    """What the server answered as saved since ``since`` but the database does not hold: every
    decision the cataloguers were told was saved has its row, and so does every flag taken.

    The database may hold more than was answered: locust stops its users at the end of the run
    with requests still on their way, which the server finishes.
    """
    from catalogue.models import Decision, Flag

    problems = []
    # An item flagged after its decision waits again, and may be decided again.
    answered = Counter(tally["decided"])
    stored = Counter(
        str(code)
        for code in Decision.objects.filter(
            prediction__code__in=answered,
            reviewer__username="load-cataloguer",
            created_at__gte=since,
        ).values_list("prediction__code", flat=True)
    )
    missing = sum((answered - stored).values())
    if missing:
        problems.append(f"{missing} of {len(tally['decided'])} decisions answered as saved: lost")
    flags = Flag.objects.filter(comment="load test", created_at__gte=since).count()
    if flags < len(tally["flagged"]):
        problems.append(f"{len(tally['flagged'])} flags answered as taken, {flags} stored")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--users", type=int, default=12)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgres"):
        parser.error("give --database-url postgres://... (a database made for the load test)")
    from django.utils import timezone
    from scale import machine

    bench = Bench(
        rows=0,
        seed=0,
        tmp=tempfile.mkdtemp(prefix="glamml-load-"),
        database_url=args.database_url,
        redis_url=args.redis_url,
        duration=args.duration,
    )
    # The production setup: kept connections with health checks; flags from many addresses
    # arrive through one proxy, which adds X-Forwarded-For.
    os.environ.update(CONN_MAX_AGE="60", CONN_HEALTH_CHECKS="true", GLAMML_TRUSTED_PROXIES="1")
    django_setup(bench)
    plan = plan_make()
    out = Path(bench.tmp)
    started = timezone.now()
    with gunicorn(bench, out / "gunicorn.log") as url:
        rows, tally = run_locust(url, plan, args.users, args.duration, out)
    server_errors = (out / "gunicorn.log").read_text().count("Traceback")
    print(f"machine: {machine()}; {args.users} users for {args.duration} s; {bench.database_url}")
    print()
    print("\n".join(table(rows)))
    print()
    failed, problems = failures(rows), lost(tally, since=started)
    print(f"tracebacks in the server log: {server_errors}; failed requests: {failed}")
    print(
        f"saved: {len(tally['decided'])} decisions, {len(tally['flagged'])} flags, "
        f"{len(tally['policy saved'])} policy saves; " + ("; ".join(problems) or "none lost")
    )
    return 1 if failed or server_errors or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
