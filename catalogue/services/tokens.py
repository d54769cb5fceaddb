"""API tokens: created by admins, shown once, stored as a hash, revocable.

A token is 32 random bytes, so a plain SHA-256 of it is enough to store: a slow password hash
guards guessable secrets, and nobody guesses 256 random bits. The hash is also what a request
is looked up by, in one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from catalogue.models import ApiToken

PREFIX = "glamml_"
ALREADY_REVOKED = "Token {name!r} was already revoked."
NOT_ACTIVE_USER = "User {user!r} is not active: a token for them could never be used."
NAME_REQUIRED = "Give the token a name that says what uses it."
# Writing last_used_at on every request would turn every read into a write.
_TOUCH_EVERY = timedelta(minutes=5)


class TokenError(Exception):
    pass


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user: User, name: str, created_by: User | None) -> tuple[ApiToken, str]:
    """A new token for ``user``; the raw token is returned once and never stored."""
    if not name.strip():
        raise TokenError(NAME_REQUIRED)
    if not user.is_active:
        raise TokenError(NOT_ACTIVE_USER.format(user=user.get_username()))
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name.strip(),
        user=user,
        prefix=raw[: len(PREFIX) + 4],
        key_hash=_hash(raw),
        created_by=created_by,
    )
    return token, raw


def token_revoke(*, token: ApiToken, revoked_by: User | None) -> ApiToken:
    """Revoke ``token`` at once; requests that present it are refused from now on."""
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=revoked_by
    )
    if not updated:
        raise TokenError(ALREADY_REVOKED.format(name=token.name))
    token.refresh_from_db()
    return token


def token_user(*, raw: str) -> User | None:
    """The active user a presented token acts as, or ``None`` for an unknown or revoked one."""
    if not raw.startswith(PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
