#!/usr/bin/env bash
# `vouch tpm make-credential` against a real TPM (swtpm on loopback): for an
# RSA EK and an ECC EK, a credential made for the AK's Name is opened by
# tpm2_activatecredential and gives back the secret; one made for another
# Name is refused by the TPM. Fails (does not skip) without swtpm/tpm2-tools.
set -uo pipefail
vouch=$1
fails=0
passes=0
check() { # name, condition-result
  if [ "$2" = 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi
}
for b in swtpm tpm2_createek tpm2_createak tpm2_activatecredential tpm2_startauthsession \
         tpm2_policysecret tpm2_flushcontext tpm2_evictcontrol tpm2_startup xxd; do
  command -v "$b" >/dev/null || { echo "FAIL: $b is not installed (scripts/deps.sh)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# swtpm on a random free loopback port pair (command port, control port + 1).
for attempt in 1 2 3 4 5 6 7 8; do
  port=$(shuf -i 20000-60000 -n 1)
  rm -f "$tmp/swtpm.pid"
  swtpm socket --tpm2 --tpmstate dir="$tmp" \
    --server type=tcp,port="$port",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear --daemon --pid file="$tmp/swtpm.pid" \
    --log file="$tmp/swtpm.log",level=1 2>>"$tmp/swtpm.err" && break
  port=
done
[ -n "$port" ] || { echo "FAIL: swtpm did not start" >&2; cat "$tmp/swtpm.err" >&2; exit 1; }
for _ in $(seq 50); do [ -s "$tmp/swtpm.pid" ] && break; sleep 0.1; done
pid=$(cat "$tmp/swtpm.pid")
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
tpm2_startup -c >/dev/null 2>&1

flush() { tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1; }

# activate EK_HANDLE AK_HANDLE CRED OUT: TPM2_ActivateCredential with the EK's
# PolicySecret(endorsement) session.
activate() {
  flush
  tpm2_startauthsession --policy-session -S "$tmp/s.ctx" >/dev/null &&
    tpm2_policysecret -S "$tmp/s.ctx" -c e >/dev/null &&
    tpm2_activatecredential -c "$2" -C "$1" -i "$3" -o "$4" -P "session:$tmp/s.ctx" \
      >/dev/null 2>"$tmp/act.err"
  local rc=$?
  tpm2_flushcontext "$tmp/s.ctx" >/dev/null 2>&1
  flush
  return $rc
}

run_case() { # label, ek alg, ek handle, ak handle
  local label=$1 alg=$2 ekh=$3 akh=$4
  flush
  tpm2_createek -c "$ekh" -G "$alg" -u "$tmp/$label.ek.pub" >/dev/null 2>"$tmp/err"
  check "$label: tpm2_createek" "$?"
  flush
  tpm2_createak -C "$ekh" -c "$tmp/$label.ak.ctx" -G rsa -g sha256 -s rsassa \
    -u "$tmp/$label.ak.pub" -n "$tmp/$label.ak.name" >/dev/null 2>"$tmp/err"
  check "$label: tpm2_createak" "$?"
  flush
  tpm2_evictcontrol -C o -c "$tmp/$label.ak.ctx" "$akh" >/dev/null 2>"$tmp/err"
  check "$label: persist the AK" "$?"
  flush
  local name secret wrong
  name=$(xxd -p -c 200 "$tmp/$label.ak.name")
  head -c 32 /dev/urandom >"$tmp/$label.secret"
  secret=$(xxd -p -c 200 "$tmp/$label.secret")

  "$vouch" tpm make-credential --ek-pub "$tmp/$label.ek.pub" --ak-name "$name" \
    --secret-file "$tmp/$label.secret" --out "$tmp/$label.cred"
  check "$label: make-credential exit code" "$?"
  activate "$ekh" "$akh" "$tmp/$label.cred" "$tmp/$label.out"
  check "$label: tpm2_activatecredential accepts our credential" "$?"
  [ -s "$tmp/$label.out" ] && got=$(xxd -p -c 200 "$tmp/$label.out") || got=none
  check "$label: the TPM returns the secret" "$([ "$got" = "$secret" ]; echo $?)"

  # Another Name (one digest bit flipped): the TPM's integrity check fails.
  wrong=${name:0:10}$(printf '%x' $(( 0x${name:10:1} ^ 1 )))${name:11}
  "$vouch" tpm make-credential --ek-pub "$tmp/$label.ek.pub" --ak-name "$wrong" \
    --secret-file "$tmp/$label.secret" --out "$tmp/$label.wrong"
  check "$label: make-credential for a wrong name exit code" "$?"
  rm -f "$tmp/$label.out2"
  activate "$ekh" "$akh" "$tmp/$label.wrong" "$tmp/$label.out2"
  check "$label: activation for a wrong AK Name fails" "$([ $? -ne 0 ]; echo $?)"
  check "$label: and yields no secret" "$([ ! -s "$tmp/$label.out2" ]; echo $?)"
}

run_case rsa rsa 0x81010001 0x81010002
run_case ecc ecc 0x81010003 0x81010004

# Usage errors exit 2; a file that is not an EK exits 1.
"$vouch" tpm make-credential --ek-pub "$tmp/rsa.ek.pub" --secret-file "$tmp/rsa.secret" \
  --out "$tmp/x" 2>/dev/null
check "missing --ak-name is a usage error" "$([ $? -eq 2 ]; echo $?)"
"$vouch" tpm make-credential --ek-pub "$tmp/rsa.ak.pub" --ak-name 000b00 \
  --secret-file "$tmp/rsa.secret" --out "$tmp/x" 2>/dev/null
check "an AK (signing key) as the EK is refused" "$([ $? -eq 1 ]; echo $?)"
# The secret is never taken from the command line (other users can read it
# in /proc/PID/cmdline): --secret is not an option.
name=$(xxd -p -c 200 "$tmp/rsa.ak.name")
"$vouch" tpm make-credential --ek-pub "$tmp/rsa.ek.pub" --ak-name "$name" --secret 00 \
  --out "$tmp/x" 2>/dev/null
check "--secret HEX is refused" "$([ $? -eq 2 ]; echo $?)"
# Secret files: empty, and longer than a digest, are refused.
: >"$tmp/empty.secret"
"$vouch" tpm make-credential --ek-pub "$tmp/rsa.ek.pub" --ak-name "$name" \
  --secret-file "$tmp/empty.secret" --out "$tmp/x" 2>/dev/null
check "an empty secret file is refused" "$([ $? -eq 1 ]; echo $?)"
head -c 65 /dev/zero >"$tmp/long.secret"
"$vouch" tpm make-credential --ek-pub "$tmp/rsa.ek.pub" --ak-name "$name" \
  --secret-file "$tmp/long.secret" --out "$tmp/x" 2>/dev/null
check "a secret longer than a digest is refused" "$([ $? -eq 1 ]; echo $?)"
"$vouch" tpm make-credential --ek-pub "$tmp/rsa.ek.pub" --ak-name "$name" \
  --secret-file "$tmp/missing.secret" --out "$tmp/x" 2>/dev/null
check "a missing secret file is refused" "$([ $? -eq 1 ]; echo $?)"

echo "tpm_makecred: $passes passed, $fails failed"
[ "$fails" = 0 ]
