/*
 * The two forms of a sequence and the conversions between them (docs/sequence-format.md):
 *   - binary normalisation: every byte string decodes; fields are reduced into range, records
 *     that cannot apply are dropped, a trailing partial record and records past 1024 are ignored;
 *   - random byte strings (seeded, thousands): decode -> print -> parse -> encode gives the same
 *     normalised bytes, printing is stable, and decoding normalised bytes is the identity;
 *   - the scenario corpus: text -> binary -> text is the identity on the comment-free canonical
 *     text, and binary -> text -> binary on its bytes;
 *   - the canonical printer: options in the kind's order without defaults, call 0 and step 1 left
 *     out, decisions merged 16 a line, comments kept where they were.
 */
#include "../support/check.h"
#include "nmrh/seq.h"
#include "nmrh/targets.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where corpus/ is: set by tests/seq.cmake, or given as the first argument. */
#ifndef NMRH_SOURCE_DIR
#define NMRH_SOURCE_DIR "."
#endif

static check_tally T = {0, 0, "test_seq_codec"};
static const nmrh_target *echo;

/* ---- a growable text sink ---- */

typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void to_text(void *ctx, const char *s, size_t n)
{
    text *t = ctx;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
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

static nmrh_seq *new_seq(void)
{
    nmrh_seq *s = malloc(sizeof *s);
    if (!s) abort();
    return s;
}

/* ---- deterministic random bytes ---- */

static uint64_t rng_state = 0x6e6d7268u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* ---- tests ---- */

static int parse_text(nmrh_seq *s, const char *src)
{
    nmrh_seq_error err;
    int ok = nmrh_seq_parse(s, echo, src, strlen(src), &err);
    if (!ok) fprintf(stderr, "parse error %u:%u: %s\n  in: %s\n", err.line, err.col, err.message, src);
    return ok;
}

/* decode(bytes) printed without comments must be `want`. */
static void check_decodes_to(const uint8_t *bytes, size_t size, const char *want)
{
    nmrh_seq *s = new_seq();
    text t = {0};
    nmrh_seq_decode(s, echo, bytes, size);
    print(s, NULL, &t);
    CHECK_STR(&T, t.p, want);
    free(t.p);
    free(s);
}

static void test_normalisation(void)
{
    /* Module: kind 6 % 4 = generic-client; options 0xffff reduced per field:
       npi 3 -> c, attach 3 -> fail, detach 3 -> pre, cleanup 1 -> no, context 1 -> null; the bits
       above the fields are cleared. */
    const uint8_t m[] = {10, 6, 0xff, 0xff};
    check_decodes_to(m, sizeof m, "m0 = generic-client npi=c attach=fail detach=pre cleanup=no context=null\n");
    {
        nmrh_seq *s = new_seq();
        nmrh_seq_decode(s, echo, m, sizeof m);
        CHECK(&T, s->count == 1 && s->records[0].op == NMRH_OP_MODULE && s->records[0].a == 2);
        CHECK(&T, s->records[0].b == 0xff && s->records[0].c == 0);
        free(s);
    }
    /* echo-provider's one option is one bit with two values. */
    const uint8_t p[] = {0, 1, 0xfe, 0x12, 0, 1, 0x01, 0x00};
    check_decodes_to(p, sizeof p, "m0 = echo-provider\nm1 = echo-provider version=1\n");
    /* Records that cannot apply are dropped: a start, step, run and fail-allocs before any module
       or thread; a module declaration past the 8th. */
    const uint8_t drop[] = {1, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 8, 0, 3, 0, 9, 3, 17, 0};
    check_decodes_to(drop, sizeof drop, "fail-nmr attach 1\n");
    uint8_t many[10 * 4];
    for (int i = 0; i < 10; i++) many[4 * i] = 0, many[4 * i + 1] = 0, many[4 * i + 2] = 0, many[4 * i + 3] = 0;
    {
        nmrh_seq *s = new_seq();
        nmrh_seq_decode(s, echo, many, sizeof many);
        CHECK(&T, s->count == NMRH_SEQ_MAX_MODULES && s->nmodules == NMRH_SEQ_MAX_MODULES);
        free(s);
    }
    /* Fields reduced modulo their ranges; unused fields zeroed; "call" keeps its value, other
       actions drop it; the thread of a step is reduced modulo the threads started so far. */
    const uint8_t act[] = {
        0,  0, 0,   0,   /* m0 = echo-client */
        11, 6, 7,   9,   /* t0 = (6 % 4 = call) m(7 % 1 = 0) 9 */
        2,  4, 0,   200, /* load m0 (value dropped) */
        13, 5, 17,  99,  /* step t(5 % 2 = 1) (17 % 16 + 1 = 2) */
        14, 3, 1,   1,   /* run t(3 % 2 = 1) */
        15, 9, 9,   9,   /* run */
        16, 77, 1,  1,   /* decide 77 */
        17, 10, 3,  1,   /* knob (10 % 6 = 4 cleanup) (3 % 3 = 0 inline) */
        7,  4,  2,  0,   /* knob cleanup (2 = values) choose */
        18, 1, 31,  21,  /* fail-allocs m0 (31 % 16 = 15) after (21 % 16 = 5) */
        19, 2, 16,  5,   /* fail-nmr register (16 % 16 = 0) */
        2,  1, 0,   0,   /* unload m0 */
        6,  0,             /* trailing partial record: ignored */
    };
    check_decodes_to(act, sizeof act,
                     "m0 = echo-client\nt0 = call m0 9\nload m0\nstep t1 2\nrun t1\nrun\ndecide 77\n"
                     "knob cleanup inline\nknob cleanup choose\nfail-allocs m0 15 after 5\nfail-nmr register 0\nunload m0\n");
    {
        nmrh_seq *s = new_seq();
        uint8_t out[64];
        nmrh_seq_decode(s, echo, act, sizeof act);
        size_t n = nmrh_seq_encode(s, out, sizeof out);
        CHECK(&T, n == 12 * 4);
        const uint8_t want[] = {0, 0, 0, 0,  1, 2, 0, 9,  2, 0, 0, 0,  3, 1, 1, 0,  4, 1, 0, 0,  5, 0, 0, 0,
                                6, 77, 0, 0, 7, 4, 0, 0,  7, 4, 2, 0,  8, 0, 15, 5, 9, 0, 0, 0,  2, 1, 0, 0};
        CHECK(&T, n == sizeof want && memcmp(out, want, sizeof want) == 0);
        /* encode reports the size it needs when the buffer is too small, writing nothing. */
        uint8_t small[4] = {0xAA, 0xAA, 0xAA, 0xAA};
        CHECK(&T, nmrh_seq_encode(s, small, sizeof small) == 12 * 4 && small[0] == 0xAA);
        free(s);
    }
    /* At most 1024 records are read. */
    {
        size_t size = (NMRH_SEQ_MAX_RECORDS + 10) * 4;
        uint8_t *big = calloc(1, size);
        nmrh_seq *s = new_seq();
        for (size_t i = 0; i < size; i += 4) big[i] = 6; /* decide 0 */
        nmrh_seq_decode(s, echo, big, size);
        CHECK(&T, s->count == NMRH_SEQ_MAX_RECORDS);
        free(s);
        free(big);
    }
    /* Every byte string decodes, the empty one to the empty sequence. */
    check_decodes_to(NULL, 0, "");
}

/* decode -> encode (normalised bytes) -> decode -> encode: stable; print -> parse -> encode: the
   same bytes; print of the re-parsed sequence: the same text. */
static int round_trip_bytes(const uint8_t *data, size_t size, nmrh_seq *a, nmrh_seq *b, text *t1, text *t2,
                            uint8_t *n1, uint8_t *n2)
{
    size_t cap = NMRH_SEQ_MAX_RECORDS * NMRH_SEQ_RECORD_SIZE;
    nmrh_seq_decode(a, echo, data, size);
    size_t len1 = nmrh_seq_encode(a, n1, cap);
    nmrh_seq_decode(b, echo, n1, len1);
    size_t len2 = nmrh_seq_encode(b, n2, cap);
    int ok = len1 == len2 && memcmp(n1, n2, len1) == 0 && a->count == b->count;
    print(a, NULL, t1);
    nmrh_seq_error err;
    if (!nmrh_seq_parse(b, echo, t1->p, t1->n, &err)) {
        fprintf(stderr, "printed text does not parse: %u:%u: %s\n", err.line, err.col, err.message);
        return 0;
    }
    len2 = nmrh_seq_encode(b, n2, cap);
    ok = ok && len1 == len2 && memcmp(n1, n2, len1) == 0;
    print(b, t1->p, t2);
    ok = ok && t1->n == t2->n && memcmp(t1->p, t2->p, t1->n) == 0;
    print(b, NULL, t2);
    ok = ok && t1->n == t2->n && memcmp(t1->p, t2->p, t1->n) == 0;
    return ok;
}

static void test_random_bytes(void)
{
    nmrh_seq *a = new_seq(), *b = new_seq();
    text t1 = {0}, t2 = {0};
    uint8_t *n1 = malloc(NMRH_SEQ_MAX_RECORDS * 4), *n2 = malloc(NMRH_SEQ_MAX_RECORDS * 4);
    uint8_t *data = malloc(5000);
    int failures = 0, total = 0, nonempty = 0;
    for (int i = 0; i < 4000; i++) {
        /* Mostly short inputs, now and then past the 1024-record cap. */
        size_t size = i % 100 == 99 ? 4096 + rnd() % 900 : rnd() % 400;
        /* Bias some inputs towards a module first, so that more records apply. */
        for (size_t j = 0; j < size; j++) data[j] = (uint8_t)rnd();
        if (i % 2 && size >= 8) data[0] = 0, data[4] = 10;
        total++;
        if (!round_trip_bytes(data, size, a, b, &t1, &t2, n1, n2)) {
            if (failures++ < 3) fprintf(stderr, "round trip fails for random input %d (%zu bytes)\n", i, size);
        }
        if (a->count) nonempty++;
    }
    CHECK(&T, failures == 0);
    CHECK(&T, nonempty > total / 2); /* the inputs exercised real sequences */
    printf("random byte strings: %d round trips, %d failures, %d non-empty\n", total, failures, nonempty);
    free(data);
    free(n1);
    free(n2);
    free(t1.p);
    free(t2.p);
    free(a);
    free(b);
}

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) p[n] = '\0', *size = (size_t)n;
    return p;
}

static void test_corpus_file(const char *path)
{
    size_t size = 0;
    char *src = slurp(path, &size);
    CHECK(&T, src != NULL);
    if (!src) return;
    nmrh_seq *a = new_seq(), *b = new_seq();
    text canon = {0}, bare = {0}, again = {0};
    nmrh_seq_error err;
    int parsed = nmrh_seq_parse(a, echo, src, size, &err);
    if (!parsed) fprintf(stderr, "%s:%u:%u: %s\n", path, err.line, err.col, err.message);
    CHECK(&T, parsed);
    if (parsed) {
        /* The file is canonical: printing it with its comments gives it back. */
        print(a, src, &canon);
        int same = canon.n == size && memcmp(canon.p, src, size) == 0;
        if (!same) fprintf(stderr, "%s is not in canonical form\n", path);
        CHECK(&T, same);
        /* text -> binary -> text: the identity on the comment-free canonical text. */
        print(a, NULL, &bare);
        uint8_t *bytes = malloc(NMRH_SEQ_MAX_RECORDS * 4), *bytes2 = malloc(NMRH_SEQ_MAX_RECORDS * 4);
        size_t n = nmrh_seq_encode(a, bytes, NMRH_SEQ_MAX_RECORDS * 4);
        CHECK(&T, n == a->count * 4u);
        nmrh_seq_decode(b, echo, bytes, n);
        print(b, NULL, &again);
        CHECK(&T, again.n == bare.n && memcmp(again.p, bare.p, bare.n) == 0);
        /* ... and the comment-free text parses back to the same records. */
        CHECK(&T, nmrh_seq_parse(b, echo, bare.p, bare.n, &err));
        size_t n2 = nmrh_seq_encode(b, bytes2, NMRH_SEQ_MAX_RECORDS * 4);
        CHECK(&T, n2 == n && memcmp(bytes, bytes2, n) == 0);
        /* binary -> text -> binary: the identity on these (normalised) bytes. */
        nmrh_seq_decode(b, echo, bytes, n);
        n2 = nmrh_seq_encode(b, bytes2, NMRH_SEQ_MAX_RECORDS * 4);
        CHECK(&T, n2 == n && memcmp(bytes, bytes2, n) == 0);
        free(bytes);
        free(bytes2);
    }
    free(canon.p);
    free(bare.p);
    free(again.p);
    free(a);
    free(b);
    free(src);
}

static int test_corpus_dir(const char *dir)
{
    DIR *d = opendir(dir);
    int files = 0;
    CHECK(&T, d != NULL);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 8 || strcmp(e->d_name + n - 7, ".nmrseq") != 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        test_corpus_file(path);
        files++;
    }
    closedir(d);
    return files;
}

/* Canonical text: fmt of messy input is the expected text, and fmt of that is itself. */
static void check_fmt(const char *in, const char *want)
{
    nmrh_seq *s = new_seq();
    text t = {0}, t2 = {0};
    if (parse_text(s, in)) {
        print(s, in, &t);
        CHECK_STR(&T, t.p, want);
        if (parse_text(s, t.p)) {
            print(s, t.p, &t2);
            CHECK_STR(&T, t2.p, t.p);
        }
    } else {
        CHECK(&T, !"input parses");
    }
    free(t.p);
    free(t2.p);
    free(s);
}

static void test_canonical_text(void)
{
    /* Options in the kind's order, defaults left out; spacing normalised; '=' may be spaced. */
    check_fmt("m0   =   generic-provider context=null cleanup = yes npi=a detach=pending attach=accept\n",
              "m0 = generic-provider npi=a detach=pending context=null\n");
    check_fmt("m0=echo-provider version=2\nm1 = echo-provider version=1\n", "m0 = echo-provider\nm1 = echo-provider version=1\n");
    /* call 0 and step 1 are left out; counts and values otherwise kept. */
    check_fmt("m0 = echo-client\nt0 = call m0 0\ncall m0 255\nstep t0 1\nstep t1 16\nrun t0\nrun\n",
              "m0 = echo-client\nt0 = call m0\ncall m0 255\nstep t0\nstep t1 16\nrun t0\nrun\n");
    /* Decisions merged, 16 a line; a comment or a blank line ends a run. */
    check_fmt("decide 1\ndecide 2 3\ndecide 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n",
              "decide 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\ndecide 17 18\n");
    check_fmt("decide 1\n# why\ndecide 2\n\ndecide 3  # end\ndecide 4\n",
              "decide 1\n# why\ndecide 2\n\ndecide 3  # end\ndecide 4\n");
    /* Comments: whole-line ones before their statement (trimmed), end-of-line ones after two
       spaces, runs of blank lines folded, CRLF and tabs accepted, trailing comments kept. */
    check_fmt("\n\n# head\n   # indented  \n\n\n# more\nm0 = echo-client\t\t#  trail \r\n\n\n\nload m0\r\n\n# tail\n\n",
              "# head\n# indented\n\n# more\nm0 = echo-client  #  trail\n\nload m0\n\n# tail\n");
    check_fmt("# only a comment\n", "# only a comment\n");
    check_fmt("\n\n# only\n\n# comments\n\n", "# only\n\n# comments\n");
    check_fmt("", "");
    /* Knobs, choose, faults. */
    check_fmt("knob detach-thread worker-per-side\nknob cleanup-irql choose\nm0 = echo-client\nfail-allocs m0 0\nfail-nmr attach 15\n",
              "knob detach-thread worker-per-side\nknob cleanup-irql choose\nm0 = echo-client\nfail-allocs m0 0\nfail-nmr attach 15\n");
    /* fail-allocs ... after 0 is the default and left out. */
    check_fmt("m0 = echo-client\nfail-allocs m0 2 after 0\nfail-allocs m0 1 after 15\n",
              "m0 = echo-client\nfail-allocs m0 2\nfail-allocs m0 1 after 15\n");
    /* Thread numbers count the shorthand actions. */
    check_fmt("m0 = echo-client\nload m0\nt1 = unload m0\nstep t1\n", "m0 = echo-client\nload m0\nt1 = unload m0\nstep t1\n");
}

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : NMRH_SOURCE_DIR;
    char dir[4096];
    echo = nmrh_target_find("echo");
    CHECK(&T, echo != NULL);
    if (!echo) return check_summary(&T, "test_seq_codec");
    test_normalisation();
    test_canonical_text();
    test_random_bytes();
    snprintf(dir, sizeof dir, "%s/corpus/scenarios", src);
    int files = test_corpus_dir(dir);
    CHECK(&T, files >= 19);
    snprintf(dir, sizeof dir, "%s/tests/data/findings", src);
    files += test_corpus_dir(dir);
    printf("corpus files: %d\n", files);
    return check_summary(&T, "test_seq_codec");
}
