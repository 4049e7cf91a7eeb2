#include "minimize.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nmrh/knobs.h"
#include "probe.h"
#include "serialize.h"

typedef struct minimizer {
    const char *signature;
    time_t deadline;
    minimize_stats *stats;
    nmrh_seq *scratch; /* the candidate being tried */
    nmrh_seq *trial;   /* a whole alternative being minimised (the serialised schedule) */
    nmrh_seq *serialized_from; /* the last sequence serialize_pass tried, not to try it twice */
    nmrh_seq *shifted;         /* a removal candidate with decisions shifted */
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
static int runs_code(const nmrh_record *r)
{
    return r->op == NMRH_OP_STEP || r->op == NMRH_OP_RUN || r->op == NMRH_OP_RUN_ALL || r->op == NMRH_OP_DO;
}

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

/* ---- rearranging records: module and thread numbers follow declaration order ---- */

/* A record with the module (MODULE) or thread (START, DO) it declares, numbered as in the
   sequence it was taken from, so that records can be moved and the result renumbered. */
typedef struct item {
    nmrh_record r;
    int16_t declares;
} item;

static uint32_t to_items(const nmrh_seq *in, item *items)
{
    int16_t nmod = 0, nthr = 0;
    for (uint32_t i = 0; i < in->count; i++) {
        items[i].r = in->records[i];
        items[i].declares = in->records[i].op == NMRH_OP_MODULE ? nmod++ : creates_thread(&in->records[i]) ? nthr++ : -1;
    }
    return in->count;
}

/* `out` = the items in their order, modules and threads renumbered in the order they are now
   declared. Returns 0 when a record would name a module or thread before its declaration. */
static int from_items(const item *items, uint32_t n, const nmrh_target *target, nmrh_seq *out)
{
    uint8_t module_map[NMRH_SEQ_MAX_MODULES], thread_map[NMRH_SEQ_MAX_THREADS];
    memset(module_map, 0xFF, sizeof module_map);
    memset(thread_map, 0xFF, sizeof thread_map);
    uint8_t nmod = 0, nthr = 0;
    nmrh_seq_init(out, target);
    for (uint32_t i = 0; i < n; i++) {
        nmrh_record r = items[i].r;
        uint8_t *ref = NULL;
        const uint8_t *map = NULL;
        if (r.op == NMRH_OP_MODULE) {
            module_map[items[i].declares] = nmod++;
        } else if (creates_thread(&r)) {
            thread_map[items[i].declares] = nthr++;
            ref = &r.b;
            map = module_map;
        } else if (refers_to_thread(&r)) {
            ref = &r.a;
            map = thread_map;
        } else if (r.op == NMRH_OP_FAIL_ALLOCS) {
            ref = &r.a;
            map = module_map;
        }
        if (ref) {
            if (map[*ref] == 0xFF) return 0;
            *ref = map[*ref];
        }
        if (!nmrh_seq_append(out, r)) return 0;
    }
    return 1;
}

static uint32_t count_ops(const nmrh_seq *s, nmrh_op a, nmrh_op b)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->count; i++) n += s->records[i].op == a || s->records[i].op == b;
    return n;
}

/* A thread dropped from a schedule that decisions still drive (a `run` that hands over to an
   NMR worker keeps its decisions): a decision k > 0 that picked a thread after it now means the
   one after that. Tries `cand` with every such decision one lower, then with each one alone;
   leaves the first that keeps the signature in `cand`. */
static int with_decisions_shifted(minimizer *m, nmrh_seq *cand)
{
    uint32_t decides = 0;
    for (uint32_t i = 0; i < cand->count; i++) decides += cand->records[i].op == NMRH_OP_DECIDE && cand->records[i].a > 0;
    if (decides == 0) return 0;
    nmrh_seq *alt = m->shifted;
    for (uint32_t only = 0; only <= cand->count; only++) { /* only == count: all of them */
        if (only < cand->count && (cand->records[only].op != NMRH_OP_DECIDE || cand->records[only].a == 0 || decides == 1))
            continue;
        copy_seq(alt, cand);
        for (uint32_t i = 0; i < alt->count; i++)
            if (alt->records[i].op == NMRH_OP_DECIDE && alt->records[i].a > 0 && (only == cand->count || i == only))
                alt->records[i].a--;
        if (keeps_signature(m, alt)) {
            copy_seq(cand, alt);
            return 1;
        }
        if (m->stats->timed_out) return 0;
    }
    return 0;
}

/* Removal passes with shrinking chunk sizes, down to single records, until nothing goes. */
static int remove_pass(minimizer *m, nmrh_seq *seq)
{
    int progress = 0;
    for (uint32_t chunk = seq->count / 2 ? seq->count / 2 : 1; chunk >= 1; chunk /= 2) {
        for (uint32_t start = 0; start < seq->count;) {
            uint32_t end = start + chunk < seq->count ? start + chunk : seq->count;
            without(seq, start, end, m->scratch);
            if (m->scratch->count < seq->count &&
                (keeps_signature(m, m->scratch) ||
                 (chunk == 1 && creates_thread(&seq->records[start]) && with_decisions_shifted(m, m->scratch)))) {
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
        case NMRH_OP_FAIL_ALLOCS: /* fewer failures, the same first failing allocation; then an earlier one */
            if (orig.b > 1) simpler[n++] = (nmrh_record){orig.op, orig.a, 1, orig.c};
            if (orig.c > 0) simpler[n++] = (nmrh_record){orig.op, orig.a, orig.b, 0};
            if (orig.c > 1) simpler[n++] = (nmrh_record){orig.op, orig.a, orig.b, (uint8_t)(orig.c - 1)};
            break;
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

/* A `run` lets the queued decisions pick the interleaving, so the decisions depend on every
   thread that exists when they are consumed, and no single record of a prelude that shifts them
   can go. Serialised (serialize.h), the same schedule is explicit steps: dropping a thread then
   renumbers the steps of the others, and the decisions are gone. The serialised form is kept
   when, itself minimised, it is shorter (or as short with fewer decisions). */
static int serialize_pass(minimizer *m, nmrh_seq *seq)
{
    uint32_t scheduled = count_ops(seq, NMRH_OP_DECIDE, NMRH_OP_RUN_ALL);
    if (!scheduled) return 0;
    if (seq->count == m->serialized_from->count &&
        memcmp(seq->records, m->serialized_from->records, seq->count * sizeof seq->records[0]) == 0)
        return 0;
    copy_seq(m->serialized_from, seq);
    if (!serialize_schedule(seq, 30, m->trial)) return 0;
    m->stats->runs++;
    if (!keeps_signature(m, m->trial)) return 0;
    remove_pass(m, m->trial);
    if (m->trial->count > seq->count) return 0;
    if (m->trial->count == seq->count && count_ops(m->trial, NMRH_OP_DECIDE, NMRH_OP_RUN_ALL) >= scheduled) return 0;
    copy_seq(seq, m->trial);
    return 1;
}

/* Tries `n` items as the sequence; keeps them when they keep the signature. */
static int try_items(minimizer *m, nmrh_seq *seq, const item *items, uint32_t n)
{
    if (!from_items(items, n, seq->target, m->scratch) || !keeps_signature(m, m->scratch)) return 0;
    copy_seq(seq, m->scratch);
    return 1;
}

/* Statements that say the same in fewer records: `tN = ACTION` ... `run tN`, with nothing
   naming tN in between, is the shorthand `ACTION` where the run was (the thread is started
   later, so the threads after it are renumbered); `step tN A` ... `step tN B`, with nothing run
   in between, is `step tN A+B` (in either place: a knob in between may matter to either part). */
static int merge_pass(minimizer *m, nmrh_seq *seq)
{
    item items[NMRH_SEQ_MAX_RECORDS], moved[NMRH_SEQ_MAX_RECORDS];
    int progress = 0;
    for (uint32_t i = 0; i < seq->count && !m->stats->timed_out; i++) {
        uint32_t n = to_items(seq, items);
        nmrh_record r = items[i].r;
        if (r.op == NMRH_OP_STEP) {
            /* The next step of the same thread, with nothing run in between (knobs, faults and
               decisions may be): one step of both counts, where the first or the second was. */
            uint32_t j = i + 1;
            while (j < n && !(items[j].r.op == NMRH_OP_STEP && items[j].r.a == r.a) && !runs_code(&items[j].r)) j++;
            if (j == n || items[j].r.op != NMRH_OP_STEP || r.b + items[j].r.b + 2 > 16) continue;
            for (int at_second = 0; at_second < 2; at_second++) {
                uint32_t keep = at_second ? j : i, drop = at_second ? i : j;
                memcpy(moved, items, n * sizeof *items);
                moved[keep].r.b = (uint8_t)(r.b + items[j].r.b + 1);
                memmove(moved + drop, moved + drop + 1, (n - drop - 1) * sizeof *items);
                if (try_items(m, seq, moved, n - 1)) {
                    progress = 1;
                    i--; /* the merged step may merge again */
                    break;
                }
            }
            continue;
        }
        if (r.op != NMRH_OP_START) continue;
        uint32_t j = i + 1;
        while (j < n && !(refers_to_thread(&items[j].r) && items[j].r.a == items[i].declares)) j++;
        if (j == n || items[j].r.op != NMRH_OP_RUN) continue;
        uint32_t k = 0;
        for (uint32_t x = 0; x < n; x++) {
            if (x == i) continue;
            moved[k] = items[x];
            if (x == j) moved[k].r = (nmrh_record){NMRH_OP_DO, r.a, r.b, r.c}, moved[k].declares = items[i].declares;
            k++;
        }
        if (try_items(m, seq, moved, k)) progress = 1;
    }
    return progress;
}

/* Canonical numbering: modules declared first, in the order the rest of the sequence first names
   them (m0 is the first one loaded, ...); modules never named stay after them. */
static int renumber_modules_pass(minimizer *m, nmrh_seq *seq)
{
    item items[NMRH_SEQ_MAX_RECORDS], moved[NMRH_SEQ_MAX_RECORDS];
    uint32_t n = to_items(seq, items), k = 0;
    uint8_t placed[NMRH_SEQ_MAX_MODULES] = {0};
    uint32_t decl[NMRH_SEQ_MAX_MODULES] = {0};
    for (uint32_t i = 0; i < n; i++)
        if (items[i].r.op == NMRH_OP_MODULE) decl[items[i].declares] = i;
    for (uint32_t i = 0; i < n; i++) {
        const nmrh_record *r = &items[i].r;
        int named = creates_thread(r) ? r->b : r->op == NMRH_OP_FAIL_ALLOCS ? r->a : -1;
        if (named >= 0 && !placed[named]) {
            moved[k++] = items[decl[named]];
            placed[named] = 1;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        if (items[i].r.op == NMRH_OP_MODULE && !placed[items[i].declares]) moved[k++] = items[i];
    for (uint32_t i = 0; i < n; i++)
        if (items[i].r.op != NMRH_OP_MODULE) moved[k++] = items[i];
    if (memcmp(moved, items, n * sizeof *items) == 0) return 0;
    return try_items(m, seq, moved, n);
}

int minimize_sequence(nmrh_seq *seq, const char *signature, unsigned time_limit_seconds, minimize_stats *stats)
{
    minimizer m = {signature, time(NULL) + (time_t)time_limit_seconds, stats, malloc(sizeof(nmrh_seq)),
                   malloc(sizeof(nmrh_seq)), calloc(1, sizeof(nmrh_seq)), malloc(sizeof(nmrh_seq))};
    memset(stats, 0, sizeof *stats);
    stats->records_before = seq->count;
    int result = -1;
    if (!m.scratch || !m.trial || !m.serialized_from || !m.shifted) goto out;
    copy_seq(m.scratch, seq);
    if (!keeps_signature(&m, m.scratch)) goto out;
    /* Removals first (they shrink what later passes try), then the schedule made explicit, then
       shorter statements for the same thing, then parameters, until a fixpoint; module numbers
       made canonical at the end. */
    while (!stats->timed_out) {
        int progress = remove_pass(&m, seq);
        progress |= serialize_pass(&m, seq);
        progress |= merge_pass(&m, seq);
        progress |= simplify_pass(&m, seq);
        if (!progress) break;
    }
    if (!stats->timed_out && renumber_modules_pass(&m, seq)) remove_pass(&m, seq); /* still 1-minimal */
    result = 0;
out:
    stats->records_after = seq->count;
    free(m.scratch);
    free(m.trial);
    free(m.serialized_from);
    free(m.shifted);
    return result;
}
