"""How long a bulk decision takes while the person waits (issue 10 point 5).

    GLAMML_ENV=development .venv/bin/python bench/bulk_decisions.py [--sizes 10,50,100]

Takes the first waiting items of the queue (least confident first), accepts them in bulk with
``decisions_bulk`` (each a full decision: claim, decision row, value, flags resolved) and rolls
everything back, so the database is left as it was. Prints one row per size: seconds in all and
per item. Run it against the demo (``scripts/demo.sh``) or any database with waiting items.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamml.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,100")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from catalogue.models import Prediction
    from catalogue.services.bulk import decisions_bulk
    from review.selectors.bulk import bulk_candidates

    reviewer = User.objects.filter(is_superuser=True).first() or User.objects.first()
    waiting = Prediction.objects.filter(status=Prediction.Status.QUEUED).count()
    print(f"database: {connection.vendor}, {waiting:,} waiting predictions; {platform.node()}")
    print(f"{'items':>6} {'seconds (median)':>17} {'ms per item':>12}")
    for size in (int(s) for s in args.sizes.split(",")):
        times = []
        for _ in range(args.repeat):
            with transaction.atomic():
                chosen = list(bulk_candidates(field=None, collection=None, search=None)[:size])
                items = [(p, p.review_round) for p in chosen]
                start = time.perf_counter()
                decisions_bulk(items=items, reviewer=reviewer, action="accept")
                times.append(time.perf_counter() - start)
                transaction.set_rollback(True)
        median = sorted(times)[len(times) // 2]
        print(f"{len(items):>6} {median:>17.2f} {median / max(len(items), 1) * 1000:>12.1f}")


if __name__ == "__main__":
    main()
