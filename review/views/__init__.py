"""Review screens: the queue and decisions, flag triage, and the admin dashboard."""

from __future__ import annotations

from review.views.dashboard import (
    dashboard,
    policy_update,
    threshold_preview,
    training_run_create,
    training_run_detail,
)
from review.views.flags import flags
from review.views.queue import decide, item, queue

__all__ = [
    "dashboard",
    "decide",
    "flags",
    "item",
    "policy_update",
    "queue",
    "threshold_preview",
    "training_run_create",
    "training_run_detail",
]
