"""A field's monitoring settings: changed by admins, every change logged with who and when."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from catalogue.models import DecisionPolicy, Field, MonitoringPolicy, PolicyChange

BAD_RATE = "The audit rate must be between 0 and 1 (0.02 checks 2% of applied values), not {v!r}."
BAD_THRESHOLD = "The drift line must be a Jensen–Shannon distance between 0 and 1, not {v!r}."
BAD_WINDOW = "The window must be between 1 and 90 days, not {v!r}."
BAD_MIN_RECORDS = "Drift needs at least 1 record to be judged on, not {v!r}."
BAD_FLAGS = "Flags per 1,000 records must be positive (or empty for no flag alerts), not {v!r}."
BAD_ON_ALERT = "Unknown choice {v!r}: use propose or retrain."
BAD_EMAIL = "{v!r} is not an e-mail address."

# Attributes an admin may change, in the order the form shows them.
SETTINGS = (
    "audit_rate",
    "window_days",
    "min_records",
    "drift_threshold",
    "precision_alerts",
    "flags_per_thousand",
    "on_alert",
    "email_to",
)
# Logged as policy changes under this prefix, so the dashboard's change log shows them too.
LOG_PREFIX = "monitoring."


class MonitoringPolicyError(ValueError):
    pass


def monitoring_policy_get(*, field: Field) -> MonitoringPolicy:
    """The field's monitoring settings, created with the defaults on first use."""
    policy, _ = MonitoringPolicy.objects.get_or_create(field=field)
    return policy


def email_recipients(policy: MonitoringPolicy) -> list[str]:
    return [address.strip() for address in policy.email_to.split(",") if address.strip()]


def _check(attribute: str, value: Any) -> None:
    checks: dict[str, tuple[Callable[[Any], bool], str]] = {
        "audit_rate": (lambda v: 0.0 <= v <= 1.0, BAD_RATE),
        "drift_threshold": (lambda v: 0.0 < v <= 1.0, BAD_THRESHOLD),
        "window_days": (lambda v: 1 <= v <= 90, BAD_WINDOW),
        "min_records": (lambda v: v >= 1, BAD_MIN_RECORDS),
        "flags_per_thousand": (lambda v: v is None or v > 0, BAD_FLAGS),
        "on_alert": (lambda v: v in MonitoringPolicy.OnAlert.values, BAD_ON_ALERT),
    }
    if attribute in checks:
        ok, message = checks[attribute]
        if not ok(value):
            raise MonitoringPolicyError(message.format(v=value))
    if attribute == "email_to":
        for address in (a.strip() for a in value.split(",")):
            if not address:
                continue
            try:
                validate_email(address)
            except ValidationError:
                raise MonitoringPolicyError(BAD_EMAIL.format(v=address)) from None


_UNSET: Any = object()


def monitoring_policy_update(
    *, field: Field, changed_by: User | None, **changes: Any
) -> list[PolicyChange]:
    """Change the given settings (names in :data:`SETTINGS`); each change is logged.

    A bad value changes nothing and the message names it. Changing the audit rate affects
    values applied from now on and the next sweep of those already applied.
    """
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise MonitoringPolicyError(f"Unknown monitoring setting(s): {', '.join(unknown)}.")
    for attribute, value in changes.items():
        _check(attribute, value)
    logged: list[PolicyChange] = []
    with transaction.atomic():
        policy = monitoring_policy_get(field=field)
        policy = MonitoringPolicy.objects.select_for_update().get(pk=policy.pk)
        decision_policy = DecisionPolicy.objects.get(field=field)
        for attribute in SETTINGS:
            new = changes.get(attribute, _UNSET)
            old = getattr(policy, attribute)
            if new is _UNSET or new == old:
                continue
            setattr(policy, attribute, new)
            logged.append(
                PolicyChange(
                    policy=decision_policy,
                    changed_by=changed_by,
                    attribute=LOG_PREFIX + attribute,
                    old_value=old,
                    new_value=new,
                )
            )
        if logged:
            policy.save()
            PolicyChange.objects.bulk_create(logged)
    return logged
