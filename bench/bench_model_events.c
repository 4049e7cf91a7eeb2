/*
 * NMR model event throughput: register / attach / detach / complete / cleanup cycles of the echo
 * pair driven directly through a world (no sequence interpreter), on one core.
 *
 * What is counted: "model events" = trace records of NMR API calls, NMR API returns, callbacks
 * and callback returns (nmrh_world_stats.model_events). Scheduling records (spawn, switch, block,
 * wake, thread end), knob choices, DbgPrint notes and bindings are traced too but not counted;
 * nmrh_world_stats.events counts every trace record and is printed alongside.
 *
 * One cycle (scenario "pending", default knobs, everything inline on the calling threads):
 *   load provider        NmrRegisterProvider
 *   load client          NmrRegisterClient -> ClientAttachProvider -> NmrClientAttachProvider
 *                        -> ProviderAttachClient
 *   call client (t2)     stepped 4 scheduling points: stopped inside the call, guard entered
 *   unload provider      NmrDeregisterProvider -> ClientDetachProvider (PENDING, call in flight)
 *                        -> ProviderDetachClient (SUCCESS); NmrWaitForProviderDeregisterComplete
 *                        blocks
 *   t2 runs on           Echo returns; the last call completes: NmrClientDetachProviderComplete
 *                        -> ClientCleanupBindingContext, ProviderCleanupBindingContext; wakes
 *   unload provider      the wait returns
 *   unload client        NmrDeregisterClient, NmrWaitForClientDeregisterComplete
 * Scenario "workers" fixes detach-thread=worker-per-side and cleanup=deferred: the detach
 * callbacks and the cleanup run on NMR worker threads (three more fibers a cycle).
 *
 * Modes:
 *   per-world   one world per cycle, as the fuzzer runs one world per input: world creation,
 *               modules, instance memory, the cycle, nmrh_world_finish and destruction are timed.
 *   steady      many cycles in one world (the instances are reloaded), timed as a whole.
 * Each measurement is repeated and the median reported. --quick: a few cycles, to prove it runs.
 * --scenario pending|workers, --mode per-world|steady: only those; --worlds N: worlds per
 * per-world measurement (default 20000); --steady N: one steady size (default 100, 1000, 10000).
 */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo_modules.h"
#include "nmrh/world.h"

typedef struct inst {
    const nmrh_module_kind *kind;
    uint32_t module;
    void *mem;
} inst;

static void load_fn(void *arg)
{
    inst *i = arg;
    memset(i->mem, 0, i->kind->instance_size);
    nmrh_world_module_loaded(nmrh_world_current(), i->module);
    (void)i->kind->load(i->mem, 0);
}

static void unload_fn(void *arg)
{
    inst *i = arg;
    i->kind->unload(i->mem);
    nmrh_world_module_unloaded(nmrh_world_current(), i->module);
}

static void call_fn(void *arg)
{
    inst *i = arg;
    (void)i->kind->call(i->mem, 7);
}

typedef enum { SC_PENDING, SC_WORKERS, SC_COUNT } scenario;
static const char *const scenario_names[SC_COUNT] = {"pending", "workers"};

typedef struct bench_world {
    nmrh_chooser_zero chooser;
    nmrh_world *w;
    inst provider, client;
} bench_world;

static bool bw_create(bench_world *b, scenario sc, nmrh_world_pool *pool)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.pool = pool;
    if (sc == SC_WORKERS) {
        cfg.knobs[NMRH_KNOB_DETACH_THREAD] = 2; /* worker-per-side */
        cfg.knobs[NMRH_KNOB_CLEANUP] = 1;       /* deferred */
    }
    nmrh_chooser_zero_init(&b->chooser);
    b->w = nmrh_world_create(&cfg, &b->chooser.base);
    if (!b->w) return false;
    b->provider = (inst){&echo_provider_kind, nmrh_world_add_module(b->w, "echo-provider"), NULL};
    b->client = (inst){&echo_client_kind, nmrh_world_add_module(b->w, "echo-client"), NULL};
    b->provider.mem = malloc(echo_provider_kind.instance_size);
    b->client.mem = malloc(echo_client_kind.instance_size);
    return b->provider.mem && b->client.mem;
}

static void bw_destroy(bench_world *b)
{
    nmrh_world_destroy(b->w); /* threads first: instance memory outlives them */
    free(b->provider.mem);
    free(b->client.mem);
}

/* One cycle; false if a spawn failed or the run stopped on a finding. */
static bool cycle(bench_world *b, scenario sc)
{
    nmrh_world *w = b->w;
    nmrh_thread *t;
    if (!(t = nmrh_world_spawn(w, "load p", b->provider.module, load_fn, &b->provider))) return false;
    nmrh_world_run_thread(w, t);
    if (!(t = nmrh_world_spawn(w, "load c", b->client.module, load_fn, &b->client))) return false;
    nmrh_world_run_thread(w, t);
    nmrh_thread *call = nmrh_world_spawn(w, "call c", b->client.module, call_fn, &b->client);
    if (!call) return false;
    for (int i = 0; i < 4; i++) nmrh_world_step(w, call); /* inside the call, guard entered */
    nmrh_thread *up = nmrh_world_spawn(w, "unload p", b->provider.module, unload_fn, &b->provider);
    if (!up) return false;
    nmrh_world_run_thread(w, up); /* blocks in the wait (pending) or on the workers */
    if (sc == SC_PENDING) {
        nmrh_world_run_thread(w, call);
        nmrh_world_run_thread(w, up);
    } else {
        nmrh_world_run(w); /* zero chooser: lowest runnable thread first, workers included */
    }
    if (!(t = nmrh_world_spawn(w, "unload c", b->client.module, unload_fn, &b->client))) return false;
    nmrh_world_run_thread(w, t);
    if (sc == SC_WORKERS) nmrh_world_run(w);
    return !nmrh_world_stopped(w) && nmrh_thread_get_state(up) == NMRH_THREAD_FINISHED &&
           nmrh_thread_get_state(call) == NMRH_THREAD_FINISHED;
}

static int count_substr(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* A checked cycle in its own world: the model events per cycle, and proof that the scenario
   does what the header says (so a model change cannot silently make the benchmark trivial). */
static bool calibrate(scenario sc, nmrh_world_stats *out)
{
    bench_world b;
    bool ok = bw_create(&b, sc, NULL) && cycle(&b, sc) && nmrh_world_finish(b.w);
    if (ok) {
        *out = nmrh_world_get_stats(b.w);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f) abort();
        nmrh_world_print_trace(b.w, f);
        fclose(f);
        ok = count_substr(text, "callback ProviderAttachClient(") == 1 &&
             count_substr(text, "callback ClientCleanupBindingContext(") == 1 &&
             count_substr(text, "callback ProviderCleanupBindingContext(") == 1 &&
             count_substr(text, "call NmrClientDetachProviderComplete(") == (sc == SC_PENDING ? 1 : 0);
        if (!ok) fprintf(stderr, "%s: unexpected trace:\n%s", scenario_names[sc], text);
        free(text);
    } else if (b.w && nmrh_world_finding(b.w)) {
        fprintf(stderr, "%s: finding %s: %s\n", scenario_names[sc], nmrh_world_finding(b.w)->signature,
                nmrh_world_finding(b.w)->message);
    }
    bw_destroy(&b);
    return ok;
}

enum { MAX_REPS = 15 };

/* `cycles` cycles, each in a fresh world (sharing `pool` when not NULL); seconds, wall and CPU. */
static bool time_per_world(scenario sc, int cycles, nmrh_world_pool *pool, double *wall, double *cpu)
{
    bool ok = true;
    bench_clock c = bench_start();
    for (int i = 0; i < cycles && ok; i++) {
        bench_world b;
        ok = bw_create(&b, sc, pool) && cycle(&b, sc) && nmrh_world_finish(b.w);
        bw_destroy(&b);
    }
    bench_elapsed(c, wall, cpu);
    return ok;
}

/* `cycles` cycles in one world; seconds, wall and CPU; *events gets the run's model events. */
static bool time_steady(scenario sc, int cycles, double *wall, double *cpu, uint64_t *events)
{
    bench_world b;
    bench_clock c = bench_start();
    bool ok = bw_create(&b, sc, NULL);
    for (int i = 0; i < cycles && ok; i++) ok = cycle(&b, sc);
    ok = ok && nmrh_world_finish(b.w);
    bench_elapsed(c, wall, cpu);
    if (ok) *events = nmrh_world_get_stats(b.w).model_events;
    bw_destroy(&b);
    return ok;
}

static void report(const char *label, const double *wall, const double *cpu, int reps, uint64_t events, int cycles,
                   const char *what)
{
    double w[MAX_REPS], c[MAX_REPS];
    memcpy(w, wall, (size_t)reps * sizeof *w);
    memcpy(c, cpu, (size_t)reps * sizeof *c);
    double mw = bench_median(w, reps), mc = bench_median(c, reps);
    printf("  %-15s median %9.0f model events/s (cpu %9.0f), %7.2f us per %s (cpu %6.2f)  [%d reps x %d cycles]\n", label,
           (double)events / mw, (double)events / mc, mw * 1e6 / cycles, what, mc * 1e6 / cycles, reps, cycles);
}

int main(int argc, char **argv)
{
    const bool quick = bench_quick(argc, argv);
    const int reps = quick ? 3 : MAX_REPS;
    int per_world_cycles = quick ? 20 : 20000;
    static const int steady_quick[] = {20}, steady_full[] = {100, 1000, 10000};
    const int *steady_sizes = quick ? steady_quick : steady_full;
    int nsteady = quick ? 1 : (int)(sizeof steady_full / sizeof steady_full[0]);
    /* --scenario NAME / --mode per-world|steady: run only those (e.g. under a profiler);
       --worlds N: worlds per per-world measurement; --steady N: only that many cycles in one world */
    const char *only = NULL, *mode = NULL;
    int steady_one = 0;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--scenario") == 0) only = argv[i + 1];
        if (strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
        if (strcmp(argv[i], "--worlds") == 0 && atoi(argv[i + 1]) > 0) per_world_cycles = atoi(argv[i + 1]);
        if (strcmp(argv[i], "--steady") == 0 && atoi(argv[i + 1]) > 0) steady_one = atoi(argv[i + 1]);
    }
    if (steady_one) {
        steady_sizes = &steady_one;
        nsteady = 1;
    }
    const bool per_world = !mode || strcmp(mode, "per-world") == 0, steady = !mode || strcmp(mode, "steady") == 0;

    for (int sc = 0; sc < SC_COUNT; sc++) {
        if (only && strcmp(only, scenario_names[sc]) != 0) continue;
        nmrh_world_stats cal;
        if (!calibrate((scenario)sc, &cal)) {
            fprintf(stderr, "bench_model_events: scenario %s does not run as expected\n", scenario_names[sc]);
            return 1;
        }
        printf("scenario %s: %llu model events per cycle (%llu trace records, %llu thread switches)\n",
               scenario_names[sc], (unsigned long long)cal.model_events, (unsigned long long)cal.events,
               (unsigned long long)cal.switches);

        double wall[MAX_REPS], cpu[MAX_REPS];
        for (int use_pool = 0; use_pool < 2 && per_world; use_pool++) {
            nmrh_world_pool *pool = use_pool ? nmrh_world_pool_create() : NULL;
            bool ok = !use_pool || pool;
            ok = ok && time_per_world((scenario)sc, per_world_cycles / 10 + 1, pool, &wall[0], &cpu[0]); /* warm-up */
            for (int r = 0; r < reps && ok; r++) ok = time_per_world((scenario)sc, per_world_cycles, pool, &wall[r], &cpu[r]);
            nmrh_world_pool_destroy(pool);
            if (!ok) {
                fprintf(stderr, "bench_model_events: per-world run of %s failed\n", scenario_names[sc]);
                return 1;
            }
            report(use_pool ? "per-world+pool" : "per-world", wall, cpu, reps, cal.model_events * per_world_cycles,
                   per_world_cycles, "world");
        }
        for (int k = 0; k < nsteady && steady; k++) {
            int n = steady_sizes[k];
            uint64_t events = 0;
            bool ok = true;
            for (int r = 0; r < reps && ok; r++) ok = time_steady((scenario)sc, n, &wall[r], &cpu[r], &events);
            if (!ok || events != cal.model_events * (uint64_t)n) {
                fprintf(stderr, "bench_model_events: steady run of %s (%d cycles) failed or counted %llu events\n",
                        scenario_names[sc], n, (unsigned long long)events);
                return 1;
            }
            char label[32];
            snprintf(label, sizeof label, "steady x%d", n);
            report(label, wall, cpu, reps, events, n, "cycle");
        }
    }
    return 0;
}
