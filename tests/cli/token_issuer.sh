#!/usr/bin/env bash
# `vouch token verify TOKEN --issuer URL` without --jwks: the CLI fetches
# URL/.well-known/openid-configuration, checks its issuer, follows jwks_uri
# and verifies the token with that JWKS. Against vouch-attestd over plain HTTP
# and over HTTPS with its self-made certificate (--cacert), with the S1 quote.
# $1 = the vouch binary (vouch-attestd sits next to it), $2 = testdata.
set -u
VOUCH=${1:?usage: token_issuer.sh VOUCH_BINARY TESTDATA}
DATA=${2:?usage: token_issuer.sh VOUCH_BINARY TESTDATA}
ATTESTD="$(dirname "$VOUCH")/vouch-attestd"
for tool in curl jq basenc; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x "$ATTESTD" ] || { echo "FAIL: $ATTESTD not built"; exit 1; }
S1_QUOTE="$DATA/evidence/sgx/v3_phala_quote.bin"
S1_COLL="$DATA/evidence/sgx/v3_phala_collateral.json"
for f in "$S1_QUOTE" "$S1_COLL"; do
    [ -f "$f" ] || { echo "FAIL: missing test vector $f"; exit 1; }
done
NOW=1751328000
AT=$((NOW + 60))

# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"

umask 077
mkdir "$T/coll"
ln -s "$S1_COLL" "$T/coll/s1.json"
printf '{"quote":"%s"}' "$(basenc --base64url -w0 <"$S1_QUOTE" | tr -d '=')" >"$T/s1.json"

# launch SCHEME PORT ISSUER: starts the daemon; sets PORT to the bound port.
launch() {
    local scheme=$1 port=$2 issuer=$3 extra=()
    stop
    rm -f "$T/port"
    [ "$scheme" = http ] && extra=(--insecure-http)
    "$ATTESTD" --listen "127.0.0.1:$port" --port-file "$T/port" --data "$T/data_$scheme" \
        --issuer "$issuer" --collateral "$T/coll" --eval-time "$NOW" "${extra[@]}" \
        >>"$T/daemon.log" 2>&1 &
    PID=$!
    await_daemon "$scheme" -k
}

# start SCHEME: the issuer must name the port, so bind port 0 once to learn a
# free port, then restart on it with the matching issuer (same data dir).
start() {
    launch "$1" 0 "$1://127.0.0.1"
    launch "$1" "$PORT" "$1://127.0.0.1:$PORT"
    ISSUER="$1://127.0.0.1:$PORT"
}

# attest: the S1 token response into $T/tok.json.
attest() {
    curl -s -k -o "$T/tok.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary "@$T/s1.json" "$ISSUER/attest/SgxEnclave?api-version=2022-08-01"
}
verify() { # extra args...; exit status of the CLI, output in $T/out
    "$VOUCH" token verify "$T/tok.json" --at "$AT" "$@" >"$T/out" 2>&1
}

# --- plain HTTP ---
start http
check "S1 attests (http)" test "$(attest)" = 200
check "token verify --issuer fetches the JWKS and verifies" verify --issuer "$ISSUER"
check "... and says so" grep -q "result: verified (alg RS256" "$T/out"
check "... with the token's issuer" grep -q "iss .*$ISSUER" "$T/out"
verify --issuer "http://localhost:$PORT"
rc=$?
check "an issuer that the discovery document does not name is refused (exit $rc)" test "$rc" != 0
check "... saying which issuer it names" grep -q "names issuer \"$ISSUER\"" "$T/out"
verify --issuer "http://127.0.0.1:1"
rc=$?
check "an unreachable issuer fails (exit $rc)" test "$rc" != 0 -a "$rc" != 1
check "... with a reason" grep -q "cannot fetch the OpenID configuration" "$T/out"
curl -s -o "$T/jwks.json" "$ISSUER/certs"
verify --jwks "$T/jwks.json" --cacert "$T/jwks.json"
check "--cacert with --jwks is a usage error" test $? = 2

# --- HTTPS with the daemon's own certificate ---
start https
check "S1 attests (https)" test "$(attest)" = 200
check "token verify --issuer https with --cacert verifies" \
    verify --issuer "$ISSUER" --cacert "$T/data_https/tls/cert.pem"
check "... and says so" grep -q "result: verified" "$T/out"
verify --issuer "$ISSUER"
rc=$?
check "without --cacert the self-made certificate is refused (exit $rc)" test "$rc" != 0
check "... as a certificate problem" grep -qi "certificate" "$T/out"

stop
if grep -q "ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer" "$T/daemon.log"; then
    bad "sanitizer reports in the daemon log"
fi
echo "token_issuer: $pass passed, $fails failed"
[ "$fails" = 0 ]
