#!/usr/bin/env bash
# Replays one kept reproducer (corpus/regressions/*.nmrseq): against the target named in its
# "# target:" line it must produce the finding of its "# expect:" line (exit 1), and against the
# correct echo target it must replay clean (exit 0).
# usage: replay_regression.sh NMRH FILE
set -u
nmrh=$1 file=$2
target=$(sed -n 's/^# target: *//p' "$file" | head -n 1)
expect=$(sed -n 's/^# expect: *//p' "$file" | head -n 1)
[ -n "$target" ] && [ -n "$expect" ] || { echo "FAIL: $file lacks '# target:' or '# expect:'"; exit 1; }

out=$("$nmrh" replay --target "$target" "$file" 2>&1)
rc=$?
if [ "$rc" != 1 ] || ! printf '%s\n' "$out" | grep -q "^FINDING $expect: "; then
    printf '%s\n' "$out" | head -n 20
    echo "FAIL: $file against $target: expected exit 1 with FINDING $expect, got exit $rc"
    exit 1
fi
out=$("$nmrh" replay --target echo "$file" 2>&1)
rc=$?
if [ "$rc" != 0 ]; then
    printf '%s\n' "$out" | head -n 20
    echo "FAIL: $file against echo: expected a clean replay, got exit $rc"
    exit 1
fi
echo "ok: $file: FINDING $expect against $target, clean against echo"
