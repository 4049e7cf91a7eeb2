/*
 * Real-thread mode (cfg.real_threads): logical threads as OS threads. Spin locks exclude for real
 * (a plain counter under one survives thousands of increments from four threads), events hand
 * over between threads, each thread knows itself, a wait nobody ends is a hang and a timed wait
 * expires when nothing else can run, a finding stops the run and parks the other threads, and
 * destroying a world ends every thread (blocked ones included).
 */
#include "../support/check.h"
#include "nmrh/world.h"

#include <ntddk.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static nmrh_world *threaded_world(nmrh_chooser_random *ch, uint64_t seed)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.real_threads = true;
    cfg.seed = seed;
    cfg.step_budget = UINT64_MAX; /* the spinner of test_finding_parks_others runs until parked */
    nmrh_chooser_random_init(ch, seed);
    return nmrh_world_create(&cfg, &ch->base);
}

/* ---- spin locks exclude ---- */

typedef struct counter_job {
    KSPIN_LOCK lock;
    long value;
    int rounds;
} counter_job;

static void count_under_lock(void *arg)
{
    counter_job *j = arg;
    for (int i = 0; i < j->rounds; i++) {
        KIRQL irql;
        KeAcquireSpinLock(&j->lock, &irql);
        long v = j->value; /* a torn read-modify-write would lose counts */
        j->value = v + 1;
        KeReleaseSpinLock(&j->lock, irql);
    }
}

static void test_spinlock_excludes(check_tally *t)
{
    nmrh_chooser_random ch;
    nmrh_world *w = threaded_world(&ch, 1);
    counter_job j;
    memset(&j, 0, sizeof j);
    KeInitializeSpinLock(&j.lock);
    j.rounds = 2000;
    for (int i = 0; i < 4; i++) CHECK(t, nmrh_world_spawn(w, "counter", 1, count_under_lock, &j) != NULL);
    CHECK(t, nmrh_world_run(w));
    CHECK(t, nmrh_world_finish(w));
    CHECK(t, j.value == 4 * 2000);
    for (uint32_t i = 0; i < nmrh_world_thread_count(w); i++)
        CHECK(t, nmrh_thread_get_state(nmrh_world_thread(w, i)) == NMRH_THREAD_FINISHED);
    nmrh_world_destroy(w);
}

/* ---- events hand over; threads know who they are ---- */

typedef struct handoff {
    KEVENT ready;
    LONG produced;
    LONG consumed_seen;
    nmrh_thread *seen_self[2]; /* what each thread found itself to be */
} handoff;

static void consumer(void *arg)
{
    handoff *h = arg;
    h->seen_self[0] = nmrh_world_current_thread(nmrh_world_current());
    KeWaitForSingleObject(&h->ready, Executive, KernelMode, FALSE, NULL);
    h->consumed_seen = ReadNoFence(&h->produced);
}

static void producer(void *arg)
{
    handoff *h = arg;
    h->seen_self[1] = nmrh_world_current_thread(nmrh_world_current());
    InterlockedExchange(&h->produced, 42);
    KeSetEvent(&h->ready, 0, FALSE);
}

static void test_event_handoff(check_tally *t)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        nmrh_chooser_random ch;
        nmrh_world *w = threaded_world(&ch, seed);
        handoff h;
        memset(&h, 0, sizeof h);
        KeInitializeEvent(&h.ready, SynchronizationEvent, FALSE);
        nmrh_thread *c = nmrh_world_spawn(w, "consumer", 1, consumer, &h);
        nmrh_thread *p = nmrh_world_spawn(w, "producer", 1, producer, &h);
        CHECK(t, nmrh_world_finish(w));
        CHECK(t, h.consumed_seen == 42);
        CHECK(t, c != NULL && h.seen_self[0] == c);
        CHECK(t, p != NULL && h.seen_self[1] == p);
        nmrh_world_destroy(w);
    }
}

/* ---- hangs and timed waits ---- */

static void wait_forever(void *arg)
{
    KEVENT *never = arg;
    KeWaitForSingleObject(never, Executive, KernelMode, FALSE, NULL);
}

static void test_hang_reported(check_tally *t)
{
    nmrh_chooser_random ch;
    nmrh_world *w = threaded_world(&ch, 3);
    KEVENT never;
    KeInitializeEvent(&never, NotificationEvent, FALSE);
    nmrh_world_spawn(w, "waiter", 1, wait_forever, &never);
    CHECK(t, nmrh_world_run(w)); /* nothing runnable is not itself a finding */
    CHECK(t, !nmrh_world_finish(w));
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK(t, f && f->rule == NMRH_RULE_HANG);
    CHECK(t, f && strstr(f->message, "waiting for an event") != NULL);
    CHECK(t, nmrh_world_destroy(w)); /* the blocked thread exits */
}

typedef struct timed {
    KEVENT never;
    NTSTATUS status;
} timed;

static void wait_with_timeout(void *arg)
{
    timed *tw = arg;
    LARGE_INTEGER timeout;
    timeout.QuadPart = -10000; /* 1 ms, relative */
    tw->status = KeWaitForSingleObject(&tw->never, Executive, KernelMode, FALSE, &timeout);
}

static void test_timed_wait_expires(check_tally *t)
{
    nmrh_chooser_random ch;
    nmrh_world *w = threaded_world(&ch, 4);
    timed tw;
    memset(&tw, 0, sizeof tw);
    KeInitializeEvent(&tw.never, NotificationEvent, FALSE);
    nmrh_world_spawn(w, "timed", 1, wait_with_timeout, &tw);
    CHECK(t, nmrh_world_finish(w));
    CHECK(t, tw.status == STATUS_TIMEOUT);
    nmrh_world_destroy(w);
}

/* ---- a finding stops the run and parks the others ---- */

static void release_unowned(void *arg)
{
    KSPIN_LOCK *lock = arg;
    KeReleaseSpinLock(lock, PASSIVE_LEVEL); /* never acquired: a finding */
}

static void keep_entering(void *arg)
{
    LONG *rounds = arg;
    for (;;) { /* ends only by being parked at a harness entry after the finding */
        KeStallExecutionProcessor(1);
        InterlockedIncrement(rounds);
    }
}

static void test_finding_parks_others(check_tally *t)
{
    nmrh_chooser_random ch;
    nmrh_world *w = threaded_world(&ch, 5);
    KSPIN_LOCK lock;
    KeInitializeSpinLock(&lock);
    LONG rounds = 0;
    nmrh_world_spawn(w, "spinner", 1, keep_entering, &rounds);
    nmrh_world_spawn(w, "culprit", 1, release_unowned, &lock);
    CHECK(t, !nmrh_world_run(w));
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK(t, f && f->rule == NMRH_RULE_SPINLOCK_MISUSE);
    CHECK(t, !nmrh_world_finish(w));
    CHECK(t, nmrh_world_destroy(w)); /* joins the parked spinner (would hang if it were not parked) */
}

int main(void)
{
    check_tally t = {0, 0, "threads"};
    test_spinlock_excludes(&t);
    test_event_handoff(&t);
    test_hang_reported(&t);
    test_timed_wait_expires(&t);
    test_finding_parks_others(&t);
    return check_summary(&t, "test_threads");
}
