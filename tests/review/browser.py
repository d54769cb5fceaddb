"""A real Chromium page logged in as a given user, for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@contextmanager
def logged_in_page(live_server, client, user, *, width: int = 1280, height: int = 900) -> Iterator:
    """A page with the user's session; fails the test if the page raised a script error.

    Call with ``DJANGO_ALLOW_ASYNC_UNSAFE`` set: Playwright's sync API runs an event loop.
    """
    from playwright.sync_api import sync_playwright

    client.force_login(user)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        # The test body ran inside Playwright's greenlet, which has its own database
        # connection; close it here or the test database cannot be dropped at the end.
        connections.close_all()
        browser.close()
        assert errors == []
