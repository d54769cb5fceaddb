"""Changing a field's decision policy, with every change logged."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from catalogue.models import DecisionPolicy, Field, FieldJob, PolicyChange
from catalogue.services.jobs import job_start
from glamml.ml.baselines import validate_rules

BAD_MODE = "Unknown mode {mode!r}: use auto, review or threshold."
BAD_THRESHOLD = "The threshold must be between 0 and 1, not {threshold!r}."


# Past a million decisions the schedule would never retrain; the column holds 2**31 - 1.
MAX_RETRAIN = 1_000_000
BAD_RETRAIN = f"Retraining needs between 1 and {MAX_RETRAIN:,} new decisions, not {{n!r}}."
BAD_RULES = "Nothing was saved: {problems}."


class PolicyError(ValueError):
    pass


def policy_update(
    *,
    policy: DecisionPolicy,
    changed_by: User | None,
    mode: str | None = None,
    threshold: float | None = None,
    show_public: bool | None = None,
    auto_promote: bool | None = None,
    retrain_after_decisions: int | None = None,
) -> list[PolicyChange]:
    """Change what was asked, log each change, and re-route waiting predictions afterwards."""
    if mode is not None and mode not in DecisionPolicy.Mode.values:
        raise PolicyError(BAD_MODE.format(mode=mode))
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise PolicyError(BAD_THRESHOLD.format(threshold=threshold))
    if retrain_after_decisions is not None and not 1 <= retrain_after_decisions <= MAX_RETRAIN:
        raise PolicyError(BAD_RETRAIN.format(n=retrain_after_decisions))
    wanted = {
        "mode": mode,
        "threshold": threshold,
        "show_public": show_public,
        "auto_promote": auto_promote,
        "retrain_after_decisions": retrain_after_decisions,
    }
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
        routing = [c for c in changes if c.attribute in ("mode", "threshold")]
        if routing:
            job_start(
                field=locked.field,
                kind=FieldJob.Kind.REROUTE,
                started_by=changed_by,
                reason="after "
                + "; ".join(f"{c.attribute} {c.old_value} → {c.new_value}" for c in routing),
            )
    policy.refresh_from_db()
    return changes


def label_rules_update(
    *, field: Field, rules: dict[str, str], changed_by: User | None
) -> list[PolicyChange]:
    """Replace the rules baseline's regular expressions for the given labels (one per line).

    Every pattern is checked first (the same checks the rules baseline makes): one bad pattern
    changes nothing and the message names the label and the pattern. Each changed label is
    logged like a policy change.
    """
    labels = {label.code: label for label in field.labels.all()}
    patterns = {
        code: [line.strip() for line in text.splitlines() if line.strip()]
        for code, text in rules.items()
    }
    errors = validate_rules(patterns, field=field.key, labels=list(labels))
    if errors:
        raise PolicyError(BAD_RULES.format(problems="; ".join(errors)))
    changes = []
    with transaction.atomic():
        policy = DecisionPolicy.objects.select_for_update().get(field=field)
        for code, lines in patterns.items():
            clean = "\n".join(lines)
            label = labels[code]
            if clean == label.rules:
                continue
            changes.append(
                PolicyChange(
                    policy=policy,
                    changed_by=changed_by,
                    attribute=f"rules:{code}",
                    old_value=label.rules,
                    new_value=clean,
                )
            )
            label.rules = clean
            label.save(update_fields=["rules"])
        PolicyChange.objects.bulk_create(changes)
    return changes
