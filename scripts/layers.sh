#!/usr/bin/env bash
# Check the import contracts of pyproject.toml ([tool.importlinter]: the layers, the leaf
# interface, where confluent_kafka and httpx may be imported, private modules) with
# import-linter, over the installed layout (see link_tree.sh): lint-imports reads the
# package from its working directory.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
root="$(scripts/link_tree.sh)"
trap 'rm -rf "$root"' EXIT
cd "$root" && "$repo/.venv/bin/lint-imports" --no-cache --no-logo "$repo/pyproject.toml"
