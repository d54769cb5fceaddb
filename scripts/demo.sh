#!/usr/bin/env bash
# One command from a fresh clone to a running demo: virtual environment, dependencies,
# database (SQLite in var/ unless DATABASE_URL is set), sample records, a trained language
# model, routed predictions, demo logins, and the development server. Arguments go to
# `manage.py demo` (`bash scripts/demo.sh --rows 100` for a quicker demo on fewer records).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
PY=.venv/bin/python
ADDRESS="${GLAMML_ADDRESS:-127.0.0.1:8000}"

$PY manage.py migrate --no-input
$PY manage.py demo "$@"
echo
echo "glamml is running at http://$ADDRESS/"
echo "  Review queue: http://$ADDRESS/review/   Models & policies: http://$ADDRESS/review/dashboard/"
echo "  Logins are above (also kept in var/demo-logins.json). Stop with Ctrl-C."
echo
exec $PY manage.py runserver "$ADDRESS"
