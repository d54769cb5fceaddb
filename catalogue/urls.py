from __future__ import annotations

from django.urls import path

from catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.home, name="home"),
]
