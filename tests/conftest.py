from __future__ import annotations

import csv
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import AdminFactory, CataloguerFactory, UserFactory, language_field

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(item: pytest.Item, reason: str) -> None:
    # In CI every service is there: a missing one is a failure, never a quiet skip.
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: nothing may be skipped)", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _unavailable(
            item, "needs PostgreSQL: set DATABASE_URL (scripts/test.sh does when it answers)"
        )
    if item.get_closest_marker("redis") and not os.environ.get("REDIS_URL"):
        _unavailable(item, "needs Redis: set REDIS_URL (scripts/test.sh does when it answers)")
    if item.get_closest_marker("browser") and not shutil.which("chromium"):
        _unavailable(item, "needs Debian's Chromium at /usr/bin/chromium")


# Tests that start real processes (Celery workers, servers, Chromium, manage.py) or wait on them
# go first, spread over the parallel processes from the start: their waiting then overlaps the
# other tests' work instead of one process finishing last with them. Most costly first.
RUN_FIRST = (
    "tests/test_demo.py",
    "tests/test_faults.py",
    "tests/test_load.py",
    "tests/test_db_faults.py",
    "tests/test_worker.py",
    "tests/test_accessibility_browser.py",
    "tests/catalogue/test_dispatch.py",
    "tests/catalogue/test_outbox.py",
    "tests/test_settings.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist hands each process a quarter of its share of the tests in one block, which
    # would give one process every test above; one at a time, they spread over all processes.
    if getattr(config.option, "numprocesses", None) and config.option.maxschedchunk is None:
        config.option.maxschedchunk = 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::")[0]
        if path in RUN_FIRST:
            return RUN_FIRST.index(path)
        if item.get_closest_marker("browser") or item.get_closest_marker("redis"):
            return len(RUN_FIRST)
        return len(RUN_FIRST) + 1

    items.sort(key=rank)  # stable: the order within each rank stays pytest-django's


def _template_name(config: pytest.Config) -> str:
    from django.conf import settings

    name = settings.DATABASES["default"]["TEST"]["NAME"]
    worker = getattr(config, "workerinput", {}).get("workerid")
    return f"{name.removesuffix(f'_{worker}') if worker else name}_template"


def _clones_a_template(config: pytest.Config) -> bool:
    """Parallel processes on PostgreSQL copy one migrated template database (a fraction of a
    second each) instead of each running every migration, unless pytest-django is told to
    reuse databases or skip migrations."""
    from django.db import connection

    return (
        hasattr(config, "workerinput")
        and connection.vendor == "postgresql"
        and not config.getvalue("reuse_db")
        and not config.getvalue("nomigrations")
    )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix, request, django_db_blocker, tmp_path_factory
) -> Iterator[None]:
    from django.core.management import call_command
    from django.db import connection

    if not _clones_a_template(request.config):
        yield
        return
    template = _template_name(request.config)
    name = connection.settings_dict["TEST"]["NAME"]
    # The processes of one run share the parent of their temporary directories: the first to
    # take the lock migrates the template, the others wait for it.
    lock = tmp_path_factory.getbasetemp().parent / "template-database.lock"
    with django_db_blocker.unblock(), lock.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.seek(0)
        if held.read() != template:
            with connection._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
                cursor.execute(f'CREATE DATABASE "{template}"')
            saved = connection.settings_dict["NAME"]
            connection.close()
            connection.settings_dict["NAME"] = template
            try:
                call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)
            finally:
                connection.close()
                connection.settings_dict["NAME"] = saved
            held.write(template)
            held.flush()
        with connection._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield
    with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def django_db_keepdb(request, django_db_modify_db_settings) -> bool:
    # A copied database is already migrated (Django's setup then only checks it) and is dropped
    # above, after Django has closed its connections.
    return bool(request.config.getvalue("reuse_db")) or _clones_a_template(request.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The main process of a parallel run drops the template its processes copied."""
    config = session.config
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        return
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    if connection.vendor != "postgresql":
        return
    with config.stash[blocking_manager_key].unblock(), connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{_template_name(config)}" WITH (FORCE)')


@pytest.fixture(autouse=True, scope="session")
def _own_redis_keys():
    """Remove this process's Redis keys (queues, bindings, cache) when its tests are done.

    Each run and each of its parallel processes has its own key prefix (glamml/settings.py).
    """
    yield
    from django.conf import settings

    if settings.REDIS_URL and settings.REDIS_KEY_PREFIX:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}*", count=500))
        if keys:
            client.delete(*keys)


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for this process's browser tests, started by the first of them; each test
    opens its own context in it (tests/review/browser.py)."""
    from tests.review.browser import Chromium

    started = Chromium()
    yield started
    started.stop()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, settings):
    """Each test writes model artefacts to its own directory, never to var/."""
    settings.GLAMML_DATA_DIR = tmp_path / "data"
    settings.GLAMML_MODEL_DIR = tmp_path / "data" / "models"
    settings.GLAMML_MODEL_DIR.mkdir(parents=True)
    # Tests of other behaviour read a new collection's confidence as it is; the tests of
    # per-collection calibration set the conservative start the app has by default.
    settings.GLAMML_NEW_COLLECTION_RATIO = 1.0
    return settings.GLAMML_DATA_DIR


@pytest.fixture(autouse=True)
def fresh_counts():
    """Cached counts (the cache outlives a test's database) start empty in every test."""
    from catalogue.counts import counts_forget

    counts_forget()
    yield
    counts_forget()


@pytest.fixture
def field(db):
    """The language field with its default policy and vocabulary."""
    return language_field()


@pytest.fixture
def cataloguer(db):
    return CataloguerFactory()


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def visitor(db):
    """A logged-in user who is neither cataloguer nor admin."""
    return UserFactory()


@pytest.fixture(scope="session")
def base_model_file(tmp_path_factory):
    """The shipped base language model, saved once per session as an artefact file."""
    from glamml.ml.langid import LanguageIdentifier

    path = tmp_path_factory.mktemp("base-model") / "base.npz"
    checksum = LanguageIdentifier.base().save(path)
    return path, checksum


@pytest.fixture
def active_model(field, base_model_file, settings):
    """An active language model version backed by a real artefact in this test's data dir."""
    from catalogue.machine import artefact_path
    from catalogue.models import ModelVersion
    from glamml.ml.langid import LanguageIdentifier

    source, checksum = base_model_file
    target = artefact_path(field=field, version=1)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return ModelVersion.objects.create(
        field=field,
        version=1,
        status=ModelVersion.Status.ACTIVE,
        artefact=str(target.relative_to(settings.GLAMML_MODEL_DIR)),
        checksum=checksum,
        format_version=LanguageIdentifier.FORMAT_VERSION,
        training_fingerprint="0" * 64,
    )


GENRE_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "label-samples" / "bl-genre.csv"


@pytest.fixture
def genre(db):
    """A label field defined as an admin would: two labels, reading the title."""
    from catalogue.services.fields import field_create

    return field_create(
        key="genre",
        name="Genre",
        labels=[("Fiction", "Fiction"), ("Non-fiction", "Non-fiction")],
        text_source=["title"],
        metric="macro_f1",
    )


@pytest.fixture
def genre_records(genre, tmp_path):
    """300 real British Library records with their genre, imported as the catalogue's values."""
    from catalogue.services.imports import records_import

    with GENRE_SAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:300]
    path = tmp_path / "genre.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["identifier", "title", "genre"])
        writer.writeheader()
        writer.writerows({k: r[k] for k in ("identifier", "title", "genre")} for r in rows)
    from tests.factories import CollectionFactory

    collection = CollectionFactory(slug="bl", name="British Library")
    records_import(path=path, collection=collection, mapping={"genre": "genre"})
    return collection


def train(field, **kwargs):
    """One real training run, executed in-process (a few seconds)."""
    from catalogue.models import TrainingRun
    from catalogue.services.training.runs import training_run_execute

    return training_run_execute(run=TrainingRun.objects.create(field=field, **kwargs))
