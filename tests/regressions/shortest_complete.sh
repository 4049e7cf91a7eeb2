#!/usr/bin/env bash
# Every seeded bug of the benchmark (bench/bugs.tsv) has a hand-written shortest reproducer
# corpus/regressions/shortest/<target>.nmrseq, whose "# expect:" signature is one that counts as
# detecting the bug, so that test minimize_shortest_<target> holds the minimiser to it.
# usage: shortest_complete.sh BUGS_TSV SHORTEST_DIR
set -u
tsv=$1 dir=$2 status=0
while IFS=$'\t' read -r target class signatures; do
    case "$target" in '' | '#'*) continue ;; esac
    file=$dir/$target.nmrseq
    if [ ! -f "$file" ]; then
        echo "FAIL: $target ($class) has no hand-written shortest reproducer $file"
        status=1
        continue
    fi
    expect=$(sed -n 's/^# expect: *//p' "$file" | head -n 1)
    case ",$signatures," in
    *",$expect,"*) echo "ok: $target: $file expects $expect" ;;
    *)
        echo "FAIL: $file expects '$expect', not one of the signatures bench/bugs.tsv gives $target: $signatures"
        status=1
        ;;
    esac
done <"$tsv"
exit $status
