/*
 * The controlled scheduler: step mode and run mode, boundary-only scheduling, hangs, timed waits,
 * the step budget, what a finding does to the run (abandon the thread, stop, call on_finding once),
 * and that worlds are released completely (destroy after an abandoned run, 1000 worlds in a loop).
 */
#include "../support/check.h"
#include "../support/shim_test.h"
#include "nmrh/world.h"

#include <ntddk.h>
#include <netioddk.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {6e6d7268-7363-6864-8000-000000000001} */
DEFINE_GUID(SCHED_NPI_ID, 0x6e6d7268, 0x7363, 0x6864, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01);

#define TAG_TEST 0x74736554u /* 'Test' */

/* A chooser that always picks the last candidate: at a scheduling point it switches to another
   thread whenever one is runnable. */
typedef struct switchy {
    nmrh_chooser base;
} switchy;
static uint32_t switchy_choose(nmrh_chooser *self, uint32_t n)
{
    (void)self;
    return n - 1;
}
static void switchy_init(switchy *s) { s->base.choose = switchy_choose; }

static nmrh_world *world_with(nmrh_chooser *ch, uint32_t points)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.points = points;
    return nmrh_world_create(&cfg, ch);
}

static uint32_t cur_tid(void) { return nmrh_thread_id(nmrh_world_current_thread(nmrh_world_current())); }

static int count_substr(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static bool finish_clean(check_tally *t, nmrh_world *w)
{
    bool clean = nmrh_world_finish(w);
    CHECK(t, clean);
    if (!clean) {
        const nmrh_finding *f = nmrh_world_finding(w);
        fprintf(stderr, "unexpected finding %s: %s\n", f->signature, f->message);
        nmrh_world_print_trace(w, stderr);
        return false;
    }
    CHECK(t, nmrh_world_check_model_invariants(w) == 0);
    return true;
}

/* ---- a minimal client/provider pair for NMR-level scheduling tests ---- */

typedef struct mini {
    NPI_MODULEID mid;
    NPI_CLIENT_CHARACTERISTICS cchars;
    NPI_PROVIDER_CHARACTERISTICS pchars;
    HANDLE client, provider;
    int cctx, pctx;
    bool client_detach_pends;   /* and never completes */
    bool assert_in_provider_attach;
    int stage;                  /* progress marker for step tests */
} mini;

static NTSTATUS NTAPI mini_client_attach(HANDLE b, PVOID ctx, PNPI_REGISTRATION_INSTANCE pri)
{
    mini *m = ctx;
    PVOID pc;
    const VOID *pd;
    (void)pri;
    return NmrClientAttachProvider(b, &m->cctx, &m->cchars, &pc, &pd);
}
static NTSTATUS NTAPI mini_provider_attach(HANDLE b, PVOID ctx, PNPI_REGISTRATION_INSTANCE cri, PVOID cbc,
                                           const VOID *cd, PVOID *pbc, const VOID **pd)
{
    mini *m = ctx;
    char big[2048]; /* a frame with ASan redzones, abandoned mid-call by the assertion below */
    memset(big, 0x5A, sizeof big);
    (void)b, (void)cri, (void)cbc, (void)cd;
    NT_ASSERT(!m->assert_in_provider_attach || big[100] != 0x5A);
    *pbc = &m->pctx;
    *pd = &m->pchars;
    return STATUS_SUCCESS;
}
static NTSTATUS NTAPI mini_client_detach(PVOID ctx)
{
    mini *m = CONTAINING_RECORD(ctx, mini, cctx);
    return m->client_detach_pends ? STATUS_PENDING : STATUS_SUCCESS;
}
static NTSTATUS NTAPI mini_provider_detach(PVOID ctx)
{
    (void)ctx;
    return STATUS_SUCCESS;
}

static void mini_init(mini *m)
{
    memset(m, 0, sizeof *m);
    m->mid.Length = sizeof m->mid;
    m->mid.Type = MIT_GUID;
    m->mid.Guid = SCHED_NPI_ID;
    m->cchars.Length = sizeof m->cchars;
    m->cchars.ClientAttachProvider = mini_client_attach;
    m->cchars.ClientDetachProvider = mini_client_detach;
    m->cchars.ClientRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    m->cchars.ClientRegistrationInstance.NpiId = &SCHED_NPI_ID;
    m->cchars.ClientRegistrationInstance.ModuleId = &m->mid;
    m->pchars.Length = sizeof m->pchars;
    m->pchars.ProviderAttachClient = mini_provider_attach;
    m->pchars.ProviderDetachClient = mini_provider_detach;
    m->pchars.ProviderRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    m->pchars.ProviderRegistrationInstance.NpiId = &SCHED_NPI_ID;
    m->pchars.ProviderRegistrationInstance.ModuleId = &m->mid;
}

static void t_mini_provider_life(void *arg)
{
    mini *m = arg;
    LONG x = 0;
    m->stage = 1;
    InterlockedIncrement(&x);   /* primitive point */
    m->stage = 2;
    NmrRegisterProvider(&m->pchars, m, &m->provider); /* boundary points: entry, exit */
    m->stage = 3;
    InterlockedIncrement(&x);   /* primitive point */
    m->stage = 4;
    NmrDeregisterProvider(m->provider);
    NmrWaitForProviderDeregisterComplete(m->provider);
    m->stage = 5;
}
static void t_mini_register_provider(void *arg)
{
    mini *m = arg;
    NmrRegisterProvider(&m->pchars, m, &m->provider);
}
static void t_mini_register_client(void *arg)
{
    mini *m = arg;
    NmrRegisterClient(&m->cchars, m, &m->client);
}
static void t_mini_unload_client(void *arg)
{
    mini *m = arg;
    NmrDeregisterClient(m->client);
    NmrWaitForClientDeregisterComplete(m->client);
}
static void t_mini_unload_provider(void *arg)
{
    mini *m = arg;
    NmrDeregisterProvider(m->provider);
    NmrWaitForProviderDeregisterComplete(m->provider);
}

/* ---- step mode ---- */

typedef struct counter_job {
    LONG value;
    int progress;     /* plain write between the points */
    int iterations;
    uint32_t log[64];
    LONG *shared;
    int *nlog;
    uint32_t *shared_log;
    bool done;
} counter_job;

static void t_count(void *arg)
{
    counter_job *j = arg;
    for (int i = 0; i < j->iterations; i++) {
        j->progress = i + 1;
        InterlockedIncrement(&j->value);
    }
    j->done = true;
}

/* Appends its thread id to a log shared by several threads, one primitive point per entry. */
static void t_log(void *arg)
{
    counter_job *j = arg;
    for (int i = 0; i < j->iterations; i++) {
        InterlockedIncrement(j->shared);
        j->shared_log[(*j->nlog)++] = cur_tid();
    }
    j->done = true;
}

static void test_step_mode(check_tally *t)
{
    nmrh_chooser_zero zero;
    nmrh_chooser_zero_init(&zero);
    nmrh_world *w = world_with(&zero.base, NMRH_POINTS_ALL);
    counter_job j = {.iterations = 3};
    nmrh_thread *th = nmrh_world_spawn(w, "counter", 0, t_count, &j);
    CHECK(t, nmrh_thread_get_state(th) == NMRH_THREAD_RUNNABLE && j.progress == 0);
    /* Each step runs to the next scheduling point: the point inside InterlockedIncrement comes
       before the increment itself. */
    for (int i = 1; i <= 3; i++) {
        CHECK(t, nmrh_world_step(w, th) == NMRH_THREAD_RUNNABLE);
        CHECK(t, j.progress == i && j.value == i - 1);
    }
    CHECK(t, nmrh_world_step(w, th) == NMRH_THREAD_FINISHED);
    CHECK(t, j.value == 3 && j.done);
    CHECK(t, nmrh_world_step(w, th) == NMRH_THREAD_FINISHED); /* stepping a finished thread: no-op */
    CHECK(t, nmrh_world_get_stats(w).points == 3);
    CHECK(t, nmrh_world_current() == NULL);
    finish_clean(t, w);
    nmrh_world_destroy(w);

    /* NMR boundary points and primitive points, counted per step; with boundary points only, the
       primitive ones do not stop the thread. */
    for (int boundary_only = 0; boundary_only < 2; boundary_only++) {
        w = world_with(&zero.base, boundary_only ? NMRH_POINTS_BOUNDARY : NMRH_POINTS_ALL);
        mini m;
        mini_init(&m);
        nmrh_thread *p = nmrh_world_spawn(w, "provider", nmrh_world_add_module(w, "mini"), t_mini_provider_life, &m);
        int steps = 0;
        int stages[16];
        while (nmrh_world_step(w, p) == NMRH_THREAD_RUNNABLE && steps < 15) stages[steps++] = m.stage;
        stages[steps++] = m.stage;
        /* ALL: Interlocked, Register entry+exit, Interlocked, Deregister entry+exit, Wait entry+exit;
           BOUNDARY: the six NMR boundary points only. */
        CHECK(t, steps == (boundary_only ? 7 : 9));
        if (boundary_only) {
            static const int want[] = {2, 2, 4, 4, 4, 4, 5};
            for (int i = 0; i < 7 && steps == 7; i++) CHECK(t, stages[i] == want[i]);
        } else {
            static const int want[] = {1, 2, 2, 3, 4, 4, 4, 4, 5};
            for (int i = 0; i < 9 && steps == 9; i++) CHECK(t, stages[i] == want[i]);
        }
        CHECK(t, nmrh_world_get_stats(w).points == 8); /* points are passed either way */
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }

    /* run_thread runs one thread alone: another runnable thread does not move. */
    w = world_with(&zero.base, NMRH_POINTS_ALL);
    counter_job a = {.iterations = 5}, b = {.iterations = 5};
    nmrh_thread *ta = nmrh_world_spawn(w, "a", 0, t_count, &a);
    nmrh_thread *tb = nmrh_world_spawn(w, "b", 0, t_count, &b);
    CHECK(t, nmrh_world_step(w, tb) == NMRH_THREAD_RUNNABLE && b.progress == 1);
    CHECK(t, nmrh_world_run_thread(w, ta) == NMRH_THREAD_FINISHED);
    CHECK(t, a.value == 5 && b.progress == 1 && b.value == 0);
    CHECK(t, nmrh_world_run(w));
    CHECK(t, b.done && nmrh_thread_get_state(tb) == NMRH_THREAD_FINISHED);
    CHECK(t, nmrh_world_thread_count(w) == 2 && nmrh_world_thread(w, 1) == tb && nmrh_world_thread(w, 2) == NULL);
    CHECK(t, nmrh_thread_id(tb) == 1);
    CHECK_STR(t, nmrh_thread_name(tb), "b");
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

/* ---- run mode and boundary-only scheduling ---- */

static void run_two_loggers(check_tally *t, nmrh_chooser *ch, uint32_t points, bool trace_points, uint32_t *log,
                            int *nlog, char **trace)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.points = points;
    cfg.trace_points = trace_points;
    nmrh_world *w = nmrh_world_create(&cfg, ch);
    LONG shared = 0;
    *nlog = 0;
    counter_job a = {.iterations = 6, .shared = &shared, .nlog = nlog, .shared_log = log};
    counter_job b = a;
    nmrh_world_spawn(w, "a", 0, t_log, &a);
    nmrh_world_spawn(w, "b", 0, t_log, &b);
    CHECK(t, nmrh_world_run(w));
    CHECK(t, a.done && b.done && shared == 12 && *nlog == 12);
    finish_clean(t, w);
    *trace = shim_test_trace(w);
    nmrh_world_destroy(w);
}

static int count_runs(const uint32_t *log, int n)
{
    int runs = n > 0;
    for (int i = 1; i < n; i++) runs += log[i] != log[i - 1];
    return runs;
}

static void test_run_mode(check_tally *t)
{
    uint32_t log[64];
    int nlog;
    char *trace;
    switchy sw;
    switchy_init(&sw);

    /* All points enabled, a chooser that always switches: the two threads alternate. */
    run_two_loggers(t, &sw.base, NMRH_POINTS_ALL, true, log, &nlog, &trace);
    CHECK(t, count_runs(log, nlog) == 12);
    CHECK(t, count_substr(trace, "point (primitive)") >= 12);
    CHECK(t, count_substr(trace, "-- switch --") >= 12);
    free(trace);

    /* Boundary points only: primitive points never switch, each thread runs its loop through. */
    run_two_loggers(t, &sw.base, NMRH_POINTS_BOUNDARY, true, log, &nlog, &trace);
    CHECK(t, count_runs(log, nlog) == 2);
    CHECK(t, count_substr(trace, "point (primitive)") == 0);
    free(trace);

    /* Zero chooser: run to completion in spawn order (lowest id first), no switch at points. */
    nmrh_chooser_zero zero;
    nmrh_chooser_zero_init(&zero);
    run_two_loggers(t, &zero.base, NMRH_POINTS_ALL, false, log, &nlog, &trace);
    CHECK(t, count_runs(log, nlog) == 2 && log[0] == 0);
    CHECK(t, count_substr(trace, "point (") == 0); /* trace_points off */
    free(trace);

    /* Random choosers: both orders happen, every interleaving keeps all twelve entries. */
    int interleaved = 0, a_first = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        nmrh_chooser_random rnd;
        nmrh_chooser_random_init(&rnd, seed);
        run_two_loggers(t, &rnd.base, NMRH_POINTS_ALL, false, log, &nlog, &trace);
        interleaved += count_runs(log, nlog) > 2;
        a_first += log[0] == 0;
        free(trace);
    }
    CHECK(t, interleaved > 20);
    CHECK(t, a_first > 5 && a_first < 35);

    /* Threads spawned by running threads (NMR workers, work items) are scheduled too, and run
       returns only once none is runnable. */
    nmrh_chooser_random rnd;
    nmrh_chooser_random_init(&rnd, 77);
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    nmrh_world *w = nmrh_world_create(&cfg, &rnd.base);
    mini m;
    mini_init(&m);
    uint32_t mod = nmrh_world_add_module(w, "mini");
    nmrh_world_spawn(w, "reg-p", mod, t_mini_register_provider, &m);
    nmrh_world_spawn(w, "reg-c", mod, t_mini_register_client, &m);
    CHECK(t, nmrh_world_run(w));
    nmrh_world_spawn(w, "unload-c", mod, t_mini_unload_client, &m);
    nmrh_world_spawn(w, "unload-p", mod, t_mini_unload_provider, &m);
    CHECK(t, nmrh_world_run(w));
    for (uint32_t i = 0; i < nmrh_world_thread_count(w); i++)
        CHECK(t, nmrh_thread_get_state(nmrh_world_thread(w, i)) == NMRH_THREAD_FINISHED);
    nmrh_world_stats st = nmrh_world_get_stats(w);
    CHECK(t, st.points > 10 && st.switches > 2 && st.decisions > 0 && st.events > 20);
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

/* ---- hangs ---- */

typedef struct waiter {
    KEVENT ev;
    KEVENT ev2;
    KSPIN_LOCK l1, l2;
    NTSTATUS status;
    bool after_wait;
    bool holds;
    bool holds2;
    bool b_done, b_done_at_wake, b_blocked, b_blocked_at_wake;
    int b_steps, b_steps_at_wake;
} waiter;

static void t_wait_forever(void *arg)
{
    waiter *x = arg;
    x->status = KeWaitForSingleObject(&x->ev, Executive, KernelMode, FALSE, NULL);
    x->after_wait = true;
}

static void t_lock_12(void *arg)
{
    waiter *x = arg;
    KIRQL a, b;
    KeAcquireSpinLock(&x->l1, &a);
    x->holds = true;
    KeAcquireSpinLock(&x->l2, &b);
    KeReleaseSpinLock(&x->l2, b);
    KeReleaseSpinLock(&x->l1, a);
}
static void t_lock_21(void *arg)
{
    waiter *x = arg;
    KIRQL a, b;
    KeAcquireSpinLock(&x->l2, &a);
    x->holds2 = true;
    KeAcquireSpinLock(&x->l1, &b);
    KeReleaseSpinLock(&x->l1, b);
    KeReleaseSpinLock(&x->l2, a);
}

typedef struct hook_log {
    int calls;
    char signature[160];
    nmrh_rule rule;
    bool details;
} hook_log;

static void on_finding(nmrh_world *w, const nmrh_finding *f, void *user)
{
    hook_log *h = user;
    (void)w;
    h->calls++;
    snprintf(h->signature, sizeof h->signature, "%s", f->signature);
    h->rule = f->rule;
    h->details = f->details != NULL;
}

static nmrh_world *hooked_world(nmrh_chooser *ch, hook_log *h)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.on_finding = on_finding;
    cfg.user = h;
    memset(h, 0, sizeof *h);
    return nmrh_world_create(&cfg, ch);
}

static void test_hang(check_tally *t)
{
    nmrh_chooser_zero zero;
    nmrh_chooser_zero_init(&zero);

    /* A thread waiting for an event nobody sets. */
    hook_log h;
    nmrh_world *w = hooked_world(&zero.base, &h);
    waiter x;
    memset(&x, 0, sizeof x);
    KeInitializeEvent(&x.ev, NotificationEvent, FALSE);
    counter_job other = {.iterations = 4};
    nmrh_world_spawn(w, "waiter", 0, t_wait_forever, &x);
    nmrh_world_spawn(w, "other", 0, t_count, &other);
    CHECK(t, nmrh_world_run(w)); /* run does not report hangs */
    CHECK(t, !nmrh_world_stopped(w) && h.calls == 0);
    CHECK(t, !nmrh_world_finish(w));
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK(t, f && f->rule == NMRH_RULE_HANG);
    if (f) {
        CHECK_STR(t, f->signature, "NMR-HANG");
        CHECK(t, strstr(f->message, "t0 'waiter'") && strstr(f->message, "waiting for an event"));
        CHECK(t, f->details && strstr(f->details, "threads:") && strstr(f->details, "waiter") &&
                     strstr(f->details, "blocked") && strstr(f->details, "waiting for event"));
        CHECK(t, f->details && strstr(f->details, "other") && strstr(f->details, "finished"));
    }
    CHECK(t, other.done && !x.after_wait);
    CHECK(t, h.calls == 1 && h.rule == NMRH_RULE_HANG && h.details);
    CHECK(t, !nmrh_world_finish(w) && h.calls == 1); /* finishing again changes nothing */
    char *tr = shim_test_trace(w);
    CHECK(t, strstr(tr, "FINDING NMR-HANG") != NULL);
    free(tr);
    nmrh_world_destroy(w);

    /* A deregistration whose pending detach is never completed: the dump shows the binding. */
    w = hooked_world(&zero.base, &h);
    mini m;
    mini_init(&m);
    m.client_detach_pends = true;
    uint32_t mod = nmrh_world_add_module(w, "mini");
    nmrh_world_spawn(w, "reg-p", mod, t_mini_register_provider, &m);
    nmrh_world_spawn(w, "reg-c", mod, t_mini_register_client, &m);
    nmrh_world_spawn(w, "unload-c", mod, t_mini_unload_client, &m);
    CHECK(t, nmrh_world_run(w));
    CHECK(t, !nmrh_world_finish(w));
    f = nmrh_world_finding(w);
    CHECK_STR(t, f ? f->signature : "", "NMR-HANG");
    if (f) {
        CHECK(t, strstr(f->message, "unload-c") && strstr(f->message, "NmrWaitFor*DeregisterComplete"));
        CHECK(t, f->details && strstr(f->details, "bindings:") && strstr(f->details, "client detach pending") &&
                     strstr(f->details, "waiting for NMR deregistration") &&
                     strstr(f->details, "deregistering, waiting"));
    }
    CHECK(t, h.calls == 1);
    nmrh_world_destroy(w);

    /* A lock-order deadlock between two threads. */
    w = hooked_world(&zero.base, &h);
    memset(&x, 0, sizeof x);
    KeInitializeSpinLock(&x.l1);
    KeInitializeSpinLock(&x.l2);
    nmrh_thread *a = nmrh_world_spawn(w, "lock-12", 0, t_lock_12, &x);
    nmrh_thread *b = nmrh_world_spawn(w, "lock-21", 0, t_lock_21, &x);
    while (!x.holds) nmrh_world_step(w, a);
    while (!x.holds2) nmrh_world_step(w, b);
    CHECK(t, nmrh_world_run(w));
    CHECK(t, nmrh_thread_get_state(a) == NMRH_THREAD_BLOCKED && nmrh_thread_get_state(b) == NMRH_THREAD_BLOCKED);
    CHECK(t, !nmrh_world_finish(w));
    f = nmrh_world_finding(w);
    CHECK_STR(t, f ? f->signature : "", "NMR-HANG");
    CHECK(t, f && strstr(f->message, "spinning on a spin lock") && f->details && strstr(f->details, "waiting for spin lock"));
    nmrh_world_destroy(w);
}

/* ---- finite timeouts ---- */

static void t_timed_wait(void *arg)
{
    waiter *x = arg;
    LARGE_INTEGER timeout;
    timeout.QuadPart = -10 * 1000 * 10; /* 10 ms, relative */
    x->status = KeWaitForSingleObject(&x->ev, Executive, KernelMode, FALSE, &timeout);
    x->b_done_at_wake = x->b_done;
    x->b_blocked_at_wake = x->b_blocked;
    x->b_steps_at_wake = x->b_steps;
    x->after_wait = true;
    /* Unblock the other thread if it waits for us. */
    KeSetEvent(&x->ev2, IO_NO_INCREMENT, FALSE);
}

typedef enum { B_BUSY, B_SETS_EVENT, B_BLOCKS } b_kind;
typedef struct timed_job {
    waiter *x;
    b_kind kind;
} timed_job;

static void t_busy(void *arg)
{
    timed_job *j = arg;
    waiter *x = j->x;
    LONG v = 0;
    for (int i = 0; i < 10; i++) {
        InterlockedIncrement(&v);
        x->b_steps++;
        if (i == 5 && j->kind == B_SETS_EVENT) KeSetEvent(&x->ev, IO_NO_INCREMENT, FALSE);
        if (i == 5 && j->kind == B_BLOCKS) {
            x->b_blocked = true;
            KeWaitForSingleObject(&x->ev2, Executive, KernelMode, FALSE, NULL);
            x->b_blocked = false;
        }
    }
    x->b_done = true;
}

static void test_timeout(check_tally *t)
{
    for (int kind = B_BUSY; kind <= B_BLOCKS; kind++) {
        for (uint64_t seed = 1; seed <= 25; seed++) {
            nmrh_chooser_random rnd;
            nmrh_chooser_random_init(&rnd, seed);
            nmrh_world *w = world_with(&rnd.base, NMRH_POINTS_ALL);
            waiter x;
            memset(&x, 0, sizeof x);
            KeInitializeEvent(&x.ev, SynchronizationEvent, FALSE);
            KeInitializeEvent(&x.ev2, SynchronizationEvent, FALSE);
            timed_job j = {&x, (b_kind)kind};
            nmrh_thread *a = nmrh_world_spawn(w, "timed", 0, t_timed_wait, &x);
            nmrh_world_spawn(w, "busy", 0, t_busy, &j);
            CHECK(t, nmrh_world_run(w));
            CHECK(t, x.after_wait && x.b_done && nmrh_thread_get_state(a) == NMRH_THREAD_FINISHED);
            char *tr = shim_test_trace(w);
            if (kind == B_BUSY) {
                /* Expires only after everything else finished. */
                CHECK(t, x.status == STATUS_TIMEOUT && x.b_done_at_wake && x.b_steps_at_wake == 10);
                CHECK(t, count_substr(tr, "wait of t0 times out") == 1);
            } else if (kind == B_SETS_EVENT) {
                /* Woken by the event, unless it was set before the wait started; never a timeout. */
                CHECK(t, x.status == STATUS_SUCCESS && count_substr(tr, "times out") == 0);
            } else {
                /* Expires once the other thread is blocked: nothing else can run. */
                CHECK(t, x.status == STATUS_TIMEOUT && !x.b_done_at_wake && x.b_blocked_at_wake && x.b_steps_at_wake == 6);
                CHECK(t, count_substr(tr, "wait of t0 times out") == 1);
            }
            free(tr);
            bool ok = finish_clean(t, w);
            nmrh_world_destroy(w);
            if (!ok) return;
        }
    }

}

typedef struct poller {
    KEVENT ev;
    NTSTATUS first, second;
} poller;
static void t_poll(void *arg)
{
    poller *p = arg;
    LARGE_INTEGER zero;
    zero.QuadPart = 0;
    p->first = KeWaitForSingleObject(&p->ev, Executive, KernelMode, FALSE, &zero);
    KeSetEvent(&p->ev, IO_NO_INCREMENT, FALSE);
    p->second = KeWaitForSingleObject(&p->ev, Executive, KernelMode, FALSE, &zero);
}

static void test_poll(check_tally *t)
{
    nmrh_chooser_zero zero;
    nmrh_chooser_zero_init(&zero);
    nmrh_world *w = world_with(&zero.base, NMRH_POINTS_ALL);
    poller p;
    KeInitializeEvent(&p.ev, SynchronizationEvent, FALSE);
    nmrh_thread *th = nmrh_world_spawn(w, "poll", 0, t_poll, &p);
    CHECK(t, nmrh_world_run_thread(w, th) == NMRH_THREAD_FINISHED);
    CHECK(t, p.first == STATUS_TIMEOUT && p.second == STATUS_SUCCESS);
    CHECK(t, KeReadStateEvent(&p.ev) == 0); /* the successful poll consumed the synchronization event */
    char *tr = shim_test_trace(w);
    CHECK(t, strstr(tr, "blocks on") == NULL);
    free(tr);
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

/* ---- step budget ---- */

static void t_forever(void *arg)
{
    counter_job *j = arg;
    for (;;) {
        j->progress++;
        InterlockedIncrement(&j->value);
    }
}

static void test_step_budget(check_tally *t)
{
    for (int points = 1; points <= 3; points += 2) {
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        hook_log h;
        nmrh_config cfg;
        nmrh_config_init(&cfg);
        cfg.step_budget = 500;
        cfg.points = (uint32_t)points;
        cfg.on_finding = on_finding;
        cfg.user = &h;
        memset(&h, 0, sizeof h);
        nmrh_world *w = nmrh_world_create(&cfg, &zero.base);
        counter_job ok = {.iterations = 450}, loop = {.iterations = 0};
        nmrh_thread *a = nmrh_world_spawn(w, "bounded", 0, t_count, &ok);
        nmrh_thread *b = nmrh_world_spawn(w, "endless", 0, t_forever, &loop);
        /* The budget is per thread: 450 points are fine, the endless loop is stopped at 501,
           whether or not its points may switch. */
        CHECK(t, !nmrh_world_run(w));
        CHECK(t, ok.done && nmrh_thread_get_state(a) == NMRH_THREAD_FINISHED);
        CHECK(t, nmrh_thread_get_state(b) == NMRH_THREAD_ABANDONED);
        CHECK(t, loop.progress == 501 && loop.value == 500);
        const nmrh_finding *f = nmrh_world_finding(w);
        CHECK_STR(t, f ? f->signature : "", "NMR-STEP-BUDGET");
        CHECK(t, f && strstr(f->message, "'endless'") && strstr(f->message, "500"));
        CHECK(t, h.calls == 1);
        CHECK(t, !nmrh_world_finish(w) && h.calls == 1);
        nmrh_world_destroy(w);
    }
}

/* ---- findings: abandon, stop, hook once, destroy cleanly ---- */

typedef struct asserter {
    bool reached_after;
    bool started;
    void *pool;
    KSPIN_LOCK lock;
} asserter;

static void __attribute__((noinline)) deep(asserter *a, int depth)
{
    char frame[512];
    memset(frame, depth, sizeof frame);
    if (depth > 0) {
        deep(a, depth - 1);
        a->reached_after = frame[7] == 0x7F; /* never reached */
        return;
    }
    NT_ASSERT(frame[0] == 1); /* fails: depth 0 */
    a->reached_after = true;
}

static void t_assert(void *arg)
{
    asserter *a = arg;
    KIRQL irql;
    a->started = true;
    a->pool = ExAllocatePool2(POOL_FLAG_NON_PAGED, 4096, TAG_TEST);
    KeAcquireSpinLock(&a->lock, &irql); /* abandoned with the lock held and at DISPATCH_LEVEL */
    deep(a, 8);
    KeReleaseSpinLock(&a->lock, irql);
    a->reached_after = true;
}

static void t_assert_quick(void *arg)
{
    asserter *a = arg;
    a->started = true;
    NT_ASSERT(a->pool == (void *)1);
    a->reached_after = true;
}

static void t_need_lock(void *arg)
{
    asserter *a = arg;
    KIRQL irql;
    a->started = true;
    KeAcquireSpinLock(&a->lock, &irql);
    KeReleaseSpinLock(&a->lock, irql);
    a->reached_after = true;
}

static void t_leak_and_unload(void *arg)
{
    uint32_t *module = arg;
    ExAllocatePool2(POOL_FLAG_NON_PAGED, 100, TAG_TEST);
    nmrh_world_module_unloaded(nmrh_world_current(), *module);
}

static void test_findings_stop_run(check_tally *t)
{
    nmrh_chooser_zero zero;
    nmrh_chooser_zero_init(&zero);
    hook_log h;
    nmrh_world *w = hooked_world(&zero.base, &h);
    asserter a1, a2;
    memset(&a1, 0, sizeof a1);
    memset(&a2, 0, sizeof a2);
    KeInitializeSpinLock(&a1.lock);
    nmrh_thread *t1 = nmrh_world_spawn(w, "asserts", nmrh_world_add_module(w, "mod"), t_assert, &a1);
    nmrh_thread *t2 = nmrh_world_spawn(w, "also-asserts", 0, t_assert_quick, &a2);
    nmrh_thread *t3 = nmrh_world_spawn(w, "waits-for-lock", 0, t_need_lock, &a1);
    CHECK(t, !nmrh_world_run(w));
    CHECK(t, nmrh_world_stopped(w));
    /* The failing thread is abandoned where it stood; nothing after the assertion ran. */
    CHECK(t, a1.started && !a1.reached_after && a1.pool != NULL);
    CHECK(t, nmrh_thread_get_state(t1) == NMRH_THREAD_ABANDONED);
    /* No other thread ran after the finding. */
    CHECK(t, !a2.started && nmrh_thread_get_state(t2) == NMRH_THREAD_RUNNABLE);
    CHECK(t, nmrh_thread_get_state(t3) == NMRH_THREAD_RUNNABLE);
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK_STR(t, f ? f->signature : "", "KRNL-ASSERT");
    CHECK(t, f && strstr(f->message, "frame[0] == 1") && strstr(f->message, "test_sched.c"));
    CHECK(t, h.calls == 1);
    /* The world only answers questions now: stepping, running and finishing do nothing. */
    CHECK(t, nmrh_world_step(w, t2) == NMRH_THREAD_RUNNABLE && !a2.started);
    CHECK(t, !nmrh_world_run(w) && !a2.started);
    CHECK(t, nmrh_world_run_thread(w, t3) == NMRH_THREAD_RUNNABLE);
    CHECK(t, !nmrh_world_finish(w));
    CHECK(t, h.calls == 1 && nmrh_world_finding(w)->rule == NMRH_RULE_ASSERT);
    CHECK(t, nmrh_world_current() == NULL);
    char *tr = shim_test_trace(w);
    CHECK(t, count_substr(tr, "FINDING ") == 1);
    free(tr);
    /* Destroy with an abandoned fiber mid-stack (deep ASan-poisoned frames, a lock held, pool
       allocated, a thread never started): ASan and LeakSanitizer stay silent. */
    nmrh_world_destroy(w);

    /* A finding inside an NMR callback abandons a thread that is deep inside the model. */
    w = hooked_world(&zero.base, &h);
    mini m;
    mini_init(&m);
    m.assert_in_provider_attach = true;
    uint32_t mod = nmrh_world_add_module(w, "mini");
    nmrh_world_spawn(w, "reg-p", mod, t_mini_register_provider, &m);
    nmrh_thread *rc = nmrh_world_spawn(w, "reg-c", mod, t_mini_register_client, &m);
    nmrh_world_spawn(w, "unload-c", mod, t_mini_unload_client, &m);
    CHECK(t, !nmrh_world_run(w));
    CHECK(t, nmrh_thread_get_state(rc) == NMRH_THREAD_ABANDONED);
    CHECK_STR(t, nmrh_world_finding(w) ? nmrh_world_finding(w)->signature : "", "KRNL-ASSERT");
    CHECK(t, h.calls == 1 && !nmrh_world_finish(w) && h.calls == 1);
    nmrh_world_destroy(w);

    /* After abandoned runs, fresh worlds run deep stacks without stale ASan poisoning. */
    for (int i = 0; i < 20; i++) {
        w = world_with(&zero.base, NMRH_POINTS_ALL);
        asserter ok;
        memset(&ok, 0, sizeof ok);
        ok.pool = (void *)1;
        counter_job c = {.iterations = 3};
        nmrh_world_spawn(w, "fine", 0, t_assert_quick, &ok);
        nmrh_world_spawn(w, "count", 0, t_count, &c);
        CHECK(t, nmrh_world_run(w) && ok.reached_after && c.done);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }

    /* A hook for an end-of-run finding is called once too (a leak found by finish). */
    w = hooked_world(&zero.base, &h);
    uint32_t leaky = nmrh_world_add_module(w, "leaky");
    nmrh_world_spawn(w, "leak", leaky, t_leak_and_unload, &leaky);
    CHECK(t, nmrh_world_run(w) && h.calls == 0);
    CHECK(t, !nmrh_world_finish(w));
    CHECK(t, h.calls == 1 && h.rule == NMRH_RULE_POOL_LEAK);
    CHECK(t, !nmrh_world_finish(w) && h.calls == 1);
    nmrh_world_destroy(w);
}

/* ---- worlds are released completely ---- */

static unsigned long vm_kib(void)
{
    unsigned long pages = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (!fp) return 0;
    if (fscanf(fp, "%lu", &pages) != 1) pages = 0;
    fclose(fp);
    return pages * 4;
}

static void t_alloc_and_keep(void *arg)
{
    void **slot = arg;
    *slot = ExAllocatePool2(POOL_FLAG_NON_PAGED, 256, TAG_TEST); /* never freed: destroy releases it */
    DbgPrint("kept %d", 1);
}

static void one_world(check_tally *t, uint64_t seed, bool *ok)
{
    nmrh_chooser_random rnd;
    nmrh_chooser_random_init(&rnd, seed);
    nmrh_world *w = world_with(&rnd.base, NMRH_POINTS_ALL);
    if (!w) {
        *ok = false;
        return;
    }
    counter_job a = {.iterations = 4};
    void *kept = NULL;
    mini m;
    mini_init(&m);
    uint32_t mod = nmrh_world_add_module(w, "mini");
    nmrh_world_spawn(w, "count", 0, t_count, &a);
    nmrh_world_spawn(w, "keep", mod, t_alloc_and_keep, &kept);
    nmrh_world_spawn(w, "reg-p", mod, t_mini_register_provider, &m);
    nmrh_world_spawn(w, "reg-c", mod, t_mini_register_client, &m);
    nmrh_world_run(w);
    nmrh_world_spawn(w, "unload-c", mod, t_mini_unload_client, &m);
    nmrh_world_spawn(w, "unload-p", mod, t_mini_unload_provider, &m);
    *ok = nmrh_world_finish(w) && a.done && kept != NULL && nmrh_world_check_model_invariants(w) == 0;
    (void)t;
    nmrh_world_destroy(w);
}

static void test_many_worlds(check_tally *t)
{
    bool all_ok = true;
    for (int i = 0; i < 50; i++) {
        bool ok;
        one_world(t, (uint64_t)i, &ok);
        all_ok &= ok;
    }
    unsigned long before = vm_kib();
    for (int i = 0; i < 1000; i++) {
        bool ok;
        one_world(t, (uint64_t)i + 50, &ok);
        all_ok &= ok;
    }
    unsigned long after = vm_kib();
    CHECK(t, all_ok);
    /* Six fiber stacks (256 KiB each) per world: a leak of them alone would add 1.5 GiB. */
    CHECK(t, before > 0 && after < before + 64 * 1024);
    if (!(after < before + 64 * 1024)) fprintf(stderr, "virtual size grew from %lu to %lu KiB\n", before, after);
    CHECK(t, nmrh_world_current() == NULL);
}

int main(void)
{
    check_tally t = {0, 0, "sched"};
    test_step_mode(&t);
    test_run_mode(&t);
    test_hang(&t);
    test_timeout(&t);
    test_poll(&t);
    test_step_budget(&t);
    test_findings_stop_run(&t);
    test_many_worlds(&t);
    return check_summary(&t, "test_sched");
}
