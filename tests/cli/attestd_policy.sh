#!/usr/bin/env bash
# vouch-attestd policy and policy-signer management over MAA's wire format:
# admin authentication, GET/PUT/:reset of /policies/{type}, persistence across
# a kill -9, and /certificates (:add bootstrap, :remove, signed policies with
# RS256 and ES256). JWSs are built here with openssl, independently of Vouch.
# $1 = the vouch binary (vouch-attestd sits next to it), $2 = testdata (unused).
set -u
VOUCH=${1:?usage: attestd_policy.sh VOUCH_BINARY [TESTDATA]}
ATTESTD="$(dirname "$VOUCH")/vouch-attestd"
for tool in curl jq openssl basenc; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x "$ATTESTD" ] || { echo "FAIL: $ATTESTD not built"; exit 1; }

# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"
# The claims of the token in $T/out.
claims() { jq -r .token "$T/out" | cut -d. -f2 | b64url_dec; }
claim() { claims | jq -r "$1"; }

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

# req METHOD PATH [BODY-FILE [CONTENT-TYPE]]: admin request; prints the status.
req() {
    local args=(-s -o "$T/out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN")
    [ $# -ge 3 ] && args+=(--data-binary "@$3" -H "Content-Type: ${4:-text/plain}")
    curl "${args[@]}" "$BASE$2"
}
# anon METHOD PATH [BODY-FILE]: the same without credentials.
anon() {
    local args=(-s -o "$T/out" -w '%{http_code}' -X "$1")
    [ $# -ge 3 ] && args+=(--data-binary "@$3" -H "Content-Type: text/plain")
    curl "${args[@]}" "$BASE$2"
}
err_is() { # status code: the answer in $T/out is MAA's error shape with this code
    [ "$REPLY_STATUS" = "$1" ] && [ "$(jq -r .error.code "$T/out")" = "$2" ] &&
        [ -n "$(jq -r '.error.message // empty' "$T/out")" ]
}
call() { REPLY_STATUS=$("$@"); }

unsigned_jws() { # policy-text-file -> stdout
    local p
    p=$(b64url <"$1")
    printf 'eyJhbGciOiJub25lIn0.%s.' "$(printf '{"AttestationPolicy":"%s"}' "$p" | b64url)"
}
der_b64() { openssl x509 -in "$1" -outform DER | base64 -w0; }
thumb() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'; }
# An ECDSA DER signature on stdin as JWS r||s (32 bytes each).
ecdsa_raw() {
    openssl asn1parse -inform DER | awk -F: '/INTEGER/ {print $NF}' |
        while read -r h; do printf '%064s' "$h" | tr ' ' 0; done | tr a-f A-F | basenc --base16 -d
}
# sign_jws ALG KEY CERT PAYLOAD-FILE: compact JWS with x5c = [CERT].
sign_jws() {
    local h p sig
    h=$(printf '{"alg":"%s","x5c":["%s"]}' "$1" "$(der_b64 "$3")" | b64url)
    p=$(b64url <"$4")
    if [ "$1" = ES256 ]; then
        sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$2" -binary | ecdsa_raw | b64url)
    else
        sig=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$2" -binary | b64url)
    fi
    printf '%s.%s.%s' "$h" "$p" "$sig"
}
policy_payload() { printf '{"AttestationPolicy":"%s"}' "$(b64url <"$1")"; }
cert_payload() { # kty cert
    printf '{"policyCertificate":{"kty":"%s","x5c":["%s"]}}' "$1" "$(der_b64 "$2")"
}
as_json_string() { printf '"%s"' "$(cat "$1")"; }

start

# ---- authentication ----
printf 'version=1.0; authorizationrules { => permit(); }; issuancerules { };' >"$T/p1.txt"
unsigned_jws "$T/p1.txt" >"$T/p1.jws"
call anon PUT "/policies/SgxEnclave?$Q" "$T/p1.jws"
check "unauthenticated PUT is 401 Unauthorized" err_is 401 Unauthorized
call anon GET "/policies/SgxEnclave?$Q"
check "unauthenticated GET is 401 Unauthorized" err_is 401 Unauthorized
printf 'eyJhbGciOiJub25lIn0..' >"$T/reset.jws"
call anon POST "/policies/SgxEnclave:reset?$Q" "$T/reset.jws"
check "unauthenticated reset is 401 Unauthorized" err_is 401 Unauthorized
REPLY_STATUS=$(curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer x$TOKEN" \
    "$BASE/policies/SgxEnclave?$Q")
check "wrong bearer token is 401" err_is 401 Unauthorized
call anon GET "/certificates?$Q"
check "unauthenticated GET /certificates is 401" err_is 401 Unauthorized
if grep -q "$TOKEN" "$T/daemon.log"; then bad "the admin token appears in the log"; else ok "the admin token is not logged"; fi

# ---- default policy ----
"$VOUCH" policy default SgxEnclave >"$T/default.txt"
call req GET "/policies/SgxEnclave?$Q"
check "GET SgxEnclave policy is 200" test "$REPLY_STATUS" = 200
claim '."x-ms-policy"' | cut -d. -f2 | b64url_dec | jq -r .AttestationPolicy | b64url_dec >"$T/got.txt"
check "GET returns the default policy text" cmp -s "$T/got.txt" "$T/default.txt"
check "default x-ms-policy is an unsigned JWS" test "$(claim '."x-ms-policy"' | cut -d. -f1)" = eyJhbGciOiJub25lIn0
check "the answer token is signed (RS256)" test "$(jq -r .token "$T/out" | cut -d. -f1 | b64url_dec | jq -r .alg)" = RS256
call req GET "/policies/Tpm?$Q"
check "Tpm has no default policy (404)" err_is 404 NotFound
call req DELETE "/policies/SgxEnclave?$Q"
check "DELETE is 405" test "$REPLY_STATUS" = 405

# ---- unsigned set ----
call req PUT "/policies/SgxEnclave?$Q" "$T/p1.jws"
check "unsigned PUT is 200" test "$REPLY_STATUS" = 200
check "PUT result is Updated" test "$(claim '."x-ms-policy-result"')" = Updated
want_hash=$(openssl dgst -sha256 -binary <"$T/p1.jws" | basenc --base64url | tr -d '=')
check "x-ms-policy-token-hash is b64url(SHA-256(JWS))" test "$(claim '."x-ms-policy-token-hash"')" = "$want_hash"
check "an unsigned policy has no signer" test "$(claim '."x-ms-policy-signer" // "none"')" = none
call req GET "/policies/SgxEnclave?$Q"
claim '."x-ms-policy"' | cut -d. -f2 | b64url_dec | jq -r .AttestationPolicy | b64url_dec >"$T/got.txt"
check "GET returns the new policy" cmp -s "$T/got.txt" "$T/p1.txt"
# The JS SDK's /certificates style (a JSON string literal) and whitespace are tolerated.
printf '\n  %s \n' "$(as_json_string "$T/p1.jws")" >"$T/p1q.jws"
call req PUT "/policies/OpenEnclave?$Q" "$T/p1q.jws"
check "PUT of a quoted JWS with whitespace is 200" test "$REPLY_STATUS" = 200
check "its token hash is over the JWS itself" test "$(claim '."x-ms-policy-token-hash"')" = "$want_hash"

# ---- errors ----
printf 'version=1.0;\nauthorizationrules {\n  => permit()\n};' >"$T/bad.txt"
unsigned_jws "$T/bad.txt" >"$T/bad.jws"
call req PUT "/policies/SgxEnclave?$Q" "$T/bad.jws"
check "syntax error is 400 PolicyParsingError" err_is 400 PolicyParsingError
check "the message gives line and column" grep -Eq 'line [0-9]+ column [0-9]+' <(jq -r .error.message "$T/out")
printf 'not-a-jws' >"$T/junk"
call req PUT "/policies/SgxEnclave?$Q" "$T/junk"
check "a body without periods is 400 InvalidOperation" err_is 400 InvalidOperation
printf 'eyJhbGciOiJub25lIn0.%s.' "$(printf '{"Other":"x"}' | b64url)" >"$T/nopol.jws"
call req PUT "/policies/SgxEnclave?$Q" "$T/nopol.jws"
check "a payload without AttestationPolicy is 400 InvalidParameter" err_is 400 InvalidParameter
call req GET "/policies/SgxEnclave?$Q"
claim '."x-ms-policy"' | cut -d. -f2 | b64url_dec | jq -r .AttestationPolicy | b64url_dec >"$T/got.txt"
check "a rejected PUT leaves the policy unchanged" cmp -s "$T/got.txt" "$T/p1.txt"

# ---- reset ----
call req POST "/policies/SgxEnclave:reset?$Q" "$T/reset.jws"
check "reset is 200" test "$REPLY_STATUS" = 200
check "reset result is Removed" test "$(claim '."x-ms-policy-result"')" = Removed
check "reset has no token hash" test "$(claim '."x-ms-policy-token-hash" // "none"')" = none
call req GET "/policies/SgxEnclave?$Q"
claim '."x-ms-policy"' | cut -d. -f2 | b64url_dec | jq -r .AttestationPolicy | b64url_dec >"$T/got.txt"
check "after reset GET returns the default" cmp -s "$T/got.txt" "$T/default.txt"
call req GET "/policies/SgxEnclave:reset?$Q"
check "GET on :reset is 405" test "$REPLY_STATUS" = 405

# ---- persistence across kill -9 ----
printf 'version=1.0; authorizationrules { [type=="x-ms-sgx-is-debuggable", value==false] => permit(); };' >"$T/p2.txt"
unsigned_jws "$T/p2.txt" >"$T/p2.jws"
call req PUT "/policies/SgxEnclave?$Q" "$T/p2.jws"
check "PUT before the crash is 200" test "$REPLY_STATUS" = 200
printf 'version=1.0; authorizationrules { => permit(); };' >"$T/tpm.txt"
unsigned_jws "$T/tpm.txt" >"$T/tpm.jws"
call req PUT "/policies/Tpm?$Q" "$T/tpm.jws"
check "PUT Tpm policy is 200" test "$REPLY_STATUS" = 200
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
start
call req GET "/policies/SgxEnclave?$Q"
claim '."x-ms-policy"' | cut -d. -f2 | b64url_dec | jq -r .AttestationPolicy | b64url_dec >"$T/got.txt"
check "the last SgxEnclave policy survives kill -9" cmp -s "$T/got.txt" "$T/p2.txt"
call req GET "/policies/Tpm?$Q"
claim '."x-ms-policy"' | cut -d. -f2 | b64url_dec | jq -r .AttestationPolicy | b64url_dec >"$T/got.txt"
check "the Tpm policy survives kill -9" cmp -s "$T/got.txt" "$T/tpm.txt"
call req GET "/policies/OpenEnclave?$Q"
claim '."x-ms-policy"' | cut -d. -f2 | b64url_dec | jq -r .AttestationPolicy | b64url_dec >"$T/got.txt"
check "the OpenEnclave policy survives kill -9" cmp -s "$T/got.txt" "$T/p1.txt"

# ---- policy management certificates ----
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=signer1 -days 30 \
    -keyout "$T/k1.pem" -out "$T/c1.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=signer2 -days 30 \
    -keyout "$T/k2.pem" -out "$T/c2.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=stranger -days 30 \
    -keyout "$T/k3.pem" -out "$T/c3.pem" 2>/dev/null

call req GET "/certificates?$Q"
check "no certificates at first" test "$(claim '."x-ms-policy-certificates".keys | length')" = 0

cert_payload RSA "$T/c1.pem" >"$T/add1.json"
sign_jws RS256 "$T/k1.pem" "$T/c1.pem" "$T/add1.json" >"$T/add1.jws"
as_json_string "$T/add1.jws" >"$T/add1.body"
call req POST "/certificates:add?$Q" "$T/add1.body" application/json
check "bootstrap :add of a self-signed certificate is 200" test "$REPLY_STATUS" = 200
check ":add result is IsPresent" test "$(claim '."x-ms-policycertificates-result"')" = IsPresent
check ":add thumbprint is the uppercase SHA-1 of the DER" test "$(claim '."x-ms-certificate-thumbprint"')" = "$(thumb "$T/c1.pem")"
call req GET "/certificates?$Q"
check "GET /certificates lists one key" test "$(claim '."x-ms-policy-certificates".keys | length')" = 1
check "the listed key carries the certificate in x5c" test "$(claim '."x-ms-policy-certificates".keys[0].x5c[0]')" = "$(der_b64 "$T/c1.pem")"
check "the listed key is an RSA JWK" test "$(claim '."x-ms-policy-certificates".keys[0].kty')" = RSA

cert_payload RSA "$T/c3.pem" >"$T/add3.json"
sign_jws RS256 "$T/k3.pem" "$T/c3.pem" "$T/add3.json" >"$T/add3.jws"
as_json_string "$T/add3.jws" >"$T/add3.body"
call req POST "/certificates:add?$Q" "$T/add3.body" application/json
check "self-signed :add once a signer exists is 400" err_is 400 InvalidOperation

cert_payload EC "$T/c1.pem" >"$T/kty.json"
sign_jws RS256 "$T/k1.pem" "$T/c1.pem" "$T/kty.json" >"$T/kty.jws"
call req POST "/certificates:add?$Q" "$T/kty.jws" application/json
check "a JWK kty that contradicts its certificate is 400" err_is 400 InvalidParameter

cert_payload RSA "$T/c1.pem" >"$T/rm1.json"
sign_jws RS256 "$T/k1.pem" "$T/c1.pem" "$T/rm1.json" >"$T/rm1.jws"
as_json_string "$T/rm1.jws" >"$T/rm1.body"
call req POST "/certificates:remove?$Q" "$T/rm1.body" application/json
check "removing the last certificate is 400 InvalidOperation" err_is 400 InvalidOperation

cert_payload EC "$T/c2.pem" >"$T/add2.json"
sign_jws RS256 "$T/k1.pem" "$T/c1.pem" "$T/add2.json" >"$T/add2.jws"
call req POST "/certificates:add?$Q" "$T/add2.jws" application/json
check ":add of a second (EC) certificate, raw JWS body, is 200" test "$REPLY_STATUS" = 200
check "its thumbprint matches" test "$(claim '."x-ms-certificate-thumbprint"')" = "$(thumb "$T/c2.pem")"

# A signed policy (RS256) from the first signer.
printf 'version=1.0; authorizationrules { => permit(); }; issuancerules { => issue(type="signed", value=1); };' >"$T/p3.txt"
policy_payload "$T/p3.txt" >"$T/p3.json"
sign_jws RS256 "$T/k1.pem" "$T/c1.pem" "$T/p3.json" >"$T/p3.jws"
call req PUT "/policies/SgxEnclave?$Q" "$T/p3.jws"
check "RS256-signed PUT by a registered signer is 200" test "$REPLY_STATUS" = 200
check "it names the signer" test "$(claim '."x-ms-policy-signer".x5c[0]')" = "$(der_b64 "$T/c1.pem")"
check "its token hash is over the signed JWS" test "$(claim '."x-ms-policy-token-hash"')" = "$(openssl dgst -sha256 -binary <"$T/p3.jws" | basenc --base64url | tr -d '=')"

# PS256 (RSASSA-PSS, 32-byte salt) from the same signer.
h=$(printf '{"alg":"PS256","x5c":["%s"]}' "$(der_b64 "$T/c1.pem")" | b64url)
p=$(b64url <"$T/p3.json")
s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/k1.pem" -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:32 -binary | b64url)
printf '%s.%s.%s' "$h" "$p" "$s" >"$T/p3ps.jws"
call req PUT "/policies/SgxEnclave?$Q" "$T/p3ps.jws"
check "PS256-signed PUT by a registered signer is 200" test "$REPLY_STATUS" = 200
call req POST "/certificates:add?$Q" "$T/p1.jws"
check "an unsigned :add is 400 InvalidOperation" err_is 400 InvalidOperation

# Remove the first certificate with a request signed by the second (ES256).
sign_jws ES256 "$T/k2.pem" "$T/c2.pem" "$T/rm1.json" >"$T/rm1b.jws"
as_json_string "$T/rm1b.jws" >"$T/rm1b.body"
call req POST "/certificates:remove?$Q" "$T/rm1b.body" application/json
check ":remove of the first certificate (ES256-signed) is 200" test "$REPLY_STATUS" = 200
check ":remove result is IsAbsent" test "$(claim '."x-ms-policycertificates-result"')" = IsAbsent
call req GET "/certificates?$Q"
check "one certificate is left, the second" test "$(claim '[."x-ms-policy-certificates".keys[].x5c[0]] | join(",")')" = "$(der_b64 "$T/c2.pem")"

# Signed policies after the change.
printf 'version=1.1; configurationrules { }; authorizationrules { => permit(); };' >"$T/p4.txt"
policy_payload "$T/p4.txt" >"$T/p4.json"
sign_jws ES256 "$T/k2.pem" "$T/c2.pem" "$T/p4.json" >"$T/p4.jws"
call req PUT "/policies/SgxEnclave?$Q" "$T/p4.jws"
check "ES256-signed PUT by the registered signer is 200" test "$REPLY_STATUS" = 200
check "the signer JWK is EC" test "$(claim '."x-ms-policy-signer".kty')" = EC
call req GET "/policies/SgxEnclave?$Q"
check "GET returns the signed JWS exactly" test "$(claim '."x-ms-policy"')" = "$(cat "$T/p4.jws")"
check "GET names the signer" test "$(claim '."x-ms-policy-signer".x5c[0]')" = "$(der_b64 "$T/c2.pem")"
# The key may also be named by a jwk header instead of x5c.
openssl ec -in "$T/k2.pem" -pubout -outform DER 2>/dev/null | tail -c 64 >"$T/xy"
jwk=$(printf '{"kty":"EC","crv":"P-256","x":"%s","y":"%s"}' "$(head -c 32 "$T/xy" | b64url)" \
    "$(tail -c 32 "$T/xy" | b64url)")
h=$(printf '{"alg":"ES256","jwk":%s}' "$jwk" | b64url)
p=$(b64url <"$T/p4.json")
s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/k2.pem" -binary | ecdsa_raw | b64url)
printf '%s.%s.%s' "$h" "$p" "$s" >"$T/p4jwk.jws"
call req PUT "/policies/OpenEnclave?$Q" "$T/p4jwk.jws"
check "a signed PUT naming its key with a jwk header is 200" test "$REPLY_STATUS" = 200
check "the signer is resolved to the registered certificate" test "$(claim '."x-ms-policy-signer".x5c[0]')" = "$(der_b64 "$T/c2.pem")"

call req PUT "/policies/SgxEnclave?$Q" "$T/p3.jws"
check "a policy signed by a removed signer is 400" err_is 400 InvalidOperation
sign_jws RS256 "$T/k3.pem" "$T/c3.pem" "$T/p3.json" >"$T/p5.jws"
call req PUT "/policies/SgxEnclave?$Q" "$T/p5.jws"
check "a policy signed by an unregistered key is 400" err_is 400 InvalidOperation
# x5c names the registered certificate, but another key signed.
h=$(printf '{"alg":"RS256","x5c":["%s"]}' "$(der_b64 "$T/c1.pem")" | b64url)
sed "s/^[^.]*\./$h./" "$T/p5.jws" >"$T/p6.jws"
call req PUT "/policies/SgxEnclave?$Q" "$T/p6.jws"
check "a signature that does not verify is 400" err_is 400 InvalidOperation
call req GET "/policies/SgxEnclave?$Q"
check "rejected signed PUTs leave the policy unchanged" test "$(claim '."x-ms-policy"')" = "$(cat "$T/p4.jws")"

# Signed reset, then isolated mode (signed policies required) after a restart.
: >"$T/empty"
sign_jws ES256 "$T/k2.pem" "$T/c2.pem" "$T/empty" >"$T/reset2.jws"
call req POST "/policies/SgxEnclave:reset?$Q" "$T/reset2.jws"
check "signed reset is 200 Removed" test "$REPLY_STATUS/$(claim '."x-ms-policy-result"')" = 200/Removed
stop
start --require-signed-policies
call req GET "/certificates?$Q"
check "the signer set survives a restart" test "$(claim '."x-ms-policy-certificates".keys | length')" = 1
call req PUT "/policies/SgxEnclave?$Q" "$T/p1.jws"
check "isolated mode refuses an unsigned policy" err_is 400 InvalidOperation
call req PUT "/policies/SgxEnclave?$Q" "$T/bad.jws"
check "isolated mode refuses an unsigned policy before parsing it" err_is 400 InvalidOperation
call req POST "/policies/SgxEnclave:reset?$Q" "$T/reset.jws"
check "isolated mode refuses an unsigned reset" err_is 400 InvalidOperation
call req PUT "/policies/SgxEnclave?$Q" "$T/p4.jws"
check "isolated mode accepts a signed policy" test "$REPLY_STATUS" = 200
stop

# Sanitizer builds: any memory error or UB report fails; a leak report fails
# when one of its stacks runs through Vouch's own sources (libh2o keeps a few
# buffers of its own at exit, which are not ours to fix here).
san=$(awk '/ERROR: LeakSanitizer/ {leak = 1} leak && /src\/(attestd|core|crypto|evidence|http|policy|token)\// {ours = 1}
           /^SUMMARY: AddressSanitizer/ {leak = 0}
           /ERROR: AddressSanitizer|runtime error:/ {ours = 1}
           END {print ours + 0}' "$T/daemon.log")
if [ "$san" != 0 ]; then
    : >"$T/out"
    bad "the daemon log has sanitizer reports"
    grep -E -A30 'Sanitizer|runtime error' "$T/daemon.log" | head -80
else
    ok "no sanitizer reports about Vouch code"
fi

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
