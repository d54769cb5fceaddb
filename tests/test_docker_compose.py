"""docker-compose.yml must describe the deployment the app expects."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from django.conf import settings

from tests.processes import image_static_files

__all__ = ["image_static_files"]  # a fixture

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict:
    return COMPOSE["services"][name]


def test_it_has_web_workers_beat_postgres_and_redis():
    assert set(COMPOSE["services"]) == {
        "web",
        "worker-inference",
        "worker-training",
        "beat",
        "postgres",
        "redis",
    }


def test_workers_consume_the_queues_the_tasks_are_routed_to():
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    consumed = set()
    for name in ("worker-inference", "worker-training"):
        command = service(name)["command"].split()
        consumed |= set(command[command.index("--queues") + 1].split(","))
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed
    assert "training" in service("worker-training")["command"]
    assert "training" not in service("worker-inference")["command"].split("--queues")[1].split()[0]


def test_app_services_run_in_production_against_the_compose_postgres_and_redis():
    postgres = service("postgres")["environment"]
    for name in ("web", "worker-inference", "worker-training", "beat"):
        env = service(name)["environment"]
        assert env["GLAMML_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert f"@postgres:5432/{postgres['POSTGRES_DB']}" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert "SECRET_KEY" in env and "?" in env["SECRET_KEY"]  # required, never a default
        assert "glamml-data:/data" in service(name)["volumes"]
        assert env["GLAMML_DATA_DIR"] == "/data"


def test_the_beat_schedule_names_tasks_that_exist():
    from glamml.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
    for task in settings.CELERY_TASK_ROUTES:
        assert task in app.tasks


def test_every_service_is_restarted_when_it_dies():
    for name, spec in COMPOSE["services"].items():
        assert spec.get("restart") in ("always", "unless-stopped"), name


def test_workers_run_without_the_gossip_that_fails_when_redis_drops():
    # docs/reliability.md: gossip's channel fails to restart when Redis drops under a task.
    for name in ("worker-inference", "worker-training"):
        command = service(name)["command"].split()
        assert {"--without-gossip", "--without-mingle", "--without-heartbeat"} <= set(command)
    unit = (ROOT / "deploy" / "systemd" / "glamml-worker@.service").read_text()
    assert "Restart=always" in unit and "--without-gossip" in unit


def test_an_inference_worker_on_another_machine_joins_the_same_database_broker_and_models():
    remote = yaml.safe_load((ROOT / "docker-compose.worker.yml").read_text())
    (name,) = remote["services"]
    worker = remote["services"][name]
    command = worker["command"].split()
    assert command[command.index("--queues") + 1] == "inference"
    assert {"--without-gossip", "--without-mingle", "--without-heartbeat"} <= set(command)
    assert worker["restart"] in ("always", "unless-stopped")
    env = worker["environment"]
    assert env["GLAMML_ENV"] == "production"
    # Nothing defaults to this machine's own services: each must name the main machine's.
    for variable in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        assert env[variable].startswith(f"${{{variable}:?")
    assert env["GLAMML_DATA_DIR"] == "/data" and "glamml-data:/data" in worker["volumes"]
    assert remote["volumes"]["glamml-data"]["driver_opts"]["type"] == "nfs"


def test_the_image_collects_the_static_files_with_the_manifest_production_reads(
    image_static_files,
):
    """The image ran collectstatic without the manifest storage; production's storage then found
    no manifest, and every page naming a static file answered 500."""
    # The fixture runs the Dockerfile's own collectstatic line (its variables, its command).
    manifest = json.loads((image_static_files / "staticfiles.json").read_text())["paths"]
    for name in ("css/glamml.css", "js/htmx-errors.js", "img/favicon.svg"):
        assert name in manifest
        assert (image_static_files / manifest[name]).exists()
