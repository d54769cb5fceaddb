"""Refusals and missing pages answer in the site's layout and say what the person can do."""

from __future__ import annotations

import io
import logging

import pytest
from django.urls import reverse

from glamml.logfilters import NoTracebackForRefusals


@pytest.mark.django_db
def test_a_refused_page_says_who_you_are_and_how_to_get_in(client, visitor):
    client.force_login(visitor)

    response = client.get(reverse("review:queue"))

    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not open this page" in html
    assert "Only cataloguers may work the review queue." in html
    assert f"You are logged in as <strong>{visitor.get_username()}</strong>" in html
    assert f'href="{reverse("login")}?next=/review/"' in html
    assert 'class="site"' in html  # the site's header and footer


@pytest.mark.django_db
def test_a_missing_page_is_in_the_layout_with_ways_on(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "There is no page at" in html and "/no/such/page/" in html
    assert f'href="{reverse("catalogue:home")}"' in html
    assert 'rel="icon"' in html


@pytest.mark.django_db
def test_the_collections_address_leads_to_the_collections(client):
    response = client.get("/collections/")
    assert response.status_code == 302
    assert response.url == reverse("catalogue:home")


@pytest.mark.django_db
def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url.endswith("img/favicon.svg")


@pytest.mark.django_db
def test_an_ordinary_refusal_logs_one_line_and_no_traceback(client, visitor):
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, NoTracebackForRefusals) for f in h.filters)
    )
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        client.force_login(visitor)
        client.get(reverse("review:dashboard"))
    finally:
        handler.setStream(old)
    log = stream.getvalue()
    assert "Forbidden (Permission denied): /review/dashboard/" in log
    assert "Traceback" not in log
