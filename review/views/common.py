from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from catalogue.models import ModelVersion
from review.access import require_admin


def safe_next_url(request: HttpRequest, candidate: str | None, *, default: str) -> str:
    """``candidate`` if it is a path on this site (the page a form was on), else ``default``."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request for part of a page; history restores get the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def get_model_version_for_admin(request: HttpRequest, code: UUID | str) -> ModelVersion:
    """A model version with its field and the people who made and promoted it.

    Belongs with the other access helpers in ``review/access.py``; kept here until it moves.
    """
    require_admin(request)
    try:
        return ModelVersion.objects.select_related(
            "field__policy", "created_by", "promoted_by"
        ).get(code=code)
    except (ModelVersion.DoesNotExist, ValueError):
        raise Http404("No such model version.") from None
