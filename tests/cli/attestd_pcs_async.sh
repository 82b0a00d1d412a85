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
BIN=$(dirname "$VOUCH")
ATTESTD="$BIN/vouch-attestd"
PCS="$BIN/vouch-test-pcs-server"
for tool in curl jq openssl basenc; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
for f in "$ATTESTD" "$PCS"; do
    [ -x "$f" ] || { echo "FAIL: $f not built"; exit 1; }
done
S1_QUOTE="$DATA/evidence/sgx/v3_phala_quote.bin"
S1_COLL="$DATA/evidence/sgx/v3_phala_collateral.json"
T1_QUOTE="$DATA/evidence/tdx/v4_phala_quote.bin"
T1_COLL="$DATA/evidence/tdx/v4_phala_collateral.json"
for f in "$S1_QUOTE" "$S1_COLL" "$T1_QUOTE" "$T1_COLL"; do
    [ -f "$f" ] || { echo "FAIL: missing test vector $f"; exit 1; }
done
NOW=1751328000 # inside both S1's and T1's collateral windows

T=$(mktemp -d)
PID=
PCS_PIDS=()
stop() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        PID=
    fi
}
cleanup() {
    stop
    for p in "${PCS_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
pass=0
fails=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() {
    echo "FAIL $1"
    [ -s "$T/out" ] && sed 's/^/  body: /' "$T/out" | head -c 2000 && echo
    fails=$((fails + 1))
}
check() { # name command...
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

b64url() { basenc --base64url -w0 | tr -d '='; }
b64url_dec() {
    local s
    s=$(cat)
    while [ $((${#s} % 4)) != 0 ]; do s="$s="; done
    printf '%s' "$s" | basenc --base64url -d
}
claim() { jq -r .token "$T/out" | cut -d. -f2 | b64url_dec | jq -r "$1"; }

umask 077
printf '{"quote":"%s"}' "$(b64url <"$S1_QUOTE")" >"$T/s1.json"
printf '{"quote":"%s"}' "$(b64url <"$T1_QUOTE")" >"$T/t1.json"

# pcs_start NAME [flags]: starts a PCS stand-in; sets PCS_BASE_<NAME>.
pcs_start() {
    local name=$1
    shift
    rm -f "$T/pcs_$name.port"
    "$PCS" --listen 127.0.0.1:0 --port-file "$T/pcs_$name.port" "$@" "$S1_COLL" "$T1_COLL" \
        >>"$T/pcs_$name.log" 2>&1 &
    PCS_PIDS+=($!)
    for _ in $(seq 1 100); do
        [ -s "$T/pcs_$name.port" ] && return 0
        sleep 0.1
    done
    echo "FAIL: the PCS stand-in did not start"
    sed 's/^/  log: /' "$T/pcs_$name.log"
    exit 1
}

start() { # extra daemon flags...
    stop
    rm -f "$T/port"
    "$ATTESTD" --listen 127.0.0.1:0 --port-file "$T/port" --data "$T/data" \
        --issuer http://127.0.0.1 --insecure-http --eval-time "$NOW" "$@" \
        >>"$T/daemon.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 200); do
        if [ -s "$T/port" ]; then
            BASE="http://127.0.0.1:$(cat "$T/port")"
            if curl -s -o /dev/null "$BASE/healthz"; then return 0; fi
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: vouch-attestd did not start"
    sed 's/^/  log: /' "$T/daemon.log"
    exit 1
}

# attest TYPE BODY-FILE: prints the status; the response is in $T/out.
attest() {
    curl -s -o "$T/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary "@$2" "$BASE/attest/$1?api-version=2022-08-01"
}
count() { curl -s "$1/control/count"; }
mode() { curl -s -o /dev/null "$1/control/mode?set=$2${3:+&ms=$3}"; }
msg() { jq -r .error.message "$T/out" 2>/dev/null; }

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
