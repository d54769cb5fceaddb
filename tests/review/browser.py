"""Real Chromium pages for the browser tests: one Chromium per pytest process (the ``chromium``
fixture of tests/conftest.py), a fresh browser context (cookies, storage) for each test.

Starting Playwright's driver and Chromium costs about 1 s of CPU; a context, a few milliseconds.
Each pytest-xdist process starts its own, and Playwright's driver closes it when the process
ends, however it ends (its pipe from this process closes).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]


class Chromium:
    """Playwright's driver and Debian's Chromium, kept for every browser test of a process.

    Playwright's sync API marks its event loop as running in this thread from its first call
    on, also between calls, while nothing runs it. Django then refuses ORM calls
    (SynchronousOnlyOperation) and ``asyncio.run`` refuses to start. So the loop is marked
    running only inside ``context()``, where the browser is used, and Django's guard is lifted
    there; every other test of the process sees no loop, as without a browser.
    """

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._loop = asyncio.get_running_loop()
        try:
            self.browser = self._launch()
        except BaseException:
            self._playwright.stop()
            raise
        finally:
            asyncio._set_running_loop(None)

    def _launch(self) -> Any:
        return self._playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )

    @contextmanager
    def _in_use(self) -> Iterator[None]:
        allowed = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        asyncio._set_running_loop(self._loop)
        try:
            yield
        finally:
            # While the loop is marked running, asgiref keeps Django's connections per
            # context rather than per thread: the ORM calls made here opened their own.
            # Close them, or they stay open and the test database cannot be dropped.
            connections.close_all()
            asyncio._set_running_loop(None)
            if allowed is None:
                del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = allowed

    @contextmanager
    def context(self, **options: Any) -> Iterator[Any]:
        """A new browser context, closed after the test whatever its outcome."""
        with self._in_use():
            if not self.browser.is_connected():  # Chromium died in an earlier test
                self.browser = self._launch()
            context = self.browser.new_context(**options)
            try:
                yield context
            finally:
                context.close()

    def stop(self) -> None:
        with self._in_use():
            try:
                self.browser.close()
            finally:
                self._playwright.stop()


@contextmanager
def logged_in_page(
    chromium: Chromium, live_server, client, user, *, width: int = 1280, height: int = 900
) -> Iterator:
    """A page with the user's session; fails the test if the page raised a script error."""
    client.force_login(user)
    with chromium.context(viewport={"width": width, "height": height}) as context:
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
        assert errors == []
