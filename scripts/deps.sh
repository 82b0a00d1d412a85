#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing, fuzzing and
# benchmarking Vouch need, and nothing else. Run as root (make demo / make test
# call it). Without root it prints the exact command and fails.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git ca-certificates
  clang libclang-rt-14-dev clang-format
  libssl-dev openssl libjansson-dev libcmocka-dev libjose-dev libh2o-evloop-dev
  liblmdb-dev jq curl
  libcurl4-openssl-dev
  libtss2-dev swtpm swtpm-tools tpm2-tools
  libseccomp-dev libcbor-dev
)
# npm is needed only by the benchmark peer (bench/peer); Debian's nodejs ships
# without it, while some images bring their own node+npm.
if [ "${VOUCH_DEPS_BENCH:-0}" = 1 ] && ! command -v npm >/dev/null 2>&1; then
  PKGS+=(nodejs npm)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}" >&2
  echo "deps.sh: run as root: apt-get update && $cmd" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
$cmd
