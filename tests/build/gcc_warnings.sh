#!/usr/bin/env bash
# gcc warnings check: every C source of the project that is not clang-only must be warning-free
# under gcc too (the CMake build uses clang): gcc -std=c11 -O2 -Wall -Wextra -Werror, compiled
# (not only parsed: -O2 enables the warnings that need data-flow analysis, such as
# -Wformat-truncation and -Wmaybe-uninitialized), with the include directories and defines of the
# CMake targets.
#
# usage: gcc_warnings.sh SOURCE_DIR
# exit: 0 pass, 1 fail, 77 skipped (gcc missing).
# env:  NMRH_GCC (default gcc).
set -euo pipefail

SRC=$(cd "${1:?usage: gcc_warnings.sh SOURCE_DIR}" && pwd)
GCC=${NMRH_GCC:-gcc}

# Where the project's C sources live. Not here: fuzz/ (libFuzzer targets, clang-only) and
# tests/build/ (the kernel stub driver, built against the WDK headers by kernel_cross_compile.sh).
DIRS=(core modules tools tests/support tests/unit bench)
# A file elsewhere in these directories that only clang can build says so in its first lines:
CLANG_ONLY_MARKER='nmrh: clang-only'

# Include directories: the union of the CMake targets' (core/CMakeLists.txt: nmrh_core;
# modules/CMakeLists.txt: nmrh_echo; tests/CMakeLists.txt: nmrh_test_support; tools/CMakeLists.txt:
# stress/console for seqload.h).
INCLUDE_DIRS=(core/include core/km/um core/km/netio modules/echo modules/counterparts tests/support stress/console)

# Defines per directory, as the CMake targets set them: keep in step with the
# target_compile_definitions of core/, tools/ and tests/CMakeLists.txt.
defines_for() { # FILE
    case "$1" in
    core/*) echo -D_GNU_SOURCE ;;       # nmrh_core
    tools/*) echo -D_GNU_SOURCE ;;      # nmrh (the command-line tool)
    tests/unit/*) echo -D_GNU_SOURCE ;; # nmrh_unit_test()
    *) ;;                               # nmrh_echo, nmrh_test_support, bench: none
    esac
}

command -v "$GCC" >/dev/null || { echo "SKIPPED: $GCC not found; apt-get install -y gcc"; exit 77; }

FLAGS=(-std=c11 -O2 -Wall -Wextra -Werror -c -o /dev/null)
for d in "${INCLUDE_DIRS[@]}"; do FLAGS+=(-I "$SRC/$d"); done

cd "$SRC"
FILES=()
while IFS= read -r f; do
    if grep -q 'LLVMFuzzerTestOneInput' "$f" || head -n 5 "$f" | grep -q "$CLANG_ONLY_MARKER"; then continue; fi
    FILES+=("$f")
done < <(for d in "${DIRS[@]}"; do [ -d "$d" ] && find "$d" -name '*.c' -type f; done | sort)
[ "${#FILES[@]}" -gt 0 ] || { echo "FAIL: no C source found under ${DIRS[*]}" >&2; exit 1; }

# In parallel, one gcc per file, with that file's defines; a failure prints gcc's diagnostics.
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
JOBS=$(($(nproc 2>/dev/null || echo 2) + 1))
i=0
for f in "${FILES[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    # shellcheck disable=SC2046 # defines_for prints zero or more words
    ( set +e; "$GCC" "${FLAGS[@]}" $(defines_for "$f") "$f" >"$LOGS/$i.log" 2>&1; echo $? >"$LOGS/$i.rc" ) &
    i=$((i + 1))
done
wait

bad=0
for i in "${!FILES[@]}"; do
    if [ "$(cat "$LOGS/$i.rc" 2>/dev/null)" != 0 ]; then
        echo "FAIL: ${FILES[$i]}: gcc ${FLAGS[*]} $(defines_for "${FILES[$i]}")" >&2
        cat "$LOGS/$i.log" >&2
        bad=1
    fi
done
[ "$bad" = 0 ] || exit 1
echo "gcc warnings: ${#FILES[@]} C sources clean under $("$GCC" -dumpfullversion 2>/dev/null || "$GCC" -dumpversion) -std=c11 -Wall -Wextra -Werror"
