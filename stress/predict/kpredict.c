/*
 * nmrh-kpredict: what the NMR model says the kernel replay driver should observe for a sequence.
 *
 * It replays the sequence in the deterministic user-mode world, exactly as `nmrh replay
 * --boundary-only` does (threads switch only at NMR boundary points, which is all the kernel can
 * gate), with the modules compiled through the same interposer as in the driver
 * (core/interpose), and writes the interposer's observation log as a .nmrobs file. nmrstress
 * compares the driver's log of the same sequence with it: every difference is a place where the
 * real NMR does not do what the model, with the sequence's knob settings, does.
 *
 * Knobs the sequence does not set are fixed to their first value (the kernel's `decide` values
 * are scheduling decisions only; a knob left to the chooser would take them). A sequence that
 * sets a knob to `choose` gets a warning.
 *
 * Why a separate tool and files rather than the model inside nmrstress.exe: the model's
 * scheduler runs on fibers with hand-written context switches and POSIX memory mapping
 * (core/src/fiber.c); it does not build for Windows user mode. Predictions are made on Linux (or
 * WSL) and travel with the corpus, next to each sequence (foo.nmrseq -> foo.nmrobs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/interpose/interpose.h"
#include "../console/obsfile.h"
#include "../console/seqload.h"
#include "nmrh/interp.h"
#include "nmrh/knobs.h"
#include "nmrh/targets.h"
#include "nmrh/world.h"

#define MAX_THREADS 48
#define MAX_FOREIGN 64
#define LOG_CAPACITY 65536 /* NMRK_MAX_OBS */

typedef struct predict predict;

typedef struct pthread_slot {
    predict *p;
    nmrh_thread *thread;
    uint32_t index, module;
    void (*fn)(void *);
    void *arg;
} pthread_slot;

struct predict {
    nmrh_chooser base; /* the `decide` queue */
    uint8_t *decisions;
    size_t ndecisions, cap, next;
    nmrh_world *world;
    nmrh_platform pf;
    nmrh_interp *interp;
    nmrh_ip *ip;
    void *ip_mem;
    pthread_slot threads[MAX_THREADS];
    uint32_t nthreads;
    nmrh_thread *foreign[MAX_FOREIGN];
    uint32_t nforeign;
    uint32_t world_module[NMRH_SEQ_MAX_MODULES]; /* sequence index -> world id */
    uint32_t nmodules;
    int chose_knob;
};

static uint32_t queue_choose(nmrh_chooser *self, uint32_t n)
{
    predict *p = (predict *)self;
    return p->next < p->ndecisions ? p->decisions[p->next++] % n : 0;
}

/* ---- the interposer's host: the world's current logical thread ---- */

static uintptr_t h_lock(void *ctx)
{
    (void)ctx;
    return 0; /* fibers: one logical thread runs at a time, and never across a lock section */
}
static void h_unlock(void *ctx, uintptr_t t) { (void)ctx, (void)t; }

static uint32_t h_slot(void *ctx)
{
    predict *p = ctx;
    nmrh_thread *t = nmrh_world_current_thread(p->world);
    if (!t) return NMRH_IP_NO_SLOT;
    for (uint32_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].thread == t) return i;
    for (uint32_t k = 0; k < p->nforeign; k++)
        if (p->foreign[k] == t) return NMRH_IP_SEQ_THREADS + k;
    if (p->nforeign == MAX_FOREIGN) return NMRH_IP_NO_SLOT;
    p->foreign[p->nforeign] = t; /* an NMR worker thread of the model */
    return NMRH_IP_SEQ_THREADS + p->nforeign++;
}

static uint8_t h_irql(void *ctx)
{
    (void)ctx;
    return KeGetCurrentIrql();
}

/* The model has its own scheduling points at every boundary event: nothing to gate. */
static void h_gate(void *ctx, uint32_t slot, const nmrh_obs *e, int can_block) { (void)ctx, (void)slot, (void)e, (void)can_block; }

/* ---- the platform ---- */

static uint32_t seq_module(predict *p, uint32_t world_id)
{
    for (uint32_t i = 0; i < p->nmodules; i++)
        if (p->world_module[i] == world_id) return i;
    return NMRH_IP_MODULE_NONE;
}

static void *pf_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return calloc(1, size);
}

static void pf_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static void thread_main(void *arg)
{
    pthread_slot *s = arg;
    nmrh_ip_thread_begin(s->p->ip, s->index, s->module);
    s->fn(s->arg);
    nmrh_ip_thread_end(s->p->ip, s->index);
}

static void *pf_spawn(void *ctx, const char *name, uint32_t module, void (*fn)(void *), void *arg)
{
    predict *p = ctx;
    if (p->nthreads == 40) return NULL;
    pthread_slot *s = &p->threads[p->nthreads];
    *s = (pthread_slot){p, NULL, p->nthreads, seq_module(p, module), fn, arg};
    s->thread = nmrh_world_spawn(p->world, name, module, thread_main, s);
    if (!s->thread) return NULL;
    p->nthreads++;
    return s->thread;
}

static void pf_step(void *ctx, void *thread, uint32_t count)
{
    predict *p = ctx;
    while (count-- && nmrh_world_step(p->world, thread) == NMRH_THREAD_RUNNABLE) {
    }
}

static void pf_run_thread(void *ctx, void *thread) { nmrh_world_run_thread(((predict *)ctx)->world, thread); }
static void pf_run_all(void *ctx) { nmrh_world_run(((predict *)ctx)->world); }
static int pf_stopped(void *ctx) { return nmrh_world_stopped(((predict *)ctx)->world); }

static void pf_decide(void *ctx, uint8_t value)
{
    predict *p = ctx;
    if (p->ndecisions == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        uint8_t *v = realloc(p->decisions, cap);
        if (!v) return;
        p->decisions = v, p->cap = cap;
    }
    p->decisions[p->ndecisions++] = value;
}

static void pf_set_knob(void *ctx, uint32_t knob, uint32_t value)
{
    predict *p = ctx;
    if (value == NMRH_KNOB_CHOOSE) p->chose_knob = 1;
    nmrh_world_set_knob(p->world, (nmrh_knob)knob, (uint8_t)value);
}

/* Faults go through the interposer, as in the driver, not the model's own fault injection. */
static void pf_fail_allocs(void *ctx, uint32_t module, uint32_t skip, uint32_t count)
{
    predict *p = ctx;
    nmrh_ip_fail_allocs(p->ip, 0, seq_module(p, module), skip, count);
}

static void pf_fail_nmr(void *ctx, uint32_t which, uint32_t count) { nmrh_ip_fail_nmr(((predict *)ctx)->ip, which, count); }

static uint32_t pf_add_module(void *ctx, const char *name)
{
    predict *p = ctx;
    uint32_t id = nmrh_world_add_module(p->world, name);
    if (p->nmodules < NMRH_SEQ_MAX_MODULES) p->world_module[p->nmodules++] = id;
    return id;
}

static void pf_module_loaded(void *ctx, uint32_t module) { nmrh_world_module_loaded(((predict *)ctx)->world, module); }

static void pf_module_unloaded(void *ctx, uint32_t module)
{
    predict *p = ctx;
    nmrh_world_module_unloaded(p->world, module);
    nmrh_ip_module_unloaded(p->ip, 0, seq_module(p, module));
}

static void pf_record(void *ctx, uint32_t index) { nmrh_ip_record(((predict *)ctx)->ip, index); }

/* ---- one sequence ---- */

static int predict_one(const nmrh_seq *seq, const char *target, uint64_t id, obsfile *out, int *chose_knob)
{
    predict *p = calloc(1, sizeof *p);
    if (!p) return 0;
    p->base.choose = queue_choose;
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.points = NMRH_POINTS_BOUNDARY;
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) cfg.knobs[k] = 0;
    p->world = nmrh_world_create(&cfg, &p->base);
    p->interp = calloc(1, sizeof *p->interp);
    nmrh_ip_config ic = {1, NMRH_IP_SEQ_THREADS, MAX_FOREIGN, 128, 1024, LOG_CAPACITY, NMRH_IP_F_RECORD_EVENTS};
    size_t size = nmrh_ip_size(&ic);
    p->ip_mem = malloc(size);
    nmrh_ip_host host = {p, h_lock, h_unlock, h_slot, h_irql, h_gate};
    if (!p->world || !p->interp || !p->ip_mem || !(p->ip = nmrh_ip_init(p->ip_mem, size, &ic, &host))) {
        fprintf(stderr, "nmrh-kpredict: out of memory\n");
        exit(2);
    }
    p->pf = (nmrh_platform){
        .ctx = p, .alloc = pf_alloc, .free = pf_free, .spawn = pf_spawn, .step = pf_step,
        .run_thread = pf_run_thread, .run_all = pf_run_all, .stopped = pf_stopped, .decide = pf_decide,
        .set_knob = pf_set_knob, .fail_allocs = pf_fail_allocs, .fail_nmr = pf_fail_nmr,
        .add_module = pf_add_module, .module_loaded = pf_module_loaded, .module_unloaded = pf_module_unloaded,
        .record = pf_record,
    };
    nmrh_ip_activate(p->ip);
    nmrh_interp_init(p->interp, &p->pf, seq);
    nmrh_interp_run(p->interp);
    if (!nmrh_world_stopped(p->world)) nmrh_interp_finish(p->interp);
    int ok = !p->interp->out_of_memory;
    nmrh_world_finish(p->world);
    const nmrh_finding *f = nmrh_world_finding(p->world);

    memset(out, 0, sizeof *out);
    snprintf(out->target, sizeof out->target, "%s", target);
    out->seq_id = id;
    out->model_rule = f ? (uint32_t)f->rule : 0;
    uint32_t n;
    const nmrh_obs *log = nmrh_ip_log(p->ip, &n);
    for (uint32_t i = 0; i < n; i++) obsfile_append(out, &log[i]);
    *chose_knob = p->chose_knob;

    nmrh_ip_activate(NULL);
    nmrh_world_destroy(p->world);
    nmrh_interp_release(p->interp);
    free(p->interp);
    free(p->ip_mem);
    free(p->decisions);
    free(p);
    return ok;
}

static const char usage[] =
    "usage: nmrh-kpredict [--target NAME] [-o DIR] FILE...\n"
    "\n"
    "Replays each sequence in the NMR model with boundary-only scheduling points, through the\n"
    "interposer of the kernel replay driver, and writes the observations the driver should see\n"
    "to FILE's name with .nmrobs (in DIR when given, else next to FILE). nmrstress compares\n"
    "the real NMR's observations with these (docs/kernel-stress.md).\n"
    "Knobs a sequence does not set take their first value.\n"
    "Exit status: 0 written, 1 some sequence made the model report a finding (still written),\n"
    "2 bad input or usage.\n";

int main(int argc, char **argv)
{
    const char *target_name = "echo", *dir = NULL;
    int status = 0, nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            target_name = argv[++i];
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "nmrh-kpredict: unknown option '%s'\n%s", argv[i], usage);
            return 2;
        } else {
            nfiles++;
        }
    }
    const nmrh_target *target = nmrh_target_find(target_name);
#ifdef NMRH_KPREDICT_EXTRA_TARGET
    /* A copy of this tool with a module of one's own (stress/stress.cmake: nmrh_add_kpredict). */
    extern const nmrh_target NMRH_KPREDICT_EXTRA_TARGET;
    if (strcmp(target_name, NMRH_KPREDICT_EXTRA_TARGET.name) == 0) target = &NMRH_KPREDICT_EXTRA_TARGET;
#endif
    if (!target || nfiles == 0) {
        fprintf(stderr, "%s%s", target ? "" : "nmrh-kpredict: unknown target\n", usage);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 || strcmp(argv[i], "-o") == 0) {
            i++;
            continue;
        }
        const char *path = argv[i];
        seqload s;
        char err[512];
        if (!seqload_file(&s, path, target, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            seqload_free(&s);
            status = 2;
            continue;
        }
        obsfile of;
        int chose = 0;
        uint64_t id = nmrh_sequence_id(target->name, s.bytes, s.nbytes);
        if (!predict_one(s.seq, target->name, id, &of, &chose)) {
            fprintf(stderr, "%s: error: out of memory while replaying\n", path);
            status = 2;
        }
        if (chose) fprintf(stderr, "%s: warning: a knob is left to the chooser: the model takes decisions the kernel does not\n", path);
        /* out path: DIR/base.nmrobs or path-with-.nmrobs */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t stem = strlen(base);
        const char *dot = strrchr(base, '.');
        if (dot && dot != base) stem = (size_t)(dot - base);
        char out[4096];
        if (dir)
            snprintf(out, sizeof out, "%s/%.*s.nmrobs", dir, (int)stem, base);
        else
            snprintf(out, sizeof out, "%.*s%.*s.nmrobs", (int)(base - path), path, (int)stem, base);
        FILE *f = fopen(out, "w");
        if (!f || !obsfile_write(f, &of)) {
            fprintf(stderr, "%s: error: cannot write\n", out);
            status = 2;
        }
        if (f) fclose(f);
        if (of.model_rule && status == 0) status = 1;
        printf("%s: %zu observations, model %s%s\n", out, of.n, of.model_rule ? "finding " : "clean",
               of.model_rule ? nmrh_rule_id((nmrh_rule)of.model_rule) : "");
        obsfile_free(&of);
        seqload_free(&s);
    }
    return status;
}
