#!/bin/bash -eu
# Builds nmrh's fuzz targets the OSS-Fuzz way, for ClusterFuzzLite: compiler and flags from $CC and
# $CFLAGS (sanitizers and coverage chosen by the engine), the engine from $LIB_FUZZING_ENGINE,
# results into $OUT: each target with <target>_seed_corpus.zip, <target>.dict, <target>.options.
# Also runs locally (tests/build/clusterfuzzlite_local.sh sets the variables, no Docker).
src=${SRC:?}/nmrh
build=${WORK:-/tmp}/nmrh-cflite-build

cmake -S "$src" -B "$build" -G Ninja \
    -DCMAKE_C_COMPILER="${CC:?}" -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_BUILD_TYPE=None \
    -DNMRH_FUZZ_ENGINE_FROM_ENV=ON -DNMRH_SANITIZE=OFF -DNMRH_WERROR=OFF
# The correct echo pair and the sequence parser; the echo-bN targets carry seeded bugs on purpose
# and belong to the benchmark, not to continuous fuzzing.
targets="fuzz_echo fuzz_parser"
cmake --build "$build" --target $targets nmrh nmrh_fuzz_seeds nmrh_dict_echo

mkdir -p "${OUT:?}"
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
cp "$build"/fuzz/seeds/*.bin "$seeds"/
for t in $targets; do
    cp "$build/fuzz/$t" "$OUT/$t"
    case $t in
    fuzz_echo)
        cp "$build/fuzz/echo.dict" "$OUT/$t.dict"
        (cd "$seeds" && cmake -E tar cf "$OUT/${t}_seed_corpus.zip" --format=zip -- *.bin)
        ;;
    fuzz_parser)
        cp "$src/fuzz/fuzz_parser.dict" "$OUT/$t.dict"
        (cd "$src/corpus/scenarios" && cmake -E tar cf "$OUT/${t}_seed_corpus.zip" --format=zip -- *.nmrseq)
        ;;
    esac
    printf '[libfuzzer]\nmax_len = 512\ndict = %s.dict\n' "$t" >"$OUT/$t.options"
done
