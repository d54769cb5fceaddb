from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
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
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
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
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(env, named):
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert named in result.stderr


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


def test_with_nothing_set_it_runs_on_sqlite_with_tasks_in_process(tmp_path):
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)",
        GLAMML_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "True"]


@pytest.mark.parametrize(("env", "level"), [({}, "6"), ({"GLAMML_MODEL_COMPRESS_LEVEL": "0"}, "0")])
def test_model_files_are_compressed_at_the_configured_level(tmp_path, env, level):
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from glamml.ml import artefacts; print(artefacts.COMPRESS_LEVEL)",
        GLAMML_DATA_DIR=str(tmp_path),
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [level]


DATABASE_OPTIONS = (
    "from django.conf import settings as s; d = s.DATABASES['default']; "
    "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # The development server's threads and the tests keep no connection; production keeps
        # one a minute per process, checked before use.
        ({}, ["0", "True"]),
        (
            {
                "GLAMML_ENV": "production",
                "SECRET_KEY": "x7$" + "k" * 30,
                "ALLOWED_HOSTS": "glamml.example.org",
                "REDIS_URL": "redis://redis.invalid:6379/0",
            },
            ["60", "True"],
        ),
        ({"CONN_MAX_AGE": "300", "CONN_HEALTH_CHECKS": "false"}, ["300", "False"]),
    ],
)
def test_database_connections_are_kept_only_where_a_process_lives_long(tmp_path, env, expected):
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        DATABASE_OPTIONS,
        DATABASE_URL="postgres://glamml@db.invalid:5432/glamml",
        GLAMML_DATA_DIR=str(tmp_path),
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected
