"""The JSON API: one NinjaAPI with its sign-in and its errors; the operations live in routers.

Systems sign in with a token (``Authorization: Bearer glamml_…``) an admin created; a browser
with its session, and then Django's CSRF check applies to every unsafe method. Every error is
JSON ``{"detail": ..., "errors": [{"field", "message"}]}`` and names what was wrong.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.security import HttpBearer, SessionAuth

from catalogue.api import predictions, records
from catalogue.services.tokens import token_user


class TokenAuth(HttpBearer):
    """A token from ``manage.py api_token create`` (or the admin site), sent as a bearer token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = token_user(raw=token)
        if user is not None:
            # Access helpers and roles read request.user, whoever signed in and however.
            request.user = user
        return user


api = NinjaAPI(
    title="glamml API",
    version="1",
    description=(
        "Records with their values and each value's provenance, predictions, decisions, and "
        "instant predictions on text. Sign in with a bearer token (`Authorization: Bearer "
        "glamml_…`, created by an admin) or, from a browser, with your session and a CSRF token."
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)
api.add_router("", records.router)
api.add_router("", predictions.router)


def _place(loc: Any) -> str:
    return ".".join(str(part) for part in loc if part not in ("payload",))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Each wrong or unknown field by its place in the request, e.g. ``body.records.2.title``."""
    errors = [{"field": _place(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request."
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Our 404 messages say what was not found ("No such record."), never anything private.
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)
