#!/usr/bin/env bash
# Serve the documentation site on http://127.0.0.1:8000, rebuilt as docs/, the docstrings or
# tests/compat change (mkdocs serve; extra arguments go to it, e.g. -a 127.0.0.1:8001).
# `scripts/docs.sh build` builds it once into build/site, in strict mode, as CI does.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# Material for MkDocs prints a notice about MkDocs 2.0 on every run; this silences it.
export NO_MKDOCS_2_WARNING=1
if [ "${1:-}" = "build" ]; then
  shift
  exec .venv/bin/mkdocs build --strict "$@"
fi
exec .venv/bin/mkdocs serve "$@"
