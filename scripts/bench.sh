#!/usr/bin/env bash
# Runs the benchmarks (PRODUCT.md §4): `make bench` runs them all, `make bench
# BENCH=name` one. Each prints one JSON object per figure on stdout; tables go
# to stderr. A benchmark with a peer runs it in the same invocation, so ratios
# compare figures taken on the same machine at the same time.
#
# usage: scripts/bench.sh BUILD_DIR DATA_DIR [NAME]
# Adding a benchmark: write bench_NAME() below and add NAME to BENCHES.
set -euo pipefail

usage() {
  echo "usage: $0 BUILD_DIR DATA_DIR [NAME]   (NAME: ${BENCHES[*]})" >&2
  exit 2
}

BENCHES=(evidence attestd tpm enclave)
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
[ -d "$1" ] || { echo "bench: build directory $1 not found (make build)" >&2; exit 1; }
build=$(cd "$1" && pwd)
data=$2
name=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=vectors.sh
. "$root/scripts/vectors.sh"

die() {
  echo "bench: $*" >&2
  exit 1
}

command -v jq >/dev/null 2>&1 || die "jq not found (scripts/deps.sh installs it)"
[ -d "$data/evidence" ] || die "test data not found at $data (set TESTDATA=...)"
data=$(cd "$data" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

vector() { # ID -> its scripts/vectors.sh record
  local v
  for v in "${VOUCH_VECTORS[@]}"; do
    [ "${v%%|*}" = "$1" ] && { echo "$v"; return 0; }
  done
  die "no vector $1 in scripts/vectors.sh"
}

# ---- the npm peer (bench/peer) -------------------------------------------

PEER_DIR=$root/bench/peer
PEER_PKG=@phala/dcap-qvl

peer_install() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    die "node/npm not found: the peer ($PEER_PKG) needs them; run as root:" \
        "VOUCH_DEPS_BENCH=1 scripts/deps.sh (installs nodejs npm). Not skipping the peer."
  fi
  local want have=""
  want=$(jq -r ".dependencies[\"$PEER_PKG\"]" "$PEER_DIR/package.json")
  if [ -f "$PEER_DIR/node_modules/$PEER_PKG/package.json" ]; then
    have=$(jq -r .version "$PEER_DIR/node_modules/$PEER_PKG/package.json")
  fi
  [ "$have" = "$want" ] && return 0
  echo "bench: installing $PEER_PKG@$want into bench/peer (npm registry)" >&2
  local args=(--no-audit --no-fund --loglevel=error)
  if [ -f "$PEER_DIR/package-lock.json" ]; then
    (cd "$PEER_DIR" && npm ci "${args[@]}") >&2 || die "npm ci in $PEER_DIR failed"
  else
    (cd "$PEER_DIR" && npm install --no-package-lock "${args[@]}") >&2 ||
      die "npm install in $PEER_DIR failed"
  fi
  have=$(jq -r .version "$PEER_DIR/node_modules/$PEER_PKG/package.json")
  [ "$have" = "$want" ] || die "npm installed $PEER_PKG $have, package.json pins $want"
}

# ---- evidence --------------------------------------------------------------

# Vectors the peer runs on; it must agree with our status on each.
EVIDENCE_PEER_IDS=(S1 T1)
TARGET_RATIO_VS_PEER=40

bench_evidence() {
  local exe=$build/bench/bench_evidence ours=$tmp/evidence.jsonl peer=$tmp/peer.jsonl
  local recs=() id
  [ -x "$exe" ] || die "$exe not built (make build)"
  peer_install

  "$exe" "$data" >"$ours" || die "bench_evidence failed"

  for id in "${EVIDENCE_PEER_IDS[@]}"; do recs+=("$(vector "$id")"); done
  echo >&2
  node "$PEER_DIR/peer.js" --data "$data" "${recs[@]}" >"$peer" ||
    die "peer $PEER_PKG failed or disagreed with the expected status"

  # Our figures, with the peer's mean and our speed-up over it on the cases
  # it ran (cold and cached); then the peer's own lines, as <ID>-peer.
  jq -c --slurpfile peer "$peer" --argjson target "$TARGET_RATIO_VS_PEER" '
    def r2: (. * 100 | round) / 100;
    ($peer | map({key: .case, value: .}) | from_entries) as $p
    | (.case | capture("^(?<id>[A-Z][0-9]+)-(?<mode>cold|cached)$") // null) as $m
    | if $m != null and $p[$m.id] != null then
        . + {peer: $p[$m.id].peer, peer_version: $p[$m.id].peer_version,
             peer_status: $p[$m.id].peer_status, peer_mean_us: $p[$m.id].peer_mean_us,
             peer_p50_us: $p[$m.id].peer_p50_us,
             ratio_vs_peer: ($p[$m.id].peer_mean_us / .mean_us | r2),
             ratio_vs_peer_p50: ($p[$m.id].peer_p50_us / .p50_us | r2)}
        + (if $m.mode == "cached" then
             {target_ratio_vs_peer: $target,
              meets_peer_target: ($p[$m.id].peer_mean_us / .mean_us >= $target)}
           else {} end)
      else . end' "$ours"
  jq -c '. + {case: (.case + "-peer")}' "$peer"

  echo >&2
  printf '%-10s %10s %10s %10s %10s %9s %9s\n' case ours_mean peer_mean ours_p50 peer_p50 \
    x_mean x_p50 >&2
  jq -r --slurpfile peer "$peer" '
    def r1: (. * 10 | round) / 10;
    ($peer | map({key: .case, value: .}) | from_entries) as $p
    | (.case | capture("^(?<id>[A-Z][0-9]+)-(?<mode>cold|cached)$") // null) as $m
    | select($m != null and $p[$m.id] != null)
    | [.case, .mean_us, $p[$m.id].peer_mean_us, .p50_us, $p[$m.id].peer_p50_us,
       ($p[$m.id].peer_mean_us / .mean_us | r1), ($p[$m.id].peer_p50_us / .p50_us | r1)]
    | map(tostring) | @tsv' "$ours" |
    while IFS=$'\t' read -r c a b d e r q; do
      printf '%-10s %10s %10s %10s %10s %8sx %8sx\n' "$c" "$a" "$b" "$d" "$e" "$r" "$q" >&2
    done
  echo "(times in us; x = peer / ours; target >= ${TARGET_RATIO_VS_PEER}x on cached)" >&2
}

# ---- attestd ---------------------------------------------------------------

# bench_attestd starts vouch-attestd itself (TLS, 2 threads, a temporary data
# directory), loads it over HTTPS keep-alive and measures the crypto-bound
# limit in the same run. Extra options go in BENCH_ATTESTD_ARGS and override
# these, e.g. BENCH_ATTESTD_ARGS="--requests 1000000" for the target's long
# RSS run instead of 30 seconds.
ATTESTD_SECONDS=10
ATTESTD_RSS_SECONDS=30

bench_attestd() {
  local exe=$build/bench/bench_attestd daemon=$build/vouch-attestd out=$tmp/attestd.jsonl
  local extra=() rc=0
  [ -x "$exe" ] || die "$exe not built (make build)"
  [ -x "$daemon" ] || die "$daemon not built (make build)"
  read -r -a extra <<<"${BENCH_ATTESTD_ARGS:-}"

  "$exe" --daemon "$daemon" --seconds "$ATTESTD_SECONDS" --rss-seconds "$ATTESTD_RSS_SECONDS" \
    "${extra[@]}" "$data" >"$out" || rc=$?
  # Figures printed before a failure are still shown, then the run fails.
  jq -c . "$out" || die "bench_attestd printed malformed JSON"
  [ "$rc" = 0 ] || die "bench_attestd failed"
}

# ---- tpm -------------------------------------------------------------------

# No peer: bench_tpm measures the RSA-2048 and ECDSA P-256 verifies in the same
# run and reports its quote + 100-event log figure against them and against
# the 10 000/s per core target (limit_*, ratio_*, meets_target keys).
bench_tpm() {
  local exe=$build/bench/bench_tpm
  [ -x "$exe" ] || die "$exe not built (make build)"
  [ -d "$data/tpm" ] || die "TPM test data not found at $data/tpm"
  "$exe" "$data" || die "bench_tpm failed"
}

bench_enclave() {
  local exe=$build/bench/bench_enclave
  [ -x "$exe" ] || die "$exe not built (make build)"
  [ -x "$build/vouch-enclave-loader" ] || die "$build/vouch-enclave-loader not built (make build)"
  VOUCH_ENCLAVE_LOADER=$build/vouch-enclave-loader "$exe" || die "bench_enclave failed"
}

# ---- dispatch ----------------------------------------------------------------

run=("${BENCHES[@]}")
if [ -n "$name" ]; then
  found=0
  for b in "${BENCHES[@]}"; do [ "$b" = "$name" ] && found=1; done
  [ $found = 1 ] || { echo "bench: no benchmark '$name'" >&2; usage; }
  run=("$name")
fi
for b in "${run[@]}"; do
  echo "== bench $b" >&2
  "bench_$b"
done
