#!/usr/bin/env bash
# The nmrh tool's interface: a malformed sequence is reported as FILE:LINE:COL: error: ... with
# exit status 2 (by replay, fmt and convert alike), usage errors exit 2 with the usage text, and
# every subcommand's --help exits 0.
#
# usage: cli.sh NMRH SOURCE_DIR WORK_DIR
set -u
NMRH=$1
SRC=$2
WORK=$3
. "$SRC/tests/seq/lib.sh"
rm -rf "$WORK"
mkdir -p "$WORK"
GOOD=$SRC/corpus/scenarios/detach-idle.nmrseq

# expect_error FILE LINE:COL PHRASE: replay, fmt and convert each print "FILE:LINE:COL: error:"
# with PHRASE on standard error, nothing on standard output, and exit 2.
expect_error() {
    local file=$1 where=$2 phrase=$3 cmd out err status
    for cmd in replay fmt convert; do
        "$NMRH" $cmd "$file" >"$WORK/out" 2>"$WORK/err"
        status=$?
        err=$(cat "$WORK/err")
        if [ $status -eq 2 ]; then pass; else fail "$cmd $(basename "$file"): exit $status, expected 2"; fi
        case $err in
            "$file:$where: error: "*"$phrase"*) pass ;;
            *) fail "$cmd $(basename "$file"): stderr is '$err', expected '$file:$where: error: ...$phrase...'" ;;
        esac
        check "$cmd $(basename "$file"): nothing on standard output" test ! -s "$WORK/out"
    done
}

bad() { printf "$2" >"$WORK/$1.nmrseq"; }
bad unknown-statement 'm0 = echo-client\nlaunch m0\n'
expect_error "$WORK/unknown-statement.nmrseq" 2:1 "unknown statement 'launch'"
bad undeclared 'm0 = echo-client\nload m0\nunload m2\n'
expect_error "$WORK/undeclared.nmrseq" 3:8 "'m2' is not declared"
bad thread-order 'm0 = echo-client\nload m0\nt2 = call m0\n'
expect_error "$WORK/thread-order.nmrseq" 3:1 "threads are started in order: expected t1"
bad bad-option 'm0 = generic-provider depth=3\n'
expect_error "$WORK/bad-option.nmrseq" 1:23 "unknown option 'depth'"
bad bad-value '# a comment\nm0 = echo-provider version=9\n'
expect_error "$WORK/bad-value.nmrseq" 2:28 "unknown value '9' (expected one of: 2, 1)"
bad count 'm0 = echo-client\nload m0\nstep t0 99\n'
expect_error "$WORK/count.nmrseq" 3:9 "expected a step count from 1 to 16"
bad garbage 'm0 = echo-client\nrun now\n'
expect_error "$WORK/garbage.nmrseq" 2:5 "expected a thread"
bad modules 'm0 = echo-client\nm1 = echo-client\nm2 = echo-client\nm3 = echo-client\nm4 = echo-client\nm5 = echo-client\nm6 = echo-client\nm7 = echo-client\nm8 = echo-client\n'
expect_error "$WORK/modules.nmrseq" 9:1 "too many modules"
# A binary sequence saved under a text name is refused, not misread.
"$NMRH" convert "$GOOD" -o "$WORK/binary.bin"
cp "$WORK/binary.bin" "$WORK/binary-as-text.nmrseq"
expect_error "$WORK/binary-as-text.nmrseq" 1:1 "unexpected NUL byte: this is not a text sequence"

# Several files: the bad one is reported, the good one still replayed, the status is 2.
"$NMRH" replay "$GOOD" "$WORK/count.nmrseq" >"$WORK/out" 2>"$WORK/err"
status=$?
check "replay of a good and a bad file exits 2" test $status -eq 2
check "the good file was replayed" grep -q "^clean:" "$WORK/out"
check "the bad file was reported" grep -q "count.nmrseq:3:9: error:" "$WORK/err"

# A missing file.
check_status 2 "replay of a missing file" quiet "$NMRH" replay "$WORK/no-such-file.nmrseq"
check "a missing file is named" bash -c "'$NMRH' replay '$WORK/no-such-file.nmrseq' 2>&1 | grep -q 'no-such-file.nmrseq: error: cannot read'"

# Usage errors: exit 2 and the usage text on standard error.
usage_error() {
    local what=$1
    shift
    "$NMRH" "$@" >"$WORK/out" 2>"$WORK/err"
    local status=$?
    if [ $status -eq 2 ]; then pass; else fail "usage error '$what': exit $status, expected 2"; fi
    check "usage error '$what': says usage" grep -q "usage: nmrh" "$WORK/err"
}
usage_error "no command"
usage_error "unknown command" frobnicate
usage_error "replay without a file" replay
usage_error "replay with an unknown option" replay --fast "$GOOD"
usage_error "replay with an unknown target" replay --target nosuch "$GOOD"
usage_error "replay --target without a value" replay "$GOOD" --target
usage_error "fmt without a file" fmt
usage_error "fmt --check and --write together" fmt --check --write "$GOOD"
usage_error "fmt with an unknown option" fmt --pretty "$GOOD"
usage_error "convert without a file" convert
usage_error "convert with two inputs" convert "$GOOD" "$GOOD"
usage_error "convert --to something else" convert --to yaml "$GOOD"
check_status 2 "convert to binary without -o" quiet "$NMRH" convert "$GOOD"
check_status 2 "fmt --write of a binary file" quiet "$NMRH" fmt --write "$WORK/binary.bin"

# --help of the tool and of every subcommand it lists: exit 0, usage on standard output.
commands=$("$NMRH" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
for cmd in replay fmt convert rules targets; do
    check "nmrh --help lists $cmd" bash -c "echo '$commands' | grep -qx '$cmd'"
done
for cmd in "" $commands; do
    "$NMRH" $cmd --help >"$WORK/out" 2>"$WORK/err"
    status=$?
    if [ $status -eq 0 ]; then pass; else fail "nmrh $cmd --help: exit $status"; fi
    check "nmrh $cmd --help prints usage" grep -q "usage: nmrh" "$WORK/out"
    check "nmrh $cmd --help prints nothing on standard error" test ! -s "$WORK/err"
done
check_status 0 "nmrh help" quiet "$NMRH" help
check_status 0 "nmrh fmt -h" quiet "$NMRH" fmt -h

# Exit status of replay: 0 clean, 1 finding.
check_status 0 "replay of a clean scenario" quiet "$NMRH" replay "$GOOD"
check_status 1 "replay of a finding" quiet "$NMRH" replay --target echo-b11 "$SRC/tests/data/findings/b11-fast-mutex-at-dispatch.nmrseq"
# fmt --check: 1 and a hint for a file that is not canonical.
printf 'm0 = echo-client\nload   m0\n' >"$WORK/loose.nmrseq"
check_status 1 "fmt --check of a loose file" quiet "$NMRH" fmt --check "$WORK/loose.nmrseq"
check "fmt --check names the file" bash -c "'$NMRH' fmt --check '$WORK/loose.nmrseq' | grep -q 'loose.nmrseq: not in canonical form'"

check_summary
