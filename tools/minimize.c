#include "minimize.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nmrh/knobs.h"
#include "probe.h"

typedef struct minimizer {
    const char *signature;
    time_t deadline;
    minimize_stats *stats;
    nmrh_seq *scratch;
} minimizer;

static int keeps_signature(minimizer *m, const nmrh_seq *candidate)
{
    if (time(NULL) >= m->deadline) {
        m->stats->timed_out = 1;
        return 0;
    }
    probe_result r;
    probe_run(candidate, 30, &r);
    m->stats->runs++;
    return (r.status == PROBE_FINDING || r.status == PROBE_CRASH) && strcmp(r.signature, m->signature) == 0;
}

static int refers_to_thread(const nmrh_record *r) { return r->op == NMRH_OP_STEP || r->op == NMRH_OP_RUN; }
static int creates_thread(const nmrh_record *r) { return r->op == NMRH_OP_START || r->op == NMRH_OP_DO; }

/* `out` = `in` without the records in [from, to), cascading: dropping a module drops the threads
   and faults that name it, dropping a thread drops its steps and runs; later numbers shift. */
static void without(const nmrh_seq *in, uint32_t from, uint32_t to, nmrh_seq *out)
{
    uint8_t module_map[NMRH_SEQ_MAX_MODULES], thread_map[NMRH_SEQ_MAX_THREADS];
    uint32_t nmod = 0, nthr = 0, kept_mod = 0, kept_thr = 0;
    nmrh_seq_init(out, in->target);
    for (uint32_t i = 0; i < in->count; i++) {
        nmrh_record r = in->records[i];
        int drop = i >= from && i < to;
        if (r.op == NMRH_OP_MODULE) {
            module_map[nmod++] = drop ? 0xFF : (uint8_t)kept_mod++;
        } else if (creates_thread(&r)) {
            drop |= module_map[r.b] == 0xFF;
            r.b = module_map[r.b];
            thread_map[nthr++] = drop ? 0xFF : (uint8_t)kept_thr++;
        } else if (refers_to_thread(&r)) {
            drop |= thread_map[r.a] == 0xFF;
            r.a = thread_map[r.a];
        } else if (r.op == NMRH_OP_FAIL_ALLOCS) {
            drop |= module_map[r.a] == 0xFF;
            r.a = module_map[r.a];
        }
        if (!drop) nmrh_seq_append(out, r);
    }
}

static void copy_seq(nmrh_seq *dst, const nmrh_seq *src)
{
    dst->target = src->target;
    dst->count = src->count;
    dst->nmodules = src->nmodules;
    dst->nthreads = src->nthreads;
    memcpy(dst->records, src->records, src->count * sizeof src->records[0]);
    memset(dst->text, 0, sizeof dst->text);
    dst->tail_off = dst->tail_len = 0;
}

/* Removal passes with shrinking chunk sizes, down to single records, until nothing goes. */
static int remove_pass(minimizer *m, nmrh_seq *seq)
{
    int progress = 0;
    for (uint32_t chunk = seq->count / 2 ? seq->count / 2 : 1; chunk >= 1; chunk /= 2) {
        for (uint32_t start = 0; start < seq->count;) {
            uint32_t end = start + chunk < seq->count ? start + chunk : seq->count;
            without(seq, start, end, m->scratch);
            if (m->scratch->count < seq->count && keeps_signature(m, m->scratch)) {
                copy_seq(seq, m->scratch);
                progress = 1;
            } else {
                start = end;
            }
            if (m->stats->timed_out) return progress;
        }
        if (chunk == 1) break;
    }
    return progress;
}

/* Simpler parameters read better: decisions, step counts, call values, options and fault counts
   towards 0 (or 1), fixed knobs back to their default. */
static int simplify_pass(minimizer *m, nmrh_seq *seq)
{
    int progress = 0;
    for (uint32_t i = 0; i < seq->count && !m->stats->timed_out; i++) {
        nmrh_record orig = seq->records[i], simpler[3];
        int n = 0;
        switch ((nmrh_op)orig.op) {
        case NMRH_OP_DECIDE:
            if (orig.a > 1) simpler[n++] = (nmrh_record){orig.op, 1, 0, 0};
            if (orig.a > 0) simpler[n++] = (nmrh_record){orig.op, 0, 0, 0};
            break;
        case NMRH_OP_STEP:
            if (orig.b > 0) simpler[n++] = (nmrh_record){orig.op, orig.a, 0, 0};
            if (orig.b > 1) simpler[n++] = (nmrh_record){orig.op, orig.a, (uint8_t)(orig.b / 2), 0};
            break;
        case NMRH_OP_START:
        case NMRH_OP_DO:
            if (orig.c) simpler[n++] = (nmrh_record){orig.op, orig.a, orig.b, 0};
            if (orig.op == NMRH_OP_START) simpler[n++] = (nmrh_record){NMRH_OP_DO, orig.a, orig.b, orig.c};
            break;
        case NMRH_OP_MODULE:
            if (orig.b || orig.c) simpler[n++] = (nmrh_record){orig.op, orig.a, 0, 0};
            break;
        case NMRH_OP_KNOB:
            if (orig.b != 0) simpler[n++] = (nmrh_record){orig.op, orig.a, 0, 0};
            break;
        case NMRH_OP_FAIL_ALLOCS:
        case NMRH_OP_FAIL_NMR:
            if (orig.b > 1) simpler[n++] = (nmrh_record){orig.op, orig.a, 1, 0};
            break;
        default:
            break;
        }
        for (int k = 0; k < n; k++) {
            copy_seq(m->scratch, seq);
            m->scratch->records[i] = simpler[k];
            if (keeps_signature(m, m->scratch)) {
                copy_seq(seq, m->scratch);
                progress = 1;
                break;
            }
        }
    }
    return progress;
}

int minimize_sequence(nmrh_seq *seq, const char *signature, unsigned time_limit_seconds, minimize_stats *stats)
{
    minimizer m = {signature, time(NULL) + (time_t)time_limit_seconds, stats, malloc(sizeof(nmrh_seq))};
    memset(stats, 0, sizeof *stats);
    stats->records_before = seq->count;
    if (!m.scratch) return -1;
    copy_seq(m.scratch, seq);
    if (!keeps_signature(&m, m.scratch)) {
        free(m.scratch);
        return -1;
    }
    /* Removals first (they shrink what later passes try), then parameters, until a fixpoint. */
    while (!stats->timed_out) {
        int progress = remove_pass(&m, seq);
        progress |= simplify_pass(&m, seq);
        if (!progress) break;
    }
    stats->records_after = seq->count;
    free(m.scratch);
    return 0;
}
