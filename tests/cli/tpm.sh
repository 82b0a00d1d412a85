#!/usr/bin/env bash
# The CLI contract of `vouch tpm` on the real vectors: `replay` prints exactly
# each log's expected PCR values (text and --json), `verify` accepts the real
# quotes with their AK, nonce, PCR values and log and rejects a changed byte,
# a wrong nonce and SHA-1 without --allow-sha1; usage errors exit 2.
set -uo pipefail
vouch=$1
data=$2/tpm
fails=0
passes=0
check() { # name, condition-result
  if [ "$2" = 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi
}
jqv() { jq -er "$1" <<<"$2" >/dev/null 2>&1; echo $?; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -d "$data/eventlogs" ] || { echo "test data missing: $data" >&2; exit 1; }

for f in "$data"/eventlogs/*.expected_pcrs.txt; do
  name=$(basename "$f" .expected_pcrs.txt)
  log=$data/eventlogs/$name.bin
  out=$("$vouch" tpm replay "$log")
  check "$name replay exit code" "$?"
  check "$name replay equals expected" "$(diff <(sort <<<"$out") <(sort "$f") >/dev/null; echo $?)"
  json=$("$vouch" tpm replay "$log" --json)
  check "$name replay --json exit code" "$?"
  # Every expected value appears under .pcrs.<bank>.<index>, and nothing else.
  want=$(awk '{printf "%s %s %s\n", $1, $2, $3}' "$f" | sort)
  got=$(jq -r '.pcrs | to_entries[] | .key as $b | .value | to_entries[] | "\($b) \(.key) \(.value)"' <<<"$json" | sort)
  check "$name --json pcrs equal expected" "$([ "$want" = "$got" ]; echo $?)"
  check "$name --json events" "$(jqv '(.events | length) == .event_count and .quote_bound == false' "$json")"
done
out=$("$vouch" tpm replay "$data/eventlogs/short_no_action_eventlog.bin" --json)
check "short log parses" "$?"
check "short log extends nothing" "$(jqv '.startup_locality == 3 and .pcrs.sha1 == {} and .format == "sha1"' "$out")"

s=$data/swtpm-replayed-rhel8
nonce=$(tr -d '\n' <"$s/nonce.hex")
rhel8=$data/eventlogs/rhel8-uefi.bin
verify() { "$vouch" tpm verify "$@" --json; }
for k in rsa:quote_rsa_sha256 rsapss:quote_rsapss_sha256; do
  ak=${k%%:*} q=${k#*:}
  out=$(verify --quote "$s/$q.tpms_attest" --sig "$s/$q.tpmt_signature" --ak "$s/ak_$ak.tpm2b_public" \
    --pcrs "$s/pcrs_sha256.txt" --log "$rhel8" --nonce "$nonce")
  check "swtpm $ak verifies" "$?"
  check "swtpm $ak claims" "$(jqv '.verified and .claims.secureBootEnabled == true and .claims.eventLog.bank == "sha256"' "$out")"
done
out=$(verify --quote "$s/quote_ecc_sha256_sha1.tpms_attest" --sig "$s/quote_ecc_sha256_sha1.tpmt_signature" \
  --ak "$s/ak_ecc.tpm2b_public" --pcrs "$s/pcrs_sha256.txt" --pcrs "$s/pcrs_sha1.txt" --log "$rhel8" --nonce "$nonce")
check "swtpm ecc (two banks) verifies" "$?"
check "swtpm ecc signature" "$(jqv '.claims.signatureAlg == "ecdsa"' "$out")"

c=$data/quote-gce-cos85-nonce9009
for b in sha1 sha256 sha384; do
  out=$(verify --quote "$c/quote_$b.tpms_attest" --sig "$c/quote_$b.tpmt_signature" --ak "$c/ak_pub.tpmt_public" \
    --pcrs "$c/pcrs_$b.txt" --log "$c/eventlog.bin" --nonce 9009)
  check "gce $b verifies" "$?"
  check "gce $b bank" "$(jqv ".claims.eventLog.bank == \"$b\" and .claims.signatureHash == \"sha256\"" "$out")"
done
out=$(verify --quote "$c/quote_sha256.tpms_attest" --sig "$c/quote_sha256.tpmt_signature" --ak "$c/ak_pub.tpmt_public" \
  --pcrs "$c/pcrs_sha256.txt" --nonce 9008)
check "wrong nonce exit code" "$([ $? = 1 ]; echo $?)"
check "wrong nonce reason" "$(jqv '.verified == false and .error == "mismatch" and (.error_detail | test("nonce"))' "$out")"
cp "$c/quote_sha256.tpms_attest" "$tmp/q"
printf '\x00' | dd of="$tmp/q" bs=1 seek=40 conv=notrunc 2>/dev/null
out=$(verify --quote "$tmp/q" --sig "$c/quote_sha256.tpmt_signature" --ak "$c/ak_pub.tpmt_public" \
  --pcrs "$c/pcrs_sha256.txt" --nonce 9009)
check "changed quote exit code" "$([ $? = 1 ]; echo $?)"
check "changed quote reason" "$(jqv '.error == "signature"' "$out")"

w=$data/quote-windows-gcp-sha1
args=(--quote "$w/quote.tpms_attest" --sig "$w/quote.tpmt_signature" --ak "$w/ak.tpmt_public"
  --pcrs "$w/pcrs_sha1.txt" --log "$w/eventlog.bin" --no-nonce)
out=$(verify "${args[@]}" --allow-sha1)
check "windows verifies with --allow-sha1" "$?"
check "windows claims" "$(jqv '.claims.bootDebuggingDisabled == true and .claims.secureBootEnabled == true' "$out")"
out=$(verify "${args[@]}")
check "windows refused without --allow-sha1" "$([ $? = 1 ]; echo $?)"
check "windows refusal reason" "$(jqv '.error == "policy"' "$out")"

"$vouch" tpm verify --quote "$w/quote.tpms_attest" >/dev/null 2>&1
check "missing options exit 2" "$([ $? = 2 ]; echo $?)"
"$vouch" tpm replay >/dev/null 2>&1
check "replay without a log exits 2" "$([ $? = 2 ]; echo $?)"
"$vouch" tpm replay "$w/quote.tpms_attest" >/dev/null 2>&1
check "replay of a non-log exits 1" "$([ $? = 1 ]; echo $?)"

echo "tpm cli: $passes passed, $fails failed"
[ "$fails" = 0 ]
