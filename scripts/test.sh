#!/usr/bin/env bash
# The whole test suite from a fresh clone: lint, types and the migrations check beside pytest.
# With PostgreSQL and Redis answering (as in CI) every test runs against them; without them
# the suite runs on SQLite and says plainly which tests it could not run.
# pytest runs in parallel processes (pytest-xdist; GLAMML_TEST_WORKERS, default 3, 0 for one
# process), each with its own test database and Redis keys; each stage prints its time.
set -euo pipefail
cd "$(dirname "$0")/.."

micros() { echo "${EPOCHREALTIME/./}"; }
seconds_since() { printf '%d.%d' $((($(micros) - $1) / 1000000)) $((($(micros) - $1) / 100000 % 10)); }
started=$(micros)
timed() {
    # Run a stage and print how long it took (bench/suite_stages.py reads these lines).
    local name=$1 t0 status=0
    shift
    t0=$(micros)
    "$@" || status=$?
    echo "== time: $name $(seconds_since "$t0") s"
    return "$status"
}

timed setup bash scripts/setup.sh
PY=.venv/bin/python
export GLAMML_ENV=test
# One id for this run, inherited by every process it starts: its test databases and Redis keys
# carry it, so two runs against one server never drop or read each other's (glamml/settings.py).
GLAMML_TEST_RUN="${GLAMML_TEST_RUN:-$($PY -c 'import secrets; print(secrets.token_hex(4))')}"
export GLAMML_TEST_RUN

# Lint, types and the migrations check run beside pytest rather than before it, at a lower
# priority: they fill the time pytest's processes spend waiting on workers, servers, PostgreSQL
# and browsers. Each check's output is printed when pytest ends; any failing check fails the run.
checks=$(mktemp -d)
trap 'rm -rf "$checks"' EXIT
lint() { .venv/bin/ruff check . && .venv/bin/ruff format --check .; }
check() {
    local name=$1
    shift
    (renice -n 10 "$BASHPID" >/dev/null && timed "$name" "$@") >"$checks/$name.log" 2>&1 &
    echo "$name $!" >>"$checks/started"
}
check ruff lint
check mypy .venv/bin/mypy
check migrations $PY manage.py makemigrations --check --dry-run

PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
services=$($PY scripts/check_services.py "$PG_URL" "$REDIS")
if [[ "$services" == *postgres* ]]; then
    export DATABASE_URL="$PG_URL"
    echo "== database: PostgreSQL ($PG_URL)"
else
    unset DATABASE_URL
    echo "== database: SQLite. PostgreSQL is not answering at $PG_URL:"
    echo "   tests marked 'postgres' will be SKIPPED."
fi
if [[ "$services" == *redis* ]]; then
    export REDIS_URL="$REDIS"
    echo "== broker: Redis ($REDIS); tests run tasks in-process except the real-worker tests"
else
    unset REDIS_URL
    echo "== broker: none. Redis is not answering at $REDIS:"
    echo "   tests marked 'redis' (the real Celery worker) will be SKIPPED."
fi
export CELERY_TASK_ALWAYS_EAGER=true
if [ -x /usr/bin/chromium ]; then
    echo "== browser: Debian Chromium"
else
    echo "== browser: /usr/bin/chromium not found: tests marked 'browser' will be SKIPPED"
    echo "   (install it with: apt-get install -y chromium)."
fi

# Three processes on our two cores: the fault, load and worker tests spend much of their time
# waiting (a visibility timeout, a worker starting), and a third process uses the core they
# leave idle. On a quiet machine 3 took 149-150 s where 2 took 156-158 s, for about 8% more CPU;
# on a loaded one (an earlier session) a third gained nothing (docs/benchmarks.md, the suite).
WORKERS="${GLAMML_TEST_WORKERS:-3}"
echo "== pytest ($WORKERS parallel processes; run $GLAMML_TEST_RUN)"
# pytest's own exit status stands: 5 (no test ran) fails the run like any failure.
status=0
timed pytest $PY -m pytest -n "$WORKERS" "$@" || status=$?
while read -r name pid; do
    check_status=0
    wait "$pid" || check_status=$?
    case $name in
        ruff) echo "== ruff" ;;
        mypy) echo "== mypy (glamml, catalogue, review; strict)" ;;
        migrations) echo "== migrations" ;;
    esac
    cat "$checks/$name.log"
    if [ "$check_status" -ne 0 ]; then
        echo "== FAILED: $name (exit $check_status)"
        [ "$status" -ne 0 ] || status=1
    fi
done <"$checks/started"
echo "== time: total $(seconds_since "$started") s"
exit "$status"
