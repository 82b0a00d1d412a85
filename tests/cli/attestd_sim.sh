#!/usr/bin/env bash
# vouch-attestd's /attest/SimEnclave over HTTP: refused without --sim-ca;
# with it, the committed sim evidence (tests/vectors/sim) attests under a
# permitting draft policy with SGX-style claims and x-ms-attestation-type
# "sim", the default policy denies, evidence from another software TEE CA is
# invalid, and an unreadable --sim-ca stops the daemon at start.
# $1 = the vouch binary (vouch-attestd sits next to it), $2 = the testdata dir.
set -u
VOUCH=${1:?usage: attestd_sim.sh VOUCH_BINARY TESTDATA}
ATTESTD="$(dirname "$VOUCH")/vouch-attestd"
VEC="$(cd "$(dirname "$0")" && pwd)/../vectors/sim"
for tool in curl jq basenc; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x "$ATTESTD" ] || { echo "FAIL: $ATTESTD not built"; exit 1; }
for f in evidence.bin ca.pem other-ca.pem; do
    [ -f "$VEC/$f" ] || { echo "FAIL: test vector missing: $VEC/$f"; exit 1; }
done
EVAL_TIME=1767225610 # ten seconds after the vector was signed
MR=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf

# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"

start() { # extra daemon flags...
    rm -f "$T/port"
    "$ATTESTD" --listen 127.0.0.1:0 --port-file "$T/port" --data "$T/data" --insecure-http \
        --issuer "http://127.0.0.1" --eval-time "$EVAL_TIME" --threads 2 "$@" \
        >>"$T/daemon.log" 2>&1 &
    PID=$!
    await_daemon http
}

# attest BODY_FILE: sets STATUS; the response goes to $T/out.
attest() {
    STATUS=$(curl -s -o "$T/out" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$1" "$BASE/attest/SimEnclave?api-version=2022-08-01")
}

Q=$(b64url <"$VEC/evidence.bin")
POLICY='version=1.0; authorizationrules { => permit(); }; issuancerules { c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"mrenclave\", value=c.value); };'
printf '{"quote":"%s"}' "$Q" >"$T/plain.json"
printf '{"quote":"%s","draftPolicyForAttestation":"%s"}' "$Q" "$POLICY" >"$T/draft.json"

# Without --sim-ca the type is refused.
start
attest "$T/plain.json"
check "no --sim-ca: 400" test "$STATUS" = 400
check "no --sim-ca: says so" grep -q -- '--sim-ca' "$T/out"
stop

start --sim-ca "$VEC/ca.pem"
attest "$T/plain.json"
check "default policy: 400" test "$STATUS" = 400
check "default policy: denied" jqt '.error.code == "PolicyEvaluationError"' "$T/out"
attest "$T/draft.json"
check "draft policy: 200" test "$STATUS" = 200
jq -r .token "$T/out" | cut -d. -f2 | b64url_dec >"$T/claims.json" 2>/dev/null
check "token: attestation type sim" jqt '."x-ms-attestation-type" == "sim"' "$T/claims.json"
check "token: always debuggable" jqt '."x-ms-sgx-is-debuggable" == true' "$T/claims.json"
check "token: mrenclave" jqt --arg m "$MR" '."x-ms-sgx-mrenclave" == $m and .mrenclave == $m' \
    "$T/claims.json"
check "token: product id and svn" jqt '."x-ms-sgx-product-id" == 1 and ."x-ms-sgx-svn" == 2' \
    "$T/claims.json"
# A report with one flipped bit.
cp "$VEC/evidence.bin" "$T/bad.bin"
printf '\x00' | dd of="$T/bad.bin" bs=1 seek=16 conv=notrunc status=none
printf '{"quote":"%s","draftPolicyForAttestation":"%s"}' "$(b64url <"$T/bad.bin")" "$POLICY" \
    >"$T/bad.json"
attest "$T/bad.json"
check "tampered: 400" test "$STATUS" = 400
stop
# One log line per request, carrying the decision (denial with its rule).
attest_lines=$(grep -c 'path=/attest/SimEnclave' "$T/daemon.log")
check "log: one line per attestation request (4)" test "$attest_lines" = 4
check "log: the default-policy denial names its rule" \
    grep -Eq 'status=400 type=SimEnclave decision=deny rule=[0-9]+:[0-9]+ why=' "$T/daemon.log"
check "log: the draft-policy permit" grep -q 'status=200 type=SimEnclave decision=permit' \
    "$T/daemon.log"
check "log: the tampered report is invalid" grep -q 'status=400 type=SimEnclave decision=invalid' \
    "$T/daemon.log"
check "log: no separate decision lines" test "$(grep -c 'decision=' "$T/daemon.log")" = 4

# A service trusting another software TEE CA finds the evidence invalid.
start --sim-ca "$VEC/other-ca.pem"
attest "$T/draft.json"
check "other CA: 400" test "$STATUS" = 400
check "other CA: invalid quote" jqt '.error.message | test("invalid")' "$T/out"
stop

# A --sim-ca that is not a certificate stops the daemon.
echo "not a certificate" >"$T/junk.pem"
"$ATTESTD" --listen 127.0.0.1:0 --port-file "$T/port2" --data "$T/data" --insecure-http \
    --issuer "http://127.0.0.1" --sim-ca "$T/junk.pem" >>"$T/daemon.log" 2>&1
check "junk --sim-ca: start-up fails" test $? != 0

if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$T/daemon.log"; then
    echo "FAIL sanitizer report in the daemon log"
    fails=$((fails + 1))
fi
echo "attestd_sim: $pass passed, $fails failed"
[ "$fails" = 0 ]
