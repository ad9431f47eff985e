#!/usr/bin/env bash
# Configures and builds `orders` and its tests with CMake + Ninja (+ ccache) in build/.
# Extra arguments go to the CMake configure step (e.g. -DORDERS_WERROR=ON).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
build_type=${BUILD_TYPE:-RelWithDebInfo}

# ccache hits across checkouts in different folders (CI clones somewhere new each time).
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=true

cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "$@" >/dev/null
# Two cores: more jobs only thrash memory on the Beast/Asio translation units.
cmake --build "$build_dir" -j "${BUILD_JOBS:-2}"
