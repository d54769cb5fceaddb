"""Every URL of the URL configuration against every role: who may see it is declared here.

The URLs are read from the resolver, so a new view is in this test at once: without a line in
``MATRIX`` it fails, and its author says who may open it. Objects in a private collection are
checked too: invisible (404) to the public wherever they appear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from catalogue.models import Alert, Field, FieldJob, TrainingRun
from tests.factories import (
    AdminFactory,
    CataloguerFactory,
    CollectionFactory,
    FieldValueFactory,
    ModelVersionFactory,
    PredictionFactory,
    RecordFactory,
    TrainingRunFactory,
    UserFactory,
    language_field,
)

ROLES = ("anonymous", "visitor", "cataloguer", "admin")


@dataclass(frozen=True)
class Objects:
    """One of each object a URL names, public and private."""

    field: Field
    slug: str
    private_slug: str
    record: str
    private_record: str
    prediction: str
    model_version: str
    training_run: str
    alert: str
    field_job: str


def url_names() -> Iterator[tuple[str, URLPattern]]:
    """Every named URL outside the admin site, as ``namespace:name``."""

    def walk(resolver: URLResolver, namespace: str) -> Iterator[tuple[str, URLPattern]]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
                if inner != "admin":
                    yield from walk(entry, inner)
            else:
                name = entry.name or str(entry.pattern)
                yield (f"{namespace}:{name}" if namespace else name), entry

    yield from walk(get_resolver(), "")


@pytest.fixture
def objects(db) -> Objects:
    field = language_field()
    public = CollectionFactory(is_public=True)
    private = CollectionFactory(is_public=False)
    record = RecordFactory(collection=public)
    private_record = RecordFactory(collection=private)
    for each in (record, private_record):
        FieldValueFactory(record=each, field=field, label="fra")
    version = ModelVersionFactory(field=field)
    prediction = PredictionFactory(record=record, field=field, model_version=version)
    run = TrainingRunFactory(field=field, status=TrainingRun.Status.SUCCEEDED)
    alert = Alert.objects.create(
        field=field, kind=Alert.Kind.DRIFT, day=date.today(), window_start=date.today(), message="x"
    )
    return Objects(
        field=field,
        slug=public.slug,
        private_slug=private.slug,
        record=str(record.code),
        private_record=str(private_record.code),
        prediction=str(prediction.code),
        model_version=str(version.code),
        training_run=str(run.code),
        alert=str(alert.code),
        field_job=str(FieldJob.objects.create(field=field, kind=FieldJob.Kind.REROUTE).code),
    )


# Which object a URL's ``code`` names; the record where not listed.
CODE_OF = {
    "review:item": "prediction",
    "review:decide": "prediction",
    "review:undo": "prediction",
    "review:change": "prediction",
    "review:not_applicable": "prediction",
    "review:not_applicable_undo": "prediction",
    "review:training_run": "training_run",
    "review:field_job": "field_job",
    "review:model_version": "model_version",
    "review:model_card": "model_version",
    "review:model_download": "model_version",
    "review:model_version_promote": "model_version",
    "review:monitoring_alert": "alert",
    "review:monitoring_alert_acknowledge": "alert",
    "review:monitoring_alert_retrain": "alert",
    "api:prediction_detail": "prediction",
    "api:decision_submit": "prediction",
}

# name: (method, statuses for anonymous, visitor, cataloguer, admin). Requests carry no form
# data: a role that may use a form gets its refusal of empty input (400, 422) or its redirect,
# never the page of a role that may not (302 to the login page, 403, 401 from the API).
PUBLIC = (200, 200, 200, 200)
CATALOGUERS_PAGE = (302, 403, 200, 200)
CATALOGUERS_POST = (302, 403, 302, 302)
ADMINS_PAGE = (302, 403, 403, 200)
ADMINS_POST = (302, 403, 403, 302)
MATRIX: dict[str, tuple[str, tuple[int, int, int, int]]] = {
    "catalogue:home": ("GET", PUBLIC),
    "catalogue:collections": ("GET", (302, 302, 302, 302)),  # the old address of the home page
    "catalogue:collection": ("GET", PUBLIC),
    "catalogue:record": ("GET", PUBLIC),
    "catalogue:flag": ("POST", (302, 302, 302, 302)),  # anyone may flag; back to the record
    "catalogue:confirm": ("POST", (302, 302, 302, 302)),
    "catalogue:collection-export": ("GET", (403, 403, 403, 200)),
    "catalogue:record-dc": ("GET", PUBLIC),
    "catalogue:record-marcxml": ("GET", PUBLIC),
    "review:queue": ("GET", CATALOGUERS_PAGE),
    "review:bulk": ("POST", CATALOGUERS_POST),
    "review:item": ("GET", CATALOGUERS_PAGE),
    "review:decide": ("POST", CATALOGUERS_POST),
    "review:undo": ("POST", CATALOGUERS_POST),
    "review:change": ("POST", CATALOGUERS_POST),
    "review:not_applicable": ("POST", CATALOGUERS_POST),
    "review:not_applicable_undo": ("POST", CATALOGUERS_POST),
    "review:flags": ("GET", CATALOGUERS_PAGE),
    "review:dashboard": ("GET", ADMINS_PAGE),
    "review:policy_update": ("POST", (302, 403, 403, 422)),
    "review:threshold_preview": ("GET", (302, 403, 403, 422)),
    "review:training_run_create": ("POST", ADMINS_POST),
    "review:training_run": ("GET", ADMINS_PAGE),
    # Polled by the dashboard (htmx); a plain request goes to the field's panel.
    "review:field_job": ("GET", (302, 403, 403, 302)),
    "review:model_version": ("GET", ADMINS_PAGE),
    "review:model_card": ("GET", ADMINS_PAGE),
    # The version here has no artefact file: an admin is told so (400), others never get that far.
    "review:model_download": ("GET", (302, 403, 403, 400)),
    "review:training_download": ("GET", (302, 403, 403, 400)),
    "review:model_version_promote": ("POST", ADMINS_POST),
    "review:experiments": ("GET", ADMINS_PAGE),
    "review:experiments_json": ("GET", ADMINS_PAGE),
    "review:field_create": ("GET", ADMINS_PAGE),
    "review:field_rules": ("GET", ADMINS_PAGE),
    "review:field_collections": ("GET", ADMINS_PAGE),
    "review:field_model_params": ("GET", ADMINS_PAGE),
    "review:monitoring": ("GET", ADMINS_PAGE),
    "review:monitoring_alert": ("GET", ADMINS_PAGE),
    "review:monitoring_alert_acknowledge": ("POST", ADMINS_POST),
    "review:monitoring_alert_retrain": ("POST", ADMINS_POST),
    "review:monitoring_field": ("GET", ADMINS_PAGE),
    "review:monitoring_settings": ("POST", (302, 403, 403, 422)),
    "oai": ("GET", PUBLIC),
    "api:openapi-json": ("GET", PUBLIC),
    "api:openapi-view": ("GET", PUBLIC),
    # The API wants a login (a session or a token); reading public records is then open.
    "api:collections_list": ("GET", (401, 200, 200, 200)),
    "api:records_list": ("GET", (401, 200, 200, 200)),
    "api:record_detail": ("GET", (401, 200, 200, 200)),
    "api:records_submit_view": ("POST", (401, 400, 400, 400)),
    "api:record_predictions": ("GET", (401, 200, 200, 200)),
    "api:predictions_list": ("GET", (401, 403, 200, 200)),
    "api:prediction_detail": ("GET", (401, 200, 200, 200)),
    "api:decision_submit": ("POST", (401, 400, 400, 400)),
    "api:predict": ("POST", (401, 400, 400, 400)),
    "api:api-root": ("GET", (404, 404, 404, 404)),
    "login": ("GET", PUBLIC),
    "logout": ("POST", (302, 302, 302, 302)),
    "favicon.ico": ("GET", (301, 301, 301, 301)),
}

# URLs that show a record or a collection: for one in a private collection, the public (and
# visitors) get 404, as if it did not exist; cataloguers and admins get what they get for a
# public one.
PRIVATE_TOO = {
    "catalogue:collection",
    "catalogue:record",
    "catalogue:flag",
    "catalogue:confirm",
    "catalogue:record-dc",
    "catalogue:record-marcxml",
    "api:record_detail",
    "api:record_predictions",
}


def url_for(name: str, pattern: URLPattern, objects: Objects, *, private: bool = False) -> str:
    if not pattern.name:
        return "/" + str(pattern.pattern)
    kwargs: dict[str, Any] = {}
    route = str(pattern.pattern)
    if "code>" in route:
        attribute = CODE_OF.get(name, "private_record" if private else "record")
        kwargs["code"] = getattr(objects, attribute)
    if "slug:key>" in route:
        kwargs["key"] = objects.field.key
    if "slug>" in route:
        kwargs["slug"] = objects.private_slug if private else objects.slug
    if "fmt>" in route:
        kwargs["fmt"] = "csv"
    return reverse(name, kwargs=kwargs)


def client_as(role: str) -> Client:
    makers: dict[str, Callable[[], User]] = {
        "visitor": UserFactory,
        "cataloguer": CataloguerFactory,
        "admin": AdminFactory,
    }
    client = Client()
    if role != "anonymous":
        client.force_login(makers[role]())
    return client


def statuses(url: str, method: str) -> tuple[int, ...]:
    return tuple(
        (client_as(role).post(url) if method == "POST" else client_as(role).get(url)).status_code
        for role in ROLES
    )


def test_every_url_declares_who_may_open_it():
    names = {name for name, _ in url_names()}

    assert sorted(names - MATRIX.keys()) == [], "add these URLs to MATRIX: who may open them?"
    assert sorted(MATRIX.keys() - names) == [], "these URLs are gone: take them out of MATRIX"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_each_role_gets_what_the_matrix_says(name, objects):
    patterns = dict(url_names())
    if name not in patterns:
        pytest.fail(f"{name} is in MATRIX but not in the URL configuration")
    method, expected = MATRIX[name]

    got = statuses(url_for(name, patterns[name], objects), method)

    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, expected, strict=True))


@pytest.mark.parametrize("name", sorted(PRIVATE_TOO))
def test_a_private_collection_is_invisible_to_the_public_everywhere(name, objects):
    method, expected = MATRIX[name]
    pattern = dict(url_names())[name]

    got = statuses(url_for(name, pattern, objects, private=True), method)

    anonymous = 401 if name.startswith("api:") else 404  # the API asks for a login first
    assert dict(zip(ROLES, got, strict=True)) == dict(
        zip(ROLES, (anonymous, 404, *expected[2:]), strict=True)
    )


PUBLIC_MARKS = ("Open letters", "open-1", "correspondence, open")
PRIVATE_MARKS = ("Sealed letters", "sealed-1", "correspondence, sealed")


@pytest.mark.parametrize("role", ["anonymous", "visitor"])
def test_no_list_or_search_shows_the_public_a_private_collection(role, db):
    """The same word in a public and a private record: only the public one is shown."""
    public = CollectionFactory(is_public=True, name="Open letters")
    private = CollectionFactory(is_public=False, name="Sealed letters")
    RecordFactory(collection=public, identifier="open-1", title="Quillwort correspondence, open")
    RecordFactory(
        collection=private, identifier="sealed-1", title="Quillwort correspondence, sealed"
    )
    client = client_as(role)
    api = client_as("visitor") if role == "anonymous" else client  # the API asks for a login
    pages = {
        "search": client.get("/", {"q": "Quillwort"}).content.decode(),
        "home": client.get(reverse("catalogue:home")).content.decode(),
        "api records": api.get("/api/records").content.decode(),
        "api collections": api.get("/api/collections").content.decode(),
        "oai": client.get(
            "/oai", {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
        ).content.decode(),
        "oai sets": client.get("/oai", {"verb": "ListSets"}).content.decode(),
    }

    def shows(text: str, marks: tuple[str, ...]) -> bool:
        return any(mark in text for mark in marks)

    shown = {
        name: (shows(text, PRIVATE_MARKS), shows(text, PUBLIC_MARKS))
        for name, text in pages.items()
    }
    assert shown == dict.fromkeys(pages, (False, True))


def admin_urls() -> Iterator[str]:
    """The admin site's pages that take no argument: its index, each model's list and form."""
    (site,) = (e for e in get_resolver().url_patterns if getattr(e, "namespace", "") == "admin")

    def walk(resolver: URLResolver, prefix: str) -> Iterator[str]:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if "<" in route or "(?P" in route:
                continue
            if isinstance(entry, URLResolver):
                yield from walk(entry, route)
            else:
                yield "/" + route.lstrip("^").rstrip("$")

    yield from walk(site, str(site.pattern))


def test_the_admin_site_is_for_admins_only(db):
    # The autocomplete endpoint answers only with its query; logging in and out are for all.
    urls = sorted(set(admin_urls()) - {"/admin/logout/", "/admin/login/", "/admin/autocomplete/"})
    assert "/admin/catalogue/record/" in urls  # the walk finds the models' pages
    # One client per role for every page: a user and a login per request were 115 logins, about
    # 40% of the test's time. A GET of these pages changes nobody's login.
    clients = [client_as(role) for role in ("anonymous", "visitor", "cataloguer")]
    got = {url: tuple(client.get(url).status_code for client in clients) for url in urls}
    admin = client_as("admin")

    assert got == dict.fromkeys(urls, (302, 302, 302))  # to the admin's login page
    # django-axes' logs are records of what happened: nobody adds to them by hand.
    read_only = {url for url in urls if url.startswith("/admin/axes/") and url.endswith("/add/")}
    assert len(read_only) == 3
    assert {url: admin.get(url).status_code for url in urls} == {
        url: 403 if url in read_only else 200 for url in urls
    }
