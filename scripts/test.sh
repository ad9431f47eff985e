#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, checks docker-compose.yml,
# the formatting and docs/openapi.yaml (scripts/lint-openapi.sh), builds with warnings as
# errors, and runs every test with CTest. Integration tests start
# their own PostgreSQL, Redis and RabbitMQ (a CTest fixture, on ports 25400+ under
# build/test-stack) and stop them afterwards, so this passes while `scripts/run.sh` is up, and
# leaves nothing running.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/scripts/install-deps.sh" --test
# The compose files must stay valid; `config` needs docker-compose only, no Docker engine.
for compose in docker-compose.yml docker-compose.cluster.yml; do
  if ! docker-compose -f "$root/$compose" config -q; then
    echo "test.sh: FAILED: $compose is invalid (docker-compose -f $root/$compose config -q, output above)" >&2
    exit 1
  fi
done
# The tree stays formatted (.clang-format); `clang-format -i FILE` fixes what this names.
mapfile -t sources < <(cd "$root" && find src tests bench -name '*.cpp' -o -name '*.hpp' | sort)
if ! (cd "$root" && clang-format --dry-run --Werror "${sources[@]}"); then
  echo "test.sh: FAILED: files above are not formatted (clang-format -i FILE)" >&2
  exit 1
fi
# The API description stays usable by tools (Redocly lint, pinned CLI; rules in redocly.yaml).
"$root/scripts/lint-openapi.sh"
"$root/scripts/build.sh" -DORDERS_WERROR=ON
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 "$@"
