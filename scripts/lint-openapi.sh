#!/usr/bin/env bash
# Lints docs/openapi.yaml with Redocly's CLI: the `recommended` rules plus what redocly.yaml
# (repo root) changes, each with its reason there. An error fails the lint; redocly.yaml raises
# the rules the document once broke to errors, so a regression fails too.
#
# The CLI version is pinned: 1.34.x runs on Debian 12's Node 18 (2.x needs Node >= 20.19).
# npx fetches it from the npm registry once and keeps it in npm's default cache (~/.npm).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly cli="@redocly/cli@1.34.20"

if ! command -v npx >/dev/null 2>&1; then
  echo "lint-openapi.sh: FAILED: npx is missing (Debian packages nodejs and npm: scripts/install-deps.sh --test)" >&2
  exit 1
fi
cd "$root"
if ! npx --yes "$cli" lint --config redocly.yaml --max-problems 200 docs/openapi.yaml; then
  echo "lint-openapi.sh: FAILED: docs/openapi.yaml does not pass $cli lint (problems above;" \
    "rules and their reasons in redocly.yaml)" >&2
  exit 1
fi
