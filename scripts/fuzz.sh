#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each, starting from (and growing)
# its checked-in corpus in a scratch copy. New crashes are left in build/fuzz.
set -euo pipefail
build=${1:-build/fuzz}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for src in "$root"/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  short=${name#fuzz_}
  bin="$build/fuzz/$name"
  [ -x "$bin" ] || { echo "fuzz: $bin not built" >&2; exit 1; }
  work="$build/fuzz-work/$short"
  mkdir -p "$work"
  cp -n "$root/fuzz/corpus/$short"/* "$work/" 2>/dev/null || true
  dict=()
  [ -f "$root/fuzz/dict/$short.dict" ] && dict=(-dict="$root/fuzz/dict/$short.dict")
  echo "== $name for ${secs}s" >&2
  if ! (cd "$build" && "$bin" "${dict[@]}" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$build/crash-$short-" "$work"); then
    status=1
  fi
done
exit $status
