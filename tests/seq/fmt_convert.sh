#!/usr/bin/env bash
# nmrh fmt and nmrh convert on every corpus file (corpus/scenarios, tests/data/findings and
# tests/data/clean) and on
# the fmt examples (tests/data/fmt):
#   - every corpus file is canonical (fmt --check) and fmt is idempotent on it;
#   - text -> binary -> text is the identity on the comment-free canonical text of each file,
#     and binary -> text -> binary the identity on its bytes;
#   - arbitrary binary input is normalised once: binary -> text -> binary -> text is stable;
#   - each tests/data/fmt/NAME.in.nmrseq formats to NAME.out.nmrseq, --check rejects the input
#     and accepts the output, --write rewrites a copy into the output.
#
# usage: fmt_convert.sh NMRH SOURCE_DIR WORK_DIR
set -u
NMRH=$1
SRC=$2
WORK=$3
. "$SRC/tests/seq/lib.sh"
rm -rf "$WORK"
mkdir -p "$WORK"

nfiles=0
for f in "$SRC"/corpus/scenarios/*.nmrseq "$SRC"/tests/data/findings/*.nmrseq "$SRC"/tests/data/clean/*.nmrseq; do
    name=$(basename "$(dirname "$f")")-$(basename "$f" .nmrseq)
    w=$WORK/$name
    nfiles=$((nfiles + 1))
    check_status 0 "$name: fmt --check" "$NMRH" fmt --check "$f"
    "$NMRH" fmt "$f" >"$w.fmt1.nmrseq"
    check "$name: fmt prints the file unchanged" cmp -s "$f" "$w.fmt1.nmrseq"
    "$NMRH" fmt "$w.fmt1.nmrseq" >"$w.fmt2.nmrseq"
    check "$name: fmt is idempotent" cmp -s "$w.fmt1.nmrseq" "$w.fmt2.nmrseq"

    # The comment-free canonical text: comments and blank lines cut, then formatted.
    sed -e 's/#.*$//' -e '/^[[:space:]]*$/d' "$f" >"$w.bare-src.nmrseq"
    "$NMRH" fmt "$w.bare-src.nmrseq" >"$w.bare.nmrseq"
    check "$name: comment-free text is canonical" "$NMRH" fmt --check "$w.bare.nmrseq"
    check_status 0 "$name: convert text -> binary" "$NMRH" convert "$f" -o "$w.bin"
    check "$name: binary is 4 bytes a record" test $(($(wc -c <"$w.bin") % 4)) -eq 0 -a "$(wc -c <"$w.bin")" -gt 0
    "$NMRH" convert "$w.bin" >"$w.back.nmrseq"
    check "$name: text -> binary -> text is the identity (comments aside)" cmp -s "$w.bare.nmrseq" "$w.back.nmrseq"
    "$NMRH" convert "$w.bare.nmrseq" -o "$w.bare.bin"
    check "$name: comment-free text encodes to the same bytes" cmp -s "$w.bin" "$w.bare.bin"
    "$NMRH" convert --to binary "$w.back.nmrseq" -o "$w.bin2"
    check "$name: binary -> text -> binary is the identity" cmp -s "$w.bin" "$w.bin2"
    "$NMRH" fmt "$w.bin" >"$w.fmtbin.nmrseq"
    check "$name: fmt of the binary form prints the comment-free text" cmp -s "$w.bare.nmrseq" "$w.fmtbin.nmrseq"
    check_status 1 "$name: fmt --check rejects the binary form" quiet "$NMRH" fmt --check "$w.bin"
    "$NMRH" replay --trace "$f" >"$w.trace-text"
    "$NMRH" replay --trace "$w.bin" | sed "s|$w.bin|$f|" >"$w.trace-bin"
    check "$name: the binary form replays identically" cmp -s "$w.trace-text" "$w.trace-bin"
done
check "corpus files were found" test "$nfiles" -ge 20

# Arbitrary bytes: the first conversion normalises, after that text and binary agree exactly.
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
    w=$WORK/random-$seed
    LC_ALL=C awk -v seed="$seed" -v n=$((seed * 37)) \
        'BEGIN { srand(seed); for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }' >"$w.bin"
    check_status 0 "random $seed: binary -> text" "$NMRH" convert --to text "$w.bin" -o "$w.t1.nmrseq"
    check_status 0 "random $seed: text -> binary" "$NMRH" convert "$w.t1.nmrseq" -o "$w.n1.bin"
    "$NMRH" convert "$w.n1.bin" -o "$w.t2.nmrseq"
    "$NMRH" convert "$w.t2.nmrseq" -o "$w.n2.bin"
    check "random $seed: normalised binary round-trips" cmp -s "$w.n1.bin" "$w.n2.bin"
    check "random $seed: its text round-trips" cmp -s "$w.t1.nmrseq" "$w.t2.nmrseq"
    check "random $seed: the text is canonical" "$NMRH" fmt --check "$w.t1.nmrseq"
done

# fmt examples: messy input, canonical output.
nex=0
for in in "$SRC"/tests/data/fmt/*.in.nmrseq; do
    name=$(basename "$in" .in.nmrseq)
    want=$SRC/tests/data/fmt/$name.out.nmrseq
    w=$WORK/fmt-$name
    nex=$((nex + 1))
    "$NMRH" fmt "$in" >"$w.got.nmrseq"
    if cmp -s "$want" "$w.got.nmrseq"; then pass; else fail "fmt $name: output differs: $(diff "$want" "$w.got.nmrseq" | head -20)"; fi
    check_status 1 "fmt $name: --check rejects the input" quiet "$NMRH" fmt --check "$in"
    check_status 0 "fmt $name: --check accepts the output" "$NMRH" fmt --check "$want"
    cp "$in" "$w.edit.nmrseq"
    check_status 0 "fmt $name: --write" "$NMRH" fmt --write "$w.edit.nmrseq"
    check "fmt $name: --write leaves the canonical text" cmp -s "$want" "$w.edit.nmrseq"
    check "fmt $name: --check prints nothing for a canonical file" test -z "$("$NMRH" fmt --check "$want")"
done
check "fmt examples were found" test "$nex" -ge 1

check_summary
