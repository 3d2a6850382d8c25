#!/usr/bin/env bash
# Installs, from Debian 12's packages, everything syndic needs to build, test and benchmark.
# Idempotent: packages already present are skipped, so a second run does nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-url1.81-dev
  libcurl4-openssl-dev libssl-dev
  libpugixml-dev libsimdjson-dev libsqlite3-dev zlib1g-dev libbrotli-dev
  libtomlplusplus-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-feedparser
  nginx-light curl wrk
  chromium  # headless, opens the load-test report page in tests (cli.report_html_chromium)
  clang-14 libclang-rt-14-dev llvm-14 libexpat1-dev
  # The shared store: libpq's headers to build; the server for the tests, which make their
  # own cluster (initdb into a temporary directory) and never use the system's.
  libpq-dev libpq5 postgresql-15
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# nginx is used by tests and benchmarks as a peer we start ourselves; keep the system
# service from holding port 80 on machines where the package starts it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  $SUDO systemctl stop nginx || true
fi
# Likewise postgresql's own cluster: the tests start theirs on ports of their choosing.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postgresql 2>/dev/null; then
  $SUDO systemctl stop postgresql || true
fi
