/*
 * The public extension point nmrh/shim.h, used as a user would: a "gate" primitive the shim does
 * not have (a one-shot latch: waiters block until it opens), written only against nmrh/shim.h,
 * with a misuse check (opening twice) and a primitive that asks the fuzzer to choose. The tests
 * check blocking and waking, the hang report of a gate never opened, the misuse finding, the
 * chooser, the trace notes and a spawned kernel thread.
 */
#include "../support/shim_test.h"
#include "nmrh/shim.h"

#include <ntddk.h>

#include <stdbool.h>

/* ---- the user's primitives (what a user writes to add a missing one) ---- */

typedef struct MY_GATE {
    LONG Open;
} MY_GATE;

static void MyInitializeGate(MY_GATE *Gate) { Gate->Open = 0; }

/* Blocks until the gate is open; passive-only, like any wait. */
static void MyWaitGate(MY_GATE *Gate)
{
    NMRH_SHIM_ENTER(s);
    if (!nmrh_shim_on_thread(s)) return; /* no world: nothing can open it later, do not wait */
    nmrh_shim_require_irql(s, APC_LEVEL, "MyWaitGate");
    nmrh_shim_point(s);
    while (!Gate->Open) nmrh_shim_block(s, Gate, "MyWaitGate: the gate is closed");
}

static void MyOpenGate(MY_GATE *Gate)
{
    NMRH_SHIM_ENTER(s);
    if (Gate->Open) nmrh_shim_misuse(s, "MyOpenGate: gate %p opened twice", (void *)Gate);
    Gate->Open = 1;
    nmrh_shim_wake(s, Gate, true, STATUS_SUCCESS);
    nmrh_shim_note(s, "gate opened by thread %u", nmrh_shim_thread_id(s));
    nmrh_shim_point(s);
}

/* A primitive whose outcome the fuzzer picks (say, whether a try-lock succeeds). */
static BOOLEAN MyTryLuck(void)
{
    NMRH_SHIM_ENTER(s);
    return nmrh_shim_choose(s, 2) == 0;
}

/* ---- tests ---- */

typedef struct gate_job {
    MY_GATE *gate;
    bool passed;
    unsigned irql_seen;
    int spawned_ran;
} gate_job;

static void t_wait(void *arg)
{
    gate_job *j = arg;
    MyWaitGate(j->gate);
    j->passed = true;
}
static void t_open(void *arg) { MyOpenGate(((gate_job *)arg)->gate); }
static void t_open_twice(void *arg)
{
    MyOpenGate(((gate_job *)arg)->gate);
    MyOpenGate(((gate_job *)arg)->gate);
}
static void t_wait_at_dispatch(void *arg)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    MyWaitGate(((gate_job *)arg)->gate);
}

static void spawned_body(void *arg)
{
    gate_job *j = arg;
    NMRH_SHIM_ENTER(s);
    j->irql_seen = nmrh_shim_irql(s);
    j->spawned_ran++;
}
static void t_spawn(void *arg)
{
    NMRH_SHIM_ENTER(s);
    nmrh_shim_set_irql(s, APC_LEVEL);
    bool ok = nmrh_shim_spawn(s, "my-worker", spawned_body, arg);
    nmrh_shim_set_irql(s, PASSIVE_LEVEL);
    if (!ok) ((gate_job *)arg)->spawned_ran = -1;
}

static void test_block_and_wake(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    MY_GATE gate;
    MyInitializeGate(&gate);
    gate_job a = {.gate = &gate}, b = {.gate = &gate}, o = {.gate = &gate};
    nmrh_thread *ta = nmrh_world_spawn(w, "waiter-a", 0, t_wait, &a);
    nmrh_thread *tb = nmrh_world_spawn(w, "waiter-b", 0, t_wait, &b);
    CHECK(t, nmrh_world_run_thread(w, ta) == NMRH_THREAD_BLOCKED);
    CHECK(t, nmrh_world_run_thread(w, tb) == NMRH_THREAD_BLOCKED && !a.passed && !b.passed);
    nmrh_world_run_thread(w, nmrh_world_spawn(w, "opener", 0, t_open, &o));
    CHECK(t, nmrh_thread_get_state(ta) == NMRH_THREAD_RUNNABLE && nmrh_thread_get_state(tb) == NMRH_THREAD_RUNNABLE);
    CHECK(t, nmrh_world_run(w) && a.passed && b.passed);
    char *tr = shim_test_trace(w);
    CHECK(t, strstr(tr, "MyWaitGate: the gate is closed") != NULL);
    CHECK(t, strstr(tr, "blocks on an added shim primitive") != NULL);
    CHECK(t, strstr(tr, "gate opened by thread 2") != NULL);
    free(tr);
    shim_test_clean(t, w);
    nmrh_world_destroy(w);
}

static void test_findings(check_tally *t)
{
    nmrh_chooser_zero z;
    MY_GATE gate;
    gate_job j = {.gate = &gate};

    /* A gate nobody opens: the waiter hangs, and the hang names it. */
    MyInitializeGate(&gate);
    nmrh_world *w = shim_test_world(&z);
    nmrh_world_spawn(w, "stuck", nmrh_world_add_module(w, "m"), t_wait, &j);
    CHECK(t, nmrh_world_run(w));
    CHECK(t, !nmrh_world_finish(w));
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK_STR(t, f ? f->signature : "", "NMR-HANG");
    CHECK(t, f && strstr(f->message, "'stuck'"));
    nmrh_world_destroy(w);

    struct {
        nmrh_thread_fn fn;
        const char *sig, *needle;
    } misuse[] = {
        {t_open_twice, "KRNL-PRIMITIVE-MISUSE", "opened twice"},
        {t_wait_at_dispatch, "KRNL-PASSIVE-AT-DISPATCH", "MyWaitGate at IRQL 2"},
    };
    for (size_t i = 0; i < sizeof misuse / sizeof misuse[0]; i++) {
        MyInitializeGate(&gate);
        w = shim_test_world(&z);
        nmrh_world_spawn(w, "misuse", nmrh_world_add_module(w, "m"), misuse[i].fn, &j);
        shim_test_finding(t, w, misuse[i].sig, misuse[i].needle);
        const nmrh_finding *g = nmrh_world_finding(w);
        CHECK(t, g && strstr(g->message, "thread t0 'misuse' running m code"));
        nmrh_world_destroy(w);
    }

    /* Outside any world the primitives do the plain thing and report nothing. */
    MyInitializeGate(&gate);
    MyOpenGate(&gate);
    MyWaitGate(&gate);
    CHECK(t, gate.Open == 1);
}

static void test_spawn_and_choose(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    gate_job j = {0};
    nmrh_world_run_thread(w, nmrh_world_spawn(w, "spawner", nmrh_world_add_module(w, "m"), t_spawn, &j));
    CHECK(t, nmrh_world_thread_count(w) == 2 && j.spawned_ran == 0); /* its own thread, not run yet */
    CHECK_STR(t, nmrh_thread_name(nmrh_world_thread(w, 1)), "my-worker");
    CHECK(t, nmrh_world_run(w) && j.spawned_ran == 1 && j.irql_seen == PASSIVE_LEVEL);
    shim_test_clean(t, w);
    nmrh_world_destroy(w);

    /* The zero chooser always picks 0; outside a world the answer is 0 too. */
    CHECK(t, MyTryLuck());
}

int main(void)
{
    check_tally t = {0, 0, "shim-extension"};
    test_block_and_wake(&t);
    test_findings(&t);
    test_spawn_and_choose(&t);
    return check_summary(&t, "test_shim_extension");
}
