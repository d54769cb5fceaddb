from __future__ import annotations

from django.urls import path

from review import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("items/<uuid:code>/", views.item, name="item"),
    path("items/<uuid:code>/decide/", views.decide, name="decide"),
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
]
