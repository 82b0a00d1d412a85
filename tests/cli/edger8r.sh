#!/usr/bin/env bash
# vouch-edger8r from the command line: a good EDL file gives the four stub
# files (and a compilable host header), a malformed one gives
# "FILE:LINE:COLUMN: error: ..." with exit status 1 and writes nothing,
# bad usage gives status 2.
# $1 = the vouch binary (vouch-edger8r sits next to it), $2 = the testdata dir.
set -u
VOUCH=${1:?usage: edger8r.sh VOUCH_BINARY TESTDATA}
GEN="$(dirname "$VOUCH")/vouch-edger8r"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
[ -x "$GEN" ] || { echo "FAIL: $GEN not built"; exit 1; }
command -v cc >/dev/null || { echo "FAIL: no C compiler (cc)"; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$TMP/t" "$TMP/u"
"$GEN" --trusted-dir "$TMP/t" --untrusted-dir "$TMP/u" "$SRC/tests/unit/edl/edl_test.edl" \
    || fail "generator failed on the test EDL"
for f in t/edl_test_t.h t/edl_test_t.c u/edl_test_u.h u/edl_test_u.c; do
    [ -s "$TMP/$f" ] || fail "$f missing"
done
[ -z "$(ls "$TMP/t" | grep -v '^edl_test_t\.[ch]$')" ] || fail "stray files: $(ls "$TMP/t")"
grep -q 'vouch_rt_ecall_table\[\]' "$TMP/t/edl_test_t.c" || fail "no ecall table"
grep -q 'edl_test_ocall_table\[\]' "$TMP/u/edl_test_u.c" || fail "no ocall table"
cc -std=c11 -Wall -Wextra -Werror -c -o /dev/null -I"$SRC/include" -I"$TMP/u" \
    -I"$SRC/tests/unit/edl" "$TMP/u/edl_test_u.c" || fail "host stubs do not compile"

# --trusted / --name.
mkdir "$TMP/only"
"$GEN" --trusted --name iface --trusted-dir "$TMP/only" "$SRC/tests/unit/edl/edl_test.edl" \
    || fail "--trusted failed"
[ "$(ls "$TMP/only" | tr '\n' ' ')" = "iface_t.c iface_t.h " ] || fail "--trusted wrote $(ls "$TMP/only")"

# A malformed file: located error, status 1, nothing written.
mkdir "$TMP/bad"
printf 'enclave {\n  trusted {\n    public int f([in] int **p);\n  };\n};\n' > "$TMP/bad/bad.edl"
out=$("$GEN" --trusted-dir "$TMP/bad" --untrusted-dir "$TMP/bad" "$TMP/bad/bad.edl" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "malformed EDL: status $rc"
echo "$out" | grep -q "bad.edl:3:28: error: pointers to pointers are not supported" \
    || fail "malformed EDL message: $out"
[ "$(ls "$TMP/bad")" = "bad.edl" ] || fail "files written for a bad EDL: $(ls "$TMP/bad")"

# Usage errors and unreadable input.
"$GEN" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no arguments should give status 2"
"$GEN" --bogus x.edl >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option should give status 2"
"$GEN" --name 9x "$TMP/bad/bad.edl" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --name accepted"
"$GEN" "$TMP/missing.edl" >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing file should give status 1"
head -c 1048577 /dev/zero | tr '\0' ' ' > "$TMP/big.edl"
out=$("$GEN" --trusted-dir "$TMP" --untrusted-dir "$TMP" "$TMP/big.edl" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "larger than" || fail "oversized file: $out"
echo "PASS"
