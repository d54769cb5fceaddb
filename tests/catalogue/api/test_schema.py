"""schemathesis, a property-based API tester, against the API's own OpenAPI description.

It generates requests from the schema (valid ones, and invalid ones that must be refused with a
4xx) and checks every answer against the schema: no server error, a documented status code,
content type and body. The app is called in-process over WSGI, inside the test's transaction.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.catalogue.api.conftest import bearer
from tests.factories import CollectionFactory, FieldValueFactory, PredictionFactory, RecordFactory

# Loaded from the app itself (the schema view reads no database), when the module is collected.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def catalogue(db, active_model):
    """A small catalogue with a waiting prediction; the app answers in this test's transaction."""
    books = CollectionFactory(slug="books")
    record = RecordFactory(collection=books, identifier="b1", title="Geschichte")
    FieldValueFactory(record=RecordFactory(collection=books), label="deu")
    PredictionFactory(record=record, model_version=active_model)
    # Django closes the database connection after each WSGI request, which would end the test's
    # transaction; its own test client switches this off the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield books
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(cataloguer):
    return bearer(cataloguer)["HTTP_AUTHORIZATION"]


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_openapi_description(case, catalogue, token):
    case.call_and_validate(headers={"Authorization": token})


def test_the_description_and_its_browsable_page_need_no_cdn(client):
    spec = client.get("/api/openapi.json").json()
    assert spec["info"]["title"] == "glamml API"
    assert {"/api/records", "/api/predict", "/api/predictions/{code}/decision"} <= set(
        spec["paths"]
    )
    page = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def test_every_operation_is_summarised_in_words(client):
    spec = client.get("/api/openapi.json").json()
    summaries = {
        f"{method.upper()} {path}": operation["summary"]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    }
    assert summaries["POST /api/collections/{slug}/records"] == "Submit records to a collection"
    assert summaries["POST /api/predictions/{code}/decision"] == "Decide a prediction"
    # Never the view function's name, title-cased ("Records Submit View").
    assert not [s for s in summaries.values() if s.istitle()]
