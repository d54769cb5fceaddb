"""Who may do what: the only place roles are decided."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.http import HttpRequest

CATALOGUERS = "cataloguers"


def is_cataloguer(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Cataloguers work the review queue; admins (staff) may too."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    # Views and the navigation both ask within one request: ask the database once per user object.
    cached = getattr(user, "_glamml_is_cataloguer", None)
    if cached is None:
        cached = user.groups.filter(name=CATALOGUERS).exists()
        user._glamml_is_cataloguer = cached
    return cached


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def cataloguer_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CATALOGUERS)
    return group


def roles(request: HttpRequest) -> dict[str, bool]:
    """Template context: which parts of the navigation this user may see."""
    return {
        "can_review": is_cataloguer(request.user),
        "can_admin": is_admin(request.user),
    }
