from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def clean_environment(**env: str) -> dict[str, str]:
    """This process's environment without any of glamml's settings, plus ``env``."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "GLAMML_",
                "CELERY_",
                "DATABASE_URL",
                "REDIS_URL",
                "SECRET_KEY",
                "DEBUG",
                "ALLOWED_HOSTS",
            )
        )
    }
    clean.update(env)
    return clean


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


# Reads glamml/settings.py afresh under each environment it is given, in one process: a new
# process per environment cost about 0.4 s of CPU for a refusal and 0.9 s for a value read
# through manage.py, and the settings module is all that decides either. What stops start-up, and
# how manage.py says so, is checked through manage.py itself below.
READ_SETTINGS = """
import json, os, runpy, sys
from django.core.exceptions import ImproperlyConfigured
base = dict(os.environ)
answers = []
for env, expression in json.load(sys.stdin):
    os.environ.clear()
    os.environ.update(base, **env)
    try:
        values = runpy.run_module("glamml.settings")
    except ImproperlyConfigured as exc:
        answers.append({"refused": str(exc)})
    else:
        answers.append({"value": eval(expression, values)})
print(json.dumps(answers))
"""


def read_settings(cases: list[tuple[dict[str, str], str]], data_dir: Path) -> list[dict[str, Any]]:
    """For each (environment, expression): the expression's value in the settings read under
    that environment (``{"value": ...}``), or the message they were refused with."""
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        cwd=ROOT,
        env=clean_environment(GLAMML_DATA_DIR=str(data_dir)),
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answers: list[dict[str, Any]] = json.loads(result.stdout)
    return answers


BAD_SETTINGS = [
    ({"GLAMML_FLAG_RATE_LIMIT": "lots"}, "GLAMML_FLAG_RATE_LIMIT='lots' is not a whole number"),
    ({"GLAMML_DEFAULT_THRESHOLD": "1.5"}, "GLAMML_DEFAULT_THRESHOLD='1.5' must be between"),
    ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
    ({"CONN_MAX_AGE": "-1"}, "CONN_MAX_AGE='-1' must be between 0 and 86400"),
    ({"CONN_HEALTH_CHECKS": "sometimes"}, "CONN_HEALTH_CHECKS='sometimes' is not a boolean"),
    ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL is not a valid database URL"),
    (
        {"REDIS_URL": "http://localhost"},
        "REDIS_URL='http://localhost' must start with redis://",
    ),
    ({"GLAMML_ENV": "production"}, "SECRET_KEY must be set when GLAMML_ENV=production"),
    ({"GLAMML_ENV": "staging"}, "GLAMML_ENV='staging' is not known"),
    (
        {"GLAMML_MODEL_COMPRESS_LEVEL": "10"},
        "GLAMML_MODEL_COMPRESS_LEVEL='10' must be between 0 and 9",
    ),
]

# The development server's threads and the tests keep no connection; production keeps one a
# minute per process, checked before use.
DATABASE_OPTIONS = [
    ({}, [0, True]),
    (
        {
            "GLAMML_ENV": "production",
            "SECRET_KEY": "x7$" + "k" * 30,
            "ALLOWED_HOSTS": "glamml.example.org",
            "REDIS_URL": "redis://redis.invalid:6379/0",
        },
        [60, True],
    ),
    ({"CONN_MAX_AGE": "300", "CONN_HEALTH_CHECKS": "false"}, [300, False]),
]
DATABASE = "postgres://glamml@db.invalid:5432/glamml"


@pytest.fixture(scope="module")
def settings_read(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """The answers to every case of this module that needs only the settings, in one process."""
    refusals = [(env, "None") for env, _ in BAD_SETTINGS]
    database = [
        (
            {"DATABASE_URL": DATABASE, **env},
            "[DATABASES['default'][k] for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')]",
        )
        for env, _ in DATABASE_OPTIONS
    ]
    answers = read_settings(refusals + database, tmp_path_factory.mktemp("settings"))
    return {"refusals": answers[: len(refusals)], "database": answers[len(refusals) :]}


@pytest.mark.parametrize("case", range(len(BAD_SETTINGS)), ids=[n for _, n in BAD_SETTINGS])
def test_a_bad_setting_is_refused_naming_the_variable(settings_read, case):
    named = BAD_SETTINGS[case][1]
    assert named in settings_read["refusals"][case].get("refused", "")


def test_a_bad_setting_stops_start_up_naming_the_variable():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        GLAMML_ENV="production",
        SECRET_KEY="x7$" + "k" * 30 + "Q9!zL#p2" * 4,
        ALLOWED_HOSTS="glamml.example.org",
        DATABASE_URL="postgres://glamml@db.invalid:5432/glamml",
        REDIS_URL="redis://redis.invalid:6379/0",
        GLAMML_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def shell(data_dir: Path, command: str, **env: str) -> list[str]:
    result = run_manage("shell", "-v", "0", "-c", command, GLAMML_DATA_DIR=str(data_dir), **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.fixture(scope="module")
def started_with_nothing_set(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """What the app, started with nothing set, says of its database, tasks, debug mode and
    model compression (one process for the two tests that ask)."""
    return shell(
        tmp_path_factory.mktemp("nothing-set"),
        "from django.conf import settings as s; from glamml.ml import artefacts; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG, "
        "artefacts.COMPRESS_LEVEL)",
    )


def test_with_nothing_set_it_runs_on_sqlite_with_tasks_in_process(started_with_nothing_set):
    assert started_with_nothing_set[:3] == ["django.db.backends.sqlite3", "True", "True"]


def test_model_files_are_compressed_at_level_6_by_default(started_with_nothing_set):
    assert started_with_nothing_set[3:] == ["6"]


def test_model_files_are_compressed_at_the_configured_level(tmp_path):
    level = shell(
        tmp_path,
        "from glamml.ml import artefacts; print(artefacts.COMPRESS_LEVEL)",
        GLAMML_MODEL_COMPRESS_LEVEL="0",
    )
    assert level == ["0"]


@pytest.mark.parametrize("case", range(len(DATABASE_OPTIONS)), ids=["default", "production", "set"])
def test_database_connections_are_kept_only_where_a_process_lives_long(settings_read, case):
    assert settings_read["database"][case] == {"value": DATABASE_OPTIONS[case][1]}
