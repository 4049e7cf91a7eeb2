#!/usr/bin/env bash
# The scenario corpus (corpus/scenarios/*.nmrseq): every scenario replays cleanly (exit 0, no
# FINDING) against the echo target, replays byte-identically twice, starts with a comment block
# naming it, and its trace shows its situation (tests/seq/scenario-expect.txt).
#
# usage: scenarios.sh NMRH SOURCE_DIR WORK_DIR
set -u
NMRH=$1
SRC=$2
WORK=$3
. "$SRC/tests/seq/lib.sh"
mkdir -p "$WORK"
EXPECT=$SRC/tests/seq/scenario-expect.txt
CORPUS=$SRC/corpus/scenarios

# The documented situations; a scenario may be added, none of these may go missing.
REQUIRED="attach-provider-first attach-client-first version-fallback decline detach-idle
detach-pending-call-in-flight early-completion pre-completion cleanup-inline cleanup-deferred
concurrent-deregister late-bind alloc-failure-in-attach nmr-register-failure
client-three-providers-unloading-with-calls detach-at-dispatch detach-on-workers
counterpart-pending-complete reload"
for name in $REQUIRED; do
    check "scenario $name exists" test -f "$CORPUS/$name.nmrseq"
done

sections=$(sed -n 's/^== //p' "$EXPECT" | sort)
scenarios=$(for f in "$CORPUS"/*.nmrseq; do basename "$f" .nmrseq; done | sort)
check "every scenario has expectations and every expectation a scenario" test "$sections" = "$scenarios"

# match_trace EXPECTATIONS TRACE: ordered and absent substrings; prints what is missing.
match_trace() {
    awk '
        FNR == NR { if (substr($0, 1, 1) == "!") neg[++nn] = substr($0, 2); else pos[++np] = $0; next }
        {
            if (k < np && index($0, pos[k + 1]) > 0) k++
            for (i = 1; i <= nn; i++)
                if (index($0, neg[i]) > 0) { printf "  unwanted line: %s\n", $0; bad = 1 }
        }
        END {
            if (k < np) { printf "  not found (in order): %s\n", pos[k + 1]; bad = 1 }
            exit bad
        }' "$1" "$2"
}

for f in "$CORPUS"/*.nmrseq; do
    name=$(basename "$f" .nmrseq)
    out=$WORK/$name
    "$NMRH" replay "$f" >"$out.replay" 2>&1
    status=$?
    if [ $status -eq 0 ]; then pass; else fail "$name: replay exits $status: $(head -c 300 "$out.replay")"; fi
    check "$name: replay reports no finding" bash -c "! grep -q FINDING '$out.replay'"

    "$NMRH" replay --trace "$f" >"$out.trace1" 2>&1
    "$NMRH" replay --trace "$f" >"$out.trace2" 2>&1
    check "$name: two replays give byte-identical traces" cmp -s "$out.trace1" "$out.trace2"
    check "$name: trace is not empty" test "$(wc -l <"$out.trace1")" -gt 10

    check "$name: starts with a comment block naming the scenario" \
        bash -c "head -n 1 '$f' | grep -Eq '^# $name[ :(]' && test \"\$(sed -n 2p '$f' | cut -c1)\" = '#'"
    check "$name: the comment says what to look for in the trace" grep -qi 'look for' "$f"

    awk -v name="$name" '/^== /{ on = ($2 == name); next } on && NF && !/^# /' "$EXPECT" >"$out.expect"
    check "$name: has expectations" test -s "$out.expect"
    sed -E 's/^ *[0-9]+  //; s/ +/ /g' "$out.trace1" >"$out.norm"
    if report=$(match_trace "$out.expect" "$out.norm"); then pass; else fail "$name: trace does not show the situation:
$report"; fi
done

check_summary
