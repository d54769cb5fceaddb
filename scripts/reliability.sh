#!/usr/bin/env bash
# Issue 11's reliability suites at full size, with real processes: the fault tests (Redis stopped
# under a policy save, a training request, an import, review and a running worker; a worker killed
# mid-batch; PostgreSQL going down under gunicorn and a worker, and ending their connections),
# the permission matrix, the rate limiter under concurrency, the importers' property-based tests
# (500 examples each) and the load test (locust, 12 users for 60 s against gunicorn and
# PostgreSQL). The test suite runs the same tests at a small size. Needs PostgreSQL and Redis, as
# scripts/test.sh finds them; 5 to 12 minutes on two shared cores.
# Prints the figures at the end (also kept in var/reliability-report.md); arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
PY=.venv/bin/python
export GLAMML_ENV=test GLAMML_RELIABILITY=full CELERY_TASK_ALWAYS_EAGER=true
GLAMML_TEST_RUN="${GLAMML_TEST_RUN:-$($PY -c 'import secrets; print(secrets.token_hex(4))')}"
export GLAMML_TEST_RUN

PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
services=$($PY scripts/check_services.py "$PG_URL" "$REDIS")
if [[ "$services" != *postgres* || "$services" != *redis* ]]; then
    echo "The reliability suites need PostgreSQL ($PG_URL) and Redis ($REDIS); found: ${services:-neither}." >&2
    exit 1
fi
export DATABASE_URL="$PG_URL" REDIS_URL="$REDIS"

mkdir -p var
export GLAMML_RELIABILITY_REPORT="$PWD/var/reliability-report.md"
: >"$GLAMML_RELIABILITY_REPORT"
started=$SECONDS
status=0
# One process: the load test's figures are the machine's, not shared with other tests.
$PY -m pytest -n 0 -q --durations=0 --hypothesis-show-statistics "$@" \
    tests/test_faults.py tests/test_db_faults.py tests/catalogue/test_outbox.py \
    tests/test_permission_matrix.py tests/catalogue/test_ratelimit.py \
    tests/catalogue/test_import_properties.py tests/test_load.py || status=$?
echo
echo "== figures ($((SECONDS - started)) s in all)"
cat "$GLAMML_RELIABILITY_REPORT"
exit "$status"
