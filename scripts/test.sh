#!/usr/bin/env bash
# Lint, check types and import layers, build the docs, and run the whole test suite (pytest's exit code 5,
# "no tests", fails like any other).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
scripts/typecheck.sh
scripts/layers.sh
# The documentation site, in strict mode: a broken link or a missing reference fails the run.
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet
# Everything that needs no cluster, then the example suites again with every app (production-built
# ones included) routed to the in-memory broker.
.venv/bin/python -m pytest -m "not ofa_cluster" "$@"
.venv/bin/python -m pytest examples --ofa-fake-broker "$@"
