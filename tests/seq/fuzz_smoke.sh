#!/usr/bin/env bash
# Runs a libFuzzer target briefly from a seed corpus: the seeds are copied into a fresh scratch
# directory first, because libFuzzer adds the inputs it finds to its first corpus directory and
# the seed directory is part of the source tree. Exits with libFuzzer's status (0: no crash).
#
# usage: fuzz_smoke.sh FUZZER SEED_DIR WORK_DIR [LIBFUZZER OPTIONS...]
set -u
FUZZER=$1
SEEDS=$2
WORK=$3
shift 3
rm -rf "$WORK"
mkdir -p "$WORK/corpus" "$WORK/artifacts"
cp "$SEEDS"/* "$WORK/corpus/"
cd "$WORK" || exit 2
"$FUZZER" -artifact_prefix="$WORK/artifacts/" "$@" "$WORK/corpus"
status=$?
echo "fuzz_smoke: $(ls "$WORK/corpus" | wc -l) corpus inputs, libFuzzer exit $status"
exit $status
