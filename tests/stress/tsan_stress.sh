#!/usr/bin/env bash
# The ThreadSanitizer leg of 'nmrh stress': builds the tool and the real-thread unit test with
# -DNMRH_TSAN=ON in its own tree, checks that the threaded scheduler and the echo pair are
# TSan-clean, and that the seeded plain-memory race of echo-b7-c is reported as a TSAN finding.
# usage: tsan_stress.sh SOURCE_DIR TREE
set -eu
src=$1 tree=$2
here=$(dirname "$0")
cmake -S "$src" -B "$tree" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DNMRH_TSAN=ON -DNMRH_ONLY_TEST_AREAS=knobs >/dev/null
cmake --build "$tree" --target nmrh test_threads >/dev/null
"$tree/tests/test_threads"
bash "$here/stress_expect.sh" "$tree/tools/nmrh" "$tree/stress-echo" 0 - -- --target echo --time 20 --seed 11
bash "$here/stress_expect.sh" "$tree/tools/nmrh" "$tree/stress-b7c" 1 'TSAN-(data-race|heap-use-after-free)@(EchoGuard(Leave|EnterAtDpc|Detach)|Echo(Client|Provider)CleanupBindingContext)' -- \
    --target echo-b7-c --time 120 --seed 1
