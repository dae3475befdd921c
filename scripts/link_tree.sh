#!/usr/bin/env bash
# Print the path of a new temporary directory holding `openfactory/` laid out as installed:
# links to every entry of REPO/sdk/ (default: this repository) and `testing` -> REPO/testing/.
# Tools that resolve imports from source (mypy, import-linter, grimp) cannot map the
# package-dir of pyproject.toml, so they read this tree. The caller removes it.
set -euo pipefail
repo="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
root="$(mktemp -d)"
mkdir "$root/openfactory"
for entry in "$repo"/sdk/*; do ln -s "$entry" "$root/openfactory/"; done
ln -s "$repo/testing" "$root/openfactory/testing"
echo "$root"
