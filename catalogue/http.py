"""What views may rely on in a request, for the type checker.

``HtmxMiddleware`` adds ``request.htmx`` to every request; ``login_required`` guarantees a
signed-in ``User``. Django's own ``HttpRequest`` type knows neither, so views say which they get.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request to a ``login_required`` view."""

    user: User
