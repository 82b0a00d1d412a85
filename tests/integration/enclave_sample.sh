#!/usr/bin/env bash
# The sample enclave application against a running vouch-attestd
# (src/tee/sample, docs/enclave-sdk.md "Sample application"):
#   - `vouch-sample-host attest` gets evidence binding SHA-256(runtimeData) and
#     attests it at /attest/SimEnclave over HTTPS under the policy the
#     administrator set (pinning the measurement); `vouch token verify --jwks`
#     accepts the signed token and its claims name the image's measurement
#     (`vouch enclave measure`), signer, type "sim", is-debuggable true and the
#     runtime data;
#   - before the policy is set the default policy refuses; a draft policy
#     pinning another measurement and evidence posted with runtime data it
#     does not bind are refused; a draft policy's token is unsigned and
#     `vouch token verify` refuses it;
#   - `vouch-sample-host tls`: attested TLS whose server end is in the enclave
#     verifies and carries the enclave's reply; a wrong expected measurement
#     and another platform's CA fail the handshake;
#   - `vouch-sample-host tls-pair`: mutual attested TLS between two instances
#     of the enclave relayed by the host; each sees the other's measurement,
#     the client gets the server's reply; either side expecting another
#     measurement, or another platform's CA, fails the handshake;
#   - seal/unseal round trip, a tampered blob is refused.
# $1 = the vouch binary (vouch-attestd, vouch-sample-host and the signed image
# vouch_sample.enclave sit next to it), $2 = the testdata dir (unused).
set -u
VOUCH=${1:?usage: enclave_sample.sh VOUCH_BINARY TESTDATA}
BIN=$(cd "$(dirname "$VOUCH")" && pwd)
ATTESTD=$BIN/vouch-attestd
HOST=$BIN/vouch-sample-host
IMAGE=$BIN/vouch_sample.enclave
for tool in curl jq basenc; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
VEC="$(cd "$(dirname "$0")" && pwd)/../vectors/sim"
for f in "$ATTESTD" "$HOST" "$BIN/vouch-enclave-loader" "$IMAGE" "$VEC/other-ca.pem"; do
    [ -e "$f" ] || { echo "FAIL: $f not built (build the default target)"; exit 1; }
done

T=$(mktemp -d)
PID=
stop() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        PID=
    fi
}
trap 'stop; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
pass=0
fails=0
check() { # name command...
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        [ -s "$T/err" ] && sed 's/^/  stderr: /' "$T/err" | head -8
        fails=$((fails + 1))
    fi
}
jqt() { jq -e "$@" >/dev/null; }
b64url() { basenc --base64url -w0 | tr -d '='; }
host() { "$HOST" --platform-dir "$T/platform" "$IMAGE" "$@"; }

# The platform material is created on the enclave's first start; the service
# trusts that installation's software TEE CA.
host greet tester >/dev/null 2>"$T/err"
check "enclave starts" test -s "$T/platform/ca.pem"
"$VOUCH" enclave measure --json "$IMAGE" >"$T/measure.json"
MR=$(jq -r .measurement "$T/measure.json")
SIGNER=$(jq -r .signer_id "$T/measure.json")
check "measure gives a measurement" test "${#MR}" = 64

ISSUER=https://attestd.enclave-sample.test
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/admin-token"
chmod 600 "$T/admin-token"
"$ATTESTD" --listen 127.0.0.1:0 --port-file "$T/port" --data "$T/data" --issuer "$ISSUER" \
    --sim-ca "$T/platform/ca.pem" --admin-token-file "$T/admin-token" --threads 2 \
    >"$T/daemon.log" 2>&1 &
PID=$!
BASE=
for _ in $(seq 1 300); do
    if [ -s "$T/port" ] && [ -s "$T/data/tls/cert.pem" ]; then
        BASE="https://127.0.0.1:$(cat "$T/port")"
        curl -s -o /dev/null --cacert "$T/data/tls/cert.pem" "$BASE/healthz" && break
    fi
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
done
if ! curl -s -o /dev/null --cacert "$T/data/tls/cert.pem" "$BASE/healthz"; then
    echo "FAIL: vouch-attestd did not start"
    sed 's/^/  log: /' "$T/daemon.log"
    exit 1
fi
CA=$T/data/tls/cert.pem
curl -s --cacert "$CA" "$BASE/certs" >"$T/jwks.json"

policy() { # MRENCLAVE -> draft policy text admitting only that measurement
    printf 'version=1.0; authorizationrules { [type=="x-ms-sgx-mrenclave", value=="%s"] => permit(); }; issuancerules { c:[type=="x-ms-sgx-mrenclave"] => issue(type="mrenclave", value=c.value); };' "$1"
}
policy "$MR" >"$T/good.pol"
policy "$(printf '%064d' 0)" >"$T/other.pol"

# Before the administrator sets a SimEnclave policy the default one refuses.
host attest --service "$BASE" --cacert "$CA" >"$T/out" 2>"$T/err"
check "default policy: refused" test $? != 0
check "default policy: says so" grep -q 'PolicyEvaluationError' "$T/err"

# The administrator pins the measurement (an unsigned policy JWS).
printf 'eyJhbGciOiJub25lIn0.%s.' \
    "$(printf '{"AttestationPolicy":"%s"}' "$(b64url <"$T/good.pol")" | b64url)" >"$T/good.jws"
status=$(curl -s -o "$T/out" -w '%{http_code}' --cacert "$CA" -X PUT \
    -H "Authorization: Bearer $(cat "$T/admin-token")" -H 'Content-Type: text/plain' \
    --data-binary @"$T/good.jws" "$BASE/policies/SimEnclave?api-version=2020-10-01")
check "policy set" test "$status" = 200

# Attest; verify the signed token offline.
host attest --service "$BASE" --cacert "$CA" >"$T/token" 2>"$T/err"
check "attest: token issued" test -s "$T/token"
check "attest: report data is the runtimeData hash" grep -q 'report_data = SHA-256(runtimeData)' "$T/err"
"$VOUCH" token verify "$T/token" --jwks "$T/jwks.json" --issuer "$ISSUER" --json >"$T/verified.json" \
    2>"$T/err"
check "token verify --jwks: exit 0" test $? = 0
check "token verify --jwks: verified, signed" \
    jqt '.verified == true and (.alg | type == "string") and .alg != "none"' "$T/verified.json"
check "token: mrenclave = vouch enclave measure" \
    jqt --arg m "$MR" '.claims."x-ms-sgx-mrenclave" == $m and .claims.mrenclave == $m' "$T/verified.json"
check "token: mrsigner = signer id" \
    jqt --arg s "$SIGNER" '.claims."x-ms-sgx-mrsigner" == $s' "$T/verified.json"
check "token: attestation type sim" jqt '.claims."x-ms-attestation-type" == "sim"' "$T/verified.json"
check "token: is-debuggable" jqt '.claims."x-ms-sgx-is-debuggable" == true' "$T/verified.json"
check "token: product id and svn" \
    jqt '.claims."x-ms-sgx-product-id" == 1 and .claims."x-ms-sgx-svn" == 1' "$T/verified.json"
check "token: runtime data" \
    jqt '.claims."x-ms-runtime".app == "vouch-sample" and (.claims."x-ms-runtime".nonce | length == 32)' \
    "$T/verified.json"
# One changed signature byte: the token no longer verifies.
tok=$(cat "$T/token")
last=${tok: -2:1}
[ "$last" = A ] && repl=B || repl=A
printf '%s%s%s' "${tok:0:${#tok}-2}" "$repl" "${tok: -1}" >"$T/bad.token"
"$VOUCH" token verify "$T/bad.token" --jwks "$T/jwks.json" >/dev/null 2>&1
check "tampered token refused" test $? != 0

# Draft policies: another measurement is refused; this one's token is
# unsigned (as Azure Attestation does) and not accepted as a verified token.
host attest --service "$BASE" --cacert "$CA" --policy "$T/other.pol" >"$T/out" 2>"$T/err"
rc=$?
check "draft policy, other measurement: refused" test "$rc" != 0 -a ! -s "$T/out"
check "draft policy, other measurement: says so" grep -q 'PolicyEvaluationError' "$T/err"
host attest --service "$BASE" --cacert "$CA" --policy "$T/good.pol" >"$T/draft.token" 2>"$T/err"
check "draft policy: token" test -s "$T/draft.token"
"$VOUCH" token verify "$T/draft.token" --jwks "$T/jwks.json" >/dev/null 2>&1
check "draft policy: unsigned token refused" test $? != 0
host attest --service "https://127.0.0.1:1" --cacert "$CA" >/dev/null 2>"$T/err"
check "unreachable service: fails" test $? != 0

# Evidence for one runtime data, posted with another: the service refuses.
printf 'bound' >"$T/rt.bound"
rd=$(sha256sum "$T/rt.bound" | cut -c1-64)
host evidence "$rd" "$T/ev.bin" 2>"$T/err"
check "evidence for chosen report data" test -s "$T/ev.bin"
for pair in "bound 200" "other 400"; do
    read -r data want <<<"$pair"
    pol=$(policy "$MR" | sed 's/"/\\"/g')
    printf '{"quote":"%s","runtimeData":{"data":"%s","dataType":"Binary"},"draftPolicyForAttestation":"%s"}' \
        "$(b64url <"$T/ev.bin")" "$(printf '%s' "$data" | b64url)" "$pol" >"$T/body.json"
    status=$(curl -s -o "$T/out" -w '%{http_code}' --cacert "$CA" -H 'Content-Type: application/json' \
        --data-binary @"$T/body.json" "$BASE/attest/SimEnclave?api-version=2022-08-01")
    check "runtimeData '$data' -> $want" test "$status" = "$want"
done
check "unbound runtimeData: says so" grep -q 'SuppliedRuntimeDataDigest' "$T/out"
stop

# Attested TLS to the enclave.
host tls --sim-ca "$T/platform/ca.pem" --mrenclave "$MR" --message "ping from the test" \
    >"$T/tls.json" 2>"$T/err"
check "tls: handshake verified" jqt '.verified == true' "$T/tls.json"
check "tls: peer measurement" jqt --arg m "$MR" '.mrenclave == $m' "$T/tls.json"
check "tls: key hash in report data" \
    jqt '(.report_data | length == 128) and (.report_data[0:64] != ("0" * 64))' "$T/tls.json"
check "tls: the enclave's reply" \
    jqt --arg p "${MR:0:8}" '.reply | contains("ping from the test") and contains($p)' "$T/tls.json"
host tls --sim-ca "$T/platform/ca.pem" --mrenclave "$(printf '%064d' 0)" >"$T/out" 2>"$T/err"
rc=$?
check "tls: wrong measurement refused" test "$rc" != 0 -a ! -s "$T/out"
check "tls: says why" grep -q 'measurement' "$T/err"
# Another installation's software TEE CA (a committed test vector).
host tls --sim-ca "$VEC/other-ca.pem" >"$T/out" 2>"$T/err"
rc=$?
check "tls: another platform's CA refused" test "$rc" != 0 -a ! -s "$T/out"
check "tls: another platform's CA: chain" grep -q 'not a trusted software TEE CA' "$T/err"

# Mutual attested TLS between two instances of the enclave, relayed by the host.
host tls-pair --sim-ca "$T/platform/ca.pem" --mrenclave "$MR" >"$T/pair.json" 2>"$T/err"
check "tls-pair: mutual handshake" jqt '.mutual == true' "$T/pair.json"
check "tls-pair: the server enclave saw the client's measurement" \
    jqt --arg m "$MR" '.server.peer_mrenclave == $m and .client.mrenclave == $m' "$T/pair.json"
check "tls-pair: the client enclave saw the server's measurement" \
    jqt --arg m "$MR" '.client.peer_mrenclave == $m and .server.mrenclave == $m' "$T/pair.json"
check "tls-pair: the client enclave got the server enclave's reply" \
    jqt --arg p "${MR:0:8}" '.client.reply | contains("client enclave " + $p) and startswith("enclave " + $p)' \
    "$T/pair.json"
for side in server client; do
    host tls-pair --sim-ca "$T/platform/ca.pem" --$side-expects "$(printf '%064d' 0)" >"$T/out" 2>"$T/err"
    rc=$?
    check "tls-pair: $side expecting another measurement fails" test "$rc" != 0 -a ! -s "$T/out"
    check "tls-pair: the $side enclave says why" \
        grep -q "the $side enclave refused: rejected by policy: .*measurement" "$T/err"
done
host tls-pair --sim-ca "$VEC/other-ca.pem" >"$T/out" 2>"$T/err"
rc=$?
check "tls-pair: another platform's CA refused" test "$rc" != 0 -a ! -s "$T/out"

# Sealing through the sample.
head -c 300 /dev/urandom >"$T/secret"
host seal unique "$T/secret" "$T/blob" 2>"$T/err"
check "seal" test -s "$T/blob"
host unseal "$T/blob" "$T/plain" 2>"$T/err"
check "unseal round trip" cmp -s "$T/secret" "$T/plain"
cp "$T/blob" "$T/blob.bad"
printf '\x01' | dd of="$T/blob.bad" bs=1 seek=80 conv=notrunc status=none
host unseal "$T/blob.bad" "$T/plain.bad" 2>"$T/err"
check "tampered blob refused" test $? != 0

if grep -q 'ERROR: AddressSanitizer\|runtime error:' "$T/daemon.log"; then
    echo "FAIL sanitizer report in the daemon log"
    fails=$((fails + 1))
fi
echo "enclave_sample: $pass passed, $fails failed"
[ "$fails" = 0 ]
