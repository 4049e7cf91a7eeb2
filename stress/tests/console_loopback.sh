#!/usr/bin/env bash
# nmrstress (Linux build: the driver's code in-process on the kernel and NMR test doubles) and
# nmrh-kpredict on the scenario corpus:
#   - predictions are written for every scenario, and the replay through the driver's code agrees
#     with them except where a scenario sets a knob the NMR test double does not follow; those
#     diverge, and the report names the knob (detach-thread/irql, cleanup, detach-order);
#   - with the NMR test double set the other way (NMRH_LOOPBACK_NMR), the verdicts flip, among them
#     those of the scenarios that need the NMR's own threads (detach workers, deferred cleanup);
#   - JUnit XML is well-formed and counts what the console printed;
#   - the crash journal has a START line, durable before the submission, and an END after it, for
#     every sequence; `triage` finds a START without END;
#   - --save-obs and `compare` agree with the report; a stale prediction, a bad sequence file and an
#     unknown target are errors; stress mode runs and reports per sequence; `info` lists targets.
# usage: console_loopback.sh NMRSTRESS KPREDICT SOURCE_DIR WORK_DIR
set -uo pipefail
NMRSTRESS=$1 KPREDICT=$2 SRC=$3 WORK=$4
rm -rf "$WORK"
mkdir -p "$WORK/corpus" "$WORK/obs"
cd "$WORK" || exit 2
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_status() { # WANT COMMAND...: runs it, output in $out
    local want=$1
    shift
    out=$("$@" 2>&1)
    local got=$?
    [ "$got" = "$want" ] || fail "exit $got (expected $want): $*"$'\n'"$out"
}

cp "$SRC"/corpus/scenarios/*.nmrseq corpus/
n=$(ls corpus/*.nmrseq | wc -l)
[ "$n" -ge 10 ] || fail "only $n scenarios"
"$KPREDICT" corpus/*.nmrseq >kpredict.log 2>&1 || [ $? = 1 ] || fail "nmrh-kpredict failed: $(cat kpredict.log)"
[ "$(ls corpus/*.nmrobs | wc -l)" = "$n" ] || fail "not every scenario has a prediction"

# Scenarios whose knob settings differ from the NMR test double's (which follows the first value
# of every knob), and the knob the report must name.
declare -A KNOB=(
    [cleanup-deferred]="K5 cleanup"
    [detach-at-dispatch]="K4 detach-irql"
    [detach-on-workers]="K4 detach-thread"
    [counterpart-pending-complete]="K4 detach-order"
)

RUN=("$NMRSTRESS" replay --settle-ms 500 --wait-settle-ms 20 --journal journal.log --junit junit.xml --save-obs obs)
expect_status 1 "${RUN[@]}" corpus
echo "$out" >replay.log
for f in corpus/*.nmrseq; do
    b=$(basename "$f" .nmrseq)
    line=$(grep -E "^[A-Z]+ +corpus/$b.nmrseq " replay.log) || { fail "no result line for $b"; continue; }
    if [ -n "${KNOB[$b]:-}" ]; then
        [[ "$line" == DIVERGED* ]] || fail "$b should diverge: $line"
        [[ "$line" == *"${KNOB[$b]}"* ]] || fail "$b: the report should name ${KNOB[$b]}: $line"
    else
        [[ "$line" == PASS*"as the model predicts"* ]] || fail "$b should pass as predicted: $line"
    fi
done
grep -q "^$n sequence(s): $((n - ${#KNOB[@]})) passed, ${#KNOB[@]} failed, 0 error(s)" replay.log ||
    fail "summary line: $(tail -1 replay.log)"

# JUnit
if command -v python3 >/dev/null; then
    python3 - "$n" "${#KNOB[@]}" <<'EOF' || fail "JUnit XML"
import sys, xml.etree.ElementTree as ET
n, bad = int(sys.argv[1]), int(sys.argv[2])
root = ET.parse("junit.xml").getroot()
assert root.tag == "testsuites" and root.get("tests") == str(n) and root.get("failures") == str(bad), root.attrib
suite = root.find("testsuite")
cases = suite.findall("testcase")
assert len(cases) == n
failed = [c for c in cases if c.find("failure") is not None]
assert len(failed) == bad
assert all(c.find("failure").get("type") == "DIVERGED" for c in failed)
props = {p.get("name"): p.get("value") for p in suite.find("properties")}
assert props["target"] == "echo" and props["mode"] == "replay" and props["driver"].startswith("nmrhstress"), props
EOF
else
    grep -q "<testsuites name=\"nmrstress\" tests=\"$n\" failures=\"${#KNOB[@]}\"" junit.xml || fail "JUnit XML counts"
fi

# Journal: START then END for each, ids matching; nothing left open.
[ "$(grep -c ' START replay id=' journal.log)" = "$n" ] || fail "journal START lines"
[ "$(grep -c ' END replay id=' journal.log)" = "$n" ] || fail "journal END lines"
awk '/ START /{s=$4} / END /{if ($4 != s) bad=1} END{exit bad}' journal.log || fail "journal START/END ids do not pair up"
expect_status 0 "$NMRSTRESS" triage journal.log
# A START without its END (the machine went down during that run) is what triage reports.
grep ' START ' journal.log | head -3 | tail -1 >>journal.log
expect_status 1 "$NMRSTRESS" triage journal.log
[[ "$out" == *"never answered"*"START replay"* ]] || fail "triage output: $out"

# The crash journal when the machine goes down (simulated: the in-process "driver" aborts while
# it runs the second sequence): the second has START and no END, the third never started, and
# triage names the second.
CRASH=(corpus/decline.nmrseq corpus/detach-idle.nmrseq corpus/reload.nmrseq)
bash -c 'NMRH_LOOPBACK_BUGCHECK=detach-idle.nmrseq "$0" replay --journal crash.log "$@" >crash.out 2>&1' \
    "$NMRSTRESS" "${CRASH[@]}" 2>/dev/null
[ $? -ge 128 ] || fail "the simulated bugcheck should have killed nmrstress: $(cat crash.out)"
[ "$(grep -c ' START ' crash.log)" = 2 ] && [ "$(grep -c ' END ' crash.log)" = 1 ] || fail "crash journal: $(cat crash.log)"
expect_status 1 "$NMRSTRESS" triage crash.log
[[ "$out" == *"never answered"*"START replay id="*"file=corpus/detach-idle.nmrseq"* ]] || fail "triage after the crash: $out"
[[ "$out" != *"decline"* && "$out" != *"reload"* ]] || fail "triage names only the crashed sequence: $out"

# --save-obs + compare give the same verdicts offline.
expect_status 0 "$NMRSTRESS" compare corpus/decline.nmrobs obs/decline.nmrobs
expect_status 1 "$NMRSTRESS" compare corpus/cleanup-deferred.nmrobs obs/cleanup-deferred.nmrobs
[[ "$out" == *"K5 cleanup"* ]] || fail "compare should name K5: $out"

# The NMR test double the other way round: detach-order provider-first.
NMRH_LOOPBACK_NMR=provider-first expect_status 1 "$NMRSTRESS" replay --journal journal2.log corpus/counterpart-pending-complete.nmrseq corpus/detach-idle.nmrseq
[[ "$out" == *"PASS      corpus/counterpart-pending-complete.nmrseq"* ]] || fail "provider-first: pending-complete should pass: $out"
[[ "$out" == *"DIVERGED  corpus/detach-idle.nmrseq"*"K4 detach-order"* ]] || fail "provider-first: detach-idle should diverge: $out"

# The NMR's own threads: with the double running a detach worker per side, or cleaning up on a
# worker, the two scenarios that ask for it match the model (the replay schedules those threads as
# the model does), run after run.
for i in 1 2; do
    NMRH_LOOPBACK_NMR=detach-per-side expect_status 0 "$NMRSTRESS" replay --journal journal2.log corpus/detach-on-workers.nmrseq
    [[ "$out" == *"PASS      corpus/detach-on-workers.nmrseq"*"as the model predicts"* ]] || fail "detach-per-side: detach-on-workers should pass: $out"
    NMRH_LOOPBACK_NMR=cleanup-deferred expect_status 0 "$NMRSTRESS" replay --journal journal2.log corpus/cleanup-deferred.nmrseq
    [[ "$out" == *"PASS      corpus/cleanup-deferred.nmrseq"*"as the model predicts"* ]] || fail "cleanup-deferred should pass: $out"
done

# Errors: a stale prediction, an unparsable sequence, an unknown target.
cp corpus/decline.nmrseq stale.nmrseq
cp corpus/reload.nmrobs stale.nmrobs
expect_status 2 "$NMRSTRESS" replay --journal j3.log stale.nmrseq
[[ "$out" == *"ERROR"*"prediction of another sequence"* ]] || fail "stale prediction: $out"
printf 'm0 = no-such-kind\n' >bad.nmrseq
expect_status 2 "$NMRSTRESS" replay --journal j3.log bad.nmrseq
[[ "$out" == *"bad.nmrseq:1:"*"error"* ]] || fail "bad sequence: $out"
expect_status 2 "$NMRSTRESS" replay --target no-such corpus/decline.nmrseq
expect_status 2 "$NMRSTRESS" replay --threads 0 corpus
expect_status 0 "$NMRSTRESS" info
[[ "$out" == *"target echo: echo-client echo-provider generic-client generic-provider"* ]] || fail "info: $out"

# A finding: the seeded bug B8 with an allocation failure in its attach.
printf 'm0 = echo-provider\nm1 = echo-client\nload m0\nfail-allocs m1 1 after 1\nload m1\nunload m1\nunload m0\n' >b8.nmrseq
# (B8 leaks the binding it disowns, in-process here: not a leak of nmrstress for LeakSanitizer.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 expect_status 1 "$NMRSTRESS" replay --target echo-b8 --journal j4.log --junit b8.xml b8.nmrseq
[[ "$out" == *"FINDING   b8.nmrseq"*"NMR-ATTACH-STATUS-MISMATCH"* ]] || fail "b8: $out"
grep -q 'type="FINDING"' b8.xml || fail "b8 JUnit failure type"

# Stress: a second, 2 threads, every scenario that has no knob differences.
stress=()
for f in corpus/*.nmrseq; do [ -n "${KNOB[$(basename "$f" .nmrseq)]:-}" ] || stress+=("$f"); done
expect_status 0 "$NMRSTRESS" stress --threads 2 --duration 1 --chunk 1 --max-delay-us 100 --seed 3 --hang-ms 10000 \
    --journal js.log --junit stress.xml "${stress[@]:0:6}"
echo "$out" >stress.log
grep -q '^chunk 0: [0-9]* sequences' stress.log || fail "stress progress line: $out"
[ "$(grep -c '^PASS ' stress.log)" = 6 ] || fail "stress: six sequences should pass: $out"
grep -q ' START stress id=.* seed=3 threads=2 duration_ms=1000 files=corpus/' js.log || fail "stress journal: $(cat js.log)"
grep -q '<property name="mode" value="stress"/>' stress.xml || fail "stress JUnit"

echo "console_loopback: $n scenarios replayed and compared, $fails failure(s)"
[ "$fails" = 0 ]
