"""Scale benchmark, part ``web``: the read pages under a bounded load, p50 / p95 / p99.

    .venv/bin/python bench/scale.py --rows 1000000 --parts import,web     # from the driver
    .venv/bin/python bench/scale_web.py --database-url postgres://.../glamml [--duration 60]
        [--users 4]                                                       # an existing database

gunicorn (``--workers 2``, as many as the machine has cores) serves the app in production settings;
locust (``bench/scale_web_locust.py``, headless) runs ``--users`` simulated people for
``--duration`` seconds, half cataloguers working the review queue (the first page in each order,
a field and a collection filter, a deep page by number and by the "Next" link's cursor), half
visitors reading record pages, a collection's first and 100th page and the public search (a
common word and rarer ones). Each waits 0.5–1.5 s between requests: a bounded load, so the
figures are latencies, not the breaking point. One warm-up request per page goes first.

The pages need waiting predictions, in a large collection and a small one. In the driver's
run a collection of 5,000 records (copies of the largest one's first records, 0.5% of a
million) is added once, and every record without a value or a prediction gets one in SQL
(unmeasured: ~16% of all records waiting, the rest applied), so the queue has 150k+ items at
1M records; then ``ANALYZE``. When the ``predict`` part has predicted them instead (at the
threshold of 0.9, fewer than 15% of the records wait), the driver's run raises the language
field's threshold to 0.99 by a re-route, as an admin would, and times it (about 198,000 then
wait at a million). Run on its own, it measures the database it is given, as it is
(making the same data only when nothing waits), and leaves it so (plus a ``bench-cataloguer``
user).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from scale_common import ROOT, Bench, Figure, django_setup, timed  # noqa: E402

BIN = Path(sys.executable).parent
USER = "bench-cataloguer"
DEEP_PAGE = 200
COMMON_WORD = "the"


# -- the data the pages need --------------------------------------------------------------------


def waiting_ensure(bench: Bench) -> None:
    """Waiting predictions exist, in a large collection and a small one (made in SQL for the
    records without a value and without a prediction, so a second run adds only what is
    missing), then ``ANALYZE``: autovacuum may be off."""
    from django.db import connection

    from catalogue.models import ModelVersion, Record
    from catalogue.services.fields import field_ensure_language

    if not Record.objects.exists():
        from scale_import import records_ensure  # the driver's generated file, imported

        records_ensure(bench)
    small = _small_collection_ensure()
    field = field_ensure_language()
    version = ModelVersion.objects.filter(field=field, status="active").first()
    if version is None:
        version = ModelVersion.objects.create(
            field=field,
            version=1 + ModelVersion.objects.filter(field=field).count(),
            status="active",
            artefact="bench/unused.npz",
            checksum="0" * 64,
            format_version=1,
            training_fingerprint="bench",
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [(bench.seed % 1000) / 1000])
        cursor.execute(_PREDICTIONS_SQL, {"field": field.id, "version": version.id})
        cursor.execute(_VALUES_SQL, {"version": version.id})
        cursor.execute("ANALYZE")
    print(f"small collection: {small}", file=sys.stderr)


SMALL_COLLECTION = "bench-small"
SMALL_RECORDS = 5_000  # 0.5% of a million: the queue of a collection with few waiting items


def _small_collection_ensure() -> str:
    """A second collection of ``SMALL_RECORDS`` records (copies of the largest one's first
    records), so the queue filtered by a small collection is measured too."""
    from django.db import connection
    from django.db.models import Count

    from catalogue.models import Collection

    small, created = Collection.objects.get_or_create(
        slug=SMALL_COLLECTION, defaults={"name": "Small (benchmark)"}
    )
    if created:
        large = (
            Collection.objects.exclude(id=small.id)
            .annotate(n=Count("records"))
            .order_by("-n")
            .first()
        )
        assert large is not None
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO catalogue_record (code, collection_id, identifier, title,
                    description, extra, created_at, updated_at)
                SELECT gen_random_uuid(), %s, 'small-' || identifier, title, description,
                    extra, now(), now()
                FROM catalogue_record WHERE collection_id = %s ORDER BY id LIMIT %s
                """,
                [small.id, large.id, SMALL_RECORDS],
            )
    return small.slug


# Every record without a current value gets a prediction (unless it has one of the version):
# 23% of them wait (about 16% of all records when 70% have none: 150k+ at a million), flagged
# now and then; the rest are applied with a model value.
_PREDICTIONS_SQL = """
INSERT INTO catalogue_prediction (code, record_id, field_id, model_version_id, label, confidence,
    alternatives, status, routed_by, margin, audit_rank, review_round, flagged, created_at,
    updated_at)
SELECT gen_random_uuid(), r.id, %(field)s, %(version)s, 'eng', r.conf,
       jsonb_build_array(jsonb_build_array('eng', r.conf), jsonb_build_array('fre', 1 - r.conf)),
       CASE WHEN r.u < 0.23 THEN 'queued' ELSE 'applied' END, 'threshold', r.conf * r.m,
       r.a, 0, r.u < 0.0004, now(), now()
FROM (SELECT id, random() AS u, random() AS conf, random() AS m, random() AS a
      FROM catalogue_record rec
      WHERE NOT EXISTS (SELECT 1 FROM catalogue_fieldvalue v
                        WHERE v.record_id = rec.id AND v.field_id = %(field)s AND v.is_current)
        AND NOT EXISTS (SELECT 1 FROM catalogue_prediction p
                        WHERE p.record_id = rec.id AND p.field_id = %(field)s
                          AND p.model_version_id = %(version)s)
      ORDER BY id) r
"""
_VALUES_SQL = """
INSERT INTO catalogue_fieldvalue (record_id, field_id, label, source, action, prediction_id,
    model_version_id, confidence, policy, is_current, created_at)
SELECT p.record_id, p.field_id, p.label, 'model', '', p.id, p.model_version_id, p.confidence,
       'threshold', true, now()
FROM catalogue_prediction p
WHERE p.status = 'applied' AND p.model_version_id = %(version)s
  AND NOT EXISTS (SELECT 1 FROM catalogue_fieldvalue v WHERE v.prediction_id = p.id)
"""


def plan_make() -> dict[str, Any]:
    """What the simulated people ask for: a session, records, a collection, a deep cursor."""
    from django.contrib.auth.models import User
    from django.test import Client

    from catalogue.models import Collection, Record
    from catalogue.roles import cataloguer_group
    from review.selectors import queue_page

    user, _ = User.objects.get_or_create(username=USER)
    user.groups.add(cataloguer_group())
    client = Client()
    client.force_login(user)
    by_size = sorted(Collection.objects.all(), key=lambda c: c.records.count())
    collection, small = by_size[-1], (by_size[0] if len(by_size) > 1 else None)
    n = Record.objects.count()
    step = max(1, n // 50)
    records = Record.objects.order_by("id").values_list("code", flat=True)
    deep = queue_page(number=DEEP_PAGE)
    plan: dict[str, Any] = {
        "session": client.cookies["sessionid"].value,
        "field": "language",
        "collection": collection.slug,
        "records": [str(records[i]) for i in range(0, n, step)][:50],
        "deep_page": DEEP_PAGE + 1,
        "deep_cursor": deep.next_cursor,
        "common_word": COMMON_WORD,
        "rare_words": ["voyage", "portrait", "helsinki", "sonata", "mapa"],
    }
    if small is not None:
        # Half-way down the small collection's queue: a deep page of a collection whose items
        # are a small share of the queue.
        first = queue_page(collection=small)
        plan["small"] = small.slug
        plan["small_deep_page"] = max(2, first.num_pages // 2)
    return plan


# -- the server and the load --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def static_collected(bench: Bench) -> Path:
    """The static files collected as the image collects them (production reads the manifest)."""
    root = Path(bench.tmp) / "static"
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=bench.env(GLAMML_STATIC_MANIFEST="true", STATIC_ROOT=str(root)),
        check=True,
    )
    return root


@contextmanager
def gunicorn(bench: Bench, log: Path) -> Iterator[str]:
    """The app as deployed: production settings (``DEBUG`` off, kept database connections,
    the Redis cache, WhiteNoise), without the TLS redirect (no proxy in front of it here)."""
    from django.conf import settings

    port = free_port()
    env = bench.env(
        GLAMML_ENV="production",
        SECRET_KEY=settings.SECRET_KEY,  # the sessions plan_make signed
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        STATIC_ROOT=str(static_collected(bench)),
    )
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "glamml.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", "2", "--timeout", "120"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(url + "/", timeout=60)
                    break
                except OSError:
                    if server.poll() is not None:
                        tail = "".join(log.read_text().splitlines(keepends=True)[-5:])
                        raise SystemExit(f"gunicorn did not start ({log}):\n{tail}") from None
                    time.sleep(0.5)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)


def warm(url: str, plan: dict[str, Any]) -> None:
    """One request to each page: the caches the pages rely on are filled, as in service."""
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", f"sessionid={plan['session']}")]
    for path in (
        "/",
        "/review/",
        f"/collections/{plan['collection']}/",
        f"/records/{plan['records'][0]}/",
    ):
        opener.open(url + path, timeout=300).read()


def locust(bench: Bench, url: str, plan: dict[str, Any], out: Path) -> list[dict[str, str]]:
    users = bench.options.get("users", "4")
    subprocess.run(
        [str(BIN / "locust"), "-f", str(BENCH_DIR / "scale_web_locust.py"), "--headless"]
        + ["--users", users, "--spawn-rate", users, "--run-time", f"{bench.duration}s"]
        + ["--host", url, "--csv", str(out / "web"), "--only-summary", "--loglevel", "WARNING"],
        cwd=ROOT,
        env={**os.environ, "SCALE_WEB_PLAN": json.dumps(plan)},
        check=False,
        capture_output=True,
    )
    with (out / "web_stats.csv").open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["Name"] != "Aggregated"]


def figures(rows: list[dict[str, str]], bench: Bench) -> list[Figure]:
    result = []
    for row in sorted(rows, key=lambda r: r["Name"]):
        p50, p95, p99 = (float(row[k]) for k in ("50%", "95%", "99%"))
        result.append(
            Figure(
                "web",
                f"{row['Name']}: p95",
                p95,
                "ms",
                baseline=f"p50 {p50:,.0f} ms, p99 {p99:,.0f} ms; target p95 < 100 ms",
                ratio=p95 / 100,
                note=f"{row['Request Count']} requests, {row['Failure Count']} failed, "
                f"{bench.options.get('users', '4')} users, {bench.duration} s",
            )
        )
    return result


# The condition for the read pages: 150k+ waiting at a million records.
WAITING_SHARE = 0.15
HIGH_THRESHOLD = 0.99


def waiting_raise(bench: Bench) -> list[Figure]:
    """If fewer than ``WAITING_SHARE`` of the records wait (the ``predict`` part predicted them
    at the threshold of 0.9), raise the language field's threshold to ``HIGH_THRESHOLD`` and
    re-route, as an admin would: the re-route's time is a figure of its own."""
    from catalogue.models import DecisionPolicy, Prediction, Record
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.rerouting import predictions_reroute

    records = Record.objects.count()
    waiting = Prediction.objects.filter(status=Prediction.Status.QUEUED).count()
    field = field_ensure_language()
    if waiting >= WAITING_SHARE * records or field.policy.mode != DecisionPolicy.Mode.THRESHOLD:
        return []
    before = field.policy.threshold
    DecisionPolicy.objects.filter(field=field).update(threshold=HIGH_THRESHOLD)
    field = field_ensure_language()
    with timed() as t:
        result = predictions_reroute(field=field)
    waiting = Prediction.objects.filter(status=Prediction.Status.QUEUED).count()
    print(f"threshold {before} -> {HIGH_THRESHOLD}: {waiting:,} waiting", file=sys.stderr)
    return [
        Figure(
            "web",
            f"re-route, threshold {before} → {HIGH_THRESHOLD}: {result.queued:,} predictions "
            f"move to the queue, {waiting:,} then wait",
            t[0],
            "s",
            baseline="target < 60 s",
            ratio=t[0] / 60,
        )
    ]


def run(bench: Bench, *, prepare: bool = True) -> list[Figure]:
    """The figures; with ``prepare`` (the driver's run) the data the pages need is made first
    (and 150k+ waiting at a million, by a threshold change), else only when nothing waits."""
    from catalogue.models import Prediction

    made: list[Figure] = []
    if prepare or not Prediction.objects.filter(status=Prediction.Status.QUEUED).exists():
        waiting_ensure(bench)
    if prepare:
        made = waiting_raise(bench)
    plan = plan_make()
    out = Path(bench.tmp) / "web"
    out.mkdir(parents=True, exist_ok=True)
    with gunicorn(bench, out / "gunicorn.log") as url:
        warm(url, plan)
        rows = locust(bench, url, plan, out)
    return made + figures(rows, bench)


def main(argv: list[str] | None = None) -> int:
    """Measure an existing database as it is (``bench/scale.py`` makes a fresh one)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgres"):
        parser.error("give --database-url postgres://... (the database to measure)")
    from scale import machine, table

    bench = Bench(
        rows=0,
        seed=args.seed,
        tmp=tempfile.mkdtemp(prefix="glamml-web-"),
        database_url=args.database_url,
        redis_url=args.redis_url,
        duration=args.duration,
        options={"users": str(args.users)},
    )
    django_setup(bench)
    from catalogue.models import Prediction, Record

    waiting = Prediction.objects.filter(status=Prediction.Status.QUEUED).count()
    print(f"machine: {machine()}")
    print(f"records: {Record.objects.count():,}, waiting: {waiting:,}, {bench.database_url}")
    print()
    print(table(run(bench, prepare=False)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
