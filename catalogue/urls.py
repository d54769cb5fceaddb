from __future__ import annotations

from django.urls import path

from catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.home, name="home"),
    path("collections/<slug:slug>/", views.collection, name="collection"),
    path("records/<uuid:code>/", views.record, name="record"),
    path("records/<uuid:code>/fields/<slug:key>/flag/", views.flag, name="flag"),
]
