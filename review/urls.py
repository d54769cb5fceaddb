from __future__ import annotations

from django.urls import path

from review import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("items/<uuid:code>/", views.item, name="item"),
    path("items/<uuid:code>/decide/", views.decide, name="decide"),
    path("items/<uuid:code>/undo/", views.undo, name="undo"),
    path("items/<uuid:code>/change/", views.change, name="change"),
    path("items/<uuid:code>/not-applicable/", views.not_applicable, name="not_applicable"),
    path(
        "items/<uuid:code>/not-applicable/undo/",
        views.not_applicable_undo,
        name="not_applicable_undo",
    ),
    path("flags/", views.flags, name="flags"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/fields/<slug:key>/policy/", views.policy_update, name="policy_update"),
    path("dashboard/fields/<slug:key>/preview/", views.threshold_preview, name="threshold_preview"),
    path(
        "dashboard/fields/<slug:key>/train/",
        views.training_run_create,
        name="training_run_create",
    ),
    path("dashboard/runs/<uuid:code>/", views.training_run_detail, name="training_run"),
    path("dashboard/jobs/<uuid:code>/", views.field_job_detail, name="field_job"),
    path("models/<uuid:code>/", views.model_version_detail, name="model_version"),
    path("models/<uuid:code>/card.md", views.model_card, name="model_card"),
    path("models/<uuid:code>/download.zip", views.model_download, name="model_download"),
    path("fields/<slug:key>/training-data/", views.training_download, name="training_download"),
    path("models/<uuid:code>/promote/", views.model_version_promote, name="model_version_promote"),
    path("experiments/", views.experiments, name="experiments"),
    path("experiments.json", views.experiments_json, name="experiments_json"),
    path("fields/new/", views.field_create, name="field_create"),
    path("fields/<slug:key>/rules/", views.field_rules, name="field_rules"),
    path("fields/<slug:key>/collections/", views.field_collections, name="field_collections"),
    path("fields/<slug:key>/model/", views.field_model_params, name="field_model_params"),
    path("monitoring/", views.monitoring, name="monitoring"),
    path("monitoring/alerts/<uuid:code>/", views.monitoring_alert, name="monitoring_alert"),
    path(
        "monitoring/alerts/<uuid:code>/acknowledge/",
        views.monitoring_alert_acknowledge,
        name="monitoring_alert_acknowledge",
    ),
    path(
        "monitoring/alerts/<uuid:code>/retrain/",
        views.monitoring_alert_retrain,
        name="monitoring_alert_retrain",
    ),
    path("monitoring/<slug:key>/", views.monitoring_field, name="monitoring_field"),
    path("monitoring/<slug:key>/settings/", views.monitoring_settings, name="monitoring_settings"),
]
