#!/usr/bin/env bash
# Installs what SPEC section 2 needs and is missing, from Debian packages by name.
#
#   install-deps.sh               build and test dependencies, the servers of the local stack, curl
#   install-deps.sh --build-only  build dependencies only: no PostgreSQL/Redis/RabbitMQ servers
#                                 (the Docker build stage, the sanitizer build)
#   install-deps.sh --test        the default set plus what the test command needs besides
#                                 (docker-compose to validate docker-compose.yml, clang-format
#                                 to check the formatting, nodejs and npm for the pinned
#                                 Redocly CLI that lints docs/openapi.yaml)
set -euo pipefail

usage() { echo "usage: $0 [--build-only | --test]" >&2; exit 2; }
mode="default"
case $# in
  0) ;;
  1) case $1 in
       --build-only) mode="build" ;;
       --test) mode="test" ;;
       *) usage ;;
     esac ;;
  *) usage ;;
esac

# Compiler, libraries, test frameworks; python3-yaml converts docs/openapi.yaml to JSON.
build_packages=(
  g++ cmake ninja-build ccache pkg-config python3-yaml
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libpq-dev libhiredis-dev librabbitmq-dev libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev
)
server_packages=(postgresql redis-server rabbitmq-server)
tool_packages=(curl)
test_packages=(docker-compose clang-format nodejs npm)

packages=("${build_packages[@]}")
if [[ $mode != build ]]; then packages+=("${server_packages[@]}" "${tool_packages[@]}"); fi
if [[ $mode == test ]]; then packages+=("${test_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  # A Node.js that brings npm itself (NodeSource's `nodejs` provides and conflicts with Debian's
  # `npm`) is enough: asking apt for `npm` then would try to replace that Node.js.
  if [[ $p == npm ]] && command -v npm >/dev/null 2>&1 && command -v npx >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# Debian's postinst scripts try to start the servers; we run our own copies under .local/,
# so tell invoke-rc.d not to start anything during the install.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod +x "$policy"
  created_policy=1
fi
trap '[[ $created_policy == 1 ]] && "${sudo_cmd[@]}" rm -f "$policy"' EXIT
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
