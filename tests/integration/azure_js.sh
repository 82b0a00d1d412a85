#!/usr/bin/env bash
# Wire compatibility with Azure Attestation's official JavaScript client: installs
# @azure/attestation (pinned in azure-js/package-lock.json) from npm, starts
# vouch-attestd over HTTPS on a loopback port with the real SGX vector and its
# collateral at the vector's evaluation time, and runs azure-js/test.mjs against it
# with the client unmodified. A failed install is a failed test, never a skip.
#
#   bash tests/integration/azure_js.sh <path-to-vouch> <testdata-dir>
set -uo pipefail
vouch=${1:?usage: azure_js.sh <vouch binary> <testdata dir>}
data=${2:?usage: azure_js.sh <vouch binary> <testdata dir>}
here=$(cd "$(dirname "$0")" && pwd)
pkg=$here/azure-js
attestd=$(dirname "$vouch")/vouch-attestd
node=/usr/bin/node
quote=$data/evidence/sgx/v3_phala_quote.bin
collateral=$data/evidence/sgx/v3_phala_collateral.json
eval_time=1751328000 # the vector's evaluation time (testdata README): its collateral is valid then

die() {
  echo "FAIL: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

[ -x "$vouch" ] || die "no vouch binary at $vouch"
[ -x "$attestd" ] || die "no vouch-attestd next to $vouch"
[ -x "$node" ] || die "$node is missing (Node 20 is required)"
command -v npm >/dev/null || die "npm is missing"
command -v curl >/dev/null || die "curl is missing"
command -v openssl >/dev/null || die "openssl is missing"
{ [ -f "$quote" ] && [ -f "$collateral" ]; } || die "test data missing under $data"

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Another build tree's run (make test runs two) may install at the same time;
# npm ci deletes node_modules first, so hold the lock until node is done.
exec 9<"$pkg" || die "cannot open $pkg"
flock 9 || die "cannot lock $pkg"
(cd "$pkg" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error) >"$tmp/npm.log" 2>&1 ||
  { cat "$tmp/npm.log" >&2; die "npm ci could not install @azure/attestation"; }
[ -f "$pkg/node_modules/@azure/attestation/package.json" ] || die "@azure/attestation not installed"

umask 077
mkdir -p "$tmp/collateral"
cp "$collateral" "$tmp/collateral/"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/admin-token"
"$vouch" evidence inspect "$quote" --json >"$tmp/inspect.json" ||
  die "vouch evidence inspect failed"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/foreign.key" -out "$tmp/foreign.pem" \
  -days 1 -subj "/CN=not-the-attestation-service" >/dev/null 2>&1 || die "openssl req failed"

# A random free loopback port; the issuer URL must name it, so the port is
# chosen before the start, and a lost race (bind failure) is retried.
start_daemon() {
  local try port
  for try in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      continue # something listens there already
    fi
    rm -rf "$tmp/data" "$tmp/port"
    url="https://127.0.0.1:$port"
    "$attestd" --listen "127.0.0.1:$port" --data "$tmp/data" --issuer "$url" \
      --collateral "$tmp/collateral" --eval-time "$eval_time" \
      --admin-token-file "$tmp/admin-token" --port-file "$tmp/port" --threads 2 \
      >"$tmp/attestd.log" 2>&1 9<&- &
    pid=$!
    for _ in $(seq 1 300); do
      if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        pid=
        echo "vouch-attestd exited at start (attempt $try):" >&2
        cat "$tmp/attestd.log" >&2
        break
      fi
      if [ -s "$tmp/port" ] && [ -f "$tmp/data/tls/cert.pem" ] &&
        curl -sf --max-time 5 --cacert "$tmp/data/tls/cert.pem" "$url/healthz" >/dev/null 2>&1; then
        return 0
      fi
      sleep 0.1
    done
    if [ -n "$pid" ]; then
      cat "$tmp/attestd.log" >&2
      die "vouch-attestd did not become healthy on $url"
    fi
  done
  die "could not start vouch-attestd on a free port"
}
start_daemon

VOUCH_URL=$url VOUCH_ADMIN_TOKEN=$(cat "$tmp/admin-token") VOUCH_QUOTE=$quote \
  VOUCH_INSPECT=$tmp/inspect.json VOUCH_EVAL_TIME=$eval_time VOUCH_FOREIGN_CERT=$tmp/foreign.pem \
  NODE_EXTRA_CA_CERTS=$tmp/data/tls/cert.pem \
  "$node" "$pkg/test.mjs" >"$tmp/node.out" 2>&1
node_rc=$?
exec 9<&-

# The service must also stop cleanly: under the sanitizer builds this is where
# memory errors and leaks from the requests above show up.
kill -TERM "$pid" 2>/dev/null
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "vouch-attestd ignored SIGTERM for 30 s; killing it" >>"$tmp/attestd.log"
  kill -KILL "$pid" 2>/dev/null
fi
wait "$pid"
daemon_rc=$?
pid=
clean_mem=1
grep -qE "ERROR: AddressSanitizer|runtime error:" "$tmp/attestd.log" && clean_mem=0
clean_exit=1
{ [ "$daemon_rc" = 0 ] && ! grep -q "ERROR: LeakSanitizer" "$tmp/attestd.log"; } || clean_exit=0

# One combined summary line: the node checks plus the daemon checks.
grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/node.out"
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/node.out" | tail -1)
passes=${summary%% passed*}
fails=${summary#*, }
fails=${fails%% failed*}
if [ -z "$summary" ]; then
  passes=0
  fails=1
  echo "FAIL node test.mjs did not finish (exit $node_rc)"
fi
if [ "$clean_mem" = 1 ]; then
  passes=$((passes + 1))
  echo "ok   vouch-attestd: no memory errors (ASan/UBSan)"
else
  fails=$((fails + 1))
  echo "FAIL vouch-attestd: no memory errors (ASan/UBSan): see the log below"
fi
if [ "$clean_exit" = 1 ]; then
  passes=$((passes + 1))
  echo "ok   vouch-attestd: exit 0 on SIGTERM, no leaks"
else
  fails=$((fails + 1))
  leak=$(grep -o "SUMMARY: AddressSanitizer: .*" "$tmp/attestd.log")
  echo "FAIL vouch-attestd: exit 0 on SIGTERM, no leaks (exit $daemon_rc${leak:+; $leak})"
fi
if [ "$fails" != 0 ] || [ "$node_rc" != 0 ]; then
  echo "--- vouch-attestd log ---"
  cat "$tmp/attestd.log"
fi
echo "$passes passed, $fails failed"
[ "$fails" = 0 ] && [ "$node_rc" = 0 ]
