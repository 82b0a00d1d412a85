#!/usr/bin/env bash
# The end-to-end demonstration on embedded defaults: verify every real
# hardware vector at its stated evaluation time and print a table.
set -euo pipefail
build=${1:-build/release}
data=${2:-../shared/testdata}
vouch="$build/vouch"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=vectors.sh
. "$here/vectors.sh"

if [ ! -d "$data/evidence" ]; then
  echo "demo: test data not found at $data (set TESTDATA=...)" >&2
  exit 1
fi

echo "== Vouch evidence verification: real hardware vectors, verified offline =="
printf '%-3s %-4s %-9s %-34s %-34s %s\n' ID TEE VERIFIED STATUS ADVISORIES MEASUREMENT
fail=0
for v in "${VOUCH_VECTORS[@]}"; do
  IFS='|' read -r id ev aux now expect <<<"$v"
  case "$id" in
    N*) extra=(--vcek "$data/$aux") ;;
    *) extra=(--collateral "$data/$aux") ;;
  esac
  out=$("$vouch" evidence verify "$data/$ev" "${extra[@]}" --at "$now" --json || true)
  fmt=$(jq -r .format <<<"$out")
  verified=$(jq -r .verified <<<"$out")
  status=$(jq -r .status <<<"$out")
  adv=$(jq -r '.advisories | if length == 0 then "-" elif length > 2 then (.[0:2] | join(",")) + " +\(length - 2)" else join(",") end' <<<"$out")
  meas=$(jq -r '.claims.mrenclave // .claims.mr_td // .claims.measurement // "-"' <<<"$out")
  if [ "$fmt" = snp ]; then
    dbg=$(jq -r '.claims.debug' <<<"$out")
    status="(no vendor status) debug=$dbg"
  fi
  printf '%-3s %-4s %-9s %-34s %-34s %.24s…\n' "$id" "$fmt" "$verified" "$status" "$adv" "$meas"
  if [ "$verified" != true ] || { [ "$expect" != None ] && [ "$status" != "$expect" ]; }; then
    echo "    unexpected: wanted $expect ($(jq -r '.error // ""' <<<"$out"))" >&2
    fail=1
  fi
done
echo
echo "Expired collateral is reported, not hidden (S1 one month after its window):"
"$vouch" evidence verify "$data/evidence/sgx/v3_phala_quote.bin" \
  --collateral "$data/evidence/sgx/v3_phala_collateral.json" --at 2025-08-01T00:00:00Z --json |
  jq -c '{verified, status, collateral_expired, expired_item, error}' || true
exit $fail
