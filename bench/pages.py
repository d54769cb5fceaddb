"""Every page of the demo, timed: median and p95 over many requests, per role.

    GLAMML_ENV=development .venv/bin/python bench/pages.py [--requests 40] [--json out.json]

Runs in-process with Django's test client against the configured database (the demo's SQLite
file by default, after ``scripts/demo.sh``), with ``DEBUG`` off, so a figure is the view, its
queries and its template: no network, no web server. Each page gets two warm-up requests
first (caches and the counts the pages read are then as a running site has them). Pages that
change data are not measured; login is (its password hash is most of its time). Prints a
table, the data size and the machine load before and after; the targets are a median under
150 ms and a p95 under 300 ms for every page. Beside the wall times, the median CPU time of this
process (``cpu``): on the shared machine a page's wall time is roughly its CPU time times the
load, so ``cpu`` is the figure to compare between runs made at different loads.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MEDIAN_TARGET_MS = 150.0
P95_TARGET_MS = 300.0


@dataclass
class Row:
    page: str
    role: str
    requests: int
    median_ms: float
    p95_ms: float
    max_ms: float
    queries: int
    status: int
    # This process's CPU time (median): on the shared machine the wall time above grows with
    # the load, this much less, so it is the figure to compare runs made at different loads.
    cpu_ms: float = 0.0


def _setup() -> None:
    os.environ.setdefault("GLAMML_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamml.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    # django-axes logs every login at INFO: the login rows would drown the table.
    logging.getLogger("axes").setLevel(logging.WARNING)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def pages() -> list[tuple[str, str]]:
    """(role, path) for every page, with real objects of the demo in the URLs."""
    from django.urls import reverse

    from catalogue.models import Alert, Collection, Field, ModelVersion, Prediction, Record

    out = [
        ("public", reverse("catalogue:home")),
        ("public", reverse("catalogue:home") + "?q=history"),
        ("public", reverse("login")),
    ]
    for collection in Collection.objects.order_by("slug"):
        out.append(("public", reverse("catalogue:collection", args=[collection.slug])))
        out.append(("public", reverse("catalogue:collection", args=[collection.slug]) + "?page=5"))
        record = Record.objects.filter(collection=collection).order_by("id").first()
        if record is not None:
            out.append(("public", reverse("catalogue:record", args=[record.code])))
    out += [
        ("cataloguer", reverse("review:queue")),
        ("cataloguer", reverse("review:queue") + "?view=focus"),
        ("cataloguer", reverse("review:flags")),
    ]
    for field in Field.objects.order_by("key"):
        out.append(("cataloguer", reverse("review:queue") + f"?field={field.key}"))
    waiting = Prediction.objects.filter(status=Prediction.Status.QUEUED).order_by("id").first()
    if waiting is not None:
        out.append(("cataloguer", reverse("review:item", args=[waiting.code])))
    out += [
        ("admin", reverse("review:dashboard")),
        ("admin", reverse("review:experiments")),
        ("admin", reverse("review:field_create")),
        ("admin", reverse("review:monitoring")),
    ]
    for field in Field.objects.order_by("key"):
        out += [
            ("admin", reverse("review:field_rules", args=[field.key])),
            ("admin", reverse("review:field_collections", args=[field.key])),
            ("admin", reverse("review:monitoring_field", args=[field.key])),
        ]
        version = field.model_versions.filter(status=ModelVersion.Status.ACTIVE).first()
        if version is not None:
            out.append(("admin", reverse("review:model_version", args=[version.code])))
        run = field.training_runs.order_by("-created_at").first()
        if run is not None:
            out.append(("admin", reverse("review:training_run", args=[run.code])))
    alert = Alert.objects.order_by("-id").first()
    if alert is not None:
        out.append(("admin", reverse("review:monitoring_alert", args=[alert.code])))
    return out


def clients() -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = get_user_model().objects
    cataloguer = Client()
    cataloguer.force_login(users.filter(is_staff=False, groups__name="cataloguers").first())
    admin = Client()
    admin.force_login(users.filter(is_superuser=True).first())
    return {"public": Client(), "cataloguer": cataloguer, "admin": admin}


def timed(get: Callable[[], object], n: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of ``n`` calls."""
    times, cpu = [], []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        get()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return times, cpu


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def counted_get(client: object, path: str) -> tuple[int, int]:
    """One request: (status, number of SQL statements it ran)."""
    from django.db import connection

    count = 0

    def counter(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        response = client.get(path)  # type: ignore[attr-defined]
    return response.status_code, count


def measure(n: int, only: str = "") -> list[Row]:
    by_role = clients()
    rows = []
    for role, path in pages():
        if only and only not in path:
            continue
        client = by_role[role]
        for _ in range(2):
            client.get(path)  # type: ignore[attr-defined]
        status, queries = counted_get(client, path)
        times, cpu = timed(lambda c=client, p=path: c.get(p), n)  # type: ignore[attr-defined]
        rows.append(
            Row(
                page=path,
                role=role,
                requests=n,
                median_ms=round(statistics.median(times), 1),
                p95_ms=round(p95(times), 1),
                max_ms=round(max(times), 1),
                queries=queries,
                status=status,
                cpu_ms=round(statistics.median(cpu), 1),
            )
        )
        print(_line(rows[-1]), flush=True)
    return rows


def login_row(n: int) -> Row:
    """A real login (password hashing and the throttle's bookkeeping), then logout."""
    from django.test import Client

    logins = json.loads((ROOT / "var" / "demo-logins.json").read_text(encoding="utf-8"))
    client = Client()

    def once() -> None:
        client.post(
            "/accounts/login/", {"username": "cataloguer", "password": logins["cataloguer"]}
        )
        client.logout()

    times, cpu = timed(once, n)
    return Row(
        "POST /accounts/login/ + logout",
        "public",
        n,
        round(statistics.median(times), 1),
        round(p95(times), 1),
        round(max(times), 1),
        0,
        302,
        round(statistics.median(cpu), 1),
    )


def _line(row: Row) -> str:
    over = row.median_ms > MEDIAN_TARGET_MS or row.p95_ms > P95_TARGET_MS
    mark = " <-- over target" if over else ""
    return (
        f"| {row.role:<10} | {row.page[:62]:<62} | {row.median_ms:7.1f} | {row.p95_ms:7.1f} "
        f"| {row.max_ms:7.1f} | {row.cpu_ms:7.1f} | {row.queries:3d} | {row.status} |{mark}"
    )


def data_size() -> dict[str, int]:
    from catalogue.models import Collection, FieldValue, Prediction, Record

    return {
        "collections": Collection.objects.count(),
        "records": Record.objects.count(),
        "values": FieldValue.objects.count(),
        "predictions": Prediction.objects.count(),
        "waiting": Prediction.objects.filter(status=Prediction.Status.QUEUED).count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    parser.add_argument("--only", default="", help="only pages whose path contains this")
    parser.add_argument("--login", type=int, default=10, help="timed logins (0: none)")
    parser.add_argument("--json", type=Path, help="write the rows and context here")
    args = parser.parse_args()
    _setup()
    from django.db import connection

    load_before = os.getloadavg()
    size = data_size()
    print(
        f"data: {size}; database: {connection.vendor}; machine: {platform.node()}, "
        f"{os.cpu_count()} cores; load before: {load_before[0]:.2f} {load_before[1]:.2f}"
    )
    columns = "| median  | p95     | max     | cpu     | q   | st  |"
    print("| role       | page" + " " * 59 + columns)
    rows = measure(args.requests, args.only)
    if args.login:
        rows.append(login_row(args.login))
        print(_line(rows[-1]))
    load_after = os.getloadavg()
    over = [r for r in rows if r.median_ms > MEDIAN_TARGET_MS or r.p95_ms > P95_TARGET_MS]
    print(
        f"load after: {load_after[0]:.2f} {load_after[1]:.2f}; "
        f"{len(over)} of {len(rows)} pages over the targets "
        f"(median {MEDIAN_TARGET_MS:.0f} ms, p95 {P95_TARGET_MS:.0f} ms)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "data": size,
                    "load_before": load_before,
                    "load_after": load_after,
                    "rows": [asdict(r) for r in rows],
                },
                indent=1,
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
