# Shared set-up for the PCS fetcher tests (tests/cli/attestd_pcs*.sh): tools
# and binaries present, the S1/T1 vectors, a temporary directory, the local
# PCS stand-in, the daemon, and the check/attest helpers. Sourced after the
# caller has set VOUCH (the vouch binary) and DATA (testdata); not a test.
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

# shellcheck source=checks.sh
. "$(dirname "$0")/../lib/checks.sh"
PCS_PIDS=()
on_exit() {
    for p in "${PCS_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
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
    await_daemon http
}

# attest TYPE BODY-FILE: prints the status; the response is in $T/out.
attest() {
    curl -s -o "$T/out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary "@$2" "$BASE/attest/$1?api-version=2022-08-01"
}
count() { curl -s "$1/control/count"; }
mode() { curl -s -o /dev/null "$1/control/mode?set=$2${3:+&ms=$3}"; }
msg() { jq -r .error.message "$T/out" 2>/dev/null; }
