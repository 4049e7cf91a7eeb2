#!/usr/bin/env bash
# nmrh fuzz's summary tells the truth (a short campaign on the seeded bug echo-b6-b, whose
# shallow face NMR-HANG is suppressed here):
#  - its protocol coverage is the number nmrh coverage prints for the same corpus;
#  - its executions per second are its executions divided by its elapsed time (never "(0/s)");
#  - a suppressed signature is listed with its reason and hit count, and is not a finding;
#  - a malformed suppression file is refused with FILE:LINE:COL (exit 2).
# usage: fuzz_summary.sh NMRH WORK_DIR
set -u
NMRH=$1
WORK=$2
. "$(dirname "$0")/lib.sh"
rm -rf "$WORK"
mkdir -p "$WORK"
printf '# accepted while testing\nNMR-HANG   the test accepts the hang to look behind it\n' > "$WORK/accepted.txt"
"$NMRH" fuzz --target echo-b6-b --time 15 --seed 1 --minimize-time 0 --suppress "$WORK/accepted.txt" \
    --out "$WORK/out" > "$WORK/summary.txt" 2>&1
status=$?
cat "$WORK/summary.txt"
check "fuzz exits 0 or 1 (got $status)" test "$status" -le 1

# executions:        25426 in 63.9 s (397/s)
read -r execs secs rate < <(sed -n 's/^executions: *\([0-9]*\) in \([0-9.]*\) s (\([0-9]*\)\/s)$/\1 \2 \3/p' "$WORK/summary.txt")
check "summary has an executions line" test -n "${execs:-}"
if [ -n "${execs:-}" ]; then
    check "some executions" test "$execs" -gt 0
    check "no (0/s) with $execs executions" test "$rate" -gt 0
    # The printed time has one decimal: the rate must match executions/time within that rounding.
    check "exec/s $rate is $execs / $secs s" awk -v e="$execs" -v s="$secs" -v r="$rate" \
        'BEGIN { lo = e / (s + 0.1) - 1; hi = e / s + 1; exit !(r >= lo && r <= hi) }'
fi

summary_cov=$(sed -n 's/^protocol coverage: \([0-9]*\) of .*/\1/p' "$WORK/summary.txt")
tool_cov=$("$NMRH" coverage --target echo-b6-b "$WORK/out/corpus" 2>/dev/null | sed -n 's/^reached \([0-9]*\) of .*/\1/p')
check "summary protocol coverage ($summary_cov) = nmrh coverage ($tool_cov)" test -n "$summary_cov" -a "$summary_cov" = "$tool_cov"

# The hang is hit (the seed corpus reaches it) and suppressed: counted, with its reason, not a finding.
check "NMR-HANG listed as suppressed with its reason" grep -Eq '^  NMR-HANG +[0-9]+ hits?  the test accepts the hang' "$WORK/summary.txt"
check "NMR-HANG is not a finding" test ! -e "$WORK/out/findings/NMR-HANG"
check "suppressed hits counted" test -s "$WORK/out/suppressed/NMR-HANG/hits"

printf 'NMR-HANG\n' > "$WORK/bad.txt"
check_status 2 "a suppression without reason is refused" \
    sh -c '"$1" fuzz --target echo-b6-b --time 1 --suppress "$2/bad.txt" --out "$2/bad" > "$2/bad.out" 2>&1' _ "$NMRH" "$WORK"
check "the refusal names file:line:col" grep -q "bad.txt:1:9: no reason given" "$WORK/bad.out"
check_summary
