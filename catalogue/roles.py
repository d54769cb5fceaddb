"""Who may do what: the only place roles are decided."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group, User
from django.http import HttpRequest

CATALOGUERS = "cataloguers"
_CACHE = "_glamml_is_cataloguer"


def is_cataloguer(user: User | AnonymousUser) -> bool:
    """Cataloguers work the review queue; admins (staff) may too."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    # Views and the navigation both ask within one request: ask the database once per user
    # object (kept in its __dict__, as Django keeps its permission cache).
    cached = user.__dict__.get(_CACHE)
    if cached is None:
        cached = user.__dict__[_CACHE] = user.groups.filter(name=CATALOGUERS).exists()
    return bool(cached)


def is_admin(user: User | AnonymousUser) -> bool:
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
