#!/usr/bin/env bash
# The whole test suite from a fresh clone: lint, migrations check, pytest.
# With PostgreSQL and Redis answering (as in CI) every test runs against them; without them
# the suite runs on SQLite and says plainly which tests it could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
PY=.venv/bin/python
export GLAMML_ENV=test

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== mypy (glamml, catalogue, review; strict)"
.venv/bin/mypy

echo "== migrations"
$PY manage.py makemigrations --check --dry-run

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

echo "== pytest"
exec $PY -m pytest "$@"
