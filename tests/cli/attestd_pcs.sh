#!/usr/bin/env bash
# vouch-attestd fetching Intel collateral from a PCS/PCCS (--pcs-url) with no
# --collateral: the S1 (SGX, Processor CA) and T1 (TDX, Platform CA) quotes
# verify with collateral fetched from a local PCS stand-in that serves the real
# collateral vectors in PCS's response shape; a second attest is served from
# the cache (no new PCS request); a failing PCS gives a 400 naming the failure,
# requests during the backoff fail without touching the PCS, and after the PCS
# recovers and the backoff expires the attest succeeds; consecutive failures
# double the wait. Also: timeouts, an https PCCS with its own CA (--pcs-ca), a
# DER root CA CRL URL, the API key.
# $1 = the vouch binary (vouch-attestd and vouch-test-pcs-server sit next to
# it), $2 = testdata.
set -u
VOUCH=${1:?usage: attestd_pcs.sh VOUCH_BINARY TESTDATA}
DATA=${2:?usage: attestd_pcs.sh VOUCH_BINARY TESTDATA}
# shellcheck source=../lib/attestd_pcs_common.sh
. "$(dirname "$0")/../lib/attestd_pcs_common.sh"

pcs_start plain
P="http://127.0.0.1:$(cat "$T/pcs_plain.port")"

# --- fetch and cache ---
start --pcs-url "$P" --pcs-backoff-base-ms 1500
c0=$(count "$P")
check "S1 attests with collateral from the PCS" test "$(attest SgxEnclave "$T/s1.json")" = 200
check "S1 token carries the QVL status" \
    test "$(claim .attester_tcb_status)" = ConfigurationAndSWHardeningNeeded
c1=$(count "$P")
check "S1 took four PCS requests (TCB Info, QE identity, PCK CRL, root CRL): $c0 -> $c1" \
    test $((c1 - c0)) = 4
check "S1 again attests" test "$(attest SgxEnclave "$T/s1.json")" = 200
check "S1 again is served from the cache (no PCS request)" test "$(count "$P")" = "$c1"
check "T1 attests with collateral from the PCS" test "$(attest TdxVm "$T/t1.json")" = 200
check "T1 token says UpToDate" test "$(claim .attester_tcb_status)" = UpToDate
c2=$(count "$P")
check "T1 took four PCS requests: $c1 -> $c2" test $((c2 - c1)) = 4
check "T1 again attests" test "$(attest TdxVm "$T/t1.json")" = 200
check "S1 once more attests" test "$(attest SgxEnclave "$T/s1.json")" = 200
check "S1 and T1 again made no PCS request" test "$(count "$P")" = "$c2"
check "the daemon logged the fetches" \
    grep -q "PCS: fetched collateral for tdx FMSPC B0C06F000000 (platform CA)" "$T/daemon.log"

# --- timeouts, failures, fail-fast backoff, doubling, recovery ---
start --pcs-url "$P" --pcs-backoff-base-ms 1500 --pcs-timeout-ms 300
c0=$(count "$P")
mode "$P" slow 900
check "a PCS slower than --pcs-timeout-ms gives 400" test "$(attest TdxVm "$T/t1.json")" = 400
check "... saying it timed out: $(msg)" \
    sh -c "jq -r .error.message '$T/out' | grep -qi 'collateral unavailable (PCS fetch failed 1 time.*timed out'"
# Let the stand-in's blocked worker finish before the next request.
sleep 0.8
mode "$P" fail
c0=$(count "$P")
check "with the PCS failing, S1 is refused with 400" test "$(attest SgxEnclave "$T/s1.json")" = 400
check "the message says why: $(msg)" \
    sh -c "jq -r .error.message '$T/out' | grep -q 'collateral unavailable (PCS fetch failed 1 time, retry after 1\.[0-5] s): GET .*/sgx/certification/v4/tcb?fmspc=00A067110000: HTTP 500'"
c1=$(count "$P")
check "the failed fetch stopped at the first PCS request: $c0 -> $c1" test $((c1 - c0)) = 1
check "during the backoff S1 fails fast" test "$(attest SgxEnclave "$T/s1.json")" = 400
check "... with the same failure count" \
    sh -c "jq -r .error.message '$T/out' | grep -q 'PCS fetch failed 1 time, retry after'"
check "... and without asking the PCS" test "$(count "$P")" = "$c1"
sleep 1.6
check "after the backoff S1 asks the PCS again (still failing)" \
    test "$(attest SgxEnclave "$T/s1.json")" = 400
check "... and the next wait doubles: $(msg)" \
    sh -c "jq -r .error.message '$T/out' | grep -q 'PCS fetch failed 2 times, retry after [23]\.[0-9] s'"
check "... with one more PCS request" test $(($(count "$P") - c1)) = 1
mode "$P" ok
c2=$(count "$P")
check "with the PCS recovered but S1 still backing off, S1 fails fast" \
    test "$(attest SgxEnclave "$T/s1.json")" = 400
check "... without asking the PCS" test "$(count "$P")" = "$c2"
check "T1, whose backoff has expired, attests once the PCS recovers" \
    test "$(attest TdxVm "$T/t1.json")" = 200
check "... with a fresh fetch" test $(($(count "$P") - c2)) = 4

# --- a PCCS over https with its own CA; Intel-style DER root CRL URL; API key ---
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/pccs.key" -out "$T/pccs.crt" 2>/dev/null ||
    { echo "FAIL: openssl cannot make a certificate"; exit 1; }
pcs_start tls --tls-cert "$T/pccs.crt" --tls-key "$T/pccs.key"
PT="https://127.0.0.1:$(cat "$T/pcs_tls.port")"
printf 'test-subscription-key\n' >"$T/apikey"
start --pcs-url "$PT" --pcs-ca "$T/pccs.crt" --pcs-root-crl-url "$PT/IntelSGXRootCA.der" \
    --pcs-api-key-file "$T/apikey"
check "S1 attests with collateral from an https PCCS (--pcs-ca, DER root CRL)" \
    test "$(attest SgxEnclave "$T/s1.json")" = 200
check "the PCS API key went in Ocp-Apim-Subscription-Key" \
    test "$(curl -s --cacert "$T/pccs.crt" "$PT/control/api-key")" = test-subscription-key
start --pcs-url "$PT" --pcs-backoff-base-ms 1000
check "without --pcs-ca the PCCS certificate is refused" \
    test "$(attest SgxEnclave "$T/s1.json")" = 400
check "... saying so: $(msg)" sh -c "jq -r .error.message '$T/out' | grep -qi 'certificate'"

# --- bad configuration is refused at start ---
check "--pcs-url with a trailing slash is refused" \
    sh -c "! '$ATTESTD' --listen 127.0.0.1:0 --data '$T/d2' --issuer http://127.0.0.1 --insecure-http --pcs-url '$P/' >/dev/null 2>&1"
check "--pcs-backoff-base-ms 0 is refused" \
    sh -c "! '$ATTESTD' --listen 127.0.0.1:0 --data '$T/d2' --issuer http://127.0.0.1 --insecure-http --pcs-url '$P' --pcs-backoff-base-ms 0 >/dev/null 2>&1"

stop
if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$T/daemon.log" "$T"/pcs_*.log; then
    bad "sanitizer reports in the daemon logs"
    grep -h -A20 "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$T/daemon.log" "$T"/pcs_*.log | head -60
fi
echo "attestd_pcs: $pass passed, $fails failed"
[ "$fails" = 0 ]
