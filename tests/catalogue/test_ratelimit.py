"""The public rate limiter: at most ``limit`` hits per window per address, also all at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from catalogue.models import RateLimitHit
from catalogue.services.ratelimit import rate_limit_take

ADDRESS = "a" * 64
OTHER = "b" * 64


def take(scope: str = "flag", client_hash: str = ADDRESS, limit: int = 3) -> bool:
    return rate_limit_take(scope=scope, client_hash=client_hash, limit=limit)


def test_it_takes_the_limit_and_refuses_the_next(db):
    assert [take() for _ in range(4)] == [True, True, True, False]
    assert RateLimitHit.objects.count() == 3


def test_other_addresses_and_other_scopes_have_their_own_budget(db):
    for _ in range(3):
        take()

    assert take(client_hash=OTHER)
    assert take(scope="confirm")
    assert not take()


def test_hits_that_left_the_window_do_not_count_and_are_dropped(db):
    for _ in range(3):
        take()
    RateLimitHit.objects.update(created_at=timezone.now() - timedelta(minutes=61))

    assert take()
    assert RateLimitHit.objects.count() == 1


def test_a_request_that_fails_after_taking_leaves_no_hit(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        take(limit=1)
        raise RuntimeError("the flag could not be stored")

    assert take(limit=1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_thirty_requests_at_once_from_one_address_take_exactly_the_limit():
    start = threading.Barrier(30)

    def request(_: int) -> bool:
        try:
            start.wait(timeout=30)
            # What a view does: the hit and the thing it limits are stored in one transaction.
            with transaction.atomic():
                return take(scope="confirm", limit=7)
        finally:
            connection.close()  # each thread has its own connection; give it back

    with ThreadPoolExecutor(max_workers=30) as pool:
        taken = list(pool.map(request, range(30)))

    assert taken.count(True) == 7
    assert RateLimitHit.objects.filter(scope="confirm", client_hash=ADDRESS).count() == 7
