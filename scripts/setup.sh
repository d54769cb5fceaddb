#!/usr/bin/env bash
# Create the virtual environment in .venv and install glamml with its development tools.
# Safe to run again: it only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
    echo "glamml needs Python 3.11 or 3.12; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "Creating the virtual environment in .venv"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.glamml-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing glamml and its dependencies (first time takes a minute)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev]"
    touch "$stamp"
fi
