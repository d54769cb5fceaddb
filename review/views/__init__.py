"""Review screens: the queue and decisions, flag triage, and the admin dashboard."""

from __future__ import annotations

from review.views.applicability import field_collections, not_applicable, not_applicable_undo
from review.views.bulk import bulk
from review.views.dashboard import (
    dashboard,
    field_job_detail,
    policy_update,
    threshold_preview,
    training_run_create,
    training_run_detail,
)
from review.views.experiments import experiments, experiments_json
from review.views.fields import field_create, field_model_params
from review.views.flags import flags
from review.views.models import model_card, model_version_detail, model_version_promote
from review.views.monitoring import (
    monitoring,
    monitoring_alert,
    monitoring_alert_acknowledge,
    monitoring_alert_retrain,
    monitoring_field,
    monitoring_settings,
)
from review.views.queue import decide, item, queue
from review.views.rules import field_rules
from review.views.sharing import model_download, training_download
from review.views.undo import change, undo

__all__ = [
    "field_collections",
    "not_applicable",
    "not_applicable_undo",
    "bulk",
    "model_download",
    "training_download",
    "change",
    "undo",
    "dashboard",
    "decide",
    "experiments",
    "experiments_json",
    "field_create",
    "field_model_params",
    "field_job_detail",
    "field_rules",
    "flags",
    "item",
    "model_card",
    "model_version_detail",
    "model_version_promote",
    "monitoring",
    "monitoring_alert",
    "monitoring_alert_acknowledge",
    "monitoring_alert_retrain",
    "monitoring_field",
    "monitoring_settings",
    "policy_update",
    "queue",
    "threshold_preview",
    "training_run_create",
    "training_run_detail",
]
