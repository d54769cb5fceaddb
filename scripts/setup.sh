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
SKIP_COMPILE='/tests/|/site-packages/(pip|setuptools|mypy|mypyc|pygments/lexers)/'
SKIP_COMPILE+='|/faker/providers/.*/(?!en_US/|en/|__init__)[a-z]{2}(_[A-Z]{2})?/'

if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing glamml and its dependencies"
    # uv installs the same pinned packages as pip would, from the same index, in a fraction of
    # the time, and keeps the wheels it downloads in its cache (pip's download cache stayed
    # empty on our machines, so each new .venv fetched all 118 packages again). uv itself
    # comes from pip, at the version pinned in pyproject.toml's dev extra.
    uv_pin=$(grep -o '"uv==[^"]*"' pyproject.toml | tr -d '"')
    if [ ! -x .venv/bin/uv ] || ! .venv/bin/uv --version | grep -q "${uv_pin#uv==}"; then
        .venv/bin/python -m pip install --quiet "$uv_pin"
    fi
    .venv/bin/uv pip install --quiet --python .venv/bin/python -e ".[dev]"
    # Bytecode, as pip writes it on installing: where PYTHONDONTWRITEBYTECODE is set (as on our
    # machines), nothing else writes .pyc files, and each process would compile every module
    # it imports. Not the packages' own test suites, the installers and mypy (compiled
    # already), pygments' lexers or Faker's other locales, which no process of ours imports:
    # 38% fewer files than uv's --compile-bytecode, about 7 s of CPU less on every new .venv.
    .venv/bin/python -m compileall -q -j 0 -x "$SKIP_COMPILE" .venv/lib >/dev/null
    touch "$stamp"
fi
# glamml's own modules too (installed in place, so uv compiles none of them): where
# PYTHONDONTWRITEBYTECODE is set, every process (each test worker, the demo's commands, Celery
# workers, gunicorn) compiled the project's 200-odd modules again, about 0.6 s of CPU each.
# Compiling takes about a second; a module changed since is read from its source, as before.
.venv/bin/python -m compileall -q -j 0 glamml catalogue review >/dev/null
