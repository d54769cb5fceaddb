"""Real processes for the fault and load tests: a Redis server of the test's own, which it can
stop and start again, Celery workers pointed at a broker, and gunicorn as deployed.

They run small in the test suite; ``GLAMML_RELIABILITY=full`` (``scripts/reliability.sh``) runs
them at full size (:func:`sized`)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
import yaml
from django.db import connection

from glamml.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
# The worker options of the documented deployment, so the fault tests run workers as deployed.
_COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
DEPLOYED_WORKER_FLAGS = [
    flag
    for flag in _COMPOSE["services"]["worker-inference"]["command"].split()
    if flag.startswith("--without-")
]


def image_collectstatic_env() -> dict[str, str]:
    """The environment the Dockerfile's ``RUN ... collectstatic`` line sets (its storage)."""
    (run,) = [
        line
        for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if "collectstatic" in line and line.startswith("RUN ")
    ]
    words = run.removeprefix("RUN ").split()
    return dict(w.split("=", 1) for w in words[: words.index("python")])


@pytest.fixture(scope="session")
def image_static_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static files collected as the Dockerfile collects them, once per test run.

    WhiteNoise's storage compresses every hashed file with gzip and Brotli (about 8 s of CPU),
    so the tests that need the collected files share one copy: the parallel processes of a run
    share the parent of their temporary directories, the first to take the lock collects, the
    others wait and read its result.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / "image-static"
    with (shared / "image-static.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not root.exists():
            partial = shared / "image-static.partial"
            shutil.rmtree(partial, ignore_errors=True)
            env = {**os.environ, **image_collectstatic_env(), "STATIC_ROOT": str(partial)}
            command = [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"]
            subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
            partial.rename(root)
    return root


def sized(small: int, full: int) -> int:
    """``small`` in the test suite, ``full`` in the full-size run of the reliability suites."""
    return full if os.environ.get("GLAMML_RELIABILITY", "").lower() == "full" else small


def report(*lines: str) -> None:
    """Add figures to the reliability run's report (``GLAMML_RELIABILITY_REPORT``, a file that
    ``scripts/reliability.sh`` prints at the end); nothing outside that run."""
    path = os.environ.get("GLAMML_RELIABILITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n\n")


def database_url(*, port: int | None = None) -> str:
    """This test's database; through ``port`` on the loopback instead, if given."""
    s = connection.settings_dict
    host, port = (s["HOST"] or LOOPBACK, s["PORT"] or 5432) if port is None else (LOOPBACK, port)
    return f"postgres://{s['USER']}@{host}:{port}/{s['NAME']}"


LOOPBACK = "127.0.0.1"


class DatabaseOutage:
    """A relay on a free loopback port to this test's PostgreSQL server, which the test takes
    down and brings back: as a database restart looks to the processes connected through it
    (:meth:`stop` cuts every connection and refuses new ones until :meth:`start`), without
    touching the server the other tests share."""

    def __init__(self) -> None:
        s = connection.settings_dict
        self.target = (s["HOST"] or LOOPBACK, int(s["PORT"] or 5432))
        self.port = free_port()
        self.url = database_url(port=self.port)
        self._up = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._accepting: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen(64)
        listener.settimeout(0.1)  # so that the accepting thread sees stop() soon
        self._up.set()
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def stop(self) -> None:
        self._up.clear()
        if self._accepting is not None:
            self._accepting.join()  # the port is closed: connections are refused
        with self._lock:
            cut, self._sockets = self._sockets, []
        for sock in cut:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while self._up.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                client.settimeout(None)
                upstream = socket.create_connection(self.target)
                with self._lock:
                    self._sockets += [client, upstream]
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_relay, args=(source, sink), daemon=True).start()


def _relay(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server on a free loopback port, with its append-only file in ``directory``
    (as docker-compose.yml runs it), so that stopping and starting it keeps its data."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "yes", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        """Stop it as an outage would: the port refuses connections until ``start``."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("the fault tests need redis-server (apt-get install -y redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """Send this process's tasks to the broker at ``url`` (not in-process) inside the block.

    Celery keeps a connection pool per app, made from ``broker_url`` on first use: reset it so
    the next send connects to ``url``, and again afterwards.
    """
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = url, False
    _reset_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager = saved
        _reset_pools()


def _reset_pools() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def start_worker(
    broker_url: str,
    data_dir: Path,
    *,
    log: Path,
    pool: str = "solo",
    environment: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """A Celery worker on every queue, against this test's database and ``broker_url``, with
    the options of docker-compose.yml.

    ``pool="prefork"`` runs tasks in a child process, as deployed: the parent keeps talking to
    the broker while a task runs. The worker leads its own process group, so that a test can
    kill it with its children, as a container or systemd unit dies. ``environment`` adds
    settings of the worker's own (as a deployment's environment would).
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "GLAMML_DATA_DIR": str(data_dir),
        **(environment or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "glamml", "worker"]
    command += ["--queues", "inference,training,default", "--pool", pool, "--concurrency", "1"]
    command += ["--loglevel", "INFO", *DEPLOYED_WORKER_FLAGS]
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def gunicorn(
    log: Path, *, workers: int, environment: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """gunicorn serving the app against this test's database, with ``DEBUG`` off; its address
    and its process, once it answers. ``environment`` adds the deployment's settings."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CONN_MAX_AGE")}
    env.update({"GLAMML_ENV": "development", "DEBUG": "false", "DATABASE_URL": database_url()})
    env.update(environment)
    command = [sys.executable, "-m", "gunicorn", "glamml.wsgi", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", "--access-logfile", "-"]
    with log.open("ab") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            with urllib.request.urlopen(url + "/", timeout=30):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    try:
        assert wait_for(answers, seconds=60, process=server, log=log), log.read_text()
        yield url, server
    finally:
        stop_process(server)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(
    condition: Callable[[], bool],
    *,
    seconds: float,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; fail at once, with the process's
    log, if the process exits meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if process is not None and log is not None and process.poll() is not None:
            pytest.fail(f"the process exited ({process.returncode}):\n{log.read_text()}")
        time.sleep(0.2)
    return False


TITLES = [
    "Geschichte der deutschen Literatur von den ältesten Zeiten bis zur Gegenwart",
    "Histoire de la Révolution française depuis 1789 jusqu'en 1814",
    "A history of the English-speaking peoples from the earliest times",
]


def records_to_predict(count: int) -> list[int]:
    """``count`` records in a new collection, with titles in three languages; their ids."""
    from catalogue.models import Record
    from tests.factories import CollectionFactory

    collection = CollectionFactory()
    Record.objects.bulk_create(
        Record(collection=collection, identifier=f"r{i:05d}", title=TITLES[i % 3])
        for i in range(count)
    )
    return list(Record.objects.filter(collection=collection).values_list("id", flat=True))


@contextmanager
def controller() -> Iterator[psycopg.Connection]:
    """A connection of the test's own, outside Django, to lock tables and end backends."""
    with psycopg.connect(database_url()) as conn:
        yield conn


def waiting_on_a_lock(conn: psycopg.Connection) -> int:
    """How many connections to this database wait for a lock (the controller's)."""
    # Activity is read once per transaction unless the snapshot is cleared.
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()
    return int(row[0]) if row else 0
