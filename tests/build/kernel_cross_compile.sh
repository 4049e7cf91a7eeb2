#!/usr/bin/env bash
# Kernel cross-compile check: the portable parts of nmrh (tests/build/portable_sources.txt) must
# compile for the Windows kernel (x64) and link into a driver that imports only from ntoskrnl.exe,
# HAL.dll and NETIO.SYS, with no floating point and no libc beyond mem*.
#
# Compiles each listed .c with clang --target=x86_64-w64-windows-gnu against mingw-w64's DDK
# headers, in a free (DBG=0) and a checked (DBG=1) configuration, compiles each listed .h on its
# own, links the objects with kernel_stub_driver.c into a .sys with lld, and inspects the image.
#
# usage: kernel_cross_compile.sh SOURCE_DIR [WORK_DIR]
#   WORK_DIR keeps objects and the .sys for inspection (default: a temporary directory).
# exit: 0 pass, 1 fail, 77 skipped (toolchain or mingw-w64 missing).
# env:  NMRH_KERNEL_CC (default clang), NMRH_MINGW_INCLUDE, NMRH_MINGW_LIB.
set -euo pipefail

SRC=$(cd "${1:?usage: kernel_cross_compile.sh SOURCE_DIR [WORK_DIR]}" && pwd)
HERE="$SRC/tests/build"
LIST="$HERE/portable_sources.txt"
COMPAT="$HERE/mingw-ddk-compat"
MINGW_INC=${NMRH_MINGW_INCLUDE:-/usr/share/mingw-w64/include}
MINGW_LIB=${NMRH_MINGW_LIB:-/usr/x86_64-w64-mingw32/lib}
CC=${NMRH_KERNEL_CC:-clang}

# Include directories of the portable code in the kernel build: those of the CMake targets
# nmrh_core and nmrh_echo, without core/km/um (the user-mode stand-ins for the WDK headers).
KERNEL_INCLUDE_DIRS=(core/include core/km/netio modules/echo modules/counterparts)

# The only headers in <...> that portable code may include: the WDK's and freestanding C11's.
ALLOWED_SYSTEM_HEADERS=(ntddk.h wdm.h ntifs.h netioddk.h initguid.h
    stddef.h stdint.h stdbool.h stdarg.h limits.h stdalign.h stdnoreturn.h string.h)

# The only DLLs the driver may import from, and the only lower-case/underscore names (C runtime
# style) it may import: ntoskrnl.exe's mem* functions. Kernel API names are CamelCase.
ALLOWED_DLLS=(ntoskrnl.exe hal.dll netio.sys) # compared in lower case
ALLOWED_CRT_IMPORTS=(memcpy memmove memset memcmp)
# Kernel APIs whose only purpose is to let a driver use floating point / SIMD registers.
FORBIDDEN_IMPORTS=(KeSaveFloatingPointState KeRestoreFloatingPointState KeSaveExtendedProcessorState
    KeRestoreExtendedProcessorState)

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
one_of() { # WORD LIST...: is WORD one of LIST?
    local w=$1 x
    shift
    for x; do [ "$x" = "$w" ] && return 0; done
    return 1
}

# --- toolchain ------------------------------------------------------------------------------
for f in "$MINGW_INC/ddk/wdm.h" "$MINGW_INC/ddk/ntddk.h" "$MINGW_LIB/libntoskrnl.a" "$MINGW_LIB/libhal.a" \
    "$MINGW_LIB/libnetio.a"; do
    [ -e "$f" ] || skip "mingw-w64-x86-64-dev not installed; apt-get install -y mingw-w64-x86-64-dev (missing $f)"
done
command -v "$CC" >/dev/null || skip "$CC not found; apt-get install -y clang"
CC_MAJOR=$("$CC" -dumpversion | cut -d. -f1)
find_llvm_tool() { # NAME: NAME or NAME-<clang major>, from PATH or clang's own bin directory
    local n
    for n in "$1" "$1-$CC_MAJOR" "/usr/lib/llvm-$CC_MAJOR/bin/$1"; do
        if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    done
    return 1
}
command -v ld.lld >/dev/null || [ -x "/usr/lib/llvm-$CC_MAJOR/bin/ld.lld" ] ||
    skip "lld not installed (links the test driver); apt-get install -y lld"
READOBJ=$(find_llvm_tool llvm-readobj) || skip "llvm-readobj not found; apt-get install -y llvm"
OBJDUMP=$(find_llvm_tool llvm-objdump) || skip "llvm-objdump not found; apt-get install -y llvm"
NM=$(find_llvm_tool llvm-nm) || skip "llvm-nm not found; apt-get install -y llvm"
DLLTOOL=$(find_llvm_tool llvm-dlltool) || skip "llvm-dlltool not found; apt-get install -y llvm"

if [ -n "${2:-}" ]; then
    WORK=$2
    mkdir -p "$WORK"
    rm -rf "${WORK:?}/headers" "$WORK/free" "$WORK/checked" "$WORK/libntoskrnl_extra.a"
else
    WORK=$(mktemp -d)
    trap 'rm -rf "$WORK"' EXIT
fi

# --- the portable files -----------------------------------------------------------------------
# A .c line may carry -D defines after the path: that file is compiled once more with them
# (the seeded-bug builds of the echo pair). SOURCE_DEFS[i] holds the defines of SOURCES[i].
SOURCES=() SOURCE_DEFS=() HEADERS=()
while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    read -r pattern defs <<<"$line" || true
    [ -n "${pattern:-}" ] || continue
    for d in ${defs:-}; do
        case "$d" in -D*) ;; *) fail "$LIST: '$d' after $pattern: only -D defines may follow a path" ;; esac
    done
    line=$pattern
    matched=0
    for f in $(cd "$SRC" && compgen -G "$line" | sort); do
        matched=1
        case "$f" in
        *.c) SOURCES+=("$f"); SOURCE_DEFS+=("${defs:-}") ;;
        *.h) HEADERS+=("$f") ;;
        *) fail "$LIST: $f is neither .c nor .h" ;;
        esac
    done
    [ "$matched" = 1 ] || fail "$LIST: '$line' matches no file (moved or removed? update the list)"
done <"$LIST"
[ "${#SOURCES[@]}" -gt 0 ] || fail "$LIST lists no .c file"

# Only WDK and freestanding headers in <...> (a clear message before the compiler or linker says
# something less direct about stdio.h or math.h).
bad=0
for f in "${SOURCES[@]}" "${HEADERS[@]}"; do
    while IFS= read -r inc; do
        h=$(echo "$inc" | sed -E 's/.*<([^>]*)>.*/\1/')
        one_of "$h" "${ALLOWED_SYSTEM_HEADERS[@]}" ||
            { echo "FAIL: $f includes <$h>: portable code may include only <${ALLOWED_SYSTEM_HEADERS[*]}>" >&2; bad=1; }
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$SRC/$f" || true)
done
[ "$bad" = 0 ] || exit 1

# --- flags --------------------------------------------------------------------------------------
TARGET=--target=x86_64-w64-windows-gnu
KCFLAGS=(
    "$TARGET" -std=c11 -O2
    -ffreestanding               # no hosted C library (implies -fno-builtin)
    -nostdlibinc                 # no /usr/include; keeps clang's own stddef.h, stdint.h, ...
    -isystem "$COMPAT" -isystem "$MINGW_INC/ddk" -isystem "$MINGW_INC"
    -mgeneral-regs-only          # no x87/MMX/SSE/AVX: floating point becomes soft-float calls
    -fno-stack-protector         # no __stack_chk_* (the WDK's /GS cookie library is not here)
    -fno-jump-tables             # this target puts jump tables in .text, where the SIMD scan
                                 # below would read their offsets as x87 instructions
    -fasynchronous-unwind-tables # x64 kernel code needs .pdata/.xdata (off with -ffreestanding)
    -D_AMD64_ -D_WIN32_WINNT=0x0A00 -DNTDDI_VERSION=0x0A000008 # Windows 10 2004: ExAllocatePool2
    -Wall -Wextra -Wpedantic -Werror
    -Wframe-larger-than=1024     # kernel stacks are small; the WDK's driver analysis warns at 1 KiB
)
for d in "${KERNEL_INCLUDE_DIRS[@]}"; do KCFLAGS+=(-I "$SRC/$d"); done
# shellcheck disable=SC2054 # the commas are lld's
LDFLAGS=(
    "$TARGET" -fuse-ld=lld -nostdlib
    -Wl,--subsystem,native -Wl,--entry,DriverEntry
    -L"$MINGW_LIB" -L"$WORK"
)
LIBS=(-lntoskrnl -lntoskrnl_extra -lhal -lnetio)

# ntoskrnl.exe exports that this mingw-w64's libntoskrnl.a may lack; linked after -lntoskrnl, so
# mingw-w64's own entries win.
"$DLLTOOL" -m i386:x86-64 -d "$COMPAT/ntoskrnl-extra.def" -l "$WORK/libntoskrnl_extra.a"

# Undefined symbols that mean floating point: soft-float helpers and MSVC's _fltused.
SOFT_FLOAT_RE='^(_fltused|__[a-z]*(sf|df|tf|xf|hf)[a-z]*[0-9]?)$'

check_image() { # SYS CONFIG
    local sys=$1 cfg=$2 headers imports dll sym name
    headers=$("$READOBJ" --file-headers "$sys")
    grep -q 'Subsystem: IMAGE_SUBSYSTEM_NATIVE' <<<"$headers" || fail "$cfg: $sys is not a native (driver) image"
    grep -q 'TLSTableRVA: 0x0$' <<<"$headers" ||
        fail "$cfg: $sys has a TLS directory: drivers cannot use _Thread_local / thread-local storage"
    if grep -q 'ExceptionTableRVA: 0x0$' <<<"$headers"; then
        fail "$cfg: $sys has no exception table (.pdata): x64 kernel code needs unwind data"
    fi
    imports=$("$READOBJ" --coff-imports "$sys")
    if grep -q 'DelayImport' <<<"$imports"; then fail "$cfg: $sys has delay-load imports (not in a driver)"; fi
    # "dll symbol" pairs
    imports=$(awk '/^Import \{/ {dll=""} /^  Name: / {dll=$2} /^  Symbol: / && dll != "" {print dll, $2}' <<<"$imports")
    [ -n "$imports" ] || fail "$cfg: no imports found in $sys (llvm-readobj output changed?)"
    while read -r dll sym; do
        name=$(tr '[:upper:]' '[:lower:]' <<<"$dll")
        one_of "$name" "${ALLOWED_DLLS[@]}" || fail "$cfg: $sys imports $sym from $dll (only ntoskrnl.exe, HAL.dll, NETIO.SYS)"
        if one_of "$sym" "${FORBIDDEN_IMPORTS[@]}"; then
            fail "$cfg: $sys imports $sym from $dll: no floating point in portable code"
        fi
        case "$sym" in
        [A-Z]*) ;; # kernel API
        *) one_of "$sym" "${ALLOWED_CRT_IMPORTS[@]}" ||
            fail "$cfg: $sys imports C runtime function $sym from $dll: no libc beyond mem* in portable code" ;;
        esac
    done <<<"$imports"
    # Belt and braces for -mgeneral-regs-only (inline asm, a flag lost on the way): no x87, MMX,
    # SSE or AVX instruction or register anywhere in the code.
    local fp
    fp=$("$OBJDUMP" -d --no-show-raw-insn "$sys" | awk -F'\t' '/^ *[0-9a-f]+:/ && NF >= 2 {
            m = $2; sub(/ .*/, "", m)
            if (m ~ /^f/ || m ~ /^(ldmxcsr|stmxcsr|emms|xsave|xrstor)/ || $3 ~ /%(x|y|z)?mm[0-9]|%st/) print
        }' | head -5)
    [ -z "$fp" ] || fail "$cfg: floating-point/SIMD instructions in $sys:"$'\n'"$fp"
    echo "$imports"
}

# --- compile (in parallel), link, inspect -----------------------------------------------------
JOBS=$(($(nproc 2>/dev/null || echo 2) + 1))
spawn() { # LOG COMMAND...: run in the background, at most JOBS at once; status goes to LOG.rc
    local log=$1
    shift
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    ( set +e; "$@" >"$log" 2>&1; echo $? >"$log.rc" ) &
}
compile_c() { # CONFIG DBG SOURCE OBJECT [DEFINES...]
    local cfg=$1 dbg=$2 src=$3 obj=$4
    shift 4
    "$CC" "${KCFLAGS[@]}" -DDBG="$dbg" "$@" -c "$SRC/$src" -o "$obj" ||
        { echo "FAIL: $cfg: $src $* does not compile for the kernel"; return 1; }
    set -- "$cfg" "$dbg" "$src" "$obj"
    local fl
    fl=$("$NM" -u "$4" | awk '{print $NF}' | grep -E "$SOFT_FLOAT_RE" | tr '\n' ' ' || true)
    [ -z "$fl" ] || { echo "FAIL: $1: $3 uses floating point (calls soft-float helpers: $fl)"; return 1; }
}
compile_h() { # HEADER
    "$CC" "${KCFLAGS[@]}" -DDBG=1 -fsyntax-only -x c "$SRC/$1" ||
        { echo "FAIL: $1 does not compile on its own for the kernel"; return 1; }
}
failed_jobs() { # LOG...: print the logs of failed jobs; status 1 if any failed
    local log bad=0
    for log in "$@"; do
        if [ "$(cat "$log.rc" 2>/dev/null)" != 0 ]; then cat "$log" >&2; bad=1; fi
    done
    return "$bad"
}

logs=()
# Headers on their own, once (checked build: NT_ASSERT and friends expand to code).
mkdir -p "$WORK/headers"
for h in "${HEADERS[@]}"; do
    log="$WORK/headers/$(echo "$h" | tr / _).log"
    logs+=("$log")
    spawn "$log" compile_h "$h"
done
# Sources, free (DBG=0) and checked (DBG=1).
for cfg in free checked; do
    dbg=0
    [ "$cfg" = checked ] && dbg=1
    mkdir -p "$WORK/$cfg"
    for i in "${!SOURCES[@]}" stub; do
        if [ "$i" = stub ]; then f=tests/build/kernel_stub_driver.c defs=""; else f=${SOURCES[$i]} defs=${SOURCE_DEFS[$i]}; fi
        o="$WORK/$cfg/$(echo "${f%.c}$defs" | tr '/ =' '___' | tr -d -- '-').o"
        logs+=("$o.log")
        # shellcheck disable=SC2086 # defines are split on purpose
        spawn "$o.log" compile_c "$cfg" "$dbg" "$f" "$o" $defs
    done
done
wait
failed_jobs "${logs[@]}" || fail "portable code does not compile for the kernel (see above)"

for cfg in free checked; do
    objs=("$WORK/$cfg"/*.o)
    sys="$WORK/$cfg/nmrh_kernel_check.sys"
    if ! "$CC" "${LDFLAGS[@]}" -o "$sys" "${objs[@]}" "${LIBS[@]}"; then
        fail "$cfg: link failed: an undefined symbol above is something the kernel does not export to
drivers (C library, floating-point helpers, user-mode harness code) or a missing definition"
    fi
    imports=$(check_image "$sys" "$cfg")
    echo "$cfg: $sys"
done
echo "imports:"
while read -r dll sym; do echo "  $dll!$sym"; done <<<"$imports"
echo "kernel cross-compile: ${#SOURCES[@]} sources + stub compiled free and checked, linked with lld; ${#HEADERS[@]} headers compiled on their own; imports only from ntoskrnl.exe/HAL.dll/NETIO.SYS, no floating point, no libc beyond mem*"
