#!/usr/bin/env bash
# Run the documented demo app on the embedded in-memory broker: it publishes its attributes,
# receives a move_axis command after one second, and stops with SIGTERM after three.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/ofa-dev run examples/demo_app.py \
  --call "move_axis x=1 y=2 speed=50" --call-after 1 --duration 3 "$@"
