#!/usr/bin/env bash
# Minimiser quality for one seeded bug: 'nmrh minimize' must bring a finding of the bug to within
# 1.2x the length of the hand-written shortest reproducer corpus/regressions/shortest/<target>.nmrseq.
#
# usage: minimize_shortest.sh NMRH SHORTEST_FILE [TIME_LIMIT]
#
# Length is the number of records (docs/fuzzing.md): what 'nmrh convert --to binary' writes, 4
# bytes a record; in canonical text, one per statement plus one per `decide` value beyond the
# first of its line. The input minimised is the unminimised fuzzer finding kept in
# corpus/regressions/found/<target>.nmrseq, or the kept reproducer corpus/regressions/<target>.nmrseq
# when there is none. Passes when:
#   - the shortest file replays with the finding of its "# expect:" line against its target,
#   - the input gives that finding too, and its minimised form still does,
#   - minimised length <= 1.2 x shortest length,
#   - and minimised length >= shortest length: otherwise the hand-written file is not the shortest
#     and must be replaced by the shorter sequence (printed).
set -u
nmrh=$1 shortest=$2 limit=${3:-60}
dir=$(dirname "$(dirname "$shortest")")
name=$(basename "$shortest" .nmrseq)
target=$(sed -n 's/^# target: *//p' "$shortest" | head -n 1)
expect=$(sed -n 's/^# expect: *//p' "$shortest" | head -n 1)
fail() { echo "FAIL: $name: $*"; exit 1; }
[ -n "$target" ] && [ -n "$expect" ] || fail "$shortest lacks '# target:' or '# expect:'"

input=$dir/found/$name.nmrseq
[ -f "$input" ] || input=$dir/$name.nmrseq
[ -f "$input" ] || fail "no finding to minimise: neither $dir/found/$name.nmrseq nor $dir/$name.nmrseq"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# replays FILE against the target and checks for the expected finding
gives_finding() {
    local out rc
    out=$("$nmrh" replay --target "$target" "$1" 2>&1)
    rc=$?
    [ "$rc" = 1 ] && printf '%s\n' "$out" | grep -q "^FINDING $expect: " && return 0
    printf '%s\n' "$out" | grep '^FINDING' | head -n 3
    return 1
}
# records of FILE
length() {
    "$nmrh" convert --target "$target" --to binary "$1" -o "$work/len.bin" >/dev/null || return 1
    echo $(($(wc -c <"$work/len.bin") / 4))
}

gives_finding "$shortest" || fail "$shortest does not give FINDING $expect against $target"
gives_finding "$input" || fail "$input does not give FINDING $expect against $target"
"$nmrh" minimize --target "$target" --time-limit "$limit" "$input" -o "$work/min.nmrseq" 2>"$work/min.log" ||
    { cat "$work/min.log"; fail "nmrh minimize failed"; }
gives_finding "$work/min.nmrseq" || fail "the minimised sequence lost FINDING $expect"

short_len=$(length "$shortest") || fail "cannot measure $shortest"
input_len=$(length "$input") || fail "cannot measure $input"
min_len=$(length "$work/min.nmrseq") || fail "cannot measure the minimised sequence"
echo "$name: $input_len -> $min_len records (hand-written shortest: $short_len) [$(tail -n 1 "$work/min.log")]"
if [ $((min_len * 5)) -gt $((short_len * 6)) ]; then
    grep -v '^#' "$work/min.nmrseq"
    fail "minimised to $min_len records, more than 1.2 x the $short_len of $shortest"
fi
if [ "$min_len" -lt "$short_len" ]; then
    grep -v '^#' "$work/min.nmrseq"
    fail "minimised to $min_len records, fewer than the hand-written $shortest ($short_len): replace it with the above"
fi
echo "ok: $name: minimised $min_len records, within 1.2 x the hand-written $short_len"
