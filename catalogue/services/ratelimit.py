"""One rate limiter for everything the public may send (flags, "this is right" confirmations).

The limit lives in PostgreSQL, not in the cache: it holds while Redis is down, counts only what
was stored (a hit is written in the caller's transaction, so a request that fails leaves no
hit), and keeps an exact sliding window.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from catalogue.models import RateLimitClient, RateLimitHit

HOUR = timedelta(hours=1)


def rate_limit_take(*, scope: str, client_hash: str, limit: int, window: timedelta = HOUR) -> bool:
    """Take one of ``limit`` hits per ``window`` for ``client_hash`` in ``scope``.

    Returns False, taking nothing, when the address has used them all. Call it inside the
    transaction that stores what is being limited: the address's row lock is held until that
    transaction ends, so concurrent requests from one address are counted one at a time
    (other addresses never wait), and the hit is rolled back with the request if it fails.
    On SQLite (the demo) transactions are IMMEDIATE, which serialises them already.
    """
    with transaction.atomic():
        # Insert first (a no-op once the row exists), then lock: concurrent first requests
        # from one address wait for each other here instead of all counting zero.
        RateLimitClient.objects.bulk_create(
            [RateLimitClient(client_hash=client_hash)], ignore_conflicts=True
        )
        RateLimitClient.objects.select_for_update().get(client_hash=client_hash)
        now = timezone.now()
        hits = RateLimitHit.objects.filter(scope=scope, client_hash=client_hash)
        # Hits that left the window count for nothing; dropping them keeps the table small.
        hits.filter(created_at__lt=now - window).delete()
        if hits.count() >= limit:
            return False
        RateLimitHit.objects.create(scope=scope, client_hash=client_hash, created_at=now)
        return True
