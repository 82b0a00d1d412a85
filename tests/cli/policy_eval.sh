#!/usr/bin/env bash
# `vouch policy eval|hash|default`: the CLI contract of PRODUCT.md §3.
# $1 = path to the vouch binary. Output is compared as exact strings: the CLI
# prints compact JSON with sorted keys.
set -u
VOUCH=${1:?usage: policy_eval.sh VOUCH_BINARY}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

if "$VOUCH" policy 2>&1 | grep -q "unknown command 'policy'"; then
    echo "FAIL: $VOUCH has no 'policy' command (dispatch to cli_policy missing in src/cli/main.c)"
    exit 1
fi

check() { # name expected-exit expected-stdout command...
    local name=$1 want_rc=$2 want_out=$3
    shift 3
    local out rc
    out=$("$@" 2>"$T/stderr")
    rc=$?
    if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ]; then
        echo "FAIL $name: exit $rc (want $want_rc)"
        echo "  got:  $out"
        echo "  want: $want_out"
        sed 's/^/  stderr: /' "$T/stderr"
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}

cat >"$T/claims.json" <<'JSON'
[{"type":"x-ms-sgx-is-debuggable","value":false,"issuer":"AttestationService"},
 {"type":"x-ms-sgx-mrsigner","value":"2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa","issuer":"AttestationService"},
 {"type":"x-ms-sgx-mrenclave","value":"b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2","issuer":"AttestationService"},
 {"type":"x-ms-sgx-product-id","value":1,"issuer":"AttestationService"},
 {"type":"x-ms-sgx-svn","value":1,"issuer":"AttestationService"},
 {"type":"x-ms-attestation-type","value":"sgx","issuer":"AttestationService"}]
JSON

# The built-in SGX policy is MAA's, byte for byte: same x-ms-policy-hash as a
# recorded MAA token.
"$VOUCH" policy default SgxEnclave >"$T/sgx.txt"
check "default sgx hash" 0 "bROrN897ZfWmWY2V0FLUlu3uwk5xatGnKYHn3zBbSlw" \
    "$VOUCH" policy hash "$T/sgx.txt"
"$VOUCH" policy default SevSnpVm >"$T/snp.txt"
check "default snp hash" 0 "9NY0VnTQ-IiBriBplVUpFbczcDaEBUwsiFYAzHu_gco" \
    "$VOUCH" policy hash "$T/snp.txt"
check "no tpm default" 1 "" "$VOUCH" policy default Tpm
check "unknown type" 2 "" "$VOUCH" policy default Sgx

# permit: the issued claims are the x-ms-policy object of the recorded token.
check "eval permit" 0 \
    '{"claims":{"is-debuggable":false,"product-id":1,"sgx-mrenclave":"b779202618becb636768e5d902f28d524222735fafb539ea9ba07c3fc171a1c2","sgx-mrsigner":"2c1a44952ae8207135c6c29b75b8c029372ee94b677e15c20bd42340f10d41aa","svn":1,"tee":"sgx"},"decision":"permit","properties":{},"reason":"permitted by authorizationrules rule 1 (line 1, column 33)"}' \
    "$VOUCH" policy eval "$T/sgx.txt" --claims "$T/claims.json" --json

cat >"$T/debug.txt" <<'P'
version=1.0;
authorizationrules {
    [type=="x-ms-sgx-is-debuggable", value==true] => deny();
    [type=="x-ms-sgx-svn", value>=2] => permit();
};
P
check "eval deny (no permit)" 1 \
    '{"claims":{},"decision":"deny","properties":{},"reason":"no authorization rule permitted"}' \
    "$VOUCH" policy eval "$T/debug.txt" --claims "$T/claims.json" --json
sed 's/"value":false/"value":true/' "$T/claims.json" >"$T/debug.json"
check "eval deny (deny rule)" 1 \
    '{"claims":{},"decision":"deny","properties":{},"reason":"deny() in authorizationrules rule 1 (line 3, column 5)"}' \
    "$VOUCH" policy eval "$T/debug.txt" --claims "$T/debug.json" --json

# A policy that does not parse: {"error","line","column"}.
printf 'version=1.0;\nauthorizationrules {\n    => permit()\n};\n' >"$T/bad.txt"
check "parse error" 1 \
    '{"column":1,"error":"expected '"';'"' after the action, found '"'}'"'","line":4}' \
    "$VOUCH" policy eval "$T/bad.txt" --claims "$T/claims.json" --json
# ... and the same as text on stderr, compiler style.
"$VOUCH" policy eval "$T/bad.txt" --claims "$T/claims.json" 2>"$T/err.txt" >/dev/null
if grep -q "bad.txt:4:1: expected ';' after the action" "$T/err.txt"; then
    echo "ok   parse error text"
else
    echo "FAIL parse error text: $(cat "$T/err.txt")"
    fails=$((fails + 1))
fi

# Lenient mode accepts the documentation's single '='.
printf 'version=1.0; authorizationrules { [type="x-ms-attestation-type", value="sgx"] => permit(); };' >"$T/doc.txt"
check "strict rejects '='" 1 \
    '{"column":40,"error":"expected a comparison operator, found '"'='"'; use '"'=='"' (a single '"'='"' is accepted only in lenient mode)","line":1}' \
    "$VOUCH" policy eval "$T/doc.txt" --claims "$T/claims.json" --json
check "lenient accepts '='" 0 \
    '{"claims":{},"decision":"permit","properties":{},"reason":"permitted by authorizationrules rule 1 (line 1, column 35)"}' \
    "$VOUCH" policy eval "$T/doc.txt" --claims "$T/claims.json" --json --lenient

# Usage errors and bad claims files exit 2.
check "missing --claims" 2 "" "$VOUCH" policy eval "$T/sgx.txt"
check "missing file" 2 "" "$VOUCH" policy eval "$T/nope.txt" --claims "$T/claims.json"
echo '[{"type":"a","value":1.5}]' >"$T/real.json"
check "bad claims" 2 \
    '{"error":"'"$T"'/real.json: claims[0]: fractional numbers are not claim values"}' \
    "$VOUCH" policy eval "$T/sgx.txt" --claims "$T/real.json" --json

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all policy CLI checks passed"
