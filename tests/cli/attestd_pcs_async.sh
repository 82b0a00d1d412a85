#!/usr/bin/env bash
# vouch-attestd fetches PCS collateral off the worker threads (--pcs-wait-ms):
# with a slow PCS stand-in and one worker thread, an attest that needs a fetch
# waits at most --pcs-wait-ms and gets 503 ServiceUnavailable with
# Retry-After while the fetch goes on; the worker meanwhile serves other
# requests; repeated attests do not start more fetches; once the fetch is done
# the attest succeeds from the cache. A fast PCS still answers the first
# attest directly. The ordering checks use the stand-in's request counter, not
# clocks: a fetch of four requests, each held 700 ms, cannot be over while
# the 300 ms wait expires.
# $1 = the vouch binary (vouch-attestd and vouch-test-pcs-server sit next to
# it), $2 = testdata.
set -u
VOUCH=${1:?usage: attestd_pcs_async.sh VOUCH_BINARY TESTDATA}
DATA=${2:?usage: attestd_pcs_async.sh VOUCH_BINARY TESTDATA}
# shellcheck source=../lib/attestd_pcs_common.sh
. "$(dirname "$0")/../lib/attestd_pcs_common.sh"

pcs_start slow
P="http://127.0.0.1:$(cat "$T/pcs_slow.port")"
start --pcs-url "$P" --threads 1 --pcs-wait-ms 300 --pcs-timeout-ms 20000
c0=$(count "$P")
mode "$P" slow 700
st=$(curl -s -D "$T/headers" -o "$T/out" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "@$T/s1.json" \
    "$BASE/attest/SgxEnclave?api-version=2022-08-01")
check "an attest that needs a slow fetch gets 503" test "$st" = 503
check "... in MAA's error shape, code ServiceUnavailable" \
    test "$(jq -r .error.code "$T/out")" = ServiceUnavailable
check "... saying the collateral is being fetched: $(msg)" \
    sh -c "jq -r .error.message '$T/out' | grep -q 'being fetched from the PCS'"
check "... with Retry-After: 1" grep -qi '^retry-after: 1' "$T/headers"
check "the single worker answers /healthz while the fetch runs" \
    test "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200
check "... before the fetch finished (PCS requests so far: $(($(count "$P") - c0)) of 4)" \
    test $(($(count "$P") - c0)) -lt 4
check "a second attest during the fetch is 503 too" test "$(attest SgxEnclave "$T/s1.json")" = 503
got=
for _ in $(seq 1 100); do
    st=$(attest SgxEnclave "$T/s1.json")
    if [ "$st" = 200 ]; then got=1; break; fi
    [ "$st" = 503 ] || break
    sleep 0.2
done
check "once the fetch is done the attest succeeds" test -n "$got"
check "... with a token for S1" test "$(claim '."x-ms-attestation-type"')" = sgx
check "all those attests cost one fetch (4 PCS requests): $(($(count "$P") - c0))" \
    test $(($(count "$P") - c0)) = 4
check "the daemon logged the fetch" \
    grep -q "PCS: fetched collateral for sgx FMSPC 00A067110000" "$T/daemon.log"

# A fast PCS: the first attest for a new platform waits for its fetch.
mode "$P" ok
c1=$(count "$P")
check "with a fast PCS the first T1 attest is 200 at once" test "$(attest TdxVm "$T/t1.json")" = 200
check "... after one fetch" test $(($(count "$P") - c1)) = 4
check "--pcs-wait-ms 0 is refused" sh -c "! '$ATTESTD' --listen 127.0.0.1:0 --data '$T/d2' \
    --insecure-http --issuer http://127.0.0.1 --pcs-url '$P' --pcs-wait-ms 0 2>/dev/null"

stop
if grep -q "ERROR: AddressSanitizer\|runtime error:" "$T/daemon.log"; then
    bad "the daemon log shows no sanitizer reports"
    grep -A20 "AddressSanitizer\|runtime error:" "$T/daemon.log" | head -40
else
    ok "the daemon log shows no sanitizer reports"
fi
echo "attestd_pcs_async: $pass passed, $fails failed"
[ "$fails" = 0 ]
