/*
 * libFuzzer target for the sequence language's text and binary forms (core/seq), against the
 * echo target's module kinds. For every input:
 *
 *   text:   when the bytes parse as text, their canonical text (comments kept) must parse again
 *           and print identically (fmt is idempotent); the comment-free canonical text must
 *           survive text -> binary -> text unchanged and parse to the same records; when they do
 *           not parse, the error must name a line and column and say something.
 *   binary: the bytes decode (always); the normalised bytes decode and encode to themselves, and
 *           their text parses back to the same bytes.
 *
 * Any violation aborts, which libFuzzer reports as a crash with the input that caused it.
 * Seed corpus: corpus/scenarios (see fuzz/CMakeLists.txt for the smoke test).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmrh/seq.h"
#include "nmrh/targets.h"

typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void to_text(void *ctx, const char *s, size_t n)
{
    text *t = ctx;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->n + n + 1) cap *= 2;
        char *q = realloc(t->p, cap);
        if (!q) abort();
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void print(const nmrh_seq *s, const char *source, text *out)
{
    out->n = 0;
    to_text(out, "", 0);
    nmrh_seq_print(s, source, to_text, out);
}

static int same(const text *a, const text *b) { return a->n == b->n && memcmp(a->p, b->p, a->n) == 0; }

static void violation(const char *what, const text *a, const text *b)
{
    fprintf(stderr, "fuzz_parser: %s\n", what);
    if (a) fprintf(stderr, "---- first ----\n%s\n", a->p);
    if (b) fprintf(stderr, "---- second ----\n%s\n", b->p);
    abort();
}

#define BYTES_MAX (NMRH_SEQ_MAX_RECORDS * NMRH_SEQ_RECORD_SIZE)

/* Sequences are large (tens of KiB): keep them off the stack, and reuse every buffer. */
static nmrh_seq seq_a, seq_b, seq_c;
static text canon, canon2, bare, bare2;
static uint8_t bytes1[BYTES_MAX], bytes2[BYTES_MAX];

static void check_text(const nmrh_target *echo, const uint8_t *data, size_t size)
{
    nmrh_seq_error err;
    memset(&err, 0, sizeof err);
    if (!nmrh_seq_parse(&seq_a, echo, (const char *)data, size, &err)) {
        if (err.line == 0 || err.col == 0 || err.message[0] == '\0' || !memchr(err.message, '\0', sizeof err.message))
            violation("a parse error without line, column or message", NULL, NULL);
        return;
    }
    /* The canonical text (with the input's comments) parses, and prints the same again. */
    print(&seq_a, (const char *)data, &canon);
    if (!nmrh_seq_parse(&seq_b, echo, canon.p, canon.n, &err)) {
        fprintf(stderr, "%u:%u: %s\n", err.line, err.col, err.message);
        violation("the canonical text does not parse", &canon, NULL);
    }
    print(&seq_b, canon.p, &canon2);
    if (!same(&canon, &canon2)) violation("fmt is not idempotent", &canon, &canon2);

    /* Same records either way. */
    size_t n1 = nmrh_seq_encode(&seq_a, bytes1, sizeof bytes1);
    size_t n2 = nmrh_seq_encode(&seq_b, bytes2, sizeof bytes2);
    if (n1 > sizeof bytes1 || n1 != n2 || memcmp(bytes1, bytes2, n1) != 0)
        violation("the canonical text encodes to other records", &canon, NULL);

    /* text -> binary -> text: the identity on the comment-free canonical text. */
    print(&seq_a, NULL, &bare);
    nmrh_seq_decode(&seq_c, echo, bytes1, n1);
    print(&seq_c, NULL, &bare2);
    if (!same(&bare, &bare2)) violation("text -> binary -> text changed the text", &bare, &bare2);
    print(&seq_b, NULL, &bare2);
    if (!same(&bare, &bare2)) violation("the re-parsed text prints other records", &bare, &bare2);
    n2 = nmrh_seq_encode(&seq_c, bytes2, sizeof bytes2);
    if (n1 != n2 || memcmp(bytes1, bytes2, n1) != 0) violation("binary -> binary changed the records", &bare, NULL);

    /* The comment-free text parses to the same records as well. */
    if (!nmrh_seq_parse(&seq_b, echo, bare.p, bare.n, &err)) violation("the comment-free text does not parse", &bare, NULL);
    n2 = nmrh_seq_encode(&seq_b, bytes2, sizeof bytes2);
    if (n1 != n2 || memcmp(bytes1, bytes2, n1) != 0) violation("the comment-free text encodes to other records", &bare, NULL);
}

static void check_binary(const nmrh_target *echo, const uint8_t *data, size_t size)
{
    nmrh_seq_decode(&seq_a, echo, data, size);
    size_t n1 = nmrh_seq_encode(&seq_a, bytes1, sizeof bytes1);
    if (n1 > sizeof bytes1 || n1 > size - size % NMRH_SEQ_RECORD_SIZE) violation("decode made records up", NULL, NULL);
    nmrh_seq_decode(&seq_b, echo, bytes1, n1);
    size_t n2 = nmrh_seq_encode(&seq_b, bytes2, sizeof bytes2);
    if (n1 != n2 || memcmp(bytes1, bytes2, n1) != 0) violation("normalised bytes are not stable", NULL, NULL);

    /* Its text parses back to the same bytes, and prints the same. */
    print(&seq_a, NULL, &bare);
    nmrh_seq_error err;
    if (!nmrh_seq_parse(&seq_c, echo, bare.p, bare.n, &err)) {
        fprintf(stderr, "%u:%u: %s\n", err.line, err.col, err.message);
        violation("the text of a binary sequence does not parse", &bare, NULL);
    }
    n2 = nmrh_seq_encode(&seq_c, bytes2, sizeof bytes2);
    if (n1 != n2 || memcmp(bytes1, bytes2, n1) != 0) violation("binary -> text -> binary changed the bytes", &bare, NULL);
    print(&seq_c, bare.p, &bare2);
    if (!same(&bare, &bare2)) violation("the text of a binary sequence is not canonical", &bare, &bare2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const nmrh_target *echo;
    if (!echo) echo = nmrh_target_find("echo");
    if (!echo) abort();
    check_text(echo, data, size);
    check_binary(echo, data, size);
    return 0;
}
