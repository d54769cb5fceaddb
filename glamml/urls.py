from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from catalogue.api.main import api
from catalogue.interop import oai


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request, not at import: with the manifest storage of production the hashed
    # name exists only after collectstatic, and `check --deploy` imports the URLs before that.
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("", include("catalogue.urls")),
    path("review/", include("review.urls")),
    path("oai", oai.endpoint, name="oai"),
    path("api/", api.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", favicon),
]
