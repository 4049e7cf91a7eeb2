#!/usr/bin/env bash
# Runs the real kernel replay driver, nmrhstress.sys, end to end on Linux under Wine: a fresh Wine
# prefix, the driver installed as a kernel service (sc create ... type= kernel) next to the Wine-only
# NETIO.SYS (the project's NMR test double as a kernel-style DLL, stress/wine/netio_wine.c), then
# nmrstress.exe replays the scenario corpus (compared with the model's predictions), stresses it,
# replays the regression reproducers, and replays a seeded bug that the driver must report. Output
# and the driver's DbgPrint lines are collected; Wine is stopped and the prefix removed at the end.
# What this proves and what it cannot: docs/kernel-stress.md, "Try it on Linux".
#
# usage: run_wine.sh [options]
#   --source DIR        the nmrh source tree (default: the one this script is in)
#   --kernel-out DIR    a build_kernel.sh output (nmrhstress.sys, nmrstress.exe, wine/netio.sys);
#                       default: build one into WORK/kernel
#   --kpredict FILE     nmrh-kpredict, for the predictions (default: build/*/nmrh-kpredict)
#   --work DIR          prefix, corpus copy and results (default: ./nmrh-wine); results in DIR/results
#   --stress-seconds N  length of the stress run (default 10)
#   --threads N         stress workers (default 2)
#   --keep-prefix       leave the prefix (and Wine) running, for poking at it by hand
# env: WINE64 and WINESERVER (default: on PATH, else /usr/lib/wine/), NMRH_WINE_TIMEOUT (seconds
#      for any one Wine command, default 180)
# exit: 0 every check passed; 1 a check failed (see the results); 2 usage; 3 Wine or the driver
#       could not be set up; 77 wine64 is not installed (skipped)
#
# The checks (each prints PASS/FAIL):
#   replay      every scenario, with the NMR double making the choices its prediction shows (the
#               registry value the Wine NETIO.SYS reads, set per group): every one must match the
#               prediction
#   stress      the scenarios that need no choice of the double's, several workers, random
#               delays: no finding, no hang
#   regressions every regression reproducer against --target echo (the correct pair), grouped by
#               NMR choices as the scenarios are: no finding
#   seeded      corpus/regressions/echo-b13.nmrseq against --target echo-b13: the driver reports
#               NMR-UNLOAD-BEFORE-WAIT
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
KOUT="" KPREDICT="" WORK="$PWD/nmrh-wine" STRESS_S=10 THREADS=2 KEEP=0
usage() { sed -n '/^# usage:/,/^# exit:/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --source) SRC=$(cd "${2:?}" && pwd); shift 2 ;;
    --kernel-out) KOUT=${2:?}; shift 2 ;;
    --kpredict) KPREDICT=${2:?}; shift 2 ;;
    --work) WORK=${2:?}; shift 2 ;;
    --stress-seconds) STRESS_S=${2:?}; shift 2 ;;
    --threads) THREADS=${2:?}; shift 2 ;;
    --keep-prefix) KEEP=1; shift ;;
    -h | --help) usage ;;
    *) echo "run_wine.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
case "$STRESS_S$THREADS" in *[!0-9]*) echo "run_wine.sh: --stress-seconds and --threads take numbers" >&2; exit 2 ;; esac

find_tool() { # NAME: on PATH, else Debian's /usr/lib/wine/NAME
    if command -v "$1" >/dev/null 2>&1; then command -v "$1"; elif [ -x "/usr/lib/wine/$1" ]; then echo "/usr/lib/wine/$1"; else return 1; fi
}
WINE=${WINE64:-$(find_tool wine64)} && [ -x "$WINE" ] ||
    { echo "SKIPPED: wine64 is not installed (apt-get install --no-install-recommends wine64)"; exit 77; }
WINESERVER=${WINESERVER:-$(find_tool wineserver)} && [ -x "$WINESERVER" ] ||
    { echo "SKIPPED: wineserver is not installed (apt-get install --no-install-recommends wine64)"; exit 77; }
TMO=${NMRH_WINE_TIMEOUT:-180}

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RES="$WORK/results"
# A previous run killed before its cleanup may have left Wine running on its prefix.
[ -d "$WORK/prefix" ] && WINEPREFIX="$WORK/prefix" timeout 30 "$WINESERVER" -k >/dev/null 2>&1
rm -rf "$RES" "$WORK/prefix" "$WORK/corpus" "$WORK/home"
mkdir -p "$RES" "$WORK/corpus/scenarios" "$WORK/corpus/regressions"
LOG="$RES/wine.log"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }
setup_fail() { say "ERROR: $*"; exit 3; }

# --- the binaries and the predictions ---------------------------------------------------------
if [ -z "$KOUT" ]; then
    KOUT="$WORK/kernel"
    say "building the driver into $KOUT"
    bash "$SRC/stress/kernel/build_kernel.sh" "$SRC" "$KOUT" >>"$LOG" 2>&1
    rc=$?
    [ "$rc" = 77 ] && { tail -1 "$LOG"; exit 77; }
    [ "$rc" = 0 ] || setup_fail "build_kernel.sh failed (see $LOG)"
fi
for f in nmrhstress.sys nmrstress.exe wine/netio.sys; do
    # (A build_kernel.sh that skipped for want of mingw-w64 leaves nothing: skip as it did.)
    [ -f "$KOUT/$f" ] || { say "SKIPPED: $KOUT/$f not found (stress/kernel/build_kernel.sh did not build it; mingw-w64-x86-64-dev missing?)"; exit 77; }
done
if [ -z "$KPREDICT" ]; then
    for f in "$SRC"/build/*/nmrh-kpredict; do [ -x "$f" ] && KPREDICT=$f && break; done
fi
[ -n "$KPREDICT" ] && [ -x "$KPREDICT" ] || setup_fail "nmrh-kpredict not found: build it (cmake --build --preset asan --target nmrh-kpredict) or pass --kpredict"
cp "$SRC"/corpus/scenarios/*.nmrseq "$WORK/corpus/scenarios/"
cp "$SRC"/corpus/regressions/*.nmrseq "$WORK/corpus/regressions/"
"$KPREDICT" --target echo "$WORK"/corpus/scenarios/*.nmrseq "$WORK"/corpus/regressions/*.nmrseq >>"$LOG" 2>&1
[ $? -le 1 ] || setup_fail "nmrh-kpredict failed (see $LOG)"

# --- the prefix -------------------------------------------------------------------------------
export WINEPREFIX="$WORK/prefix" WINEARCH=win64
# No dialogs, no X, no Mono/Gecko installers, no menu entries; the driver's and NETIO's DbgPrint
# lines are Wine's debugstr warnings, on the stderr of whichever Wine command started the service
# host (all logs are searched for them at the end).
unset DISPLAY WAYLAND_DISPLAY
export WINEDEBUG=-all,warn+debugstr
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;netio.sys=n"
# Nothing outside the work directory: Wine links the prefix's user folders to $HOME.
WHOME="$WORK/home"
export HOME="$WHOME" XDG_CONFIG_HOME="$WHOME/.config" XDG_DATA_HOME="$WHOME/.local/share" XDG_CACHE_HOME="$WHOME/.cache"
mkdir -p "$WHOME"
KEEPALIVE=""
cleanup() {
    if [ "$KEEP" = 1 ]; then
        say "prefix kept: WINEPREFIX=$WINEPREFIX; stop it with: WINEPREFIX=$WINEPREFIX $WINESERVER -k"
        return
    fi
    timeout 30 "$WINE" sc stop nmrhstress >/dev/null 2>&1
    WINEPREFIX="$WINEPREFIX" timeout 30 "$WINESERVER" -k >/dev/null 2>&1
    [ -n "$KEEPALIVE" ] && kill "$KEEPALIVE" 2>/dev/null
    WINEPREFIX="$WINEPREFIX" timeout 30 "$WINESERVER" -w >/dev/null 2>&1
    rm -rf "$WINEPREFIX" "$WHOME"
}
trap cleanup EXIT
trap 'exit 3' INT TERM

w() { timeout -k 10 "$TMO" "$WINE" "$@"; } # one Wine command, never hanging for good

start=$(date +%s)
timeout -k 10 "$TMO" "$WINE" wineboot -i >>"$LOG" 2>&1 || setup_fail "wineboot failed (see $LOG)"
timeout -k 10 "$TMO" "$WINESERVER" -w || setup_fail "Wine did not finish creating the prefix"
say "prefix ready in $(($(date +%s) - start)) s: $WINEPREFIX"
# The session: one idle cmd.exe keeps wineserver (and so services.exe and the driver's
# winedevice.exe) alive between the commands below.
mkfifo "$WORK/keepalive.fifo" 2>/dev/null || setup_fail "cannot make $WORK/keepalive.fifo"
# (Bounded: if this script is killed before its cleanup, Wine winds down by itself.)
timeout -k 10 900 "$WINE" cmd.exe /k <"$WORK/keepalive.fifo" >/dev/null 2>"$RES/session.log" &
KEEPALIVE=$!
exec 9>"$WORK/keepalive.fifo" # holds the fifo open: cmd.exe waits for input until the end
rm -f "$WORK/keepalive.fifo"

C="$WINEPREFIX/drive_c/nmrh"
mkdir -p "$C/obs/scenarios" "$C/obs/regressions" # the replays' observations (--save-obs), collected into $RES/obs
cp "$KOUT/nmrhstress.sys" "$KOUT/nmrstress.exe" "$KOUT/wine/netio.sys" "$C/"
cp -r "$WORK/corpus" "$C/corpus"
w sc create nmrhstress type= kernel start= demand binPath= 'C:\nmrh\nmrhstress.sys' >>"$LOG" 2>&1
for _ in 1 2 3; do # the first start can come before services.exe is ready
    w sc start nmrhstress >"$RES/sc-start.txt" 2>&1
    grep -q 'RUNNING' "$RES/sc-start.txt" && break
    w sc query nmrhstress >>"$RES/sc-start.txt" 2>&1
    sleep 2
done
grep -q 'RUNNING' "$RES/sc-start.txt" || setup_fail "the driver did not start: $(cat "$RES/sc-start.txt")"
w 'C:\nmrh\nmrstress.exe' info >"$RES/info.txt" 2>&1 || setup_fail "nmrstress info failed: $(cat "$RES/info.txt")"
say "driver started: $(head -1 "$RES/info.txt")"

fails=0
check() { # NAME OK MESSAGE
    if [ "$2" = 0 ]; then say "PASS: $1"; else say "FAIL: $1: $3"; fails=$((fails + 1)); fi
}
set_nmr_choices() { # the Wine NETIO.SYS reads this before a registration when none is alive
    w reg add 'HKLM\Software\nmrh' /v WineNetioNmr /t REG_SZ /d "$1" /f >>"$LOG" 2>&1
}

# --- replay, grouped by the choices the NMR double must make ------------------------------------
# The choices a scenario asks of the NMR, as the double's words (NMRH_LOOPBACK_NMR's): its knob
# lines, and for a knob left to the chooser what the prediction shows the model chose.
choices_of() { # FILE.nmrseq
    local seq=$1 obs=${1%.nmrseq}.nmrobs c=()
    grep -Eq '^knob +detach-order +provider-first' "$seq" && c+=(provider-first)
    grep -Eq '^knob +detach-thread +worker( |$)' "$seq" && c+=(detach-on-worker)
    grep -Eq '^knob +detach-thread +worker-per-side' "$seq" && c+=(detach-per-side)
    if grep -Eq '^knob +detach-irql +dispatch' "$seq" ||
        { grep -Eq '^knob +detach-irql +choose' "$seq" &&
            grep -Eq '^callback (ClientDetachProvider|ProviderDetachClient) .* irql=2' "$obs"; }; then
        c+=(detach-at-dispatch)
    fi
    grep -Eq '^knob +cleanup +deferred' "$seq" && c+=(cleanup-deferred)
    grep -Eq '^knob +handle-write +after-attach' "$seq" && c+=(handle-after-attach)
    local IFS=,
    echo "${c[*]:-default}"
}
# Replays every sequence of corpus/DIR, one nmrstress run per group of the same NMR choices, into
# $RES/OUT.txt; fills GROUP (choices -> names) and counts total, passed and bad (the lines of those
# that did not match the prediction).
replay_grouped() { # DIR OUT
    local dir=$1 out=$2 g b f line files
    GROUP=()
    for f in "$WORK/corpus/$dir"/*.nmrseq; do
        b=$(basename "$f" .nmrseq)
        g=$(choices_of "$f")
        GROUP[$g]+=" $b"
    done
    : >"$RES/$out.txt"
    passed=0 total=0 bad=()
    for g in $(printf '%s\n' "${!GROUP[@]}" | sort); do
        files=()
        for b in ${GROUP[$g]}; do files+=("C:\\nmrh\\corpus\\$dir\\$b.nmrseq"); done
        set_nmr_choices "$([ "$g" = default ] || echo "$g")"
        echo "== NMR double: $g" >>"$RES/$out.txt"
        w 'C:\nmrh\nmrstress.exe' replay --target echo --journal 'C:\nmrh\journal.log' --junit "C:\\nmrh\\$out-${g//,/-}.xml" \
            --save-obs "C:\\nmrh\\obs\\$dir" "${files[@]}" >>"$RES/$out.txt" 2>&1
        for b in ${GROUP[$g]}; do
            total=$((total + 1))
            line=$(grep -E "^[A-Z]+ +C:.*\\\\$b\\.nmrseq " "$RES/$out.txt" | tail -1)
            if [[ "$line" == PASS*"as the model predicts"* ]]; then
                passed=$((passed + 1))
            else
                bad+=("$b (NMR double: $g): ${line:-no result line}")
            fi
        done
    done
}
declare -A GROUP=()
replay_grouped scenarios replay
say "replay: $total scenarios, $passed as the model predicts"
check replay $((${#bad[@]} > 0 || total == 0)) "$(printf '\n  %s' "${bad[@]}")"

# --- stress: the scenarios the double follows with its default choices -----------------------
set_nmr_choices ""
sfiles=()
# (GROUP: still the scenarios' groups)
for b in ${GROUP[default]:-}; do sfiles+=("C:\\nmrh\\corpus\\scenarios\\$b.nmrseq"); done
w 'C:\nmrh\nmrstress.exe' stress --target echo --threads "$THREADS" --duration "$STRESS_S" --chunk "$STRESS_S" \
    --max-delay-us 200 --seed 1 --hang-ms 20000 --journal 'C:\nmrh\journal.log' --junit 'C:\nmrh\stress.xml' \
    "${sfiles[@]}" >"$RES/stress.txt" 2>&1
rc=$?
runs=$(awk '/^stress: [0-9]+ sequences run/ {print $2}' "$RES/stress.txt")
runs=${runs:-0}
say "stress: $THREADS workers, $STRESS_S s, $runs sequence runs ($(tail -1 "$RES/stress.txt"))"
# Clean: no finding, no hang, no error, something ran. (A sequence the random choice never picked in
# a short run on a loaded machine is not a failure of the driver.)
sbad=$(grep -E '^(FINDING|HANG|ERROR|DIVERGED)' "$RES/stress.txt" | grep -v 'never ran' | head -20)
check stress $((runs == 0 || rc > 2 || ${#sbad} > 0)) "exit $rc: ${sbad:-nothing ran}"

# --- the regression reproducers against the correct pair ---------------------------------------
# (Grouped by NMR choices as the scenarios are, so that their observations can match the model's
# too; the check is that the correct pair has no finding.)
replay_grouped regressions regressions
findings=$(grep -c '^FINDING' "$RES/regressions.txt")
say "regressions: $total reproducers against --target echo, $findings finding(s), $passed as the model predicts"
check regressions $((findings != 0 || total == 0 || $(grep -cE '^(ERROR|HANG)' "$RES/regressions.txt") != 0)) \
    "$(grep -E '^(FINDING|ERROR|HANG)' -A2 "$RES/regressions.txt" | head -20)"

# --- a seeded bug the driver must report --------------------------------------------------------
# (A copy without the prediction, which is the correct pair's.)
mkdir -p "$C/seeded"
cp "$WORK/corpus/regressions/echo-b13.nmrseq" "$C/seeded/"
w 'C:\nmrh\nmrstress.exe' replay --target echo-b13 --journal 'C:\nmrh\journal.log' \
    'C:\nmrh\seeded\echo-b13.nmrseq' >"$RES/seeded.txt" 2>&1
rc=$?
grep -q '^FINDING.*NMR-UNLOAD-BEFORE-WAIT' "$RES/seeded.txt"
check seeded-bug $((rc != 1 || $? != 0)) "echo-b13 should be FINDING NMR-UNLOAD-BEFORE-WAIT (exit 1), got exit $rc: $(cat "$RES/seeded.txt")"

# --- collect ------------------------------------------------------------------------------------
cp "$C"/*.xml "$C"/journal.log "$RES/" 2>/dev/null
cp -r "$C/obs" "$RES/obs" 2>/dev/null
w sc stop nmrhstress >>"$LOG" 2>&1
sleep 1
# winedevice.exe writes to the stderr of whichever Wine process its session came from: search all.
cat "$RES"/*.log "$RES"/*.txt | sed -n 's/^[0-9a-f]*:warn:debugstr:vDbgPrintExWithPrefix [0-9a-f]*:[0-9a-f]*: //p' >"$RES/dbgprint.tmp"
mv "$RES/dbgprint.tmp" "$RES/dbgprint.log"
grep -q 'nmrhstress: loaded' "$RES/dbgprint.log"
check dbgprint $? "the driver's DbgPrint line 'nmrhstress: loaded' is not in $RES/dbgprint.log"
say "done in $(($(date +%s) - start)) s: $fails check(s) failed; results in $RES"
[ "$fails" = 0 ]
