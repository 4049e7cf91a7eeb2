/*
 * Sequences: what happens in a run, as a list of records (docs/sequence-format.md).
 *
 * A sequence declares module instances (m0, m1, ...) of the kinds of a target, starts actions on
 * logical threads (t0, t1, ...), steps and runs threads, feeds scheduling decisions, fixes knobs
 * and injects faults. It has two forms that convert into each other:
 *   - text (.nmrseq): one record a line, comments with '#';
 *   - binary: 4 bytes a record, [op][a][b][c], where every byte string decodes to a valid
 *     sequence (fields are reduced modulo their ranges; records that cannot apply, such as a step
 *     before any thread exists, are dropped), so fuzzer mutations always mean something.
 * Text -> binary -> text is the identity on canonical text (what nmrh_seq_print writes).
 *
 * Portable: no libc beyond mem*, no allocation; compiles for the Windows kernel.
 */
#ifndef NMRH_SEQ_H
#define NMRH_SEQ_H

#include <stddef.h>
#include <stdint.h>

#include "nmrh/module.h"

#define NMRH_SEQ_MAX_MODULES 8
#define NMRH_SEQ_MAX_THREADS 32
#define NMRH_SEQ_MAX_RECORDS 1024
#define NMRH_SEQ_RECORD_SIZE 4

typedef enum nmrh_op {
    NMRH_OP_MODULE,      /* declare m<next>: a = kind, b | c << 8 = options */
    NMRH_OP_START,       /* t<next> = action: a = action, b = module, c = value */
    NMRH_OP_DO,          /* start an action on t<next> and run it until it blocks or ends */
    NMRH_OP_STEP,        /* a = thread, b = steps - 1 */
    NMRH_OP_RUN,         /* a = thread: run it until it blocks or ends */
    NMRH_OP_RUN_ALL,     /* let the chooser schedule every thread until none can run */
    NMRH_OP_DECIDE,      /* a = one scheduling/knob decision for the chooser's queue */
    NMRH_OP_KNOB,        /* a = knob, b = value, or the knob's value count for "choose" */
    NMRH_OP_FAIL_ALLOCS, /* a = module, b = count, c = allocations that succeed first */
    NMRH_OP_FAIL_NMR,    /* a = 0 register / 1 attach, b = count */
    NMRH_OP_COUNT
} nmrh_op;

typedef enum nmrh_action { NMRH_ACT_LOAD, NMRH_ACT_UNLOAD, NMRH_ACT_CALL, NMRH_ACT_COMPLETE, NMRH_ACT_COUNT } nmrh_action;

typedef struct nmrh_record {
    uint8_t op, a, b, c;
} nmrh_record;

/* Where a record came from in a text file, for comments and messages (0 = unknown). */
typedef struct nmrh_record_text {
    uint32_t line;
    uint32_t lead_off, lead_len;   /* comment lines (and a blank line) just before the record */
    uint32_t trail_off, trail_len; /* comment at the end of the record's line */
    uint8_t blank_before;
} nmrh_record_text;

typedef struct nmrh_seq {
    const nmrh_target *target;
    uint32_t count;
    uint8_t nmodules, nthreads;
    nmrh_record records[NMRH_SEQ_MAX_RECORDS];
    nmrh_record_text text[NMRH_SEQ_MAX_RECORDS]; /* filled by the text parser only */
    uint32_t tail_off, tail_len;                 /* comments after the last record */
} nmrh_seq;

typedef struct nmrh_seq_error {
    uint32_t line, col;
    char message[160];
} nmrh_seq_error;

void nmrh_seq_init(nmrh_seq *s, const nmrh_target *target);

/* Appends a record after normalising it; returns 0 if it was dropped (cannot apply). */
int nmrh_seq_append(nmrh_seq *s, nmrh_record r);

/* Binary form. decode never fails; encode returns the bytes written (4 per record), or the size
   needed when `out` is too small. */
void nmrh_seq_decode(nmrh_seq *s, const nmrh_target *target, const uint8_t *data, size_t size);
size_t nmrh_seq_encode(const nmrh_seq *s, uint8_t *out, size_t size);

/* Text form. Returns 0 and fills *err (line, column, what was expected) on a syntax error. The
   parser keeps offsets of comments into `text`, which nmrh_seq_print can re-emit. */
int nmrh_seq_parse(nmrh_seq *s, const nmrh_target *target, const char *text, size_t size, nmrh_seq_error *err);

typedef void (*nmrh_sink)(void *ctx, const char *s, size_t n);
/* Canonical text. With `source` (the text that was parsed), comments are kept. */
void nmrh_seq_print(const nmrh_seq *s, const char *source, nmrh_sink sink, void *ctx);
/* One record in canonical text, without newline (for traces and messages). */
void nmrh_seq_print_record(const nmrh_seq *s, uint32_t index, nmrh_sink sink, void *ctx);

/* Names, shared by the parser, the printer and tools. */
const char *nmrh_op_name(nmrh_op op);
const char *nmrh_action_name(nmrh_action a);

#endif
