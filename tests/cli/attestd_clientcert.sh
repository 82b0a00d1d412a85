#!/usr/bin/env bash
# vouch-attestd admin authentication by TLS client certificate
# (--admin-client-ca): a certificate issued by the admin CA authenticates the
# policy and certificate management calls over HTTP/1.1 and HTTP/2, next to the
# bearer token; a certificate from another CA, an expired one, one made for
# servers only, or none at all gets 401; anonymous endpoints stay anonymous.
# Certificates are made here with openssl, independently of Vouch.
# $1 = the vouch binary (vouch-attestd sits next to it), $2 = testdata (unused).
set -u
VOUCH=${1:?usage: attestd_clientcert.sh VOUCH_BINARY [TESTDATA]}
ATTESTD="$(dirname "$VOUCH")/vouch-attestd"
for tool in curl jq openssl basenc; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x "$ATTESTD" ] || { echo "FAIL: $ATTESTD not built"; exit 1; }
curl -V | grep -q HTTP2 || { echo "FAIL: curl lacks HTTP/2 support"; exit 1; }

# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"

umask 077
head -c 24 /dev/urandom | basenc --base64url >"$T/token"
TOKEN=$(cat "$T/token")
Q="api-version=2020-10-01"

# ---- certificates ----
# ca NAME: a self-signed CA. leaf CA NAME EXT-FILE [DAYS-OFFSETS]: a leaf.
ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -keyout "$T/$1.key" -out "$T/$1.pem" -subj "/CN=$1" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
}
leaf() { # CA NAME EKU [not_before not_after as YYYYMMDDHHMMSSZ]
    local ext="$T/$2.ext"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' \
        "$3" >"$ext"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$2.key" \
        -out "$T/$2.csr" -subj "/O=Vouch test/CN=$2" 2>/dev/null
    if [ $# -ge 5 ]; then
        # openssl x509 (3.0) cannot backdate; openssl ca can.
        mkdir -p "$T/cadb"
        : >"$T/cadb/index"
        echo 01 >"$T/cadb/serial"
        printf '[ca]\ndefault_ca=c\n[c]\ndatabase=%s/cadb/index\nnew_certs_dir=%s/cadb\nserial=%s/cadb/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\norganizationName=optional\n' \
            "$T" "$T" "$T" >"$T/ca.cnf"
        openssl ca -batch -config "$T/ca.cnf" -cert "$T/$1.pem" -keyfile "$T/$1.key" \
            -in "$T/$2.csr" -out "$T/$2.pem" -startdate "$4" -enddate "$5" -extfile "$ext" \
            -notext -preserveDN >/dev/null 2>&1
    else
        openssl x509 -req -in "$T/$2.csr" -CA "$T/$1.pem" -CAkey "$T/$1.key" -set_serial "0x$RANDOM" \
            -days 10 -extfile "$ext" -out "$T/$2.pem" 2>/dev/null
    fi
}
ca admin-ca
ca other-ca
leaf admin-ca alice clientAuth
leaf other-ca mallory clientAuth
leaf admin-ca server-only serverAuth
leaf admin-ca expired clientAuth 20200101000000Z 20200201000000Z
for c in admin-ca other-ca alice mallory server-only expired; do
    [ -s "$T/$c.pem" ] || { echo "FAIL: openssl could not make $c.pem"; exit 1; }
done

start() { # extra daemon flags...
    rm -f "$T/port"
    "$ATTESTD" --listen 127.0.0.1:0 --port-file "$T/port" --data "$T/data" \
        --issuer https://127.0.0.1 "$@" >>"$T/daemon.log" 2>&1 &
    PID=$!
    await_daemon https --cacert "$T/data/tls/cert.pem"
}

# call NAME HTTPVER METHOD PATH [BODY-FILE]: prints "status httpversion".
# NAME is a client certificate (alice, ...) or "-" for none; HTTPVER 1.1 or 2.
call() {
    local args=(-s --cacert "$T/data/tls/cert.pem" -o "$T/out" -w '%{http_code} %{http_version}'
        -X "$3")
    [ "$1" != - ] && args+=(--cert "$T/$1.pem" --key "$T/$1.key")
    if [ "$2" = 2 ]; then args+=(--http2); else args+=(--http1.1); fi
    [ $# -ge 5 ] && args+=(--data-binary "@$5" -H "Content-Type: text/plain")
    curl "${args[@]}" "$BASE$4"
}
is() { [ "$REPLY" = "$1" ]; }
unauthorized() { # the last answer is 401 in MAA's error shape
    [ "${REPLY%% *}" = 401 ] && [ "$(jq -r .error.code "$T/out")" = Unauthorized ]
}
unsigned_jws() { # policy-text-file -> stdout
    printf 'eyJhbGciOiJub25lIn0.%s.' "$(printf '{"AttestationPolicy":"%s"}' "$(b64url <"$1")" | b64url)"
}
claims() { jq -r .token "$T/out" | cut -d. -f2 | basenc --base64url -d 2>/dev/null; }

# ---- start-up checks ----
if "$ATTESTD" --listen 127.0.0.1:0 --data "$T/plain" --issuer http://127.0.0.1 --insecure-http \
    --admin-client-ca "$T/admin-ca.pem" >"$T/plain.log" 2>&1; then
    bad "--admin-client-ca with --insecure-http is refused"
else
    ok "--admin-client-ca with --insecure-http is refused"
fi
if "$ATTESTD" --listen 127.0.0.1:0 --data "$T/nofile" --issuer https://127.0.0.1 \
    --admin-client-ca "$T/does-not-exist.pem" >"$T/nofile.log" 2>&1; then
    bad "a missing --admin-client-ca file stops the start"
else
    ok "a missing --admin-client-ca file stops the start"
fi

start --admin-client-ca "$T/admin-ca.pem" --admin-token-file "$T/token"

# ---- the admin CA's client certificate authenticates, over HTTP/1.1 and HTTP/2 ----
REPLY=$(call alice 1.1 GET "/policies/SgxEnclave?$Q")
check "GET policy with the admin client certificate over HTTP/1.1: 200" is "200 1.1"
check "  ... and the answer is a policy token" test "$(claims | jq -r '."x-ms-policy" | length > 10')" = true
REPLY=$(call alice 2 GET "/policies/SgxEnclave?$Q")
check "GET policy with the admin client certificate over HTTP/2: 200" is "200 2"
printf 'version=1.0; authorizationrules { => permit(); }; issuancerules { => issue(type="cc", value=true); };' \
    >"$T/p1.txt"
unsigned_jws "$T/p1.txt" >"$T/p1.jws"
REPLY=$(call alice 2 PUT "/policies/SgxEnclave?$Q" "$T/p1.jws")
check "PUT policy with the client certificate over HTTP/2: 200" is "200 2"
check "  ... result Updated" test "$(claims | jq -r '."x-ms-policy-result"')" = Updated
REPLY=$(call alice 1.1 GET "/policies/SgxEnclave?$Q")
check "  ... and the new policy is the one served" \
    test "$(claims | jq -r '."x-ms-policy"' | cut -d. -f2 | basenc --base64url -d 2>/dev/null |
        jq -r .AttestationPolicy | tr -d '=' | basenc --base64url -d 2>/dev/null | grep -c 'type="cc"')" = 1
printf 'eyJhbGciOiJub25lIn0..' >"$T/reset.jws"
REPLY=$(call alice 1.1 POST "/policies/SgxEnclave:reset?$Q" "$T/reset.jws")
check "reset with the client certificate: 200 Removed" \
    test "${REPLY%% *} $(claims | jq -r '."x-ms-policy-result"')" = "200 Removed"
REPLY=$(call alice 2 GET "/certificates?$Q")
check "GET /certificates with the client certificate: 200" is "200 2"
if grep -q "admin call by client certificate subject='CN=alice,O=Vouch test'" "$T/daemon.log"; then
    ok "the log line names the certificate subject"
else
    bad "the log line names the certificate subject"
fi

# ---- everything else is refused as before ----
for v in 1.1 2; do
    REPLY=$(call - "$v" GET "/policies/SgxEnclave?$Q")
    check "no certificate, no token (HTTP/$v): 401" unauthorized
    REPLY=$(call mallory "$v" PUT "/policies/SgxEnclave?$Q" "$T/p1.jws")
    check "certificate from another CA (HTTP/$v): 401" unauthorized
    REPLY=$(call expired "$v" GET "/policies/SgxEnclave?$Q")
    check "expired certificate from the admin CA (HTTP/$v): 401" unauthorized
    REPLY=$(call server-only "$v" GET "/certificates?$Q")
    check "admin-CA certificate without clientAuth (HTTP/$v): 401" unauthorized
done
if grep -q "admin call refused (client certificate subject='CN=mallory,O=Vouch test' not issued by the admin CA)" \
    "$T/daemon.log"; then
    ok "the refusal is logged with the subject"
else
    bad "the refusal is logged with the subject"
fi
REPLY=$(curl -s --cacert "$T/data/tls/cert.pem" -o "$T/out" -w '%{http_code}' \
    --cert "$T/mallory.pem" --key "$T/mallory.key" -H "Authorization: Bearer $TOKEN" \
    "$BASE/policies/SgxEnclave?$Q")
check "the bearer token still works (with a foreign certificate beside it)" is 200
REPLY=$(curl -s --cacert "$T/data/tls/cert.pem" -o "$T/out" -w '%{http_code}' \
    -H "Authorization: Bearer x$TOKEN" "$BASE/policies/SgxEnclave?$Q")
check "a wrong bearer token without a certificate: 401" is 401

# ---- anonymous endpoints are unaffected by any certificate ----
for who in - mallory alice expired; do
    REPLY=$(call "$who" 2 GET /certs)
    check "GET /certs with certificate '$who': 200" is "200 2"
    REPLY=$(call "$who" 1.1 GET /.well-known/openid-configuration)
    check "GET openid-configuration with certificate '$who': 200" is "200 1.1"
done
printf '{"quote":"AAAA"}' >"$T/bad.json"
REPLY=$(curl -s --cacert "$T/data/tls/cert.pem" -o "$T/out" -w '%{http_code}' --cert "$T/alice.pem" \
    --key "$T/alice.key" -H 'Content-Type: application/json' --data-binary "@$T/bad.json" \
    "$BASE/attest/SgxEnclave?$Q")
check "attest with a client certificate is judged on the evidence (400)" is 400

# ---- many connections: no connection inherits another's certificate ----
good=0
for i in $(seq 1 10); do
    r1=$(call alice 1.1 GET "/certificates?$Q")
    r2=$(call - 1.1 GET "/certificates?$Q")
    [ "${r1%% *} ${r2%% *}" = "200 401" ] && good=$((good + 1))
done
check "10 rounds of certificate / no certificate connections keep apart" test "$good" = 10

# ---- client certificates alone (no admin token configured) ----
stop
start --admin-client-ca "$T/admin-ca.pem"
REPLY=$(call alice 1.1 GET "/policies/SgxEnclave?$Q")
check "certificate-only admin: the admin CA's certificate works" is "200 1.1"
REPLY=$(call - 1.1 GET "/policies/SgxEnclave?$Q")
check "certificate-only admin: none is 401" unauthorized
check "  ... and the message asks for a client certificate" \
    grep -q "client certificate issued by the admin CA" "$T/out"

# ---- without --admin-client-ca a certificate is no credential ----
stop
start --admin-token-file "$T/token"
REPLY=$(call alice 1.1 GET "/policies/SgxEnclave?$Q")
check "no --admin-client-ca: the certificate is not a credential (401)" unauthorized

stop
if grep -q "ERROR: AddressSanitizer\|runtime error:" "$T/daemon.log"; then
    bad "the daemon log shows no sanitizer reports"
    grep -A20 "AddressSanitizer\|runtime error:" "$T/daemon.log" | head -40
else
    ok "the daemon log shows no sanitizer reports"
fi
echo "attestd_clientcert: $pass passed, $fails failed"
[ "$fails" = 0 ]
