#!/bin/bash
# The consumer test (label "consumer"): the out-of-tree project tests/consumer/project, a driver
# written for the WDK with its state in globals, built against nmrh
#   1. through add_subdirectory(nmrh), and
#   2. through find_package(nmrh) after `cmake --install` of the nmrh build under test;
# each build replays the project's sequences clean and gives identical traces for a sequence run
# before and after 3000 other runs in one process (globals reset); the second also fuzzes the
# driver's seeded-bug build with `nmrh fuzz`, which must find the bug, with the driver's own
# functions in libFuzzer's coverage.
#
# usage: consumer.sh NMRH_SOURCE_DIR NMRH_BUILD_DIR WORK_DIR C_COMPILER
set -u
src=$1 build=$2 work=$3 cc=$4
proj=$src/tests/consumer/project
common=(-G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g")

fail() { echo "FAIL: $*"; exit 1; }
step() { echo; echo "== $*"; }
run() { echo "+ $*"; "$@" || fail "command failed (exit $?): $*"; }

rm -rf "$work" && mkdir -p "$work" || fail "cannot create $work"

# Every sequence replays clean with the correct driver; the determinism check passes.
check_build() {
  local dir=$1
  for seq in "$proj"/sequences/*.nmrseq; do
    run "$dir/nmrh_flowdrv" replay --target flowdrv "$seq"
  done
  run "$dir/flowdrv_determinism" "$proj/sequences/reload.nmrseq" 3000
  # A second instance of a driver that keeps its state in globals is refused, with where and why.
  printf 'm0 = flowdrv\nm1 = flowdrv\nload m0\n' > "$work/two.nmrseq"
  "$dir/nmrh_flowdrv" replay --target flowdrv "$work/two.nmrseq" > "$work/two.txt" 2>&1
  local rc=$?
  cat "$work/two.txt"
  [ $rc = 2 ] && grep -q "two.nmrseq:2:6: .*second instance of module kind 'flowdrv' is refused" "$work/two.txt" ||
    fail "a second flowdrv instance was not refused clearly (exit $rc)"
}

step "1. add_subdirectory(nmrh)"
run cmake -S "$proj" -B "$work/sub" "${common[@]}" -DNMRH_SOURCE="$src" -DNMRH_SANITIZE=ON
SECONDS=0
run cmake --build "$work/sub" --target nmrh_flowdrv flowdrv_determinism
echo "built in ${SECONDS}s"
check_build "$work/sub"

step "2. cmake --install, then find_package(nmrh)"
run cmake --install "$build" --prefix "$work/prefix"
run cmake -S "$proj" -B "$work/pkg" "${common[@]}" -DCMAKE_PREFIX_PATH="$work/prefix"
SECONDS=0
run cmake --build "$work/pkg"
echo "built in ${SECONDS}s"
check_build "$work/pkg"

step "3. the seeded bug: replayed, then found by nmrh fuzz with the driver instrumented"
pkg=$work/pkg
# The sequence the correct driver handles by pending its detach is a use-after-free in the buggy one.
"$pkg/nmrh_flowdrv_bug" replay --target flowdrv "$proj/sequences/detach-during-call.nmrseq" > "$work/bug.txt" 2>&1
grep "^FINDING ASAN-heap-use-after-free@FlowDrv" "$work/bug.txt" || fail "the seeded bug does not show on detach-during-call.nmrseq"
mkdir -p "$work/seeds"
for s in basic reload classifier-fails call-then-unload; do
  run "$pkg/nmrh_flowdrv" convert --target flowdrv --to binary "$proj/sequences/$s.nmrseq" -o "$work/seeds/$s.bin"
done
"$pkg/nmrh_flowdrv_bug" dict --target flowdrv > "$work/flowdrv.dict" || fail "nmrh dict"
SECONDS=0
"$pkg/nmrh_flowdrv_bug" fuzz --target flowdrv --fuzzer "$pkg/fuzz_flowdrv_bug" --seeds "$work/seeds" \
  --dict "$work/flowdrv.dict" --time 60 --seed 1 --minimize-time 10 --out "$work/fuzz" | tee "$work/fuzz-summary.txt"
status=${PIPESTATUS[0]}
echo "fuzzed in ${SECONDS}s"
[ "$status" = 1 ] || fail "nmrh fuzz exited $status, expected 1 (findings)"
grep -q "ASAN-heap-use-after-free@FlowDrv" "$work/fuzz-summary.txt" || fail "the seeded use-after-free was not found"
# libFuzzer lists the driver's shared object as a module of its own and its functions as covered.
grep -m1 "INFO: Loaded 2 modules" "$work/fuzz/fuzz.log" || fail "libFuzzer saw no coverage of the driver's shared object"
grep -m3 "NEW_FUNC.* in FlowDrv[A-Za-z]* .*flowdrv.c" "$work/fuzz/fuzz.log" || fail "no driver function in libFuzzer's coverage"
repro=$(ls "$work"/fuzz/findings/ASAN-heap-use-after-free@FlowDrv*/reproducer.nmrseq | head -1)
[ -f "$repro" ] || fail "no reproducer"
"$pkg/nmrh_flowdrv_bug" replay --target flowdrv "$repro" > "$work/repro-bug.txt" 2>&1
[ $? = 1 ] && grep -q "^FINDING ASAN-heap-use-after-free@FlowDrv" "$work/repro-bug.txt" || fail "the reproducer does not replay the finding"
run "$pkg/nmrh_flowdrv" replay --target flowdrv "$repro"
echo "PASS"
