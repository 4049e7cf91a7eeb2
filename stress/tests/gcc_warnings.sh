#!/usr/bin/env bash
# The user-mode builds of the kernel replay driver's code must be warning-free under gcc as well
# (the CMake build uses clang): gcc -std=c11 -O2 -Wall -Wextra -Werror, compiled, with the include
# directories, defines and forced includes of stress/stress.cmake. (tests/build/gcc_warnings.sh
# covers core/, modules/, tools/; the Windows-only console files are covered by the cross-build.)
# usage: gcc_warnings.sh SOURCE_DIR        exit: 0 pass, 1 fail, 77 gcc missing
set -uo pipefail
SRC=$(cd "${1:?usage: gcc_warnings.sh SOURCE_DIR}" && pwd)
GCC=${NMRH_GCC:-gcc}
command -v "$GCC" >/dev/null || { echo "SKIPPED: $GCC not found"; exit 77; }
FLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -c -o /dev/null)
TD=(-D_GNU_SOURCE -I "$SRC/stress/kernel/test_double/include" -I "$SRC/core/km/um" -I "$SRC/core/km/netio"
    -I "$SRC/core/include" -I "$SRC/modules/echo" -I "$SRC/modules/counterparts" -I "$SRC/stress/kernel"
    -I "$SRC/stress/kernel/test_double")
MODEL=(-D_GNU_SOURCE -I "$SRC/core/include" -I "$SRC/core/km/um" -I "$SRC/core/km/netio" -I "$SRC/modules/echo"
    -I "$SRC/modules/counterparts")
FORCED=(-include "$SRC/core/interpose/interpose_nmr.h")
cd "$SRC" || exit 1
bad=0 n=0
JOBS=$(($(nproc 2>/dev/null || echo 2) + 1))
FAILED=$(mktemp)
trap 'rm -f "$FAILED"' EXIT
build() { # FILE FLAGS...   (in the background, at most JOBS at once)
    local f=$1
    shift
    n=$((n + 1))
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    { "$GCC" "${FLAGS[@]}" "$@" "$SRC/$f" || echo "FAIL: gcc warnings in $f" >>"$FAILED"; } &
}
# The driver's code on the test doubles (nmrh_kdriver_um), the tests and the Linux console.
for f in core/interpose/*.c stress/engine/*.c stress/kernel/platform_kernel.c stress/kernel/dispatch.c \
    stress/kernel/oracle_kernel.c stress/kernel/test_double/*.c stress/tests/*.c \
    stress/console/nmrstress.c stress/console/compare.c stress/console/obsfile.c stress/console/report.c \
    stress/console/seqload.c stress/console/targetdesc.c stress/console/os_posix.c stress/console/transport_loopback.c; do
    build "${f#"$SRC"/}" "${TD[@]}"
done
# The modules as the interposing builds compile them.
for f in modules/echo/echo_client.c modules/echo/echo_provider.c modules/counterparts/counterpart.c; do
    build "$f" "${TD[@]}" "${FORCED[@]}"
    build "$f" "${MODEL[@]}" "${FORCED[@]}"
done
# The model's prediction tool, and the PE checksum build tool.
build stress/predict/kpredict.c "${MODEL[@]}"
build stress/kernel/pe_checksum.c
wait
if [ -s "$FAILED" ]; then cat "$FAILED" >&2; bad=1; fi
[ "$bad" = 0 ] && echo "stress gcc warnings: $n compilations clean"
exit "$bad"
