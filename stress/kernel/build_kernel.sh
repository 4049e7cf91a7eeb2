#!/usr/bin/env bash
# Cross-builds the kernel replay driver (nmrhstress.sys, with its .pdb) and its console tool
# (nmrstress.exe) on Linux, with clang --target=x86_64-w64-windows-gnu, lld, and mingw-w64's DDK
# headers and import libraries. The Windows route (WDK, CMake + FindWDK) is stress/kernel/CMakeLists.txt.
#
# usage: build_kernel.sh SOURCE_DIR OUT_DIR [--check]
#   --check  inspect the images as well (what the ctest test stress_kernel_build does):
#            nmrhstress.sys: native subsystem; imports only from ntoskrnl.exe, HAL.dll and
#              NETIO.SYS, all nine Nmr* functions from NETIO.SYS; entry point DriverEntry; base
#              relocations, exception (.pdata) table, no TLS, correct checksum; tagged pool only
#              (ExAllocatePoolWithTag/ExAllocatePool2, never the untagged ExAllocatePool); no
#              __chkstk and no __try (no __C_specific_handler); no floating point; every imported
#              variable read with the WDK's indirection (wdk_data_imports.txt); nothing read
#              through gs (KeGetCurrentThread's gs:[0x188] and the like).
#            nmrstress.exe: console subsystem, x64, imports DeviceIoControl and FlushFileBuffers.
# Also builds OUT/wine/netio.sys, the Wine-only NETIO.SYS that runs the driver under Wine
# (stress/wine/run_wine.sh); never for a Windows machine.
# exit: 0 built (and checked), 1 failed, 77 skipped (toolchain or mingw-w64 missing).
# env:  NMRH_KERNEL_EXTRA_SOURCES="a.c b.c", NMRH_KERNEL_EXTRA_INCLUDES="dir ...",
#       NMRH_KERNEL_EXTRA_TARGET=symbol: compile a module of your own into the driver (with the
#       interposer's forced include, like the example modules) and offer its `const nmrh_target
#       symbol` first (docs/kernel-stress.md, "Your own module");
#       NMRH_KERNEL_CC (default clang), NMRH_MINGW_INCLUDE, NMRH_MINGW_LIB,
#       NMRH_DBG (1, the default: checked build, NT_ASSERT active in modules, which bugchecks the
#       test machine on a failed assertion; 0: free build).
#
# What goes into the driver: every .c of tests/build/portable_sources.txt (the portable core:
# sequence codec and interpreter, interposer, IOCTL protocol, replay scheduler, the modules and
# each seeded-bug build of them), the modules compiled with the interposer's forced include, and
# the kernel-only files of this directory.
set -euo pipefail

SRC=$(cd "${1:?usage: build_kernel.sh SOURCE_DIR OUT_DIR [--check]}" && pwd)
OUT=${2:?usage: build_kernel.sh SOURCE_DIR OUT_DIR [--check]}
CHECK=0
[ "${3:-}" = --check ] && CHECK=1
LIST="$SRC/tests/build/portable_sources.txt"
COMPAT="$SRC/tests/build/mingw-ddk-compat"
MINGW_INC=${NMRH_MINGW_INCLUDE:-/usr/share/mingw-w64/include}
MINGW_LIB=${NMRH_MINGW_LIB:-/usr/x86_64-w64-mingw32/lib}
CC=${NMRH_KERNEL_CC:-clang}
DBG=${NMRH_DBG:-1}

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
one_of() { local w=$1 x; shift; for x; do [ "$x" = "$w" ] && return 0; done; return 1; }

# --- toolchain ------------------------------------------------------------------------------
for f in "$MINGW_INC/ddk/wdm.h" "$MINGW_INC/windows.h" "$MINGW_LIB/libntoskrnl.a" "$MINGW_LIB/libhal.a" \
    "$MINGW_LIB/libnetio.a" "$MINGW_LIB/libkernel32.a" "$MINGW_LIB/crt2.o"; do
    [ -e "$f" ] || skip "mingw-w64-x86-64-dev not installed; apt-get install -y mingw-w64-x86-64-dev (missing $f)"
done
command -v "$CC" >/dev/null || skip "$CC not found; apt-get install -y clang"
CC_MAJOR=$("$CC" -dumpversion | cut -d. -f1)
find_llvm_tool() {
    local n
    for n in "$1" "$1-$CC_MAJOR" "/usr/lib/llvm-$CC_MAJOR/bin/$1"; do
        if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    done
    return 1
}
command -v ld.lld >/dev/null || [ -x "/usr/lib/llvm-$CC_MAJOR/bin/ld.lld" ] || skip "lld not installed; apt-get install -y lld"
READOBJ=$(find_llvm_tool llvm-readobj) || skip "llvm-readobj not found; apt-get install -y llvm"
OBJDUMP=$(find_llvm_tool llvm-objdump) || skip "llvm-objdump not found; apt-get install -y llvm"
DLLTOOL=$(find_llvm_tool llvm-dlltool) || skip "llvm-dlltool not found; apt-get install -y llvm"
AR=$(find_llvm_tool llvm-ar) || skip "llvm-ar not found; apt-get install -y llvm"
NM=$(find_llvm_tool llvm-nm) || skip "llvm-nm not found; apt-get install -y llvm"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/obj"
mkdir -p "$OUT/obj/sys" "$OUT/obj/exe" "$OUT/obj/wine" "$OUT/lib" "$OUT/wine"

# --- flags ----------------------------------------------------------------------------------
TARGET=--target=x86_64-w64-windows-gnu
KCFLAGS=(
    "$TARGET" -std=c11 -O2 -g -gcodeview
    -ffreestanding -nostdlibinc
    -isystem "$SRC/stress/kernel/mingw-compat" -isystem "$COMPAT" -isystem "$MINGW_INC/ddk" -isystem "$MINGW_INC"
    -mgeneral-regs-only          # no floating point / SIMD in the kernel
    -mno-stack-arg-probe         # no __chkstk: kernel stacks are small and frames stay below a page
    -fno-stack-protector -fno-jump-tables -fasynchronous-unwind-tables
    -D_AMD64_ -D_WIN32_WINNT=0x0A00 -DNTDDI_VERSION=0x0A000008
    -DPOOL_TAGGING               # keep ExAllocatePoolWithTag tagged (mingw-w64 maps it to ExAllocatePool otherwise)
    -DDBG="$DBG"
    -Wall -Wextra -Werror -Wframe-larger-than=1024
    -I "$SRC/core/include" -I "$SRC/core/km/netio" -I "$SRC/modules/echo" -I "$SRC/modules/counterparts"
)
MODULE_FLAGS=(-include "$SRC/core/interpose/interpose_nmr.h" -include "$SRC/stress/kernel/kernel_module_compat.h")
KERNEL_ONLY=(stress/kernel/platform_kernel.c stress/kernel/dispatch.c stress/kernel/oracle_kernel.c stress/kernel/driver.c)

# --- the driver's sources: portable list + kernel-only files ------------------------------------
SOURCES=() DEFS=()
while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    read -r pattern defs <<<"$line" || true
    [ -n "${pattern:-}" ] || continue
    for f in $(cd "$SRC" && compgen -G "$pattern" | sort); do
        case "$f" in *.c) SOURCES+=("$f"); DEFS+=("${defs:-}") ;; esac
    done
done <"$LIST"
for f in "${KERNEL_ONLY[@]}"; do SOURCES+=("$f"); DEFS+=(""); done
EXTRA=()
for f in ${NMRH_KERNEL_EXTRA_SOURCES:-}; do
    [ -f "$f" ] || fail "NMRH_KERNEL_EXTRA_SOURCES: $f not found"
    EXTRA+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
for d in ${NMRH_KERNEL_EXTRA_INCLUDES:-}; do KCFLAGS+=(-I "$(cd "$d" && pwd)"); done
DISPATCH_DEFS=()
[ -z "${NMRH_KERNEL_EXTRA_TARGET:-}" ] || DISPATCH_DEFS=(-DNMRK_EXTRA_TARGET="$NMRH_KERNEL_EXTRA_TARGET")
[ "${#SOURCES[@]}" -gt 10 ] || fail "$LIST lists too few sources"

# No structured exception handling anywhere in the driver (C has none, but say it).
if grep -n '__try\|__except\|__finally' "${SOURCES[@]/#/$SRC/}" >/dev/null; then
    fail "the driver's sources use __try/__except: not in this driver"
fi

"$DLLTOOL" -m i386:x86-64 -d "$COMPAT/ntoskrnl-extra.def" -l "$OUT/lib/libntoskrnl_extra.a"

JOBS=$(($(nproc 2>/dev/null || echo 2) + 1))
compile() { # OBJ SRC [FLAGS...]   (SRC relative to the source tree, or absolute)
    local obj=$1 src=$2
    shift 2
    case "$src" in /*) ;; *) src="$SRC/$src" ;; esac
    "$CC" "${KCFLAGS[@]}" "$@" -c "$src" -o "$obj" >"$obj.log" 2>&1 || { echo "FAIL: $src" >>"$obj.log"; return 1; }
}
pids=() logs=()
for i in "${!SOURCES[@]}"; do
    f=${SOURCES[$i]} defs=${DEFS[$i]}
    o="$OUT/obj/sys/$(echo "${f%.c}$defs" | tr '/ =' '___' | tr -d -- '-').o"
    extra=()
    case "$f" in modules/*) extra=("${MODULE_FLAGS[@]}") ;; stress/kernel/dispatch.c) extra=("${DISPATCH_DEFS[@]}") ;; esac
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    # shellcheck disable=SC2086 # defines are split on purpose
    compile "$o" "$f" "${extra[@]}" $defs &
    logs+=("$o.log")
done
for i in "${!EXTRA[@]}"; do
    o="$OUT/obj/sys/extra_${i}_$(basename "${EXTRA[$i]%.c}").o"
    compile "$o" "${EXTRA[$i]}" "${MODULE_FLAGS[@]}" &
    logs+=("$o.log")
done
wait || true
bad=0
for l in "${logs[@]}"; do
    if grep -q '^FAIL:\|error:' "$l"; then cat "$l" >&2; bad=1; fi
done
[ "$bad" = 0 ] || fail "the driver does not compile (see above)"

SYS="$OUT/nmrhstress.sys"
# No auto-import: a variable used without its import declaration would otherwise be patched at run
# time by the mingw runtime's pseudo-relocations, which a driver does not have.
# shellcheck disable=SC2054 # lld's commas
"$CC" "$TARGET" -fuse-ld=lld -nostdlib -Wl,--subsystem,native -Wl,--entry,DriverEntry \
    -Wl,--disable-auto-import -Wl,--disable-runtime-pseudo-reloc \
    -Wl,--pdb="$OUT/nmrhstress.pdb" -Wl,-Map="$OUT/nmrhstress.map" -L"$MINGW_LIB" -L"$OUT/lib" \
    -o "$SYS" "$OUT"/obj/sys/*.o -lntoskrnl -lntoskrnl_extra -lhal -lnetio ||
    fail "the driver does not link (an undefined symbol above is something the kernel does not export)"

# Windows requires a correct checksum in drivers (MSVC's /RELEASE); lld 14 does not write one.
"$CC" -O2 -o "$OUT/lib/pe_checksum" "$SRC/stress/kernel/pe_checksum.c"
"$OUT/lib/pe_checksum" "$SYS"
echo "built $SYS (+ nmrhstress.pdb)"

# --- the Wine-only NETIO.SYS (stress/wine/): the NMR test double as a kernel-style DLL,
# for running the driver under Wine (stress/wine/run_wine.sh). Never for a Windows machine. ---------
NETIO="$OUT/wine/netio.sys"
for f in stress/kernel/test_double/ktd_nmr.c stress/kernel/test_double/ktd_nmr_os_kernel.c stress/wine/netio_wine.c \
    stress/wine/wine_supply.c stress/wine/wine_irql.c; do
    "$CC" "${KCFLAGS[@]}" -c "$SRC/$f" -o "$OUT/obj/wine/$(basename "${f%.c}").o" || fail "$f does not compile for the Wine NETIO.SYS"
done
# shellcheck disable=SC2054 # lld's commas
"$CC" "$TARGET" -fuse-ld=lld -nostdlib -shared -Wl,--subsystem,native -Wl,--entry,NetioWineEntry \
    -Wl,--disable-auto-import -Wl,--disable-runtime-pseudo-reloc -L"$MINGW_LIB" \
    -o "$NETIO" "$OUT"/obj/wine/*.o "$SRC/stress/wine/netio.def" -lntoskrnl -lhal -lntdll ||
    fail "the Wine NETIO.SYS does not link"
rm -f "$OUT/wine/netio.lib" "$OUT/wine/libnetio.dll.a"
echo "built $NETIO (Wine only)"

# --- the console tool -------------------------------------------------------------------------
EXE="$OUT/nmrstress.exe"
# __USE_MINGW_ANSI_STDIO: mingw-w64's own C99 printf family (%zu, %llu) rather than msvcrt.dll's.
UCFLAGS=("$TARGET" -std=c11 -O2 -g -gcodeview -isystem "$MINGW_INC" -D_WIN32_WINNT=0x0A00 -D__USE_MINGW_ANSI_STDIO=1
    -Wall -Wextra -Werror)
# Files that include <windows.h> must not see the nmrh headers (their WDK stand-ins clash with it).
WIN_ONLY=(stress/console/os_win32.c stress/console/transport_win32.c)
NMRH_SIDE=(stress/console/nmrstress.c stress/console/compare.c stress/console/obsfile.c stress/console/report.c
    stress/console/seqload.c stress/console/targetdesc.c core/seq/seq_codec.c core/seq/seq_text.c core/seq/seq_print.c
    core/src/knobs.c core/src/rules.c core/interpose/obs.c)
for f in "${WIN_ONLY[@]}"; do
    "$CC" "${UCFLAGS[@]}" -c "$SRC/$f" -o "$OUT/obj/exe/$(basename "${f%.c}").o" || fail "$f does not compile for Windows"
done
for f in "${NMRH_SIDE[@]}"; do
    "$CC" "${UCFLAGS[@]}" -I "$SRC/core/include" -I "$SRC/core/km/um" -I "$SRC/core/km/netio" \
        -c "$SRC/$f" -o "$OUT/obj/exe/$(basename "${f%.c}").o" || fail "$f does not compile for Windows"
done
"$CC" "$TARGET" -c "$SRC/stress/console/chkstk_ms.S" -o "$OUT/obj/exe/chkstk_ms.o"
# clang links libgcc for the mingw target; Debian's clang-only mingw-w64 has none: empty stand-ins
# (what mingw-w64's CRT needs of it, ___chkstk_ms, is chkstk_ms.S).
rm -f "$OUT/lib/libgcc.a" "$OUT/lib/libgcc_eh.a"
"$AR" rc "$OUT/lib/libgcc.a"
"$AR" rc "$OUT/lib/libgcc_eh.a"
"$CC" "$TARGET" -fuse-ld=lld -L"$MINGW_LIB" -L"$OUT/lib" -Wl,--pdb="$OUT/nmrstress.pdb" -o "$EXE" "$OUT"/obj/exe/*.o ||
    fail "nmrstress.exe does not link"
echo "built $EXE (+ nmrstress.pdb)"

[ "$CHECK" = 1 ] || exit 0

# --- inspect the images -----------------------------------------------------------------------
headers=$("$READOBJ" --file-headers "$SYS")
grep -q 'Machine: IMAGE_FILE_MACHINE_AMD64' <<<"$headers" || fail "$SYS is not an x64 image"
grep -q 'Subsystem: IMAGE_SUBSYSTEM_NATIVE' <<<"$headers" || fail "$SYS is not a native (driver) image"
grep -q 'TLSTableRVA: 0x0$' <<<"$headers" || fail "$SYS has a TLS directory"
if grep -q 'ExceptionTableRVA: 0x0$' <<<"$headers"; then fail "$SYS has no exception table (.pdata)"; fi
if grep -q 'BaseRelocationTableSize: 0x0$' <<<"$headers"; then fail "$SYS has no base relocations (a driver loads anywhere)"; fi
"$OUT/lib/pe_checksum" --verify "$SYS" >/dev/null || fail "$SYS has a wrong checksum"
entry=$(awk '/AddressOfEntryPoint:/ {print $2}' <<<"$headers")
base=$(awk '/ImageBase:/ {print $2}' <<<"$headers")
# The link map lists DriverEntry's address (an RVA); it must be the image's entry point.
de=$(awk '$NF == "DriverEntry" {print $1; exit}' "$OUT/nmrhstress.map")
[ -n "$de" ] || fail "DriverEntry is not in the link map"
[ $((16#$de)) -eq $((entry)) ] || [ $((16#$de)) -eq $((base + entry)) ] ||
    fail "the entry point ($entry) is not DriverEntry (0x$de)"

imports=$("$READOBJ" --coff-imports "$SYS")
if grep -q 'DelayImport' <<<"$imports"; then fail "$SYS has delay-load imports"; fi
pairs=$(awk '/^Import \{/ {dll=""} /^  Name: / {dll=$2} /^  Symbol: / && dll != "" {print dll, $2}' <<<"$imports")
[ -n "$pairs" ] || fail "no imports found in $SYS"
nmr=0
while read -r dll sym; do
    lc=$(tr '[:upper:]' '[:lower:]' <<<"$dll")
    one_of "$lc" ntoskrnl.exe hal.dll netio.sys || fail "$SYS imports $sym from $dll (only ntoskrnl.exe, HAL.dll, NETIO.SYS)"
    case "$sym" in
    __chkstk | _chkstk | ___chkstk_ms) fail "$SYS imports $sym: stack probes in a driver" ;;
    __C_specific_handler | _except_handler*) fail "$SYS imports $sym: structured exception handling (__try)" ;;
    ExAllocatePool | ExAllocatePoolWithQuota) fail "$SYS imports untagged $sym (build with POOL_TAGGING)" ;;
    KeSaveFloatingPointState | KeSaveExtendedProcessorState) fail "$SYS imports $sym: floating point" ;;
    Nmr*) [ "$lc" = netio.sys ] || fail "$sym imported from $dll, not NETIO.SYS"; nmr=$((nmr + 1)) ;;
    esac
done <<<"$pairs"
[ "$nmr" = 9 ] || fail "$SYS imports $nmr of the nine Nmr* functions from NETIO.SYS"
# Imported data (variables): each must be read with the WDK's indirection (wdk_data_imports.txt,
# mingw-compat/wdm.h). An import is data when the import library has no code thunk for it. A probe
# compiled with the driver's flags shows what the driver's headers make of the name: `&NAME` is the
# import slot itself (leaq/.refptr to __imp_NAME: the WDK's import alias) or the slot's content
# (movq __imp_NAME: a dllimport variable).
data_table="$SRC/stress/kernel/wdk_data_imports.txt"
ndata=0
declare -A lib_syms=()
while read -r dll sym; do
    lib=$(tr '[:upper:]' '[:lower:]' <<<"${dll%.*}")
    [ -f "$MINGW_LIB/lib$lib.a" ] || continue
    [ -n "${lib_syms[$lib]+set}" ] || lib_syms[$lib]=$(for a in "$MINGW_LIB/lib$lib.a" "$OUT/lib/lib${lib}_extra.a"; do
        if [ -f "$a" ]; then "$NM" "$a" 2>/dev/null | awk 'NF >= 2 && $(NF - 1) == "T" {print $NF}'; fi
    done | sort -u)
    grep -qx "$sym" <<<"${lib_syms[$lib]}" && continue # a code thunk (T): a function
    ndata=$((ndata + 1))
    want=$(awk -v s="$sym" '$1 == s {print $2}' "$data_table")
    [ -n "$want" ] || fail "$SYS imports the variable $sym, which $data_table does not list: look up how the WDK declares it and add it"
    printf '#include <ntddk.h>\nvoid *nmrk_probe(void) { return (void *)&%s; }\n' "$sym" >"$OUT/obj/probe_$sym.c"
    "$CC" "${KCFLAGS[@]}" -Wno-error -S -o "$OUT/obj/probe_$sym.s" "$OUT/obj/probe_$sym.c" 2>/dev/null ||
        fail "cannot compile a probe of $sym with the driver's flags"
    if grep -Eq "leaq[[:space:]]+__imp_$sym\(%rip\)|\.refptr\.__imp_$sym\(%rip\)" "$OUT/obj/probe_$sym.s"; then
        got="alias"
    elif grep -Eq "movq[[:space:]]+__imp_$sym\(%rip\)" "$OUT/obj/probe_$sym.s"; then
        got=dllimport
    else
        got=unknown
    fi
    [ "$got" = "$want" ] || fail "$sym: the driver's headers declare it as $got, the WDK as $want: \`*$sym\` in the driver reads the wrong thing (see stress/kernel/mingw-compat/wdm.h)"
done <<<"$pairs"
# Thread identity and the like through gs (the KPCR): Windows internals the WDK inlines
# (KeGetCurrentThread reads gs:[0x188]); under Wine gs is the user-mode TEB and they read garbage.
# The driver asks exported routines instead (PsGetCurrentThreadId).
gs=$("$OBJDUMP" -d --no-show-raw-insn "$SYS" | grep -E '%gs:' | head -5 || true)
[ -z "$gs" ] || fail "$SYS reads the processor block through gs (KeGetCurrentThread()'s gs:[0x188] and the like; use PsGetCurrentThreadId):"$'\n'"$gs"

fp=$("$OBJDUMP" -d --no-show-raw-insn "$SYS" | awk -F'\t' '/^ *[0-9a-f]+:/ && NF >= 2 {
        m = $2; sub(/ .*/, "", m)
        if (m ~ /^f/ || m ~ /^(ldmxcsr|stmxcsr|emms|xsave|xrstor)/ || $3 ~ /%(x|y|z)?mm[0-9]|%st/) print
    }' | head -5)
[ -z "$fp" ] || fail "floating-point/SIMD instructions in $SYS:"$'\n'"$fp"

eh=$("$READOBJ" --file-headers "$EXE")
grep -q 'Machine: IMAGE_FILE_MACHINE_AMD64' <<<"$eh" || fail "$EXE is not an x64 image"
grep -q 'Subsystem: IMAGE_SUBSYSTEM_WINDOWS_CUI' <<<"$eh" || fail "$EXE is not a console program"
ei=$("$READOBJ" --coff-imports "$EXE")
for sym in DeviceIoControl FlushFileBuffers CreateFileA; do
    grep -q "Symbol: $sym\( (\|$\)" <<<"$ei" || fail "$EXE does not import $sym"
done

echo "checked: $SYS native, $(wc -l <<<"$pairs") imports only from ntoskrnl.exe/HAL.dll/NETIO.SYS (the nine Nmr* from NETIO.SYS), entry DriverEntry, relocations, .pdata, checksum, no TLS/__chkstk/SEH/untagged pool/floating point"
echo "checked: $SYS reads its $ndata imported variable(s) with the WDK's indirection, reads nothing through gs"
echo "checked: $EXE console subsystem, imports DeviceIoControl, FlushFileBuffers, CreateFileA"
