"""Where the suite's CPU goes: ``pytest -p tests.cpu_report`` prints, at the end, the tests that
used the most CPU, the files that did, and the total.

A test's CPU is its process's user + system time over its setup, call and teardown, plus that of
the child processes it started and waited for (``manage.py``, gunicorn, Celery workers, Chromium,
locust, redis-server: ``RUSAGE_CHILDREN``). A process that outlives its test (a session's
browser) counts where it is reaped: the session's shared fixtures are torn down in the teardown
of each pytest process's last test, so that test also carries their CPU (Chromium's, about 10 s
after the browser tests) and is marked "last of its process" in the report. PostgreSQL's own CPU is not counted. With pytest-xdist each
process measures its tests and the main process adds them up, with each process's whole CPU
(collection and start-up included). ``GLAMML_CPU_REPORT_TOP`` sets how many tests are listed
(30). CPU rather than wall time, because the machine is shared: wall time follows its load.
"""

from __future__ import annotations

import os
import resource
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import pytest

_START = pytest.StashKey[float]()
_LAST = pytest.StashKey[bool]()
_tests: dict[str, float] = {}
_processes: list[float] = []
_last: set[str] = set()


def _cpu() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_START] = _cpu()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    # No next test: this teardown also ends the session's fixtures (Chromium, servers).
    item.stash[_LAST] = nextitem is None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "teardown" and _START in item.stash:
        report.user_properties.append(("cpu_seconds", _cpu() - item.stash[_START]))
        if item.stash.get(_LAST, False):
            report.user_properties.append(("cpu_last", True))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for name, value in report.user_properties:
        if name == "cpu_seconds" and isinstance(value, float):
            _tests[report.nodeid] = value
        if name == "cpu_last":
            _last.add(report.nodeid)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["cpu_seconds"] = _cpu()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    seconds = getattr(node, "workeroutput", {}).get("cpu_seconds")
    if seconds is not None:
        _processes.append(float(seconds))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _tests:
        return
    write = terminalreporter.write_line
    top = int(os.environ.get("GLAMML_CPU_REPORT_TOP", "30"))
    write("")
    write(f"== CPU (user + system, child processes included): the {top} costliest tests")
    for nodeid, seconds in sorted(_tests.items(), key=lambda kv: -kv[1])[:top]:
        last = "  (last of its process: the session's teardown too)" if nodeid in _last else ""
        write(f"{seconds:8.2f} s  {nodeid}{last}")
    files: dict[str, float] = defaultdict(float)
    for nodeid, seconds in _tests.items():
        files[nodeid.split("::")[0]] += seconds
    write(f"== CPU by file, the {top} costliest")
    for path, seconds in sorted(files.items(), key=lambda kv: -kv[1])[:top]:
        write(f"{seconds:8.2f} s  {path}")
    tests = sum(_tests.values())
    line = f"== CPU: {tests:.1f} s in {len(_tests)} tests"
    if _processes:
        line += f"; {sum(_processes):.1f} s in {len(_processes)} pytest processes in all"
    else:
        line += f"; {_cpu():.1f} s in this process in all"
    write(line)
