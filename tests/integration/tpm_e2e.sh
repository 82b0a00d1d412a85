#!/usr/bin/env bash
# End-to-end TPM attestation: a software TPM (swtpm, manufactured here with an
# EK and an EK certificate from a local CA) gets the PCRs of a real machine
# by replaying its boot event log (`vouch tpm extend`), then `vouch tpm attest`
# runs the service's two-round protocol against vouch-attestd over HTTPS with
# EK credential activation, with a pre-registered AK and with an AK
# certificate. The tokens are verified with `vouch token verify` and their
# claims checked against an independent replay of the log. Wrong nonce and
# challenge, a replayed context, a tampered log and an untrusted AK must each
# be rejected with their reason. Last, a laptop log with StartupLocality 3
# (PCR0 starts at 00..03) is reproduced and attested.
# $1 = the vouch binary (vouch-attestd sits next to it), $2 = testdata.
set -u
VOUCH=${1:?usage: tpm_e2e.sh VOUCH_BINARY TESTDATA}
DATA=${2:?usage: tpm_e2e.sh VOUCH_BINARY TESTDATA}
ATTESTD="$(dirname "$VOUCH")/vouch-attestd"
for tool in swtpm swtpm_setup swtpm_localca curl jq openssl basenc od; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/deps.sh)"; exit 1; }
done
[ -x "$ATTESTD" ] || { echo "FAIL: $ATTESTD not built"; exit 1; }
# rhel8-uefi.bin: a real GCE RHEL 8 boot (Secure Boot on) without a
# StartupLocality event, so its PCR0 can be reproduced through a TCTI.
LOG="$DATA/tpm/eventlogs/rhel8-uefi.bin"
[ -f "$LOG" ] || { echo "FAIL: $LOG is missing"; exit 1; }

T=$(mktemp -d)
SWTPM_PID=
PID=
stop_daemon() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null
        wait "$PID" 2>/dev/null
        PID=
    fi
}
stop_swtpm() {
    if [ -n "$SWTPM_PID" ]; then
        kill -TERM "$SWTPM_PID" 2>/dev/null
        wait "$SWTPM_PID" 2>/dev/null
        SWTPM_PID=
    fi
}
trap 'stop_daemon; stop_swtpm; rm -rf "$T"' EXIT
pass=0
fails=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() {
    echo "FAIL $1"
    for f in "$T/out" "$T/err"; do
        [ -s "$f" ] && sed 's/^/  | /' "$f" | head -c 2000 && echo
    done
    fails=$((fails + 1))
}
check() { # name command...
    local name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
b64url_dec() {
    local s
    s=$(cat)
    while [ $((${#s} % 4)) != 0 ]; do s="$s="; done
    printf '%s' "$s" | basenc --base64url -d
}
umask 077

# ---- agent usage errors (exit 2) before anything is contacted ----
usage_is_2() { "$VOUCH" tpm "$@" >"$T/out" 2>"$T/err"; [ $? = 2 ]; }
check "attest without --tcti/--service/--log is a usage error" usage_is_2 attest
check "a PCR index above 23 is a usage error" usage_is_2 attest --tcti x --service https://h --log "$LOG" --pcrs sha256:0,24
check "an unknown bank is a usage error" usage_is_2 attest --tcti x --service https://h --log "$LOG" --pcrs md5:0
check "two AK trust paths are a usage error" usage_is_2 attest --tcti x --service https://h --log "$LOG" --ek-activation --ak-cert "$LOG"
check "an unknown option is a usage error" usage_is_2 attest --tcti x --service https://h --log "$LOG" --ekactivation
check "a non-persistent --ak-handle is a usage error" usage_is_2 ak --tcti x --ak-handle 0x80000001
"$VOUCH" tpm extend --tcti swtpm:host=127.0.0.1,port=1 "$LOG" >"$T/out" 2>"$T/err"
RC=$?
check "no TPM at the TCTI: extend fails (1) and says so" test "$RC/$(grep -c 'TCTI\|ESYS\|Startup' "$T/err")" = 1/1

# ---- a software TPM, manufactured with an EK certificate from a local CA ----
mkdir -p "$T/ca" "$T/tpm"
cat >"$T/localca.conf" <<EOF
statedir = $T/ca
signingkey = $T/ca/signkey.pem
issuercert = $T/ca/issuercert.pem
certserial = $T/ca/certserial
EOF
printf -- '--platform-manufacturer Vouch\n--platform-version 2.1\n--platform-model e2e\n' \
    >"$T/localca.options"
cat >"$T/swtpm_setup.conf" <<EOF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $T/localca.conf
create_certs_tool_options = $T/localca.options
EOF
if ! swtpm_setup --tpm2 --tpmstate "$T/tpm" --createek --create-ek-cert \
    --pcr-banks sha1,sha256 --config "$T/swtpm_setup.conf" --overwrite >"$T/setup.log" 2>&1; then
    echo "FAIL: swtpm_setup"
    sed 's/^/  | /' "$T/setup.log"
    exit 1
fi
# The local CA is a root and an intermediate that issues EK certificates.
cat "$T/ca/swtpm-localca-rootca-cert.pem" "$T/ca/issuercert.pem" >"$T/ek-roots.pem"

# start_swtpm FLAGS: command and control ports on loopback; another process
# may hold a random port, so try a few. Sets TCTI.
start_swtpm() {
    TCTI=
    for _ in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 40000))
        swtpm socket --tpm2 --tpmstate dir="$T/tpm" \
            --server type=tcp,port=$port,bindaddr=127.0.0.1 \
            --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
            --flags "$1" --log file="$T/swtpm.log",level=1 >>"$T/swtpm.out" 2>&1 &
        SWTPM_PID=$!
        for _ in $(seq 1 50); do
            kill -0 "$SWTPM_PID" 2>/dev/null || break
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                TCTI="swtpm:host=127.0.0.1,port=$port"
                return 0
            fi
            sleep 0.1
        done
        stop_swtpm
    done
    echo "FAIL: swtpm did not start"
    cat "$T/swtpm.out"
    exit 1
}
start_swtpm not-need-init,startup-clear

# ---- the machine's PCRs, from its real boot log ----
: >"$T/err"
"$VOUCH" tpm extend --tcti "$TCTI" "$LOG" --json >"$T/out" 2>"$T/err"
check "extend replays the log into swtpm" test "$(jq -r '.banks | join(",")' "$T/out")" = sha1,sha256
check "extend touched PCRs 0-9 and 14" test "$(jq -c .pcrs "$T/out")" = '[0,1,2,3,4,5,6,7,8,9,14]'
"$VOUCH" tpm extend --tcti "$TCTI" "$LOG" >"$T/out" 2>"$T/err"
check "a second extend is refused (PCRs not at reset)" grep -q 'not at its reset value' "$T/err"
"$VOUCH" tpm extend --tcti "$TCTI" "$DATA/tpm/eventlogs/glinux-alex.bin" >"$T/out" 2>"$T/err"
check "a StartupLocality 3 log needs a TPM not yet started" grep -q 'not from locality 3' "$T/err"
"$VOUCH" tpm replay --json "$LOG" | jq -c '.pcrs.sha256' >"$T/replay.json"
PCRS=sha256:0-9,14

# ---- enrolment material ----
"$VOUCH" tpm ak --tcti "$TCTI" --json >"$T/ak.json" 2>"$T/err"
check "the AK is stable across runs" test "$("$VOUCH" tpm ak --tcti "$TCTI")" = "$(jq -r .name "$T/ak.json")"
jq -r .name "$T/ak.json" >"$T/ak-allow"
# An AK certificate for the same AK, from a CA made here.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ak-ca \
    -days 2 -keyout "$T/akca.key" -out "$T/akca.pem" 2>/dev/null
jq -r .spki "$T/ak.json" | base64 -d >"$T/ak.spki"
openssl pkey -pubin -inform DER -in "$T/ak.spki" -out "$T/ak.pem" 2>/dev/null
openssl x509 -new -force_pubkey "$T/ak.pem" -CA "$T/akca.pem" -CAkey "$T/akca.key" \
    -subj /CN=vouch-ak -days 1 -outform DER -out "$T/ak.der" 2>/dev/null
check "an AK certificate was made" test -s "$T/ak.der"

# ---- the service ----
head -c 24 /dev/urandom | basenc --base64url >"$T/token"
# start_daemon TPM-OPTIONS...: starts vouch-attestd on the state in $T/data
# (kept across restarts) and sets BASE.
start_daemon() {
    rm -f "$T/port"
    "$ATTESTD" --listen 127.0.0.1:0 --port-file "$T/port" --data "$T/data" \
        --issuer https://127.0.0.1 --admin-token-file "$T/token" "$@" >>"$T/daemon.log" 2>&1 &
    PID=$!
    BASE=
    for _ in $(seq 1 200); do
        if [ -s "$T/port" ] && [ -s "$T/data/tls/cert.pem" ]; then
            BASE="https://127.0.0.1:$(cat "$T/port")"
            curl -s -o /dev/null --cacert "$T/data/tls/cert.pem" "$BASE/healthz" && break
            BASE=
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$BASE" ] || { echo "FAIL: vouch-attestd did not start"; sed 's/^/  log: /' "$T/daemon.log"; exit 1; }
}
start_daemon --tpm-ek-roots "$T/ek-roots.pem" --tpm-ak-roots "$T/akca.pem" --tpm-ak-allow "$T/ak-allow"
CA="$T/data/tls/cert.pem"
curl -s --cacert "$CA" "$BASE/certs" >"$T/jwks.json"

# put_policy TEXT: PUT /policies/Tpm as an unsigned policy JWS (MAA's format).
put_policy() {
    local p
    p=$(printf '%s' "$1" | basenc --base64url -w0 | tr -d '=')
    printf 'eyJhbGciOiJub25lIn0.%s.' \
        "$(printf '{"AttestationPolicy":"%s"}' "$p" | basenc --base64url -w0 | tr -d '=')" >"$T/pol.jws"
    curl -s -o "$T/out" -w '%{http_code}' --cacert "$CA" -X PUT \
        -H "Authorization: Bearer $(cat "$T/token")" -H 'Content-Type: text/plain' \
        --data-binary "@$T/pol.jws" "$BASE/policies/Tpm?api-version=2020-10-01"
}

# attest [agent options...]: runs the agent; the token goes to $T/tok, claims
# (decoded by the agent) are not trusted here: the token is verified below.
attest() {
    "$VOUCH" tpm attest --tcti "$TCTI" --service "$BASE" --cacert "$CA" --pcrs "$PCRS" "$@" \
        >"$T/out" 2>"$T/err"
}
# verified_claims: verifies $T/out's token against the service's JWKS and
# prints its claims.
verified_claims() {
    tr -d '\n' <"$T/out" >"$T/tok"
    "$VOUCH" token verify "$T/tok" --jwks "$T/jwks.json" --issuer https://127.0.0.1 --json |
        jq -c 'select(.valid == true or .verified == true) | .claims'
}
reason_is() { # reason: the agent failed and printed the service's reason
    [ "$RC" = 1 ] && grep -q "the service refused round 2: 400 InvalidParameter: $1" "$T/err"
}

attest --ek-activation --log "$LOG"
RC=$?
check "no TPM policy: attest fails (MAA requires one)" \
    grep -Eq 'the service refused round [12]: 400 PolicyEvaluationError: NoPolicy' "$T/err"

# A measured-boot policy: Secure Boot must be on per the verified log, and
# PCR7 (Secure Boot state and authorities) must equal the RHEL 8 value.
POLICY='version=1.0;
authorizationrules {
  [type=="secureBootEnabled", value==true] &&
  [type=="x-ms-tpm-ak-trust", value!="none"] => permit();
};
issuancerules {
  [type=="aikValidated", value==true] => issue(type="PlatformAttested", value=true);
  [type=="aikValidated", value==false] => issue(type="PlatformAttested", value=false);
};'
check "PUT /policies/Tpm is 200" test "$(put_policy "$POLICY")" = 200

# ---- EK activation ----
RP=$(head -c 16 /dev/urandom | basenc --base64url -w0 | tr -d '=')
attest --ek-activation --log "$LOG" --rp-data "$RP"
RC=$?
check "ek-activation: attest succeeds" test "$RC" = 0
verified_claims >"$T/claims.json"
check "ek-activation: the token verifies with the service's JWKS" test -s "$T/claims.json"
c() { jq -r "$1" "$T/claims.json"; }
check "ek-activation: x-ms-tpm-ak-trust is ek-activation" test "$(c '."x-ms-tpm-ak-trust"')" = ek-activation
check "ek-activation: aikValidated is true" test "$(c .aikValidated)" = true
check "ek-activation: the policy issued PlatformAttested=true" test "$(c .PlatformAttested)" = true
check "ek-activation: attestation type tpm" test "$(c '."x-ms-attestation-type"')" = tpm
check "ek-activation: tpmVersion 2" test "$(c .tpmVersion)" = 2
check "ek-activation: secureBootEnabled from the verified log" test "$(c .secureBootEnabled)" = true
check "ek-activation: aikPubHash is the AK's SPKI hash" test "$(c .aikPubHash)" = "$(jq -r .aikPubHash "$T/ak.json")"
check "ek-activation: cnf holds the RSA request key" test "$(c '.cnf.jwk.kty')" = RSA
check "ek-activation: rp_data is echoed" test "$(c .rp_data)" = "$RP"
check "ek-activation: x-ms-policy-hash present" test -n "$(c '."x-ms-policy-hash" // empty')"
jq -c '."x-ms-tpm-pcrs".sha256' "$T/claims.json" >"$T/quoted.json"
check "ek-activation: quoted sha256 PCRs 0-9,14 equal the log's replay" \
    test "$(jq -c 'to_entries | sort_by(.key | tonumber) | from_entries' "$T/quoted.json")" = \
    "$(jq -c 'to_entries | sort_by(.key | tonumber) | from_entries' "$T/replay.json")"
check "ek-activation: PCR7 is the real RHEL 8 value" \
    test "$(jq -r '."7"' "$T/quoted.json")" = 5fd54361d580eb7592adb8deb236ff35444ceeac7148f24b3de63c041f12b3da

attest --ek-activation --log "$LOG" --ak-ecc --request-key ec --json
RC=$?
check "ek-activation with an ECC AK and an EC request key succeeds" test "$RC" = 0
check "  its cnf is the EC request key" test "$(jq -r .cnf.jwk.crv "$T/out")" = P-256

# An AK created under the EK (TPM2_Create + Load, as tpm2_createak): a new
# key on every run, vouched for by credential activation alone.
attest --ek-activation --ak-under-ek --log "$LOG"
RC=$?
check "ek-activation with an AK under the EK succeeds" test "$RC" = 0
verified_claims >"$T/claims.json"
check "  its token verifies and says ek-activation" test "$(c '."x-ms-tpm-ak-trust"')" = ek-activation
check "  its AK is not the primary AK" test "$(c .aikPubHash)" != "$(jq -r .aikPubHash "$T/ak.json")"
check "  its PCR7 is the real RHEL 8 value" \
    test "$(c '."x-ms-tpm-pcrs".sha256."7"')" = 5fd54361d580eb7592adb8deb236ff35444ceeac7148f24b3de63c041f12b3da
check "--ak-under-ek without --ek-activation is a usage error" usage_is_2 attest --tcti "$TCTI" \
    --service "$BASE" --log "$LOG" --ak-under-ek

# ---- pre-registered AK ----
attest --log "$LOG"
RC=$?
check "pre-registered: attest succeeds" test "$RC" = 0
verified_claims >"$T/claims.json"
check "pre-registered: the token verifies" test -s "$T/claims.json"
check "pre-registered: x-ms-tpm-ak-trust says insecure" test "$(c '."x-ms-tpm-ak-trust"')" = preregistered-insecure
check "pre-registered: aikValidated is false" test "$(c .aikValidated)" = false
check "pre-registered: PlatformAttested=false" test "$(c .PlatformAttested)" = false

# ---- AK certificate ----
attest --ak-cert "$T/ak.der" --log "$LOG"
RC=$?
check "ak-cert: attest succeeds" test "$RC" = 0
verified_claims >"$T/claims.json"
check "ak-cert: x-ms-tpm-ak-trust is certificate" test "$(c '."x-ms-tpm-ak-trust"')" = certificate
check "ak-cert: aikValidated is true" test "$(c .aikValidated)" = true

# ---- rejections, each with its reason ----
attest --ek-activation --log "$LOG" --test-corrupt nonce
RC=$?
check "a quote over the wrong nonce is rejected (QuoteNonceMismatch)" reason_is QuoteNonceMismatch
attest --log "$LOG" --test-corrupt challenge
RC=$?
check "a request with the wrong challenge is rejected (ChallengeMismatch)" reason_is ChallengeMismatch

attest --ek-activation --log "$LOG" --save-round2 "$T/round2.json"
RC=$?
check "a saved round succeeds the first time" test "$RC" = 0
code=$(curl -s -o "$T/out" -w '%{http_code}' --cacert "$CA" -H 'Content-Type: application/json' \
    --data-binary "@$T/round2.json" "$BASE/attest/Tpm?api-version=2022-08-01")
check "a replayed context is rejected (ContextReplayed)" \
    test "$code/$(jq -r .error.message "$T/out" | cut -d: -f1)" = 400/ContextReplayed

# Flip one byte of the SHA-256 digest of the first boot application (shim).
sha=$("$VOUCH" tpm replay --json "$LOG" |
    jq -r '[.events[] | select(.type == "EV_EFI_BOOT_SERVICES_APPLICATION")][0].digests.sha256')
hex=$(od -An -v -tx1 "$LOG" | tr -d ' \n')
off=$(awk -v h="$hex" -v d="$sha" 'BEGIN { i = index(h, d); print (i % 2 == 1) ? (i - 1) / 2 : -1 }')
cp "$LOG" "$T/tampered.bin"
chmod u+w "$T/tampered.bin"
printf '\x5a' | dd of="$T/tampered.bin" bs=1 seek="$off" conv=notrunc status=none
check "the tampered log replays to another PCR4" \
    test "$("$VOUCH" tpm replay --json "$T/tampered.bin" | jq -r '.pcrs.sha256."4"')" != "$(jq -r '."4"' "$T/replay.json")"
attest --ek-activation --log "$T/tampered.bin"
RC=$?
check "a tampered log is rejected (EventLogMismatch)" reason_is EventLogMismatch

attest --log "$LOG" --ak-ecc
RC=$?
check "an AK that is neither certified nor registered is rejected (UntrustedAik)" reason_is UntrustedAik

# docs/tpm.md's pinned measured-boot policy: no development AKs, Secure Boot,
# a measured hand-off, the RHEL 8 shim and kernel command line.
CMDLINE=$("$VOUCH" tpm replay --json "$LOG" | jq -r .claims.kernelCmdline)
SHIM=$("$VOUCH" tpm replay --json "$LOG" | jq -r '[.events[] | select(.type == "EV_EFI_BOOT_SERVICES_APPLICATION")][0].digests.sha256')
POLICY2="version=1.0;
authorizationrules {
  [type==\"x-ms-tpm-ak-trust\", value==\"preregistered-insecure\"] => deny();
  [type==\"secureBootEnabled\", value==true] && [type==\"exitBootServices\", value==true] &&
  [type==\"bootApplications\", value==\"$SHIM\"] &&
  [type==\"kernelCmdline\", value==\"$CMDLINE\"]
    => permit();
};
issuancerules {
  c:[type==\"kernelCmdline\"] => issue(type=\"kernelCmdline\", value=c.value);
};"
check "PUT the pinned-boot policy is 200" test "$(put_policy "$POLICY2")" = 200
attest --log "$LOG"
RC=$?
check "the pinned-boot policy denies the pre-registered AK" \
    grep -q 'the service refused round 2: 400 PolicyEvaluationError' "$T/err"
attest --ek-activation --log "$LOG" --json
RC=$?
check "the pinned-boot policy permits EK activation" test "$RC/$(jq -r .kernelCmdline "$T/out")" = "0/$CMDLINE"

# No transient object or session is left in the TPM.
if command -v tpm2_getcap >/dev/null; then
    left=$(TPM2TOOLS_TCTI="$TCTI" tpm2_getcap handles-transient 2>/dev/null
        TPM2TOOLS_TCTI="$TCTI" tpm2_getcap handles-saved-session 2>/dev/null
        TPM2TOOLS_TCTI="$TCTI" tpm2_getcap handles-loaded-session 2>/dev/null)
    : >"$T/out"
    : >"$T/err"
    check "the agent flushed its transient handles" test -z "$left"
fi

# ---- StartupLocality 3: a real laptop whose firmware starts the TPM from
# locality 3 (PCR0 starts at 00..03). swtpm restarts (PCRs reset) without
# startup-clear, and extend runs TPM2_Startup from locality 3 itself. ----
stop_swtpm
start_swtpm not-need-init
ALEX="$DATA/tpm/eventlogs/glinux-alex.bin"
"$VOUCH" tpm extend --tcti "$TCTI" "$ALEX" >"$T/out" 2>"$T/err"
check "extend starts the TPM at locality 3 for glinux-alex" test $? = 0
PCRS=sha256:0-7
check "PUT a policy that only asks for a validated AK is 200" \
    test "$(put_policy 'version=1.0; authorizationrules { [type=="aikValidated", value==true] => permit(); };')" = 200
attest --ek-activation --log "$ALEX" --json
RC=$?
check "glinux-alex (StartupLocality 3): attest succeeds" test "$RC" = 0
check "  its quoted PCR0 is the laptop's real PCR0" \
    test "$(jq -r '."x-ms-tpm-pcrs".sha256."0"' "$T/out")" = 0e5ea849d7647a1ac1becc096fee4df98f00f8015f934afadaab0b8aa20b38a5
check "  startupLocality is 3" test "$(jq -r .startupLocality "$T/out")" = 3

# ---- an ECC P-256 EK (template L-2; swtpm has no certificate for it),
# pre-registered by Name on a service without EK roots, with an ECC AK
# created under it; the policy pins PCR7 through its per-PCR claim ----
ALEX7=$("$VOUCH" tpm replay --json "$ALEX" | jq -r '.pcrs.sha256."7"')
check "glinux-alex's PCR7 from the replay" test "${#ALEX7}" = 64
attest --ek-activation --ek-ecc --log "$ALEX"
RC=$?
check "an ECC EK without a certificate is refused where EK certificates are required" \
    grep -q 'UntrustedEk' "$T/err"
"$VOUCH" tpm ak --tcti "$TCTI" --ek --ek-ecc >"$T/ek-allow" 2>"$T/err"
check "tpm ak --ek --ek-ecc prints the P-256 EK's Name" grep -Eq '^000b[0-9a-f]{64}$' "$T/ek-allow"
stop_daemon
start_daemon --tpm-ek-allow "$T/ek-allow"
check "PUT a policy that pins PCR7 per PCR claim is 200" test "$(put_policy "version=1.0;
authorizationrules {
  [type==\"aikValidated\", value==true] &&
  [type==\"tpm-pcr-sha256-7\", value==\"$ALEX7\"]
    => permit();
};
issuancerules { c:[type==\"tpm-pcr-sha256-7\"] => issue(type=\"pcr7\", value=c.value); };")" = 200
attest --ek-activation --ek-ecc --ak-under-ek --ak-ecc --log "$ALEX"
RC=$?
check "ECC P-256 EK activation of an ECC AK under it succeeds" test "$RC" = 0
verified_claims >"$T/claims.json"
check "  its token verifies and says ek-activation" test "$(c '."x-ms-tpm-ak-trust"')" = ek-activation
check "  the policy copied PCR7 from its per-PCR claim" test "$(c .pcr7)" = "$ALEX7"
if command -v tpm2_getcap >/dev/null; then
    left=$(TPM2TOOLS_TCTI="$TCTI" tpm2_getcap handles-transient 2>/dev/null
        TPM2TOOLS_TCTI="$TCTI" tpm2_getcap handles-loaded-session 2>/dev/null)
    : >"$T/out"
    : >"$T/err"
    check "  the agent flushed the EK, the AK under it and the policy sessions" test -z "$left"
fi

stop_daemon
# Sanitizer builds: any memory error or UB report in the daemon fails.
if grep -Eq 'ERROR: AddressSanitizer|runtime error:' "$T/daemon.log"; then
    : >"$T/out"
    bad "the daemon log has sanitizer reports"
    grep -E -A30 'Sanitizer|runtime error' "$T/daemon.log" | head -60
else
    ok "no sanitizer reports in the daemon"
fi

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
