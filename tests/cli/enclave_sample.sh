#!/usr/bin/env bash
# The sample enclave application end to end (src/tee/sample): the signed
# image built by cmake starts through vouch-enclave-loader; the identity the
# host is told equals `vouch enclave measure`; the greeting comes back through
# an ocall; evidence verifies against the platform CA with the chosen report
# data and the measured identity; a sealed secret unseals, a tampered blob
# does not, and a tampered image does not start.
set -uo pipefail
vouch=$1
bin=$(cd "$(dirname "$vouch")" && pwd)
host=$bin/vouch-sample-host
image=$bin/vouch_sample.enclave
fails=0
passes=0
check() { # name, condition-result
  if [ "$2" = 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi
}
for f in "$host" "$image" "$bin/vouch-enclave-loader"; do
  [ -e "$f" ] || { echo "missing: $f (build the default target)" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "jq not found" >&2; exit 1; }
flip() { # file, offset: invert one byte in place
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\$(printf '%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { "$host" --platform-dir "$tmp/platform" "$image" "$@"; }

out=$(run greet World 2>"$tmp/err")
check "greet exit" $?
check "greet text" "$([ "$out" = "Hello, World, from enclave product 1 svn 1" ]; echo $?)"
check "greet ocall" "$(grep -q "enclave: greeting World" "$tmp/err"; echo $?)"

id=$(run identity)
check "identity exit" $?
want=$("$vouch" enclave measure --json "$image")
check "identity = measure" "$(jq -en --argjson a "$id" --argjson b "$want" \
  '$a.measurement == $b.measurement and $a.signer_id == $b.signer_id and $a.product_id == 1' \
  >/dev/null; echo $?)"

rd=000102030405060708090a0b0c0d0e0f
run evidence "$rd" "$tmp/ev"
check "evidence exit" $?
ver=$("$vouch" evidence verify "$tmp/ev" --sim-ca "$tmp/platform/ca.pem" --json)
check "evidence verifies" $?
check "evidence claims" "$(jq -en --argjson v "$ver" --argjson b "$want" --arg rd "$rd" \
  '$v.verified and $v.claims.mrenclave == $b.measurement and $v.claims.mrsigner == $b.signer_id
   and ($v.claims.report_data | startswith($rd))' >/dev/null; echo $?)"

head -c 1000 /dev/urandom >"$tmp/secret"
for policy in unique product; do
  run seal $policy "$tmp/secret" "$tmp/blob.$policy"
  check "seal $policy" $?
  run unseal "$tmp/blob.$policy" "$tmp/plain.$policy"
  check "unseal $policy" $?
  check "round trip $policy" "$(cmp -s "$tmp/secret" "$tmp/plain.$policy"; echo $?)"
done
cp "$tmp/blob.unique" "$tmp/blob.bad"
flip "$tmp/blob.bad" 100
run unseal "$tmp/blob.bad" "$tmp/plain.bad" 2>/dev/null
check "tampered blob refused" "$([ $? != 0 ]; echo $?)"

cp "$image" "$tmp/bad.enclave"
flip "$tmp/bad.enclave" 200
"$host" --platform-dir "$tmp/platform" "$tmp/bad.enclave" greet x >/dev/null 2>&1
check "tampered image refused" "$([ $? != 0 ]; echo $?)"

echo "enclave_sample: $passes passed, $fails failed"
[ "$fails" = 0 ]
