from __future__ import annotations

from django.http import HttpRequest
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
