# Shared helpers of the seq-area shell tests (sourced). Each test script counts its checks and
# ends with check_summary, which prints "NAME: N passed, M failed" and sets the exit status.
CHECK_PASSED=0
CHECK_FAILED=0
CHECK_NAME=${CHECK_NAME:-$(basename "$0" .sh)}

pass() { CHECK_PASSED=$((CHECK_PASSED + 1)); }
fail() {
    CHECK_FAILED=$((CHECK_FAILED + 1))
    printf '%s: FAIL: %s\n' "$CHECK_NAME" "$*" >&2
}
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then pass; else fail "$what"; fi
}
# check_status WANT DESCRIPTION COMMAND...: passes when the command exits with status WANT.
check_status() {
    local want=$1 what=$2 got
    shift 2
    "$@"
    got=$?
    if [ "$got" -eq "$want" ]; then pass; else fail "$what (exit $got, expected $want)"; fi
}
# quiet COMMAND...: runs the command with its output discarded (for check / check_status).
quiet() { "$@" >/dev/null 2>&1; }
check_summary() {
    printf '%s: %d passed, %d failed\n' "$CHECK_NAME" "$CHECK_PASSED" "$CHECK_FAILED"
    [ "$CHECK_FAILED" -eq 0 ]
}

# The trace of a replay with event numbers dropped and runs of spaces folded.
normalised_trace() { "$NMRH" replay --trace "$1" | sed -E 's/^ *[0-9]+  //; s/ +/ /g'; }
