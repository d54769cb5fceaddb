"""The locust users of ``bench/scale_web.py`` (run by it; not a benchmark on its own).

A cataloguer works the review queue (each order, each filter, the first page and a deep one,
by number and by the "Next" link's cursor, in the whole queue and in a small collection's);
a visitor reads record pages, a collection page and the public search. Every request is named
for the table. The pages to ask for come from ``SCALE_WEB_PLAN`` (JSON written by
scale_web.py): the cataloguer's session cookie, a record, the collections, the deep page's
cursor, the search words.
"""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, between, task

PLAN = json.loads(os.environ.get("SCALE_WEB_PLAN", "{}"))


class Cataloguer(HttpUser):  # type: ignore[misc]
    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.client.cookies.set("sessionid", PLAN["session"])

    def queue(self, name: str, params: dict[str, str | int]) -> None:
        with self.client.get("/review/", params=params, name=name, catch_response=True) as r:
            if r.status_code != 200 or "queue-list" not in r.text:
                r.failure(f"status {r.status_code}")

    @task(3)
    def first_page(self) -> None:
        order = random.choice(["uncertainty", "margin", "random"])
        self.queue(f"queue: first page, {order}", {"order": order})

    @task(1)
    def field_filter(self) -> None:
        self.queue("queue: first page, field filter", {"field": PLAN["field"]})

    @task(1)
    def collection_filter(self) -> None:
        params = {"collection": PLAN["collection"]}
        self.queue("queue: first page, large collection", params)

    @task(1)
    def small_collection(self) -> None:
        if "small" not in PLAN:
            return
        order = random.choice(["uncertainty", "margin", "random"])
        params = {"collection": PLAN["small"], "order": order}
        self.queue("queue: first page, small collection (each order)", params)

    @task(1)
    def small_collection_deep(self) -> None:
        if "small" not in PLAN:
            return
        page = PLAN["small_deep_page"]
        params = {"collection": PLAN["small"], "page": page}
        self.queue(f"queue: page {page} by number, small collection", params)

    @task(1)
    def deep_by_number(self) -> None:
        self.queue(f"queue: page {PLAN['deep_page']} by number", {"page": PLAN["deep_page"]})

    @task(1)
    def deep_by_cursor(self) -> None:
        self.queue(
            f"queue: page {PLAN['deep_page']} by Next link",
            {"page": PLAN["deep_page"], "after": PLAN["deep_cursor"]},
        )


class Visitor(HttpUser):  # type: ignore[misc]
    weight = 1
    wait_time = between(0.5, 1.5)

    @task(2)
    def record(self) -> None:
        code = random.choice(PLAN["records"])
        self.client.get(f"/records/{code}/", name="record page")

    @task(2)
    def collection(self) -> None:
        self.client.get(f"/collections/{PLAN['collection']}/", name="collection page")

    @task(1)
    def collection_deep(self) -> None:
        self.client.get(
            f"/collections/{PLAN['collection']}/", params={"page": 100}, name="collection page 100"
        )

    @task(2)
    def search_common(self) -> None:
        self.client.get("/", params={"q": PLAN["common_word"]}, name="search: common word")

    @task(2)
    def search_rare(self) -> None:
        word = random.choice(PLAN["rare_words"])
        self.client.get("/", params={"q": word}, name="search: rarer word")
