#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh locally, without Docker, with the variables the OSS-Fuzz base
# builder sets (CC, CFLAGS, LIB_FUZZING_ENGINE, SRC, WORK, OUT), then checks that every fuzz target
# landed in $OUT with its seed corpus, dictionary and options, and runs each on its seeds.
# usage: clusterfuzzlite_local.sh SOURCE_DIR WORK_DIR        exit 77 (skip) without clang
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
command -v clang >/dev/null || { echo "SKIP: clang not installed"; exit 77; }
rm -rf "$work"
mkdir -p "$work/src" "$work/work" "$work/out" "$work/seeds"
ln -s "$src" "$work/src/nmrh"

export CC=clang
export CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
export SRC=$work/src WORK=$work/work OUT=$work/out
bash "$src/.clusterfuzzlite/build.sh" >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log"; echo "FAIL: build.sh failed"; exit 1; }

status=0
for t in fuzz_echo fuzz_parser; do
    for f in "$OUT/$t" "$OUT/${t}_seed_corpus.zip" "$OUT/$t.dict" "$OUT/$t.options"; do
        [ -s "$f" ] || { echo "FAIL: $f missing or empty"; status=1; }
    done
    [ -x "$OUT/$t" ] || continue
    mkdir -p "$work/seeds/$t"
    (cd "$work/seeds/$t" && cmake -E tar xf "$OUT/${t}_seed_corpus.zip")
    n=$(ls "$work/seeds/$t" | wc -l)
    [ "$n" -gt 0 ] || { echo "FAIL: ${t}_seed_corpus.zip holds no seeds"; status=1; continue; }
    # The engine's own reading of the seeds and the options file's dictionary, then some mutations.
    if ! (cd "$OUT" && "./$t" -dict="$t.dict" -runs=2000 -seed=1 "$work/seeds/$t" >"$work/$t.log" 2>&1); then
        tail -n 30 "$work/$t.log"
        echo "FAIL: $t did not run cleanly on its seed corpus"
        status=1
        continue
    fi
    echo "ok: $t built by build.sh, $n seeds, runs clean ($(grep -c . "$OUT/$t.dict") dictionary lines)"
done
exit "$status"
