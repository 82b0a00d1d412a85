#!/usr/bin/env bash
# vouch-attestd against bad input on the wire: malformed JSON, bad base64,
# truncated and garbage evidence, bad runtime data and bindings, oversize
# bodies, unknown types and paths, bad api-versions, wrong methods,
# unauthenticated policy writes, oversize URLs and headers, raw HTTP garbage
# and slow clients. Every answer the service itself writes must be a 4xx with
# MAA's {"error":{"code","message"}} shape and a fitting code; after each group
# the service must still answer /healthz, and at the end a valid attestation
# (the real S1 quote) must still succeed, over HTTP, and over TLS with HTTP/2
# and HTTP/1.1. Sanitizer reports in the daemon's log fail the test.
# $1 = the vouch binary (vouch-attestd sits next to it), $2 = the testdata dir.
set -u
VOUCH=${1:?usage: attestd_badinput.sh VOUCH_BINARY TESTDATA}
DATA=${2:?usage: attestd_badinput.sh VOUCH_BINARY TESTDATA}
ATTESTD="$(dirname "$VOUCH")/vouch-attestd"
for tool in curl jq openssl basenc timeout head od; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x "$ATTESTD" ] || { echo "FAIL: $ATTESTD not built"; exit 1; }
QUOTE=$DATA/evidence/sgx/v3_phala_quote.bin
COLL=$DATA/evidence/sgx/v3_phala_collateral.json
TDXQ=$DATA/evidence/tdx/v4_phala_quote.bin
SNPR=$DATA/evidence/snp/milan_v2_gosev_report.bin
SNPV=$DATA/evidence/snp/milan_v2_gosev_vcek.der
for f in "$QUOTE" "$COLL" "$TDXQ" "$SNPR" "$SNPV"; do
    [ -f "$f" ] || { echo "FAIL: test data missing: $f"; exit 1; }
done
EVAL_TIME=1751328000 # S1's collateral is valid then (testdata README)

# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"

umask 077
mkdir -p "$T/coll"
cp "$COLL" "$T/coll/"
head -c 24 /dev/urandom | basenc --base64url >"$T/token"
chmod 600 "$T/token"
TOKEN=$(cat "$T/token")
Q="api-version=2022-08-01"

# start SCHEME [extra daemon flags...]
start() {
    local scheme=$1
    shift
    rm -f "$T/port"
    "$ATTESTD" --listen 127.0.0.1:0 --port-file "$T/port" --data "$T/data" \
        --issuer "$scheme://127.0.0.1" --eval-time "$EVAL_TIME" --collateral "$T/coll" \
        --admin-token-file "$T/token" --threads 2 "$@" >>"$T/daemon.log" 2>&1 &
    PID=$!
    if [ "$scheme" = https ]; then
        await_daemon https --cacert "$T/data/tls/cert.pem"
    else
        await_daemon http
    fi
}

# send METHOD PATH [BODY-FILE|"" [curl args...]]: sets REPLY_STATUS, REPLY_VERSION
# (HTTP version) and REPLY_CTYPE; the body goes to $T/out, the headers to $T/hdr.
send() {
    local m=$1 p=$2 w
    shift 2
    local args=(-s -o "$T/out" -D "$T/hdr" -w '%{http_code} %{http_version} %{content_type}'
        -X "$m" --max-time 60)
    if [ $# -ge 1 ]; then
        [ -n "$1" ] && args+=(--data-binary "@$1" -H "Content-Type: application/json")
        shift
    fi
    : >"$T/out"
    w=$(curl "${args[@]}" "$@" "$BASE$p")
    REPLY_STATUS=${w%% *}
    w=${w#* }
    REPLY_VERSION=${w%% *}
    REPLY_CTYPE=${w#* }
}
attest() { send POST "/attest/$1?$Q" "$2"; } # TYPE BODY-FILE

# MAA's error shape, exactly: one "error" member holding a non-empty string
# code and message, served as JSON.
shape() {
    case "$REPLY_CTYPE" in application/json*) ;; *) return 1 ;; esac
    jq -e 'type == "object" and keys == ["error"] and (.error | type == "object") and
           (.error.code | type == "string" and length > 0) and
           (.error.message | type == "string" and length > 0)' "$T/out" >/dev/null 2>&1
}
# err_is STATUS [CODE [MESSAGE-REGEX]]
err_is() {
    [ "$REPLY_STATUS" = "$1" ] && shape || return 1
    [ $# -lt 2 ] || [ "$(jq -r .error.code "$T/out")" = "$2" ] || return 1
    [ $# -lt 3 ] || jq -r .error.message "$T/out" | grep -Eq "$3"
}
is_4xx() { case "$REPLY_STATUS" in 4??) return 0 ;; *) return 1 ;; esac; }
alive() { # group name: the process lives and /healthz answers
    local s
    s=$(curl -s -o "$T/hz" -w '%{http_code}' --max-time 10 --cacert "$T/data/tls/cert.pem" \
        "$BASE/healthz" 2>/dev/null)
    if kill -0 "$PID" 2>/dev/null && [ "$s" = 200 ] && [ "$(jq -r .status "$T/hz")" = ok ]; then
        ok "$1: the service is still up"
    else
        REPLY_STATUS=$s
        : >"$T/out"
        bad "$1: the service is still up"
        tail -n 40 "$T/daemon.log" | sed 's/^/  log: /'
    fi
}
# The claims of the token in $T/out.
claim() { jq -r .token "$T/out" | cut -d. -f2 | b64url_dec | jq -r "$1"; }
valid_token() {
    [ "$REPLY_STATUS" = 200 ] &&
        [ "$(jq -r '.token | split(".") | length' "$T/out" 2>/dev/null)" = 3 ] &&
        [ "$(claim '."x-ms-sgx-mrenclave"' | cut -c1-8)" = 33d8736d ]
}
body() { printf '%s' "$2" >"$T/$1"; } # NAME TEXT: writes $T/NAME

QB64=$(b64url <"$QUOTE")
body good.json "{\"quote\":\"$QB64\"}"

start http --insecure-http

# ---- a valid request works before anything else ----
attest SgxEnclave "$T/good.json"
check "a valid S1 attestation is 200 with a token" valid_token

# ---- malformed JSON ----
body j1 '{"quote":"AAAA'
body j2 '"just a string"'
body j3 '[{"quote":"AAAA"}]'
body j4 '42'
body j5 'null'
body j6 ''
body j7 '{"quote":"AAAA"} trailing'
body j8 "{'quote':'AAAA'}"
body j9 '{"quote":"AAAA",}'
for n in j1 j2 j3 j4 j5 j6 j7 j8 j9; do
    attest SgxEnclave "$T/$n"
    check "malformed JSON ($(head -c 24 "$T/$n")) is 400 InvalidParameter" \
        err_is 400 InvalidParameter 'not a JSON object'
done
{
    head -c 10000 /dev/zero | tr '\0' '['
    head -c 10000 /dev/zero | tr '\0' ']'
} >"$T/deep1"
attest SgxEnclave "$T/deep1"
check "10000 nested arrays are 400 InvalidParameter" err_is 400 InvalidParameter 'nesting'
{
    printf '{"quote":"%s","runtimeData":' "$QB64"
    for _ in $(seq 1 10000); do printf '{"a":'; done
    printf '1'
    head -c 10000 /dev/zero | tr '\0' '}'
    printf '}'
} >"$T/deep2"
attest SgxEnclave "$T/deep2"
check "10000 nested objects are 400 InvalidParameter" err_is 400 InvalidParameter 'nesting'
body dup "{\"quote\":\"$QB64\",\"quote\":\"$QB64\"}"
attest SgxEnclave "$T/dup"
check "duplicate keys are 400 InvalidParameter" err_is 400 InvalidParameter 'duplicate'
printf '{"quote":"\xff\xfe\xc0\xaf"}' >"$T/utf8"
attest SgxEnclave "$T/utf8"
check "invalid UTF-8 in a string is 400 InvalidParameter" err_is 400 InvalidParameter
printf '{"quo\xe2\x82te":"AAAA"}' >"$T/utf8k"
attest SgxEnclave "$T/utf8k"
check "invalid UTF-8 in a key is 400 InvalidParameter" err_is 400 InvalidParameter
body nul1 '{"quote":"AAAA\u0000AAAA"}'
attest SgxEnclave "$T/nul1"
check "an escaped NUL in a string is 400 InvalidParameter" err_is 400 InvalidParameter
printf '{"quote":"AA\0AA"}' >"$T/nul2"
attest SgxEnclave "$T/nul2"
check "a raw NUL in a string is 400 InvalidParameter" err_is 400 InvalidParameter
printf '{"quote":"%s"}\0' "$QB64" >"$T/nul3"
attest SgxEnclave "$T/nul3"
check "a NUL after a valid body is 400 InvalidParameter" err_is 400 InvalidParameter
alive "malformed JSON"

# ---- the evidence field ----
body q1 '{}'
body q2 '{"quote":123}'
body q3 '{"quote":["AAAA"]}'
body q4 '{"quote":null}'
body q5 '{"quote":{"data":"AAAA"}}'
body q6 '{"report":"AAAA"}'
for n in q1 q2 q3 q4 q5 q6; do
    attest SgxEnclave "$T/$n"
    check "evidence field $(cat "$T/$n") is 400 InvalidParameter" \
        err_is 400 InvalidParameter "'[Qq]uote' must be a base64url string"
done
body r1 "{\"quote\":\"$QB64\"}"
attest OpenEnclave "$T/r1"
check "OpenEnclave without 'report' is 400 InvalidParameter" \
    err_is 400 InvalidParameter "'report' must be a base64url string"
attest SevSnpVm "$T/r1"
check "SevSnpVm without 'report' is 400 InvalidParameter" \
    err_is 400 InvalidParameter "'report' must be a base64url string"
body e1 '{"quote":""}'
attest SgxEnclave "$T/e1"
check "an empty quote is 400 InvalidParameter" err_is 400 InvalidParameter 'quote was invalid'
alive "evidence field"

# ---- bad base64 ----
body b1 '{"quote":"AAA*AAAA"}'
body b2 '{"quote":"AAAA AAAA"}'
body b3 '{"quote":"AAA=AAAA"}'
body b4 '{"quote":"AAAAA"}'
body b5 '{"quote":"AAAAAA="}'
body b6 '{"quote":"AA==="}'
body b7 '{"quote":"AB+_"}'
body b8 '{"quote":"AB/-AAAA"}'
body b9 '{"quote":"AB=="}'
body b10 '{"quote":"%41%41%41%41"}'
for n in b1 b2 b3 b4 b5 b6 b7 b8 b9 b10; do
    attest SgxEnclave "$T/$n"
    check "bad base64 $(cat "$T/$n") is 400 InvalidParameter" \
        err_is 400 InvalidParameter 'not valid base64'
done
# The real quote (base64url, which has '-' and '_') with one standard '+'.
check "the S1 quote's base64url has url-safe characters" grep -q '[-_]' <<<"${QB64:1}"
body b11 "{\"quote\":\"+${QB64:1}\"}"
attest SgxEnclave "$T/b11"
check "the real quote in mixed base64 alphabets is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'not valid base64'
alive "bad base64"

# ---- truncated and garbage evidence ----
for len in 1 16 47 48 100 432 436 437 1000 2000 4000 4599; do
    head -c "$len" "$QUOTE" >"$T/tq"
    body tq.json "{\"quote\":\"$(b64url <"$T/tq")\"}"
    attest SgxEnclave "$T/tq.json"
    check "the S1 quote truncated to $len bytes is 400 InvalidParameter" \
        err_is 400 InvalidParameter 'quote was invalid'
done
# One flipped byte in the signed body: it parses, but the signature fails.
{
    head -c 100 "$QUOTE"
    head -c 101 "$QUOTE" | tail -c 1 | od -An -tu1 | awk '{printf "%c", ($1 + 1) % 256}'
    tail -c +102 "$QUOTE"
} >"$T/flip"
[ "$(wc -c <"$T/flip")" = "$(wc -c <"$QUOTE")" ] || echo "note: flip changed the length"
body flip.json "{\"quote\":\"$(b64url <"$T/flip")\"}"
attest SgxEnclave "$T/flip.json"
check "the S1 quote with one flipped byte is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'quote was invalid'
# Zero padding after a quote is tolerated (real quotes carry it; docs/evidence.md).
{
    cat "$QUOTE"
    head -c 70 /dev/zero
} >"$T/padded"
body padded.json "{\"quote\":\"$(b64url <"$T/padded")\"}"
attest SgxEnclave "$T/padded.json"
check "the S1 quote with 70 zero bytes of padding is 200" valid_token
head -c 4600 /dev/urandom >"$T/rnd"
body rnd.json "{\"quote\":\"$(b64url <"$T/rnd")\"}"
attest SgxEnclave "$T/rnd.json"
check "4600 random bytes as a quote are 400 InvalidParameter" \
    err_is 400 InvalidParameter 'quote was invalid'
head -c 65536 /dev/zero >"$T/zero"
body zero.json "{\"quote\":\"$(b64url <"$T/zero")\"}"
attest SgxEnclave "$T/zero.json"
check "64 KiB of zeros as a quote are 400 InvalidParameter" \
    err_is 400 InvalidParameter 'quote was invalid'
body snp.json "{\"quote\":\"$(b64url <"$SNPR")\"}"
attest SgxEnclave "$T/snp.json"
check "an SEV-SNP report sent to SgxEnclave is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'quote was invalid'
body tdx.json "{\"quote\":\"$(b64url <"$TDXQ")\"}"
attest SgxEnclave "$T/tdx.json"
check "a TDX quote sent to SgxEnclave is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'tdx evidence, not SgxEnclave'
attest TdxVm "$T/good.json"
check "the SGX quote sent to TdxVm is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'sgx evidence, not TdxVm'
attest TdxVm "$T/tdx.json"
check "a TDX quote without collateral for its platform is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'collateral'
body sgxsnp.json "{\"report\":\"$QB64\"}"
attest SevSnpVm "$T/sgxsnp.json"
check "an SGX quote sent to SevSnpVm is 400 InvalidParameter" err_is 400 InvalidParameter
VPEM=$(openssl x509 -inform DER -in "$SNPV" | b64url)
body snpbad.json "{\"report\":\"$(printf '{"SnpReport":"%s","VcekCertChain":"%s"}' \
    "$(head -c 600 "$SNPR" | b64url)" "$VPEM" | b64url)\"}"
attest SevSnpVm "$T/snpbad.json"
check "a truncated SEV-SNP report is 400 InvalidParameter" err_is 400 InvalidParameter
body snpnochain.json "{\"report\":\"$(printf '{"SnpReport":"%s","VcekCertChain":"%s"}' \
    "$(b64url <"$SNPR")" "$(printf 'not a certificate' | b64url)" | b64url)\"}"
attest SevSnpVm "$T/snpnochain.json"
check "an SEV-SNP report with a garbage VCEK is 400 InvalidParameter" err_is 400 InvalidParameter
{
    printf '\1\0\0\0\2\0\0\0'
    printf '\377\377\377\377\377\377\377\377'
    cat "$QUOTE"
} >"$T/oe"
body oe.json "{\"report\":\"$(b64url <"$T/oe")\"}"
attest OpenEnclave "$T/oe.json"
check "an Open Enclave report with a bad size is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'Open Enclave'
alive "truncated and garbage evidence"

# ---- runtime data and bindings ----
rd() { # NAME RUNTIMEDATA-JSON
    body "$1" "{\"quote\":\"$QB64\",\"runtimeData\":$2}"
}
rd rd1 '{"data":"AAAA","dataType":"Text"}'
rd rd2 '{"data":"AAAA","dataType":5}'
rd rd3 '{"data":"AAAA","dataType":""}'
rd rd4 '{"data":"AAAA","dataType":"json"}'
for n in rd1 rd2 rd3 rd4; do
    attest SgxEnclave "$T/$n"
    check "runtimeData with a bad dataType ($n) is 400 InvalidParameter" \
        err_is 400 InvalidParameter 'dataType'
done
rd rd5 '{"data":"A*AA","dataType":"Binary"}'
rd rd6 '{"data":7,"dataType":"Binary"}'
rd rd7 '{"dataType":"Binary"}'
for n in rd5 rd6 rd7; do
    attest SgxEnclave "$T/$n"
    check "runtimeData with bad data ($n) is 400 InvalidParameter" \
        err_is 400 InvalidParameter "'data'"
done
rd rd8 "{\"data\":\"$(printf 'not json {' | b64url)\",\"dataType\":\"JSON\"}"
attest SgxEnclave "$T/rd8"
check "non-JSON runtimeData with dataType JSON is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'not valid JSON'
rd rd9 '"AAAA"'
attest SgxEnclave "$T/rd9"
check "runtimeData that is not an object is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'must be an object'
rd rd10 "{\"data\":\"$(printf '{"key":"not bound"}' | b64url)\",\"dataType\":\"JSON\"}"
attest SgxEnclave "$T/rd10"
check "runtimeData whose hash is not in the report data is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'does not match'
rd rd11 "{\"data\":\"$(printf 'Hello, world!' | b64url)\",\"dataType\":\"Binary\"}"
attest SgxEnclave "$T/rd11"
check "the report data itself as runtimeData does not bind (it is not its hash)" \
    err_is 400 InvalidParameter 'does not match'
body it1 "{\"quote\":\"$QB64\",\"initTimeData\":{\"data\":\"AAAA\",\"dataType\":\"Binary\"}}"
attest SgxEnclave "$T/it1"
check "initTimeData whose hash is not in CONFIGID is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'does not match'
body ehd "{\"quote\":\"$QB64\",\"EnclaveHeldData\":\"!!\"}"
attest SgxEnclave "$T/ehd"
check "bad base64 in the legacy EnclaveHeldData is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'EnclaveHeldData'
body n1 "{\"quote\":\"$QB64\",\"nonce\":12}"
attest SgxEnclave "$T/n1"
check "a nonce that is not a string is 400 InvalidParameter" err_is 400 InvalidParameter 'nonce'
body dp1 "{\"quote\":\"$QB64\",\"draftPolicyForAttestation\":[]}"
attest SgxEnclave "$T/dp1"
check "a draft policy that is not a string is 400 InvalidParameter" \
    err_is 400 InvalidParameter 'draftPolicyForAttestation'
body dp2 "{\"quote\":\"$QB64\",\"draftPolicyForAttestation\":\"version=1.0; authorizationrules { => permit() };\"}"
attest SgxEnclave "$T/dp2"
check "a draft policy with a syntax error is 400 PolicyParsingError" \
    err_is 400 PolicyParsingError 'line [0-9]+ column [0-9]+'
body dp3 "{\"quote\":\"$QB64\",\"draftPolicyForAttestation\":\"version=1.0; authorizationrules { => deny(); };\"}"
attest SgxEnclave "$T/dp3"
check "a denying draft policy is 400 PolicyEvaluationError" err_is 400 PolicyEvaluationError
# Large draft policies: the most rules allowed are parsed and run within the
# request; more rules, or more text, than the limits are refused.
big_policy() { # RULES
    printf '{"quote":"%s","draftPolicyForAttestation":"version=1.0; authorizationrules {' "$QB64"
    for i in $(seq 1 "$1"); do
        printf ' [type==\\"x-ms-sgx-svn\\", value==%d] => deny();' "$((i + 100000))"
    done
    printf ' => permit(); };"}'
}
big_policy 500 >"$T/dp4"
t0=$(date +%s)
attest SgxEnclave "$T/dp4"
t1=$(date +%s)
check "a 500-rule draft policy is 200 in under 20 s ($((t1 - t0)) s)" \
    test "$REPLY_STATUS" = 200 -a $((t1 - t0)) -lt 20
big_policy 600 >"$T/dp5"
attest SgxEnclave "$T/dp5"
check "a 600-rule draft policy (over the rule limit) is 400 PolicyParsingError" \
    err_is 400 PolicyParsingError
{
    printf '{"quote":"%s","draftPolicyForAttestation":"version=1.0; authorizationrules { => permit(); };' "$QB64"
    head -c 70000 /dev/zero | tr '\0' ' '
    printf '"}'
} >"$T/dp6"
attest SgxEnclave "$T/dp6"
check "a draft policy over 64 KiB is 400 PolicyParsingError" err_is 400 PolicyParsingError
alive "runtime data and bindings"

# ---- oversize bodies ----
# Exactly 1 MiB (the valid body padded with spaces) is still served.
sz=$(wc -c <"$T/good.json")
{
    cat "$T/good.json"
    head -c $((1048576 - sz)) /dev/zero | tr '\0' ' '
} >"$T/max"
attest SgxEnclave "$T/max"
check "a valid body of exactly 1 MiB is 200" valid_token
{
    cat "$T/max"
    printf ' '
} >"$T/over"
attest SgxEnclave "$T/over"
if [ "$REPLY_STATUS" = 413 ] && { ! jq -e . "$T/out" >/dev/null 2>&1 || shape; }; then
    ok "1 MiB + 1 byte is 413"
else
    bad "1 MiB + 1 byte is 413"
fi
head -c $((4 * 1048576)) /dev/zero | tr '\0' ' ' >"$T/big"
attest SgxEnclave "$T/big"
check "a 4 MiB body is 413" test "$REPLY_STATUS" = 413
send POST "/attest/SgxEnclave?$Q" "$T/over" -H 'Transfer-Encoding: chunked'
check "1 MiB + 1 byte sent chunked is 413" test "$REPLY_STATUS" = 413
send POST "/attest/SgxEnclave?$Q" "$T/over" -H 'Expect: 100-continue'
check "1 MiB + 1 byte with Expect: 100-continue is 413" test "$REPLY_STATUS" = 413
alive "oversize bodies"

# ---- unknown types, paths, methods, api-versions ----
for p in Foo sgxenclave SGXENCLAVE SgxEnclave/x "" %FF%FE; do
    send POST "/attest/$p?$Q" "$T/good.json"
    check "POST /attest/$p is 404 NotFound" err_is 404 NotFound
done
# libh2o decodes %00 into the normalised path; a C-string comparison would
# then see only the part before it and route to the wrong endpoint.
for p in "/attest/SgxEnclave%00x" "/attest/SgxEnclave%00"; do
    send POST "$p?$Q" "$T/good.json"
    if is_4xx && shape; then
        ok "POST $p (an encoded NUL) is 4xx in MAA's shape, not routed"
    else
        bad "POST $p (an encoded NUL) is 4xx in MAA's shape, not routed"
    fi
done
send POST "/attest/Tpm?$Q" "$T/good.json"
check "POST /attest/Tpm without a TPM policy is 400 in MAA's shape" err_is 400 PolicyEvaluationError
for p in / /nope /attest /attest/ /policies /policies/Foo /policies/SgxEnclave:foo \
    /certificates:nope /certs/x /healthz/x "/../../etc/passwd" /metrics/; do
    send GET "$p?$Q"
    check "GET $p is 404 NotFound" err_is 404 NotFound
done
send POST "/attest/SgxEnclave" "$T/good.json"
check "no api-version is 400 MissingApiVersionParameter" err_is 400 MissingApiVersionParameter
send POST "/attest/SgxEnclave?api_version=2022-08-01" "$T/good.json"
check "a misspelt api-version is 400 MissingApiVersionParameter" \
    err_is 400 MissingApiVersionParameter
for v in 2019-01-01 2022-08-01x "" "%zz" "2022-08-01%00" "$(head -c 3000 /dev/zero | tr '\0' 9)"; do
    send POST "/attest/SgxEnclave?api-version=$v" "$T/good.json"
    check "api-version '$(printf '%s' "$v" | head -c 20)' is 400 InvalidApiVersionParameter" \
        err_is 400 InvalidApiVersionParameter
done
send GET "/policies/SgxEnclave" "" -H "Authorization: Bearer $TOKEN"
check "GET /policies without api-version is 400 MissingApiVersionParameter" \
    err_is 400 MissingApiVersionParameter
for m in GET PUT DELETE PATCH FOO; do
    send "$m" "/attest/SgxEnclave?$Q"
    check "$m /attest/SgxEnclave is 405 MethodNotAllowed" err_is 405 MethodNotAllowed
done
for p in /certs /healthz /.well-known/openid-configuration /metrics; do
    send POST "$p" "$T/good.json"
    check "POST $p is 405 MethodNotAllowed" err_is 405 MethodNotAllowed
done
send DELETE "/policies/SgxEnclave?$Q" "" -H "Authorization: Bearer $TOKEN"
check "DELETE /policies/SgxEnclave is 405 MethodNotAllowed" err_is 405 MethodNotAllowed
alive "unknown types, paths, methods, api-versions"

# ---- unauthenticated policy writes ----
printf 'version=1.0; authorizationrules { => deny(); };' >"$T/deny.txt"
body deny.jws "eyJhbGciOiJub25lIn0.$(printf '{"AttestationPolicy":"%s"}' "$(b64url <"$T/deny.txt")" | b64url)."
for auth in "" "Bearer" "Bearer " "Bearer x$TOKEN" "Bearer ${TOKEN:1}" "Basic $TOKEN" \
    "$TOKEN" "Bearer $TOKEN$TOKEN"; do
    args=()
    [ -n "$auth" ] && args=(-H "Authorization: $auth")
    send PUT "/policies/SgxEnclave?$Q" "$T/deny.jws" "${args[@]}"
    label=${auth//$TOKEN/<token>}
    check "PUT /policies with Authorization '${label:-none}' is 401 Unauthorized" \
        err_is 401 Unauthorized
    check "  ... and asks for a Bearer token" grep -qi '^www-authenticate: Bearer' "$T/hdr"
done
body reset.jws 'eyJhbGciOiJub25lIn0..'
send POST "/policies/SgxEnclave:reset?$Q" "$T/reset.jws"
check "unauthenticated POST :reset is 401 Unauthorized" err_is 401 Unauthorized
send POST "/certificates:add?$Q" "$T/deny.jws"
check "unauthenticated POST /certificates:add is 401 Unauthorized" err_is 401 Unauthorized
send POST "/certificates:remove?$Q" "$T/deny.jws" -H "Authorization: Bearer nope"
check "wrong-token POST /certificates:remove is 401 Unauthorized" err_is 401 Unauthorized
attest SgxEnclave "$T/good.json"
check "after the refused writes the default policy still permits S1" valid_token
# Authenticated but malformed policy bodies.
body pj1 'not-a-jws'
body pj2 'a.b'
body pj3 '!!!.@@@.###'
body pj4 "$(printf '{"alg":"none"' | b64url).$(printf '{"AttestationPolicy":"x"}' | b64url)."
body pj5 "eyJhbGciOiJub25lIn0.$(printf '{"AttestationPolicy":"%s"}' "$(head -c 20000 /dev/zero | tr '\0' '{' | b64url)" | b64url)."
body pj6 '"unterminated'
printf 'eyJhbGciOiJub25lIn0.\0.' >"$T/pj7"
for n in pj1 pj2 pj3 pj4 pj5 pj6 pj7; do
    send PUT "/policies/SgxEnclave?$Q" "$T/$n" -H "Authorization: Bearer $TOKEN"
    if is_4xx && shape; then ok "authenticated garbage policy $n is 4xx in MAA's shape ($(jq -r .error.code "$T/out"))"; else bad "authenticated garbage policy $n is 4xx in MAA's shape"; fi
done
attest SgxEnclave "$T/good.json"
check "after the garbage policies the default policy still permits S1" valid_token
alive "policy writes"

# ---- long URLs and many headers (whatever libh2o answers) ----
long=$(head -c 100000 /dev/zero | tr '\0' a)
send GET "/healthz?x=$long"
echo "     (100 KB URL: libh2o answered ${REPLY_STATUS:-nothing})"
send POST "/attest/$long?$Q" "$T/good.json"
echo "     (100 KB type name: ${REPLY_STATUS:-nothing})"
hdrs=()
for i in $(seq 1 200); do hdrs+=(-H "X-Pad-$i: $(head -c 100 /dev/zero | tr '\0' b)"); done
send POST "/attest/SgxEnclave?$Q" "$T/good.json" "${hdrs[@]}"
echo "     (200 headers of 100 bytes: ${REPLY_STATUS:-nothing})"
{
    printf 'X-Big: '
    head -c 200000 /dev/zero | tr '\0' c
    printf '\n'
} >"$T/bighdr"
send GET /healthz "" -H "@$T/bighdr"
echo "     (one 200 KB header: ${REPLY_STATUS:-nothing})"
send GET /healthz "" -H "x-ms-request-id: $(printf 'a\tb<script>')"
check "a junk x-ms-request-id is not echoed" \
    bash -c "! grep -qi '^x-ms-request-id:.*script' '$T/hdr'"
alive "long URLs and many headers"

# ---- raw HTTP/1.1 garbage on the socket ----
raw() { # NAME FILE: sends FILE on a fresh connection, reads for up to 5 s
    local fd
    if ! exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"; then
        : >"$T/out"
        bad "raw $1: connect"
        return
    fi
    cat "$2" >&"$fd" 2>/dev/null
    timeout 5 cat <&"$fd" >"$T/raw.out" 2>/dev/null
    exec {fd}>&-
    local first
    first=$(head -n 1 "$T/raw.out" | tr -d '\r')
    case "$first" in
    "" | "HTTP/1."[01]" 4"*) ok "raw $1: answered '${first:-connection closed}'" ;;
    *)
        : >"$T/out"
        REPLY_STATUS=$first
        bad "raw $1: expected a 4xx or a closed connection"
        ;;
    esac
}
printf 'GARBAGE\r\n\r\n' >"$T/g1"
printf 'GET / HTTP/9.9\r\nHost: x\r\n\r\n' >"$T/g2"
head -c 4096 /dev/urandom >"$T/g3"
printf 'POST /attest/SgxEnclave?%s HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}' "$Q" >"$T/g4"
printf 'POST /attest/SgxEnclave?%s HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}' "$Q" >"$T/g5"
printf 'POST /attest/SgxEnclave?%s HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' "$Q" >"$T/g6"
printf 'POST /attest/SgxEnclave?%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n' "$Q" >"$T/g7"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n' >"$T/g8"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\0: \0\r\n\r\n' >"$T/g9"
printf 'GET /healthz\0 HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/g10"
printf '\r\n\r\n\r\n\r\n' >"$T/g11"
printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' >"$T/g12"
printf 'POST /attest/SgxEnclave?%s HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}' "$Q" >"$T/g13"
for g in g1 g2 g3 g4 g5 g6 g7 g8 g9 g10 g11 g13; do raw "$g" "$T/$g"; done
# h2c prior knowledge on the plain port: libh2o may speak HTTP/2 here, so
# only the service's survival is checked.
fd=
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && {
    cat "$T/g12" >&"$fd"
    timeout 2 cat <&"$fd" >/dev/null 2>&1
    exec {fd}>&-
}
# A pipelined valid request after a bad one on the same connection.
{
    printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'
    printf 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
} >"$T/pipe"
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT"
cat "$T/pipe" >&"$fd"
timeout 5 cat <&"$fd" >"$T/raw.out"
exec {fd}>&-
# Answers carry Content-Length, so the second status line follows the first
# body on the same text line: find status lines anywhere, not at line starts.
check "two pipelined requests get two answers (200, then 404)" \
    test "$(grep -ao 'HTTP/1.1 [0-9][0-9][0-9]' "$T/raw.out" | cut -d' ' -f2 | tr '\n' ,)" = "200,404,"
alive "raw HTTP garbage"

# ---- slow clients ----
fds=()
for i in $(seq 1 32); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break
    fds+=("$fd")
    case $((i % 4)) in
    0) printf 'POST /attest/SgxEnclave?%s HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{"quo' "$Q" >&"$fd" ;;
    1) printf 'GET /heal' >&"$fd" ;;
    2) printf 'POST /attest/SgxEnclave?%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"quote"' "$Q" >&"$fd" ;;
    3) : ;;
    esac
done
check "32 half-sent requests are open at once" test "${#fds[@]}" = 32
s=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$BASE/healthz")
check "other clients are served while they hang" test "$s" = 200
attest SgxEnclave "$T/good.json"
check "an attestation is served while they hang" valid_token
for fd in "${fds[@]}"; do exec {fd}>&-; done
sleep 0.5
alive "slow clients that disconnect"

# ---- at the end: a valid attestation still works ----
attest SgxEnclave "$T/good.json"
check "a valid S1 attestation still succeeds at the end" valid_token
check "the daemon is the same process that started" kill -0 "$PID"
stop

# ---- TLS: HTTP/2 and HTTP/1.1 ----
start https
for proto in --http2 --http1.1; do
    send POST "/attest/SgxEnclave?$Q" "$T/good.json" "$proto" --cacert "$T/data/tls/cert.pem"
    check "TLS $proto: a valid S1 attestation is 200 with a token" valid_token
    want=${proto#--http}
    check "TLS $proto: the answer came over HTTP/$want (HTTP/$REPLY_VERSION)" \
        test "$REPLY_VERSION" = "$want"
    send POST "/attest/SgxEnclave?$Q" "$T/j1" "$proto" --cacert "$T/data/tls/cert.pem"
    check "TLS $proto: malformed JSON is 400 InvalidParameter" err_is 400 InvalidParameter
    send POST "/attest/SgxEnclave?$Q" "$T/over" "$proto" --cacert "$T/data/tls/cert.pem"
    # Over HTTP/2 libh2o 2.2 resets the stream (REFUSED_STREAM) instead of
    # answering 413; curl then gives up without a status.
    if [ "$proto" = --http2 ]; then
        check "TLS $proto: 1 MiB + 1 byte is refused (413 or stream reset: $REPLY_STATUS)" \
            test "$REPLY_STATUS" = 413 -o "$REPLY_STATUS" = 000
    else
        check "TLS $proto: 1 MiB + 1 byte is 413" test "$REPLY_STATUS" = 413
    fi
done
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/plain"
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && {
    cat "$T/plain" >&"$fd"
    timeout 3 cat <&"$fd" >/dev/null 2>&1
    exec {fd}>&-
}
exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && {
    head -c 4096 /dev/urandom >&"$fd"
    timeout 3 cat <&"$fd" >/dev/null 2>&1
    exec {fd}>&-
}
alive "TLS: plain HTTP and garbage on the TLS port"
send POST "/attest/SgxEnclave?$Q" "$T/good.json" --http2 --cacert "$T/data/tls/cert.pem"
check "TLS: a valid attestation after the garbage" valid_token
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
