#!/usr/bin/env bash
# vouch-attestd signed policies: the signer's x5c chain. x5c[0] must be a
# registered policy management certificate; the certificates after it must
# chain it to its issuer with basicConstraints and keyUsage honoured for the
# issuers, nothing extra in the array, and every certificate (and a signer
# named only by a jwk header) must be valid at the evaluation time
# (--eval-time moves that time). JWSs and certificates are made here with
# openssl, independently of Vouch.
# $1 = the vouch binary (vouch-attestd sits next to it), $2 = testdata (unused).
set -u
VOUCH=${1:?usage: attestd_policy_chain.sh VOUCH_BINARY [TESTDATA]}
ATTESTD="$(dirname "$VOUCH")/vouch-attestd"
for tool in curl jq openssl basenc; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x "$ATTESTD" ] || { echo "FAIL: $ATTESTD not built"; exit 1; }

# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"

umask 077
head -c 24 /dev/urandom | basenc --base64url >"$T/token"
TOKEN=$(cat "$T/token")
Q="api-version=2020-10-01"

start() { # extra daemon flags...
    rm -f "$T/port"
    "$ATTESTD" --listen 127.0.0.1:0 --port-file "$T/port" --data "$T/data" \
        --issuer http://127.0.0.1 --admin-token-file "$T/token" --insecure-http "$@" \
        >>"$T/daemon.log" 2>&1 &
    PID=$!
    await_daemon http
}
# req METHOD PATH BODY-FILE [CONTENT-TYPE]: admin request; sets STATUS.
req() {
    STATUS=$(curl -s -o "$T/out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
        --data-binary "@$3" -H "Content-Type: ${4:-text/plain}" "$BASE$2")
}
err_is() { # status code [message fragment]
    [ "$STATUS" = "$1" ] && [ "$(jq -r .error.code "$T/out")" = "$2" ] &&
        { [ $# -lt 3 ] || jq -r .error.message "$T/out" | grep -q -- "$3"; }
}
claim() { jq -r .token "$T/out" | cut -d. -f2 | basenc --base64url -d 2>/dev/null | jq -r "$1"; }
der_b64() { openssl x509 -in "$1" -outform DER | base64 -w0; }

# ---- certificates ----
# Extension sections, one file.
cat >"$T/ext.cnf" <<'EOF'
[root]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[inter]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[inter_not_ca]
basicConstraints=critical,CA:FALSE
keyUsage=critical,keyCertSign,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[inter_no_certsign]
basicConstraints=critical,CA:TRUE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf_no_sign]
basicConstraints=CA:FALSE
keyUsage=critical,keyEncipherment
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null; }
# mk NAME ISSUER SECTION [DAYS]: a certificate for NAME.key issued by ISSUER.
mk() {
    key "$1"
    openssl req -new -key "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
    openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" -set_serial "0x$RANDOM$RANDOM" \
        -days "${4:-30}" -extfile "$T/ext.cnf" -extensions "$3" -out "$T/$1.pem" 2>/dev/null
    [ -s "$T/$1.pem" ] || { echo "FAIL: openssl could not make $1"; exit 1; }
}
key root
openssl req -x509 -new -key "$T/root.key" -subj /CN=root -days 60 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out "$T/root.pem" 2>/dev/null
[ -s "$T/root.pem" ] || { echo "FAIL: openssl could not make the root"; exit 1; }
mk inter root inter
mk signer inter leaf         # the registered signer: root -> inter -> signer
mk notca root inter_not_ca   # an "issuer" that is not a CA
mk signer_b notca leaf       # registered, but issued by the non-CA
mk nocertsign root inter_no_certsign
mk signer_c nocertsign leaf  # registered, issued by a CA without keyCertSign
mk nosign inter leaf_no_sign # registered, but may not sign
mk stranger_ca root inter
key other_root
openssl req -x509 -new -key "$T/other_root.key" -subj /CN=other_root -days 60 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out "$T/other_root.pem" 2>/dev/null
NOW=$(date +%s)

# ecdsa_raw: an ECDSA DER signature on stdin as JWS r||s (32 bytes each).
ecdsa_raw() {
    openssl asn1parse -inform DER | awk -F: '/INTEGER/ {print $NF}' |
        while read -r h; do printf '%064s' "$h" | tr ' ' 0; done | tr a-f A-F | basenc --base16 -d
}
# jws KEY PAYLOAD-FILE CERT...: ES256 JWS with x5c = the certificates.
jws() {
    local k=$1 p=$2 h x5c="" sig
    shift 2
    for c in "$@"; do x5c="$x5c${x5c:+,}\"$(der_b64 "$T/$c.pem")\""; done
    h=$(printf '{"alg":"ES256","x5c":[%s]}' "$x5c" | b64url)
    p=$(b64url <"$p")
    sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/$k.key" -binary | ecdsa_raw | b64url)
    printf '%s.%s.%s' "$h" "$p" "$sig"
}
# jws_jwk KEY PAYLOAD-FILE: ES256 JWS naming its key by a jwk header only.
jws_jwk() {
    local h p sig x y hex
    hex=$(openssl ec -in "$T/$1.key" -pubout -outform DER 2>/dev/null | tail -c 64 | basenc --base16 -w0)
    x=$(printf '%s' "${hex:0:64}" | basenc --base16 -d | b64url)
    y=$(printf '%s' "${hex:64:64}" | basenc --base16 -d | b64url)
    h=$(printf '{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"%s","y":"%s"}}' "$x" "$y" | b64url)
    p=$(b64url <"$2")
    sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/$1.key" -binary | ecdsa_raw | b64url)
    printf '%s.%s.%s' "$h" "$p" "$sig"
}
cert_payload() { printf '{"policyCertificate":{"kty":"EC","x5c":["%s"]}}' "$(der_b64 "$T/$1.pem")"; }
printf 'version=1.0; authorizationrules { => permit(); }; issuancerules { };' >"$T/p.txt"
printf '{"AttestationPolicy":"%s"}' "$(b64url <"$T/p.txt")" >"$T/p.json"
put() { # KEY CERT...: PUT the policy signed by KEY with x5c CERT...
    local k=$1
    shift
    jws "$k" "$T/p.json" "$@" >"$T/put.jws"
    req PUT "/policies/SgxEnclave?$Q" "$T/put.jws"
}
add() { # SIGNER-KEY CERT-TO-ADD SIGNER-X5C...
    local k=$1 c=$2
    shift 2
    cert_payload "$c" >"$T/add.json"
    jws "$k" "$T/add.json" "$@" >"$T/add.jws"
    req POST "/certificates:add?$Q" "$T/add.jws" application/json
}

start

# ---- registering signers ----
add signer signer signer stranger_ca inter root
check "bootstrap :add with an x5c holding a certificate off the path is 400" \
    err_is 400 InvalidParameter "not on the signer's path"
add signer signer signer inter root
check "bootstrap :add with the full chain (signer, inter, root) is 200" test "$STATUS" = 200
for c in signer_b signer_c nosign; do
    add signer "$c" signer
    check ":add $c (signed by the registered signer) is 200" test "$STATUS" = 200
done

# ---- good chains ----
put signer signer
check "x5c = [signer] is accepted" test "$STATUS $(claim '."x-ms-policy-result"')" = "200 Updated"
put signer signer inter
check "x5c = [signer, inter] is accepted" test "$STATUS" = 200
put signer signer inter root
check "x5c = [signer, inter, root] is accepted" test "$STATUS" = 200

# ---- bad chains ----
put signer signer root
check "x5c = [signer, root] (inter missing) is 400" err_is 400 InvalidParameter "does not verify"
put signer signer other_root
check "x5c = [signer, unrelated root] is 400" err_is 400 InvalidParameter "does not verify"
put signer signer inter root other_root
check "x5c with an extra certificate after the root is 400" err_is 400 InvalidParameter
put signer inter root
check "x5c[0] that is not the signing key's certificate is 400" err_is 400 InvalidOperation
put signer_b signer_b notca root
check "an issuer without basicConstraints CA is refused" err_is 400 InvalidParameter "does not verify"
put signer_c signer_c nocertsign root
check "an issuer whose keyUsage lacks keyCertSign is refused" err_is 400 InvalidParameter "does not verify"
put nosign nosign
check "a signer whose keyUsage lacks digitalSignature is refused" err_is 400 InvalidParameter "digitalSignature"
put signer_b signer_b
check "  (the same registered signer_b alone is pinned, so accepted)" test "$STATUS" = 200
# Garbage in the chain.
h=$(printf '{"alg":"ES256","x5c":["%s","bm90IGEgY2VydA=="]}' "$(der_b64 "$T/signer.pem")" | b64url)
p=$(b64url <"$T/p.json")
sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/signer.key" -binary | ecdsa_raw | b64url)
printf '%s.%s.%s' "$h" "$p" "$sig" >"$T/garbage.jws"
req PUT "/policies/SgxEnclave?$Q" "$T/garbage.jws"
check "x5c[1] that is not a certificate is 400" err_is 400 InvalidParameter "x5c\[1\]"

# The same checks guard certificate changes.
add signer stranger_ca signer root
check ":add signed with a broken chain is 400" err_is 400 InvalidParameter "does not verify"

# ---- the evaluation time ----
stop
start --eval-time $((NOW + 45 * 86400))
put signer signer
check "after the signer expired (eval time +45 days): 400" err_is 400 InvalidParameter "not valid at the evaluation time"
put signer signer inter root
check "  ... with its chain too" err_is 400 InvalidParameter "not valid at the evaluation time"
jws_jwk signer "$T/p.json" >"$T/jwk.jws"
req PUT "/policies/SgxEnclave?$Q" "$T/jwk.jws"
check "  ... and when named by a jwk header only" err_is 400 InvalidParameter "not valid at the evaluation time"
add signer stranger_ca signer
check "  ... and for certificate changes" err_is 400 InvalidParameter "not valid at the evaluation time"
stop
start --eval-time $((NOW - 2 * 86400))
put signer signer
check "before the signer's notBefore (eval time -2 days): 400" err_is 400 InvalidParameter "not valid at the evaluation time"
stop
start --eval-time $((NOW + 86400))
put signer signer inter root
check "inside every validity window (eval time +1 day): 200" test "$STATUS" = 200
jws_jwk signer "$T/p.json" >"$T/jwk.jws"
req PUT "/policies/SgxEnclave?$Q" "$T/jwk.jws"
check "  ... a jwk-only header too" test "$STATUS" = 200

stop
if grep -q "ERROR: AddressSanitizer\|runtime error:" "$T/daemon.log"; then
    bad "the daemon log shows no sanitizer reports"
    grep -A20 "AddressSanitizer\|runtime error:" "$T/daemon.log" | head -40
else
    ok "the daemon log shows no sanitizer reports"
fi
echo "attestd_policy_chain: $pass passed, $fails failed"
[ "$fails" = 0 ]
