from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from catalogue.http import HtmxHttpRequest


def safe_next_url(request: HttpRequest, candidate: str | None, *, default: str) -> str:
    """``candidate`` if it is a path on this site (the page a form was on), else ``default``."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def wants_partial(request: HtmxHttpRequest) -> bool:
    """An htmx request for part of a page; history restores get the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


SITTING_KEY = "review_since"


def sitting_start(request: HttpRequest) -> None:
    """Start the tally's sitting at this login session's first decision (kept in the session)."""
    if SITTING_KEY not in request.session:
        request.session[SITTING_KEY] = timezone.now().isoformat()


def sitting_since(request: HttpRequest) -> datetime | None:
    """When this login session's first decision was made, or None before it."""
    started = request.session.get(SITTING_KEY)
    return datetime.fromisoformat(started) if started else None
