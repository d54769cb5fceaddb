from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from catalogue import views
from catalogue.interop import views as interop_views

app_name = "catalogue"

urlpatterns = [
    path("", views.home, name="home"),
    # The collections are listed on the home page; people guess this address.
    path("collections/", RedirectView.as_view(pattern_name="catalogue:home"), name="collections"),
    path("collections/<slug:slug>/", views.collection, name="collection"),
    path("records/<uuid:code>/", views.record, name="record"),
    path("records/<uuid:code>/fields/<slug:key>/flag/", views.flag, name="flag"),
    path("records/<uuid:code>/fields/<slug:key>/confirm/", views.confirm, name="confirm"),
    path(
        "collections/<slug:slug>/export/<slug:fmt>/",
        interop_views.collection_download,
        name="collection-export",
    ),
    path(
        "records/<uuid:code>/dc.xml", interop_views.record_download, {"fmt": "dc"}, name="record-dc"
    ),
    path(
        "records/<uuid:code>/marc.xml",
        interop_views.record_download,
        {"fmt": "marcxml"},
        name="record-marcxml",
    ),
]
