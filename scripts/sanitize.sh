#!/usr/bin/env bash
# Builds the unit tests with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DORDERS_SANITIZE=ON: -fsanitize=address,undefined -fno-omit-frame-pointer, no jemalloc)
# in build-asan/ with CMake + Ninja (+ ccache), and runs them. Any report fails the run.
# Extra arguments go to unit_tests (e.g. --gtest_filter='Router.*'). CI's `sanitize` job runs this.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${ASAN_BUILD_DIR:-$root/build-asan}

# No servers needed: the unit tests run without PostgreSQL, Redis or RabbitMQ.
"$root/scripts/install-deps.sh" --build-only

# Same ccache settings as scripts/build.sh, so hits survive checkouts in different folders.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true

# RelWithDebInfo: -O2 keeps the run fast, -g gives the sanitizers file:line in their reports.
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDERS_SANITIZE=ON >/dev/null
# Only the unit tests: two cores, and the integration tests need the servers.
cmake --build "$build_dir" -j "${BUILD_JOBS:-2}" --target unit_tests

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
echo "sanitize.sh: running $build_dir/unit_tests under ASan + UBSan" >&2
"$build_dir/unit_tests" "$@"
