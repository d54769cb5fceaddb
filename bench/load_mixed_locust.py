"""The locust users of ``bench/load_mixed.py`` (run by it; not a benchmark on its own).

Visitors browse record and collection pages, search, and flag values (each flag from an address
of its own, through ``X-Forwarded-For``, as behind a proxy). Cataloguers open the review queue
and accept an item on it. An admin opens the dashboard and saves the language policy. Every
request is named for the table; a 5xx, or any status the page should not give, is a failure.
The plan (``LOAD_MIXED_PLAN``, JSON from the driver) holds the session cookies, records, a
collection and the policy form's data. What the server said it saved (each accepted item, the
flags taken, the policy saves) is written as JSON to ``LOAD_MIXED_TALLY`` when locust quits, so
that the driver can check every one of them is in the database.
"""

from __future__ import annotations

import json
import os
import random
import re

from locust import HttpUser, between, events, task

PLAN = json.loads(os.environ.get("LOAD_MIXED_PLAN", "{}"))
# What the server answered as saved: the decided items' codes, how many flags and policy saves.
TALLY: dict[str, list[str]] = {"decided": [], "flagged": [], "policy saved": []}
DECIDE = re.compile(
    r'action="(/review/items/[0-9a-f-]{36}/decide/)".*?name="review_round" value="(\d+)"', re.S
)


class Person(HttpUser):  # type: ignore[misc]
    abstract = True
    wait_time = between(0.5, 1.5)
    session = ""

    def on_start(self) -> None:
        if self.session:
            self.client.cookies.set("sessionid", PLAN[self.session])
        self.client.get("/", name="home")  # the CSRF cookie

    def expect(
        self, method: str, path: str, name: str, ok: tuple[int, ...], **kw: object
    ) -> tuple[int, str]:
        # Production marks its cookies Secure, for the TLS a proxy puts in front of it; this
        # runs plain HTTP to gunicorn on the loopback, so it sends them back all the same.
        for cookie in self.client.cookies:
            cookie.secure = False
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", "")}
        headers.update(kw.pop("headers", {}))  # type: ignore[arg-type]
        with self.client.request(
            method,
            path,
            name=name,
            headers=headers,
            catch_response=True,
            allow_redirects=False,
            **kw,
        ) as response:
            # An expected 4xx (a conflict, the rate limit) is an answer, not a failure.
            if response.status_code in ok:
                response.success()
            else:
                response.failure(f"status {response.status_code}")
            return response.status_code, str(response.text)


class Visitor(Person):
    weight = 3

    @task(3)
    def record(self) -> None:
        code = random.choice(PLAN["records"])
        self.expect("GET", f"/records/{code}/", "record page", (200,))

    @task(2)
    def collection(self) -> None:
        self.expect("GET", f"/collections/{PLAN['collection']}/", "collection page", (200,))

    @task(2)
    def search(self) -> None:
        word = random.choice(PLAN["words"])
        self.expect("GET", f"/?q={word}", "search", (200,))

    @task(1)
    def flag(self) -> None:
        code = random.choice(PLAN["flaggable"])
        address = f"198.51.100.{random.randint(1, 254)}"
        # As the record page sends it, with htmx: 200 with the field's section thanking them;
        # 429 once that address used its flags for the hour. (Without htmx both answer 302.)
        status, _ = self.expect(
            "POST",
            f"/records/{code}/fields/language/flag/",
            "flag",
            (200, 429),
            data={"comment": "load test"},
            headers={"X-Forwarded-For": address, "HX-Request": "true"},
        )
        if status == 200:
            TALLY["flagged"].append(code)


class Cataloguer(Person):
    weight = 2
    session = "cataloguer"

    @task
    def review(self) -> None:
        _, page = self.expect("GET", "/review/", "review queue", (200,))
        found = DECIDE.search(page)
        if found is None:
            return  # the queue is empty
        url, review_round = found.groups()
        # As the queue sends it, with htmx: 200 with the decided item; 409 when another
        # cataloguer decided it first. (Without htmx both answer 302, saved or not.)
        status, _ = self.expect(
            "POST",
            url,
            "decide (accept)",
            (200, 409),
            data={"action": "accept", "review_round": review_round, "next": "/review/"},
            headers={"HX-Request": "true"},
        )
        if status == 200:
            TALLY["decided"].append(url.split("/")[3])


class Admin(Person):
    weight = 1
    session = "admin"

    @task
    def save_policy(self) -> None:
        self.expect("GET", "/review/dashboard/", "dashboard", (200,))
        status, _ = self.expect(
            "POST",
            "/review/dashboard/fields/language/policy/",
            "save policy",
            (200, 302),
            data=PLAN["policy"],
        )
        if status in (200, 302):
            TALLY["policy saved"].append(str(status))


@events.quitting.add_listener
def tally_write(**_: object) -> None:
    if os.environ.get("LOAD_MIXED_TALLY"):
        with open(os.environ["LOAD_MIXED_TALLY"], "w", encoding="utf-8") as out:
            json.dump(TALLY, out)
