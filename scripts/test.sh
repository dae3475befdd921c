#!/usr/bin/env bash
# Lint, check types and import layers, and run the whole test suite (pytest's exit code 5,
# "no tests", fails like any other).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
scripts/typecheck.sh
scripts/layers.sh
# Everything that needs no cluster, then the example suites again with every app (production-built
# ones included) routed to the in-memory broker.
.venv/bin/python -m pytest -m "not ofa_cluster" "$@"
.venv/bin/python -m pytest examples --ofa-fake-broker "$@"
