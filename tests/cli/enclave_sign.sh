#!/usr/bin/env bash
# The CLI contract of `vouch enclave keygen|sign|measure` on a real .so built
# here with cc: keygen writes a 0600 key and refuses to overwrite; sign writes
# an image whose measure output equals the bare .so's predicted measurement and
# signer id; the measurement is stable across runs and re-signing, changes with
# the code and every config field; tampered, truncated and unsigned images are
# refused (exit 1 with a reason); usage errors exit 2.
set -uo pipefail
vouch=$1
fails=0
passes=0
check() { # name, condition-result
  if [ "$2" = 0 ]; then passes=$((passes + 1)); else echo "FAIL: $1" >&2; fails=$((fails + 1)); fi
}
jqv() { jq -er "$1" <<<"$2" >/dev/null 2>&1; echo $?; }
field() { jq -r "$1" <<<"$2"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v cc >/dev/null || { echo "cc is required to build the test enclave" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }

cat >"$tmp/e.c" <<'EOF'
int enclave_answer(int x) { return x * 6 + 7; }
EOF
cc -shared -fPIC -O1 -o "$tmp/e.so" "$tmp/e.c" || { echo "cc failed" >&2; exit 1; }
sed 's/6 + 7/6 + 8/' "$tmp/e.c" >"$tmp/e2.c"
cc -shared -fPIC -O1 -o "$tmp/e2.so" "$tmp/e2.c" || { echo "cc failed" >&2; exit 1; }
cat >"$tmp/cfg.json" <<'EOF'
{"product_id": 5, "security_version": 2, "debug": true,
 "heap_size": 1048576, "stack_size": 65536, "thread_count": 2}
EOF

# keygen
out=$("$vouch" enclave keygen --out "$tmp/key.pem")
check "keygen exit code" "$?"
check "keygen prints a signer id" "$(grep -Eq '^signer_id: [0-9a-f]{64}$' <<<"$out"; echo $?)"
check "key file is 0600" "$([ "$(stat -c %a "$tmp/key.pem")" = 600 ]; echo $?)"
"$vouch" enclave keygen --out "$tmp/key.pem" 2>/dev/null
check "keygen refuses to overwrite" "$([ $? = 2 ]; echo $?)"
"$vouch" enclave keygen --out "$tmp/key2.pem" >/dev/null
check "second key" "$?"
signer=$(sed -n 's/^signer_id: //p' <<<"$out")

# predicted identity of the bare .so
pred=$("$vouch" enclave measure "$tmp/e.so" --config "$tmp/cfg.json" --key "$tmp/key.pem" --json)
check "measure bare .so exit code" "$?"
check "bare .so is not signed" "$(jqv '.signed == false' "$pred")"
check "bare .so signer from --key" "$(jqv ".signer_id == \"$signer\"" "$pred")"
m=$(field .measurement "$pred")
check "measurement is 64 hex" "$(grep -Eq '^[0-9a-f]{64}$' <<<"$m"; echo $?)"
"$vouch" enclave measure "$tmp/e.so" >/dev/null 2>&1
check "bare .so without --config is a usage error" "$([ $? = 2 ]; echo $?)"

# sign and measure the image
js=$("$vouch" enclave sign --key "$tmp/key.pem" --config "$tmp/cfg.json" --out "$tmp/e.img" "$tmp/e.so" --json)
check "sign exit code" "$?"
check "sign prints the identity" "$(jqv ".measurement == \"$m\" and .signer_id == \"$signer\"" "$js")"
ji=$("$vouch" enclave measure "$tmp/e.img" --json)
check "measure image exit code" "$?"
check "image identity equals prediction" \
  "$(jqv ".measurement == \"$m\" and .signer_id == \"$signer\" and .signed == true" "$ji")"
check "image config" "$(jqv '.product_id == 5 and .security_version == 2 and .debug == true and
  .heap_size == 1048576 and .stack_size == 65536 and .thread_count == 2' "$ji")"
txt=$("$vouch" enclave measure "$tmp/e.img")
check "text output" "$(grep -q "^measurement: *$m$" <<<"$txt" && grep -q "^signer_id: *$signer$" <<<"$txt"; echo $?)"
check "image starts with the magic" "$([ "$(head -c 8 "$tmp/e.img")" = VOUCHENC ]; echo $?)"

# stable: re-signing and re-measuring give the same identity
"$vouch" enclave sign --key "$tmp/key.pem" --config "$tmp/cfg.json" --out "$tmp/e-again.img" "$tmp/e.so" >/dev/null
check "re-sign" "$?"
check "re-signed bytes differ (ECDSA)" "$(! cmp -s "$tmp/e.img" "$tmp/e-again.img"; echo $?)"
check "re-signed measurement equal" \
  "$(jqv ".measurement == \"$m\"" "$("$vouch" enclave measure "$tmp/e-again.img" --json)")"
# another key: same measurement, other signer
"$vouch" enclave sign --key "$tmp/key2.pem" --config "$tmp/cfg.json" --out "$tmp/e-k2.img" "$tmp/e.so" >/dev/null
j2=$("$vouch" enclave measure "$tmp/e-k2.img" --json)
check "other key: same measurement, other signer" \
  "$(jqv ".measurement == \"$m\" and .signer_id != \"$signer\"" "$j2")"
# other code
"$vouch" enclave sign --key "$tmp/key.pem" --config "$tmp/cfg.json" --out "$tmp/e2.img" "$tmp/e2.so" >/dev/null
check "other code: other measurement" \
  "$(jqv ".measurement != \"$m\"" "$("$vouch" enclave measure "$tmp/e2.img" --json)")"
# every config field
for mod in '.product_id = 6' '.security_version = 3' '.debug = false' '.heap_size = 2097152' \
  '.stack_size = 131072' '.thread_count = 3'; do
  jq "$mod" "$tmp/cfg.json" >"$tmp/cfg2.json"
  o=$("$vouch" enclave measure "$tmp/e.so" --config "$tmp/cfg2.json" --json)
  check "config $mod changes the measurement" "$(jqv ".measurement != \"$m\"" "$o")"
done

# refusals
size=$(stat -c %s "$tmp/e.img")
last=""
refused() { # name, file; leaves the JSON answer in $last
  last=$("$vouch" enclave measure "$2" --json)
  local rc=$?
  check "$1 refused (exit 1)" "$([ $rc = 1 ]; echo $?)"
  check "$1 says why" "$(jqv '.error != null and (.detail | length) > 0' "$last")"
}
flip() { # file, offset -> copy with one byte inverted
  cp "$tmp/e.img" "$1"
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$tmp/e.img" | tr -d ' ')
  printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
flip "$tmp/h.img" 16; refused "tampered header (.so length)" "$tmp/h.img"
flip "$tmp/c.img" 34; refused "tampered config (svn)" "$tmp/c.img"
# a byte of code: the middle of .text is inside a PT_LOAD segment
text_hex=$(readelf -SW "$tmp/e.so" | sed -n 's/^ *\[ *[0-9]*\] \.text  *[A-Z]*  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')
[ -n "$text_hex" ] || { echo "no .text in the test .so" >&2; exit 1; }
text_off=$((16#$text_hex))
flip "$tmp/t.img" $((64 + text_off + 2)); refused "tampered code" "$tmp/t.img"
check "tampered code is a signature error" "$(jqv '.error == "signature"' "$last")"
flip "$tmp/s.img" $((size - 10)); refused "tampered signature" "$tmp/s.img"
flip "$tmp/k.img" $((size - 68 - 20)); refused "tampered key" "$tmp/k.img"
head -c $((size - 1)) "$tmp/e.img" >"$tmp/trunc.img"; refused "truncated image" "$tmp/trunc.img"
# unsigned: header declares no signature block, and the block is gone
head -c $((size - 68 - 99)) "$tmp/e.img" >"$tmp/u.img"
printf '\0\0\0\0' | dd of="$tmp/u.img" bs=1 seek=24 conv=notrunc status=none
refused "unsigned image" "$tmp/u.img"
check "unsigned image named as such" "$(jqv '.detail | test("unsigned")' "$last")"
o=$("$vouch" enclave measure "$tmp/u.img" 2>&1)
check "text refusal says why" "$([ $? = 1 ] && grep -q 'refused: unsigned' <<<"$o"; echo $?)"
# not an ELF .so at all
printf 'hello' >"$tmp/x.so"
"$vouch" enclave sign --key "$tmp/key.pem" --config "$tmp/cfg.json" --out "$tmp/x.img" "$tmp/x.so" 2>/dev/null
check "signing a non-ELF file fails" "$([ $? = 1 ] && [ ! -e "$tmp/x.img" ]; echo $?)"
# bad config
echo '{"product_id": 1}' >"$tmp/bad.json"
o=$("$vouch" enclave sign --key "$tmp/key.pem" --config "$tmp/bad.json" --out "$tmp/y.img" "$tmp/e.so" 2>&1)
check "config without security_version is refused" "$([ $? = 2 ] && grep -q security_version <<<"$o"; echo $?)"
# a group-readable key
cp "$tmp/key.pem" "$tmp/open.pem"; chmod 644 "$tmp/open.pem"
"$vouch" enclave sign --key "$tmp/open.pem" --config "$tmp/cfg.json" --out "$tmp/z.img" "$tmp/e.so" 2>/dev/null
check "group-readable key refused" "$([ $? = 2 ]; echo $?)"
"$vouch" enclave sign --key "$tmp/key.pem" --out "$tmp/z.img" "$tmp/e.so" 2>/dev/null
check "sign without --config is a usage error" "$([ $? = 2 ]; echo $?)"
"$vouch" enclave frobnicate 2>/dev/null
check "unknown subcommand is a usage error" "$([ $? = 2 ]; echo $?)"

echo "enclave_sign: $passes passed, $fails failed"
[ "$fails" = 0 ] && [ "$passes" -gt 40 ]
