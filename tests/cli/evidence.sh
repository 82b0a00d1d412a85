#!/usr/bin/env bash
# The CLI contract of `vouch evidence` (PRODUCT.md §3) on the real vectors:
# exit codes, the --json keys, and the expected statuses at the stated times.
set -uo pipefail
vouch=$1
data=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../scripts/vectors.sh
. "$here/../../scripts/vectors.sh"
fails=0
passes=0
check() { # name, condition-result
  if [ "$2" = 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi
}
jqv() { jq -er "$1" <<<"$2" >/dev/null 2>&1; echo $?; }

[ -d "$data/evidence" ] || { echo "test data missing: $data" >&2; exit 1; }

for v in "${VOUCH_VECTORS[@]}"; do
  IFS='|' read -r id ev aux now expect <<<"$v"
  case "$id" in N*) opt=--vcek ;; *) opt=--collateral ;; esac
  out=$("$vouch" evidence verify "$data/$ev" "$opt" "$data/$aux" --at "$now" --json)
  rc=$?
  want_rc=0
  [ "$expect" = TcbNotSupported ] && want_rc=1
  check "$id exit code $rc (want $want_rc)" "$([ $rc = $want_rc ]; echo $?)"
  check "$id verified" "$(jqv '.verified == true and .collateral_expired == false' "$out")"
  check "$id status $expect" "$(jqv ".status == \"$expect\"" "$out")"
  check "$id keys" "$(jqv 'has("format") and has("advisories") and (.claims|type=="object")' "$out")"
  check "$id no error key" "$(jqv 'has("error") | not' "$out")"
  # One year later the collateral (or the SNP chain window) no longer covers it...
  if [ "${id:0:1}" != N ]; then
    late=$((now + 365 * 86400))
    out=$("$vouch" evidence verify "$data/$ev" "$opt" "$data/$aux" --at "$late" --json)
    rc=$?
    check "$id expired exit code" "$([ $rc = 1 ]; echo $?)"
    check "$id expired flagged" "$(jqv '.verified == false and .collateral_expired == true and (.expired_item|length>0) and (.error|length>0)' "$out")"
    check "$id expired still has a status" "$(jqv ".status == \"$expect\"" "$out")"
  fi
done

# RFC 3339 and Unix seconds mean the same instant.
a=$("$vouch" evidence verify "$data/evidence/sgx/v3_phala_quote.bin" --collateral "$data/evidence/sgx/v3_phala_collateral.json" --at 2025-07-01T00:00:00Z --json)
check "rfc3339 --at" "$(jqv '.verified == true' "$a")"

# inspect: SGX fields as lowercase hex.
out=$("$vouch" evidence inspect "$data/evidence/sgx/v3_phala_quote.bin" --json)
check "inspect exit" "$?"
check "inspect sgx fields" "$(jqv '.format=="sgx" and (.mrenclave|test("^33d8736d[0-9a-f]{52}2fbb$")) and (.mrsigner|test("^[0-9a-f]{64}$")) and (.isvprodid|type=="number") and (.isvsvn|type=="number") and (.debug|type=="boolean") and (.report_data|startswith("48656c6c6f2c20776f726c6421"))' "$out")"
out=$("$vouch" evidence inspect "$data/evidence/snp/milan_v2_gosev_report.bin" --json)
check "inspect snp" "$(jqv '.format=="snp" and .debug==true' "$out")"

# Negative paths: wrong collateral, garbage, missing file, usage.
out=$("$vouch" evidence verify "$data/evidence/tdx/v4_phala_quote.bin" --collateral "$data/evidence/sgx/v3_phala_collateral.json" --at 1751328000 --json)
rc=$?
check "mixed collateral rejected" "$([ $rc = 1 ]; echo $?)"
check "mixed collateral reason" "$(jqv '.verified==false and (.error|length>0)' "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c 1000 "$data/evidence/sgx/v3_phala_quote.bin" >"$tmp/trunc.bin"
out=$("$vouch" evidence verify "$tmp/trunc.bin" --collateral "$data/evidence/sgx/v3_phala_collateral.json" --at 1751328000 --json)
check "truncated exit 1" "$([ $? = 1 ]; echo $?)"
check "truncated reason" "$(jqv '.verified==false and (.error|test("parse|truncat";"i"))' "$out")"
printf 'garbage' >"$tmp/g.bin"
"$vouch" evidence inspect "$tmp/g.bin" --json >/dev/null
check "garbage inspect exit 1" "$([ $? = 1 ]; echo $?)"
"$vouch" evidence verify "$tmp/none.bin" --at 1 >/dev/null 2>&1
check "missing file exit 2" "$([ $? = 2 ]; echo $?)"
"$vouch" evidence verify >/dev/null 2>&1
check "usage exit 2" "$([ $? = 2 ]; echo $?)"
"$vouch" evidence verify "$data/evidence/sgx/v3_phala_quote.bin" --at tomorrow >/dev/null 2>&1
check "bad time exit 2" "$([ $? = 2 ]; echo $?)"

echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
