#!/usr/bin/env bash
# `vouch evidence` on Vouch software TEE ("sim") evidence: verified only
# against the trusted local CA given with --sim-ca, at a time inside the
# platform certificate's life; inspect works without a CA.
set -uo pipefail
vouch=$1
here=$(cd "$(dirname "$0")" && pwd)
vec="$here/../vectors/sim"
fails=0
passes=0
check() { # name, condition-result
  if [ "$2" = 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi
}
jqv() { jq -er "$1" <<<"$2" >/dev/null 2>&1; echo $?; }

for f in evidence.bin ca.pem other-ca.pem; do
  [ -f "$vec/$f" ] || { echo "test vector missing: $vec/$f" >&2; exit 1; }
done
at=2026-01-01T00:00:10Z
mr=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf

out=$("$vouch" evidence verify "$vec/evidence.bin" --sim-ca "$vec/ca.pem" --at "$at" --json)
rc=$?
check "verify exit $rc" "$([ $rc = 0 ]; echo $?)"
check "verified" "$(jqv '.verified == true and .format == "sim"' "$out")"
check "claims" "$(jqv ".claims.mrenclave == \"$mr\" and .claims.product_id == 1 and .claims.svn == 2 and .claims.debug == false and .claims.hardware_rooted == false" "$out")"

out=$("$vouch" evidence verify "$vec/evidence.bin" --at "$at" --json)
rc=$?
check "no CA: exit $rc" "$([ $rc = 1 ]; echo $?)"
check "no CA: chain" "$(jqv '.verified == false and .error_code == "chain"' "$out")"

out=$("$vouch" evidence verify "$vec/evidence.bin" --sim-ca "$vec/other-ca.pem" --at "$at" --json)
rc=$?
check "other CA: exit $rc" "$([ $rc = 1 ]; echo $?)"
check "other CA: chain" "$(jqv '.error_code == "chain"' "$out")"

out=$("$vouch" evidence verify "$vec/evidence.bin" --sim-ca "$vec/ca.pem" --at 2028-01-01T00:00:00Z --json)
rc=$?
check "expired: exit $rc" "$([ $rc = 1 ]; echo $?)"
check "expired: error" "$(jqv '.error_code == "expired"' "$out")"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cp "$vec/evidence.bin" "$tmp"
printf '\xff' | dd of="$tmp" bs=1 seek=20 conv=notrunc status=none
out=$("$vouch" evidence verify "$tmp" --sim-ca "$vec/ca.pem" --at "$at" --json)
rc=$?
check "tampered: exit $rc" "$([ $rc = 1 ]; echo $?)"
check "tampered: signature" "$(jqv '.error_code == "signature"' "$out")"

out=$("$vouch" evidence inspect "$vec/evidence.bin" --json)
rc=$?
check "inspect exit $rc" "$([ $rc = 0 ]; echo $?)"
check "inspect claims" "$(jqv ".format == \"sim\" and .mrenclave == \"$mr\"" "$out")"

"$vouch" evidence verify "$vec/evidence.bin" --sim-ca "$vec/ca.pem" --at "$at" | grep -q '^verified: *yes'
check "text output" "$?"

echo "sim_evidence: $passes passed, $fails failed"
[ "$fails" = 0 ]
