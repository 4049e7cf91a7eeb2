#!/usr/bin/env bash
# Runs 'nmrh stress' and checks its verdict: exit status, the FINDING line (a regular expression
# over the signature) and, for a finding, that the sequence was saved under the output directory.
# usage: stress_expect.sh NMRH OUTDIR EXPECTED_EXIT SIGNATURE_REGEX|- -- STRESS_ARGS...
set -u
nmrh=$1 out=$2 want_rc=$3 want_sig=$4
shift 5
rm -rf "$out"
log=$("$nmrh" stress --out "$out" "$@" 2>&1)
rc=$?
fail() {
    printf '%s\n' "$log" | grep -v '^    #' | head -n 40
    echo "FAIL: nmrh stress $*: $1"
    exit 1
}
[ "$rc" = "$want_rc" ] || fail "expected exit $want_rc, got $rc"
if [ "$want_sig" = - ]; then
    printf '%s\n' "$log" | grep -q '^FINDING' && fail "unexpected finding"
    printf '%s\n' "$log" | grep -q 'sequences in .*: no finding' || fail "no summary line"
else
    printf '%s\n' "$log" | grep -Eq "^FINDING ($want_sig): " || fail "no FINDING matching '$want_sig'"
    saved=$(find "$out" -name '*.nmrseq' | head -n 1)
    [ -n "$saved" ] || fail "the finding's sequence was not saved under $out"
    grep -q '^# signature: ' "$saved" || fail "$saved has no signature header"
fi
printf '%s\n' "$log" | grep -E '^(FINDING|nmrh stress: [0-9])' | head -n 2
echo "ok: nmrh stress $*"
