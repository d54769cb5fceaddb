"""Changing a field's decision policy, with every change logged."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from catalogue.models import DecisionPolicy, PolicyChange

BAD_MODE = "Unknown mode {mode!r}: use auto, review or threshold."
BAD_THRESHOLD = "The threshold must be between 0 and 1, not {threshold!r}."


class PolicyError(ValueError):
    pass


def policy_update(
    *,
    policy: DecisionPolicy,
    changed_by: AbstractBaseUser | None,
    mode: str | None = None,
    threshold: float | None = None,
    show_public: bool | None = None,
) -> list[PolicyChange]:
    """Change what was asked, log each change, and re-route waiting predictions afterwards."""
    if mode is not None and mode not in DecisionPolicy.Mode.values:
        raise PolicyError(BAD_MODE.format(mode=mode))
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise PolicyError(BAD_THRESHOLD.format(threshold=threshold))
    wanted = {"mode": mode, "threshold": threshold, "show_public": show_public}
    changes: list[PolicyChange] = []
    with transaction.atomic():
        locked = DecisionPolicy.objects.select_for_update().get(pk=policy.pk)
        for attribute, new in wanted.items():
            old = getattr(locked, attribute)
            if new is None or new == old:
                continue
            setattr(locked, attribute, new)
            changes.append(
                PolicyChange(
                    policy=locked,
                    changed_by=changed_by,
                    attribute=attribute,
                    old_value=old,
                    new_value=new,
                )
            )
        if not changes:
            return []
        locked.save()
        PolicyChange.objects.bulk_create(changes)
        if {c.attribute for c in changes} & {"mode", "threshold"}:
            from catalogue.tasks import reroute_field

            reroute_field.delay_on_commit(locked.field_id)
    policy.refresh_from_db()
    return changes
