"""Print which of PostgreSQL and Redis answer: `check_services.py PG_URL REDIS_URL`."""

from __future__ import annotations

import sys


def postgres_answers(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=3).ping())
    except Exception:  # noqa: BLE001
        return False


if __name__ == "__main__":
    found = []
    if postgres_answers(sys.argv[1]):
        found.append("postgres")
    if redis_answers(sys.argv[2]):
        found.append("redis")
    print(" ".join(found))
