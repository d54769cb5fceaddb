"""Fresh planner statistics and visibility after a bulk write (PostgreSQL).

After an import or a re-route has written tens of thousands of rows, the planner's statistics
and the visibility map are out of date until autovacuum comes by, which can be many minutes
later: at a million records the read pages were 3–10 times slower in that window
(docs/benchmarks.md). The writer refreshes them itself instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

# Rows written by one bulk operation from which it refreshes the statistics itself.
BULK_ROWS = 10_000


def tables_analyze(tables: Sequence[str] = ("catalogue_record", "catalogue_fieldvalue")) -> None:
    """``VACUUM (ANALYZE)`` the tables (PostgreSQL; nothing elsewhere).

    ``VACUUM`` marks the new pages all-visible, so the index-only scans deep pages rely on (the
    collection page's and the queue's page by number) read no rows. Inside a transaction (a
    caller's ``atomic``), where ``VACUUM`` cannot run, statistics only.
    """
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        cursor.execute(f"{command} {', '.join(tables)}")
