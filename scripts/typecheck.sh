#!/usr/bin/env bash
# mypy over the installed layout: `openfactory` comes from sdk/ and `openfactory.testing` from
# testing/, which mypy cannot map from the source tree, so check a tree of links shaped like it.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(scripts/link_tree.sh)"
trap 'rm -rf "$root"' EXIT
cd "$root" && "${OLDPWD}/.venv/bin/mypy" -p openfactory --ignore-missing-imports
