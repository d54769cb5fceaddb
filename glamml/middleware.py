"""Answer a request the database could not serve with a page that says so, not a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django_htmx.http import reswap, retarget

logger = logging.getLogger(__name__)

UNAVAILABLE_TEMPLATE = "503.html"
RETRY_AFTER_SECONDS = 30


class DatabaseUnavailableMiddleware:
    """A view that lost its database (PostgreSQL restarting, unreachable, the connection
    ended) answers 503 in the site's layout. The view's transaction was rolled back, so the
    page can say that nothing of the request was saved.

    Only operational errors (``OperationalError``: the connection lost or refused, and also a
    statement cancelled or a deadlock, after which too nothing was saved and trying again is
    right) and ``InterfaceError`` (a connection already closed). A constraint violation or a
    bad query is a bug and stays a 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning(
            "database unavailable for %s %s: %s", request.method, request.path, exception
        )
        # A broken connection is of no further use to this request; the next one reconnects.
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
        response = _render(request)
        response.status_code = 503
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        if getattr(request, "htmx", False):
            # Shown in place of the page's content, whatever part the request meant to replace.
            response = reswap(retarget(response, "#main"), "innerHTML")
        return response


def _render(request: HttpRequest) -> HttpResponse:
    partial = getattr(request, "htmx", False)
    template = f"{UNAVAILABLE_TEMPLATE}#unavailable" if partial else UNAVAILABLE_TEMPLATE
    context = {"sent": request.method not in ("GET", "HEAD", "OPTIONS")}
    try:
        return render(request, template, context)
    except DatabaseError:
        # The layout asks who is logged in, which needs the database: without the request the
        # page still has the layout, with the navigation of a visitor.
        return HttpResponse(render_to_string(template, context))
