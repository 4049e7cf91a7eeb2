/*
 * Replay throughput of the scenario corpus, and its ratio to the direct-call floor.
 *
 * Harness: every sequence (the .nmrseq files of corpus/scenarios, or the files and directories given on the
 * command line; bench/data/ when the corpus is empty) replayed with nmrh_session_run, the way
 * `nmrh replay` and the fuzz target run one input: a fresh world, the sequence interpreter, the
 * drain and the end-of-run checks, then nmrh_session_destroy. Measured with and without a world
 * pool (cfg.pool, which keeps thread stacks between worlds).
 *
 * Floor: the same module code, the same order, without the harness. The sequence interpreter
 * (core/seq/interp.c, which is portable and has no world) runs on a "direct" platform: an action
 * runs to completion, on the caller's stack, the first time the sequence steps or runs its thread
 * (at its record for the shorthand actions, at the drain for threads never run), so actions run
 * in the order the replay starts them. No world is current, so the kernel shim falls back to plain
 * behaviour (pool = malloc/free, spin locks = flags, no scheduling points, no trace). The Nmr*
 * calls of the modules go to a minimal synchronous NMR below (linked in with -Wl,--wrap: when no
 * world is current the wrappers take the floor's path, otherwise the model's): it calls the
 * modules' callbacks directly, with the model's default choices (handle written before attach,
 * client side detached first, detach and cleanup inline on the calling thread, at PASSIVE_LEVEL).
 * Where a sequence interleaves threads (a call stopped inside the peer while another thread
 * deregisters), the floor runs the actions one after the other instead, so it may do somewhat
 * different work (no pending detach to complete, say); the per-scenario table shows both event
 * counts. Its Wait never blocks.
 *
 * Events: model events, as in bench_model_events: NMR calls, NMR returns, callbacks, callback
 * returns (nmrh_world_stats.model_events; the floor counts the same four at the same places).
 * Throughput is model events per second over whole corpus passes; the ratio is harness time per
 * pass over floor time per pass. Medians over repeated runs. --quick: one short pass each;
 * --only harness|pool|floor: just time that variant, printing nothing more (for profilers).
 */
#include "bench_util.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netioddk.h>
#include <ntddk.h>

#include "nmrh/interp.h"
#include "nmrh/seq.h"
#include "nmrh/session.h"
#include "nmrh/targets.h"

#ifndef NMRH_BENCH_SOURCE_DIR
#define NMRH_BENCH_SOURCE_DIR "."
#endif

/* ------------------------------------------------------------------------------------------ */
/* The floor: a minimal synchronous NMR                                                        */
/* ------------------------------------------------------------------------------------------ */

enum { FLOOR_MAGIC = 0x464c4f52 /* 'FLOR' */, FLOOR_MAX_THREADS = NMRH_SEQ_MAX_THREADS + NMRH_SEQ_MAX_MODULES };
enum { SIDE_NONE, SIDE_PENDING, SIDE_DONE };

typedef struct floor_state floor_state;

typedef struct floor_reg {
    uint32_t magic;
    floor_state *fs;
    BOOLEAN is_client, deregistered;
    const void *chars;
    void *context;
} floor_reg;

typedef struct floor_binding {
    uint32_t magic;
    floor_state *fs;
    floor_reg *client, *provider;
    BOOLEAN attached, dead, complete_called[2];
    unsigned char side[2]; /* SIDE_* per side: client, provider */
    PVOID ctx[2];
} floor_binding;

typedef struct floor_thread {
    void (*fn)(void *arg);
    void *arg;
    BOOLEAN ran;
} floor_thread;

/* Module instances carry this header in front, so that Nmr*Register* (which gets the instance as
   its context from every module kind of the echo target) finds the floor without a global. */
typedef struct floor_instance {
    uint32_t magic;
    floor_state *fs;
    _Alignas(16) unsigned char mem[];
} floor_instance;

struct floor_state {
    uint64_t events;
    floor_reg **regs;
    uint32_t nregs, regs_cap;
    floor_binding **bindings;
    uint32_t nbindings, bindings_cap;
    floor_thread threads[FLOOR_MAX_THREADS];
    uint32_t nthreads;
};

static void *grow(void *array, uint32_t *cap, size_t elem)
{
    uint32_t n = *cap ? *cap * 2 : 8;
    void *p = realloc(array, n * elem);
    if (!p) abort();
    *cap = n;
    return p;
}

static const NPI_REGISTRATION_INSTANCE *reg_instance(const floor_reg *r)
{
    return r->is_client ? &((const NPI_CLIENT_CHARACTERISTICS *)r->chars)->ClientRegistrationInstance
                        : &((const NPI_PROVIDER_CHARACTERISTICS *)r->chars)->ProviderRegistrationInstance;
}

static floor_reg *as_reg(HANDLE h)
{
    floor_reg *r = h;
    if (!r || r->magic != FLOOR_MAGIC) {
        fprintf(stderr, "bench_replay: floor got a bad registration handle\n");
        abort();
    }
    return r;
}

static floor_binding *as_binding(HANDLE h)
{
    floor_binding *b = h;
    if (!b || b->magic != FLOOR_MAGIC + 1) {
        fprintf(stderr, "bench_replay: floor got a bad binding handle\n");
        abort();
    }
    return b;
}

static void cleanup(floor_binding *b)
{
    PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN cc =
        ((const NPI_CLIENT_CHARACTERISTICS *)b->client->chars)->ClientCleanupBindingContext;
    PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN pc =
        ((const NPI_PROVIDER_CHARACTERISTICS *)b->provider->chars)->ProviderCleanupBindingContext;
    if (cc) {
        b->fs->events += 2;
        cc(b->ctx[0]);
    }
    if (pc) {
        b->fs->events += 2;
        pc(b->ctx[1]);
    }
    b->dead = TRUE;
}

static void side_finished(floor_binding *b)
{
    if (!b->dead && b->side[0] == SIDE_DONE && b->side[1] == SIDE_DONE) cleanup(b);
}

static void detach_side(floor_binding *b, int s)
{
    const floor_reg *r = s ? b->provider : b->client;
    NTSTATUS status = s ? ((const NPI_PROVIDER_CHARACTERISTICS *)r->chars)->ProviderDetachClient(b->ctx[1])
                        : ((const NPI_CLIENT_CHARACTERISTICS *)r->chars)->ClientDetachProvider(b->ctx[0]);
    b->fs->events += 2;
    b->side[s] = (status == STATUS_SUCCESS || b->complete_called[s]) ? SIDE_DONE : SIDE_PENDING;
    side_finished(b);
}

static NTSTATUS floor_register(BOOLEAN is_client, const void *chars, void *context, PHANDLE handle)
{
    floor_instance *inst = (floor_instance *)((unsigned char *)context - offsetof(floor_instance, mem));
    if (inst->magic != FLOOR_MAGIC) {
        fprintf(stderr, "bench_replay: floor needs the module instance as the registration context\n");
        abort();
    }
    floor_state *fs = inst->fs;
    fs->events += 2;
    floor_reg *r = calloc(1, sizeof *r);
    if (!r) abort();
    *r = (floor_reg){FLOOR_MAGIC, fs, is_client, FALSE, chars, context};
    if (fs->nregs == fs->regs_cap) fs->regs = grow(fs->regs, &fs->regs_cap, sizeof *fs->regs);
    fs->regs[fs->nregs++] = r;
    *handle = r; /* before the attach callbacks: the model's default */
    for (uint32_t i = 0; i + 1 < fs->nregs; i++) {
        floor_reg *peer = fs->regs[i];
        if (peer->is_client == is_client || peer->deregistered ||
            !IsEqualGUID(reg_instance(peer)->NpiId, reg_instance(r)->NpiId))
            continue;
        floor_binding *b = calloc(1, sizeof *b);
        if (!b) abort();
        b->magic = FLOOR_MAGIC + 1;
        b->fs = fs;
        b->client = is_client ? r : peer;
        b->provider = is_client ? peer : r;
        if (fs->nbindings == fs->bindings_cap) fs->bindings = grow(fs->bindings, &fs->bindings_cap, sizeof *fs->bindings);
        fs->bindings[fs->nbindings++] = b;
        fs->events += 2;
        NTSTATUS status = ((const NPI_CLIENT_CHARACTERISTICS *)b->client->chars)
                              ->ClientAttachProvider(b, b->client->context, reg_instance(b->provider));
        if (status != STATUS_SUCCESS) b->attached = FALSE;
        if (!b->attached) b->dead = TRUE;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS floor_attach(HANDLE binding, PVOID client_ctx, const VOID *client_dispatch, PVOID *provider_ctx,
                             const VOID **provider_dispatch)
{
    floor_binding *b = as_binding(binding);
    b->fs->events += 4; /* the NMR call and return, the provider's callback and its return */
    PVOID pctx = NULL;
    const VOID *pdisp = NULL;
    NTSTATUS status = ((const NPI_PROVIDER_CHARACTERISTICS *)b->provider->chars)
                          ->ProviderAttachClient(b, b->provider->context, reg_instance(b->client), client_ctx,
                                                 client_dispatch, &pctx, &pdisp);
    if (status == STATUS_SUCCESS) {
        b->attached = TRUE;
        b->ctx[0] = client_ctx;
        b->ctx[1] = pctx;
        *provider_ctx = pctx;
        *provider_dispatch = pdisp;
    }
    return status;
}

static NTSTATUS floor_deregister(HANDLE handle)
{
    floor_reg *r = as_reg(handle);
    floor_state *fs = r->fs;
    fs->events += 2;
    r->deregistered = TRUE;
    for (uint32_t i = 0; i < fs->nbindings; i++) {
        floor_binding *b = fs->bindings[i];
        if ((b->client != r && b->provider != r) || b->dead || b->side[0] != SIDE_NONE || b->side[1] != SIDE_NONE)
            continue;
        detach_side(b, 0); /* client first: the model's default */
        detach_side(b, 1);
    }
    return STATUS_PENDING;
}

static NTSTATUS floor_wait(HANDLE handle)
{
    as_reg(handle)->fs->events += 2;
    return STATUS_SUCCESS;
}

static void floor_complete(HANDLE binding, int s)
{
    floor_binding *b = as_binding(binding);
    b->fs->events += 2;
    b->complete_called[s] = TRUE;
    if (b->side[s] == SIDE_PENDING) {
        b->side[s] = SIDE_DONE;
        side_finished(b);
    }
}

/* The wrappers: -Wl,--wrap=Nmr... sends the modules' calls here. */
#define REAL_AND_WRAP(ret, name, params)                                                                               \
    ret __real_##name params;                                                                                          \
    ret __wrap_##name params;
REAL_AND_WRAP(NTSTATUS, NmrRegisterClient, (PNPI_CLIENT_CHARACTERISTICS c, PVOID ctx, PHANDLE h))
REAL_AND_WRAP(NTSTATUS, NmrRegisterProvider, (PNPI_PROVIDER_CHARACTERISTICS c, PVOID ctx, PHANDLE h))
REAL_AND_WRAP(NTSTATUS, NmrDeregisterClient, (HANDLE h))
REAL_AND_WRAP(NTSTATUS, NmrDeregisterProvider, (HANDLE h))
REAL_AND_WRAP(NTSTATUS, NmrWaitForClientDeregisterComplete, (HANDLE h))
REAL_AND_WRAP(NTSTATUS, NmrWaitForProviderDeregisterComplete, (HANDLE h))
REAL_AND_WRAP(NTSTATUS, NmrClientAttachProvider,
              (HANDLE b, PVOID cctx, const VOID *cd, PVOID *pctx, const VOID **pd))
REAL_AND_WRAP(VOID, NmrClientDetachProviderComplete, (HANDLE b))
REAL_AND_WRAP(VOID, NmrProviderDetachClientComplete, (HANDLE b))

#define FLOOR (nmrh_world_current() == NULL)
NTSTATUS __wrap_NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS c, PVOID ctx, PHANDLE h)
{
    return FLOOR ? floor_register(TRUE, c, ctx, h) : __real_NmrRegisterClient(c, ctx, h);
}
NTSTATUS __wrap_NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS c, PVOID ctx, PHANDLE h)
{
    return FLOOR ? floor_register(FALSE, c, ctx, h) : __real_NmrRegisterProvider(c, ctx, h);
}
NTSTATUS __wrap_NmrDeregisterClient(HANDLE h) { return FLOOR ? floor_deregister(h) : __real_NmrDeregisterClient(h); }
NTSTATUS __wrap_NmrDeregisterProvider(HANDLE h) { return FLOOR ? floor_deregister(h) : __real_NmrDeregisterProvider(h); }
NTSTATUS __wrap_NmrWaitForClientDeregisterComplete(HANDLE h)
{
    return FLOOR ? floor_wait(h) : __real_NmrWaitForClientDeregisterComplete(h);
}
NTSTATUS __wrap_NmrWaitForProviderDeregisterComplete(HANDLE h)
{
    return FLOOR ? floor_wait(h) : __real_NmrWaitForProviderDeregisterComplete(h);
}
NTSTATUS __wrap_NmrClientAttachProvider(HANDLE b, PVOID cctx, const VOID *cd, PVOID *pctx, const VOID **pd)
{
    return FLOOR ? floor_attach(b, cctx, cd, pctx, pd) : __real_NmrClientAttachProvider(b, cctx, cd, pctx, pd);
}
VOID __wrap_NmrClientDetachProviderComplete(HANDLE b)
{
    if (FLOOR)
        floor_complete(b, 0);
    else
        __real_NmrClientDetachProviderComplete(b);
}
VOID __wrap_NmrProviderDetachClientComplete(HANDLE b)
{
    if (FLOOR)
        floor_complete(b, 1);
    else
        __real_NmrProviderDetachClientComplete(b);
}

/* The direct platform of the interpreter. */
static floor_state *FS(void *ctx) { return ctx; }

static void *fp_alloc(void *ctx, size_t size)
{
    floor_instance *inst = calloc(1, sizeof *inst + size);
    if (!inst) return NULL;
    inst->magic = FLOOR_MAGIC;
    inst->fs = FS(ctx);
    return inst->mem;
}

static void fp_free(void *ctx, void *p)
{
    (void)ctx;
    free((unsigned char *)p - offsetof(floor_instance, mem));
}

static void *fp_spawn(void *ctx, const char *name, uint32_t module, void (*fn)(void *), void *arg)
{
    floor_state *fs = FS(ctx);
    (void)name;
    (void)module;
    if (fs->nthreads == FLOOR_MAX_THREADS) return NULL;
    floor_thread *t = &fs->threads[fs->nthreads++];
    *t = (floor_thread){fn, arg, FALSE};
    return t;
}

static void fp_run_thread(void *ctx, void *thread)
{
    floor_thread *t = thread;
    (void)ctx;
    if (t->ran) return;
    t->ran = TRUE;
    t->fn(t->arg);
}

static void fp_step(void *ctx, void *thread, uint32_t count)
{
    (void)count;
    fp_run_thread(ctx, thread);
}

static void fp_run_all(void *ctx)
{
    floor_state *fs = FS(ctx);
    for (uint32_t i = 0; i < fs->nthreads; i++) fp_run_thread(ctx, &fs->threads[i]);
}

static int fp_stopped(void *ctx)
{
    (void)ctx;
    return 0;
}
static void fp_decide(void *ctx, uint8_t value)
{
    (void)ctx;
    (void)value;
}
static void fp_set_knob(void *ctx, uint32_t knob, uint32_t value)
{
    (void)ctx;
    (void)knob;
    (void)value;
}
static void fp_fail_allocs(void *ctx, uint32_t module, uint32_t skip, uint32_t count)
{
    (void)ctx;
    (void)module;
    (void)skip;
    (void)count;
}
static void fp_fail_nmr(void *ctx, uint32_t which, uint32_t count)
{
    (void)ctx;
    (void)which;
    (void)count;
}
static uint32_t fp_add_module(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return 0;
}
static void fp_module(void *ctx, uint32_t module)
{
    (void)ctx;
    (void)module;
}

/* One sequence through the floor; returns its model events. */
static uint64_t floor_run(const nmrh_seq *seq)
{
    floor_state fs;
    memset(&fs, 0, sizeof fs);
    nmrh_platform pf = {&fs,          fp_alloc,    fp_free,      fp_spawn,  fp_step,          fp_run_thread,
                        fp_run_all,   fp_stopped,  fp_decide,    fp_set_knob, fp_fail_allocs, fp_fail_nmr,
                        fp_add_module, fp_module,  fp_module,    NULL, NULL, NULL};
    nmrh_interp ip;
    nmrh_interp_init(&ip, &pf, seq);
    nmrh_interp_run(&ip);
    nmrh_interp_finish(&ip);
    fp_run_all(&fs); /* the drain: every thread not run yet, in number order */
    nmrh_interp_release(&ip);
    for (uint32_t i = 0; i < fs.nregs; i++) free(fs.regs[i]);
    for (uint32_t i = 0; i < fs.nbindings; i++) free(fs.bindings[i]);
    free(fs.regs);
    free(fs.bindings);
    return fs.events;
}

/* ------------------------------------------------------------------------------------------ */
/* Sequences                                                                                   */
/* ------------------------------------------------------------------------------------------ */

enum { MAX_SEQS = 512 };

typedef struct scenario {
    char name[96];
    nmrh_seq *seq;
    uint64_t events, records, floor_events;
    int result;
} scenario;

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool load_file(const char *path, const nmrh_target *target, scenario *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    char *text = malloc(1 << 20);
    size_t size = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!text) return false;
    text[size] = '\0';
    out->seq = malloc(sizeof *out->seq);
    nmrh_seq_error err;
    bool ok = out->seq && nmrh_seq_parse(out->seq, target, text, size, &err);
    if (!ok && out->seq) fprintf(stderr, "%s:%u:%u: error: %s\n", path, err.line, err.col, err.message);
    free(text);
    const char *base = strrchr(path, '/');
    snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : path);
    return ok;
}

/* Appends the .nmrseq files of `dir` (sorted) or the file `path` itself. */
static int load_path(const char *path, const nmrh_target *target, scenario *list, int n)
{
    DIR *d = opendir(path);
    if (!d) {
        if (n < MAX_SEQS && load_file(path, target, &list[n])) return n + 1;
        fprintf(stderr, "bench_replay: cannot load %s\n", path);
        exit(1);
    }
    char *names[MAX_SEQS];
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && k < MAX_SEQS)
        if (has_suffix(e->d_name, ".nmrseq")) names[k++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)k, sizeof names[0], by_name);
    for (int i = 0; i < k; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        if (n < MAX_SEQS && !load_file(full, target, &list[n])) {
            fprintf(stderr, "bench_replay: cannot load %s\n", full);
            exit(1);
        }
        n++;
        free(names[i]);
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Measurement                                                                                 */
/* ------------------------------------------------------------------------------------------ */

enum { MAX_REPS = 15 };

static int harness_run(const nmrh_seq *seq, nmrh_world_pool *pool, nmrh_world_stats *st)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.pool = pool;
    nmrh_session s;
    int r = nmrh_session_run(&s, seq, &cfg);
    if (st && s.world) *st = nmrh_world_get_stats(s.world);
    nmrh_session_destroy(&s);
    return r;
}

/* `passes` passes over every scenario; false if a replay's result changed. */
static bool time_harness(const scenario *list, int n, int passes, nmrh_world_pool *pool, double *wall, double *cpu)
{
    bool ok = true;
    bench_clock c = bench_start();
    for (int p = 0; p < passes; p++)
        for (int i = 0; i < n; i++) ok &= harness_run(list[i].seq, pool, NULL) == list[i].result;
    bench_elapsed(c, wall, cpu);
    return ok;
}

static bool time_floor(const scenario *list, int n, int passes, double *wall, double *cpu)
{
    bool ok = true;
    bench_clock c = bench_start();
    for (int p = 0; p < passes; p++)
        for (int i = 0; i < n; i++) ok &= floor_run(list[i].seq) == list[i].floor_events;
    bench_elapsed(c, wall, cpu);
    return ok;
}

int main(int argc, char **argv)
{
    const bool quick = bench_quick(argc, argv);
    const int reps = quick ? 3 : MAX_REPS;
    const nmrh_target *target = nmrh_target_find("echo");
    static scenario list[MAX_SEQS];
    int n = 0;
    const char *only = NULL; /* --only harness|pool|floor: time one variant (e.g. under a profiler) */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--quick") != 0)
            n = load_path(argv[i], target, list, n);
    }
    const char *source = "(command line)";
    if (n == 0) {
        source = NMRH_BENCH_SOURCE_DIR "/corpus/scenarios";
        n = load_path(source, target, list, 0);
    }
    if (n == 0) {
        source = NMRH_BENCH_SOURCE_DIR "/bench/data";
        n = load_path(source, target, list, 0);
    }
    if (n == 0) {
        fprintf(stderr, "bench_replay: no sequences\n");
        return 1;
    }

    /* Calibration: each sequence once, checked against a second run (replays are deterministic). */
    uint64_t events = 0, records = 0, floor_events = 0;
    printf("%d sequences from %s\n", n, source);
    printf("  %-52s %8s %8s %8s  %s\n", "scenario", "events", "records", "floor", "result");
    for (int i = 0; i < n; i++) {
        nmrh_world_stats st = {0}, st2 = {0};
        list[i].result = harness_run(list[i].seq, NULL, &st);
        if (list[i].result < 0 || harness_run(list[i].seq, NULL, &st2) != list[i].result ||
            st.model_events != st2.model_events) {
            fprintf(stderr, "bench_replay: %s does not replay deterministically\n", list[i].name);
            return 1;
        }
        list[i].events = st.model_events;
        list[i].records = st.events;
        list[i].floor_events = floor_run(list[i].seq);
        events += st.model_events;
        records += st.events;
        floor_events += list[i].floor_events;
        printf("  %-52s %8llu %8llu %8llu  %s\n", list[i].name, (unsigned long long)list[i].events,
               (unsigned long long)list[i].records, (unsigned long long)list[i].floor_events,
               list[i].result ? "clean" : "FINDING");
    }
    printf("  %-52s %8llu %8llu %8llu\n", "total per pass", (unsigned long long)events, (unsigned long long)records,
           (unsigned long long)floor_events);

    /* Enough passes for about 0.2 s of harness time per measurement. */
    double w0, c0;
    nmrh_world_pool *pool = nmrh_world_pool_create();
    if (!pool || !time_harness(list, n, 1, pool, &w0, &c0)) return 1;
    int passes = quick ? 1 : (int)(0.2 / (w0 > 1e-6 ? w0 : 1e-6)) + 1;
    int floor_passes = passes * 20;

    double hw[2][MAX_REPS], hc[2][MAX_REPS], fw[MAX_REPS], fc[MAX_REPS];
    if (only) {
        bool ok = true;
        for (int r = 0; r < reps && ok; r++)
            ok = strcmp(only, "floor") == 0 ? time_floor(list, n, floor_passes, &fw[r], &fc[r])
                                            : time_harness(list, n, passes, strcmp(only, "pool") == 0 ? pool : NULL,
                                                           &hw[0][r], &hc[0][r]);
        nmrh_world_pool_destroy(pool);
        return ok ? 0 : 1;
    }
    for (int r = 0; r < reps; r++) { /* interleaved, so that load changes hit every variant alike */
        if (!time_harness(list, n, passes, NULL, &hw[0][r], &hc[0][r]) ||
            !time_harness(list, n, passes, pool, &hw[1][r], &hc[1][r]) ||
            !time_floor(list, n, floor_passes, &fw[r], &fc[r])) {
            fprintf(stderr, "bench_replay: a replay changed its result between runs\n");
            return 1;
        }
    }
    nmrh_world_pool_destroy(pool);

    double floor_pass = bench_median(fw, reps) / floor_passes, floor_pass_cpu = bench_median(fc, reps) / floor_passes;
    printf("floor (direct calls, no world):   median %10.0f model events/s (cpu %10.0f), %8.2f us per pass (cpu %8.2f)"
           "  [%d reps x %d passes]\n",
           (double)floor_events / floor_pass, (double)floor_events / floor_pass_cpu, floor_pass * 1e6,
           floor_pass_cpu * 1e6, reps, floor_passes);
    for (int v = 0; v < 2; v++) {
        double pass = bench_median(hw[v], reps) / passes, pass_cpu = bench_median(hc[v], reps) / passes;
        printf("harness (nmrh_session_run%s): median %10.0f model events/s (cpu %10.0f), %8.2f us per pass (cpu %8.2f)"
               "  [%d reps x %d passes]\n",
               v ? ", pool" : "      ", (double)events / pass, (double)events / pass_cpu, pass * 1e6, pass_cpu * 1e6,
               reps, passes);
        printf("    %.0f trace records/s; %.1fx the floor's time per pass (cpu %.1fx)\n", (double)records / pass,
               pass / floor_pass, pass_cpu / floor_pass_cpu);
    }
    return 0;
}
