/*
 * Structure-aware mutation for binary sequences: inputs are arrays of 4-byte records, so
 * mutations insert, delete, duplicate, swap and re-parameterise whole records and cross over at
 * record boundaries, falling back to libFuzzer's byte mutator for record payloads. Any result
 * decodes to a valid sequence (the codec normalises), so nothing is wasted on garbage.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nmrh/seq.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t next(rng *r, uint32_t n)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return n ? (uint32_t)((r->s >> 32) % n) : 0;
}

enum { R = NMRH_SEQ_RECORD_SIZE };

/* A record likely to matter: actions, runs, steps and decisions dominate real reproducers. */
static void useful_record(rng *r, uint8_t *rec)
{
    static const uint8_t ops[] = {NMRH_OP_DO, NMRH_OP_DO, NMRH_OP_DO, NMRH_OP_START, NMRH_OP_START, NMRH_OP_STEP,
                                  NMRH_OP_STEP, NMRH_OP_RUN, NMRH_OP_RUN_ALL, NMRH_OP_DECIDE, NMRH_OP_DECIDE,
                                  NMRH_OP_MODULE, NMRH_OP_KNOB, NMRH_OP_FAIL_ALLOCS, NMRH_OP_FAIL_NMR};
    rec[0] = ops[next(r, sizeof ops)];
    rec[1] = (uint8_t)next(r, 256);
    rec[2] = (uint8_t)next(r, 256);
    rec[3] = (uint8_t)next(r, 256);
    /* Short steps cut races finely; some longer ones reach windows deep inside a callback. */
    if (rec[0] == NMRH_OP_STEP) rec[2] = (uint8_t)(next(r, 4) ? next(r, 4) : next(r, 16));
    if (rec[0] == NMRH_OP_DECIDE) rec[1] = (uint8_t)next(r, 4);   /* small values pick among few threads */
    /* An action's value (a call's argument) at a boundary now and then: error paths hide there. */
    if ((rec[0] == NMRH_OP_DO || rec[0] == NMRH_OP_START) && next(r, 4) == 0) rec[3] = next(r, 2) ? 0 : 255;
    if (rec[0] == NMRH_OP_FAIL_ALLOCS) {
        /* Error paths sit behind the first few allocations of a callback: fail one or two of them,
           after letting zero to three succeed. */
        rec[2] = (uint8_t)(1 + next(r, 2));
        rec[3] = (uint8_t)next(r, 4);
    }
}

/* Walk a count by one: how far a `step` runs its thread (so a stop point moves along a callback
   one scheduling point at a time), or which allocation a `fail-allocs` fails, or how many. False
   when the input has neither record. */
static bool walk_count(uint8_t *d, size_t n, rng *r)
{
    uint32_t start = next(r, (uint32_t)n);
    for (uint32_t k = 0; k < n; k++) {
        uint8_t *rec = d + ((start + k) % n) * R;
        if (rec[0] == NMRH_OP_STEP) {
            rec[2] = (uint8_t)(rec[2] + (next(r, 2) || rec[2] == 0 ? 1 : 255));
            return true;
        }
        if (rec[0] != NMRH_OP_FAIL_ALLOCS) continue;
        uint8_t *f = rec + (next(r, 4) ? 3 : 2); /* mostly the skip count */
        *f = (uint8_t)(*f % 16 + (next(r, 2) || *f % 16 == 0 ? 1 : 15)) % 16;
        return true;
    }
    return false;
}

/* Interrupt an action: a `do` (start a thread and run it to its end) becomes a `start` followed by
   a `step` of a few scheduling points, so that whatever comes next runs while the action is stopped
   inside a callback, which is where the race windows of the bug classes are. Returns the new
   record count (unchanged when there is no `do` or no room). */
static size_t interrupt_action(uint8_t *d, size_t n, size_t max_n, rng *r)
{
    if (n >= max_n) return n;
    uint32_t start = next(r, (uint32_t)n);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = (start + k) % (uint32_t)n;
        if (d[i * R] != NMRH_OP_DO) continue;
        uint32_t thread = 0; /* threads are numbered by their start/do records, in order */
        for (uint32_t j = 0; j < i; j++) thread += d[j * R] == NMRH_OP_START || d[j * R] == NMRH_OP_DO;
        d[i * R] = NMRH_OP_START;
        memmove(d + (i + 2) * R, d + (i + 1) * R, (n - i - 1) * R);
        uint8_t *step = d + (i + 1) * R;
        step[0] = NMRH_OP_STEP;
        step[1] = (uint8_t)thread;
        step[2] = (uint8_t)next(r, 16);
        step[3] = 0;
        return n + 1;
    }
    return n;
}

static size_t mutate_once(uint8_t *d, size_t n, size_t max_n, rng *r)
{
    uint32_t pos = next(r, (uint32_t)n + 1);
    switch (next(r, 10)) {
    case 0: /* insert a useful record */
    case 1:
        if (n >= max_n) break;
        memmove(d + (pos + 1) * R, d + pos * R, (n - pos) * R);
        useful_record(r, d + pos * R);
        return n + 1;
    case 2: /* delete a record or a short run */
        if (n == 0) break;
        {
            uint32_t at = next(r, (uint32_t)n), len = 1 + next(r, 3);
            if (at + len > n) len = (uint32_t)n - at;
            memmove(d + at * R, d + (at + len) * R, (n - at - len) * R);
            return n - len;
        }
    case 3: /* duplicate a record or a short run */
        if (n == 0) break;
        {
            uint32_t at = next(r, (uint32_t)n), len = 1 + next(r, 4);
            if (at + len > n) len = (uint32_t)n - at;
            if (n + len > max_n) break;
            memmove(d + (at + len) * R, d + at * R, (n - at) * R);
            return n + len;
        }
    case 4: /* swap two records: reorders events */
        if (n < 2) break;
        {
            uint32_t a = next(r, (uint32_t)n), b = next(r, (uint32_t)n);
            uint8_t tmp[R];
            memcpy(tmp, d + a * R, R);
            memcpy(d + a * R, d + b * R, R);
            memcpy(d + b * R, tmp, R);
            return n;
        }
    case 5: /* nudge one field: another thread, module, count or decision; or make it a boundary
               value (a call with 0, the largest count), where error paths hide */
        if (n == 0) break;
        {
            static const uint8_t boundary[] = {0, 1, 255};
            uint8_t *f = d + next(r, (uint32_t)n) * R + 1 + next(r, 3);
            if (next(r, 4) == 0)
                *f = boundary[next(r, sizeof boundary)];
            else
                *f = (uint8_t)(*f + (next(r, 2) ? 1 : 255));
            return n;
        }
    case 6: /* change the operation of a record */
        if (n == 0) break;
        d[next(r, (uint32_t)n) * R] = (uint8_t)next(r, NMRH_OP_COUNT);
        return n;
    case 7: /* move a stop point or an injected allocation failure by one */
        if (n == 0 || !walk_count(d, n, r)) break;
        return n;
    case 8: { /* stop an action inside its callbacks */
        size_t grown = interrupt_action(d, n, max_n, r);
        if (grown == n) break;
        return grown;
    }
    default: /* libFuzzer's byte mutations on one record's payload */
        if (n == 0) break;
        {
            uint8_t *rec = d + next(r, (uint32_t)n) * R;
            uint8_t payload[R - 1];
            memcpy(payload, rec + 1, R - 1);
            size_t got = LLVMFuzzerMutate(payload, R - 1, R - 1);
            memcpy(rec + 1, payload, got < R - 1 ? got : R - 1);
            return n;
        }
    }
    if (n < max_n) {
        memmove(d + (pos + 1) * R, d + pos * R, (n - pos) * R);
        useful_record(r, d + pos * R);
        return n + 1;
    }
    return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng r = {((uint64_t)seed << 1) | 1};
    size_t max_n = max_size / R, n = size / R;
    if (max_n > NMRH_SEQ_MAX_RECORDS) max_n = NMRH_SEQ_MAX_RECORDS;
    if (n > max_n) n = max_n;
    uint32_t rounds = 1 + next(&r, 3);
    for (uint32_t i = 0; i < rounds; i++) n = mutate_once(data, n, max_n, &r);
    return n * R;
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2, size_t size2, uint8_t *out,
                                 size_t max_out_size, unsigned int seed)
{
    rng r = {((uint64_t)seed << 1) | 1};
    size_t n1 = size1 / R, n2 = size2 / R, max_n = max_out_size / R;
    size_t cut1 = next(&r, (uint32_t)n1 + 1), cut2 = next(&r, (uint32_t)n2 + 1);
    if (cut1 > max_n) cut1 = max_n;
    size_t tail = n2 - cut2;
    if (cut1 + tail > max_n) tail = max_n - cut1;
    memcpy(out, data1, cut1 * R);
    memcpy(out + cut1 * R, data2 + cut2 * R, tail * R);
    return (cut1 + tail) * R;
}
