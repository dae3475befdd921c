#!/usr/bin/env bash
# Lint and run the whole test suite (pytest's exit code 5, "no tests", fails like any other).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
