#!/usr/bin/env bash
# Sequences that expose wrong modules (tests/data/findings/*.nmrseq). Line 1 names the rule
# ("# expect: RULE-ID"), line 2 may name the target ("# target: NAME", default echo): a
# seeded-bug variant echo-bN of the echo pair. Each file replays against its target with exit
# status 1 and exactly one FINDING line with that rule id, identically every time, and the
# trace ends with it; against the correct pair (target echo) the same sequence is clean.
# Sequences in tests/data/clean/*.nmrseq are regressions of false findings: clean against echo.
#
# usage: findings.sh NMRH SOURCE_DIR WORK_DIR
set -u
NMRH=$1
SRC=$2
WORK=$3
. "$SRC/tests/seq/lib.sh"
rm -rf "$WORK"
mkdir -p "$WORK"

n=0
for f in "$SRC"/tests/data/findings/*.nmrseq; do
    name=$(basename "$f" .nmrseq)
    n=$((n + 1))
    rule=$(sed -n '1s/^# expect: \([A-Z][A-Z0-9-]*\)$/\1/p' "$f")
    target=$(sed -n '2s/^# target: \([a-z0-9-]*\)$/\1/p' "$f")
    target=${target:-echo}
    check "$name: first line is '# expect: RULE-ID'" test -n "$rule"
    check "$name: $rule is a rule of the oracle" bash -c "'$NMRH' rules | grep -q '^$rule '"
    "$NMRH" replay --target "$target" "$f" >"$WORK/$name.out" 2>"$WORK/$name.err"
    status=$?
    if [ $status -eq 1 ]; then pass; else fail "$name: replay --target $target exits $status, expected 1: $(head -c 300 "$WORK/$name.out" "$WORK/$name.err")"; fi
    check "$name: exactly one FINDING line" test "$(grep -c '^FINDING ' "$WORK/$name.out")" -eq 1
    got=$(sed -n 's/^FINDING \([^:]*\):.*/\1/p' "$WORK/$name.out")
    if [ "$got" = "$rule" ]; then pass; else fail "$name: FINDING $got, expected $rule"; fi
    "$NMRH" replay --target "$target" "$f" >"$WORK/$name.out2" 2>&1
    "$NMRH" replay --target "$target" "$f" >"$WORK/$name.out3" 2>&1
    check "$name: the finding replays identically" cmp -s "$WORK/$name.out2" "$WORK/$name.out3"
    "$NMRH" replay --target "$target" --trace "$f" >"$WORK/$name.trace" 2>/dev/null
    check "$name: the trace records the finding" grep -q " FINDING $rule\$" "$WORK/$name.trace"
    if [ "$target" != echo ]; then
        "$NMRH" replay "$f" >"$WORK/$name.clean" 2>&1
        status=$?
        if [ $status -eq 0 ]; then pass; else fail "$name: not clean against the correct pair (exit $status): $(head -c 300 "$WORK/$name.clean")"; fi
    fi
done
check "finding sequences were found" test "$n" -ge 3

for f in "$SRC"/tests/data/clean/*.nmrseq; do
    name=$(basename "$f" .nmrseq)
    "$NMRH" replay "$f" >"$WORK/clean-$name.out" 2>&1
    status=$?
    if [ $status -eq 0 ]; then pass; else fail "clean/$name: exit $status: $(head -c 300 "$WORK/clean-$name.out")"; fi
    check "clean/$name: no FINDING" bash -c "! grep -q FINDING '$WORK/clean-$name.out'"
done

check_summary
