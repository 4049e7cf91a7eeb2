/*
 * The kernel platform (platform_kernel.h): the interpreter's threads are kernel system threads
 * (PsCreateSystemThread); the replay scheduler's events are KEVENTs; one spin lock serves the
 * interposer, the scheduler and the thread table. What a thread is (its slot) is found from
 * the thread's id (current_thread_key) in a small hash table, since kernel code has no
 * thread-local storage.
 *
 * Replay: one interpreter runs the sequence; its threads stop at every boundary event and run only
 *         when the replay scheduler lets them (stress/engine/replay_sched.h). So do the NMR's own
 *         threads (detach and cleanup workers), from the first callback they make: see nmr_gate.
 *         Every event is recorded; after the drain, the NMR's threads are let go, modules the
 *         sequence left loaded are unloaded (not recorded, since the model does not do that), and
 *         every thread is waited for before the memory is freed.
 * Stress: `threads` workers each run randomly chosen sequences of the request until the
 *         deadline; the sequence's threads run freely (step/run only start them) with a random
 *         delay at every boundary event; actions on one module instance take a lock (see
 *         module_lock) since the interpreter's module state is not made for free-running threads.
 *         Only findings are recorded.
 * A thread still blocked at the end (a hang) cannot be recovered: its memory is kept, the
 * driver refuses further runs (nmrk_wedged) and the lab reboots the machine.
 */
#include <ntddk.h>

#include "platform_kernel.h"

#include "../../core/interpose/interpose.h"
#include "../engine/replay_sched.h"
#include "nmrh/interp.h"
#include "nmrh/knobs.h"
#include "nmrh/seq.h"

#define SLOTS_PER_WORKER NMRH_IP_SEQ_THREADS /* the interpreter's threads, then teardown threads */
#define INTERP_THREADS 40u
#define FOREIGN_SLOTS 64u
#define NMR_THREADS 24u /* NMR threads a replay gates; any further ones run ungated */
#define SLOT_TABLE_SIZE 2048u /* a power of two, well above the live threads of a run */
#define NO_SLOT NMRH_IP_NO_SLOT

_Static_assert(SLOTS_PER_WORKER <= NMRH_RS_MAX_THREADS, "replay scheduler threads");
_Static_assert(INTERP_THREADS >= NMRH_SEQ_MAX_THREADS + NMRH_SEQ_MAX_MODULES, "interpreter threads");
_Static_assert(INTERP_THREADS + NMR_THREADS <= NMRH_RS_MAX_THREADS, "replay scheduler threads for NMR threads");

typedef struct krun krun;
typedef struct kworker kworker;

/* A thread under the replay scheduler (its `user` pointer): what it waits on, and who it is to the
   interposer. */
typedef struct kgate {
    KEVENT go;     /* auto-reset: the scheduler's thread event, or the start of a free thread */
    uint32_t slot; /* the interposer's */
} kgate;

/* Replay: an NMR thread under the replay scheduler (nmr_gate). */
typedef struct knmr {
    kgate gate;
    uint32_t index; /* the replay scheduler's; NMRH_RS_NONE until it has joined */
    PVOID key;      /* its current_thread_key() */
} knmr;

typedef struct kthread {
    krun *run;
    kworker *w;
    uint32_t index; /* scheduled: the replay scheduler's index; teardown: its place in threads[] */
    kgate gate;
    uint32_t module;
    uint8_t scheduled; /* under the replay scheduler */
    uint8_t lock_kind; /* stress: LOCK_SHARED (call, complete), LOCK_UNLOAD, LOCK_EXCLUSIVE (load, teardown) */
    void (*fn)(void *);
    void *arg;
    PVOID object;   /* the referenced thread object, waited for before the memory goes */
    volatile LONG started, finished;
} kthread;

/* Stress: the interpreter keeps each module instance's state in plain fields, made for one
   thread at a time. Load (which reinitialises the instance) excludes everything; unloads exclude
   each other but run alongside calls and completes, which a correct module copes with (and which a
   counterpart with detach=pending needs: its unload waits for its own `complete`). */
enum { LOCK_SHARED, LOCK_UNLOAD, LOCK_EXCLUSIVE };

typedef struct module_lock {
    LONG readers, writer, unloader;
    KEVENT changed; /* notification, cleared under the lock by a waiter */
} module_lock;

struct kworker {
    krun *run;
    uint32_t index;
    nmrh_platform pf;
    nmrh_interp *interp;
    nmrh_seq *seq;
    kthread threads[SLOTS_PER_WORKER];
    uint32_t nthreads, nteardown, nmodules;
    nmrh_rs rs;
    module_lock locks[NMRH_SEQ_MAX_MODULES];
    PVOID object; /* stress: the worker's own thread */
    uint64_t iterations;
    /* Replay: the NMR's own threads (nmr_gate) and where they go in the thread order. */
    knmr nmr[NMR_THREADS];
    uint32_t nnmr;
    volatile LONG nmr_free;        /* the run is over: NMR threads are never stopped again */
    volatile LONG nmr_arrivals;    /* NMR threads joined so far */
    volatile LONG nmr_may_started; /* since the last settle, NMR code ran that may have started threads */
    uint8_t nmr_expected;          /* the sequence's knobs let the model use NMR threads */
    uint8_t provider_first;        /* the sequence's detach-order knob */
    uint64_t order_base;           /* thread order: raised by each spawn and each settle */
};

typedef struct slot_entry {
    PVOID key;
    uint32_t slot;
} slot_entry;

struct krun {
    const nmrk_request *req;
    const nmrk_validated *v;
    uint32_t mode;
    KSPIN_LOCK lock;
    KEVENT controller; /* auto-reset */
    nmrh_ip *ip;
    void *ip_mem;
    kworker *workers;
    uint32_t nworkers;
    slot_entry table[SLOT_TABLE_SIZE];
    uint32_t nforeign;
    LARGE_INTEGER freq;
    uint64_t start_ms, deadline_ms;
    volatile LONG rng;
    volatile LONG hung;
    volatile LONG seq_runs[NMRK_MAX_SEQUENCES], seq_findings[NMRK_MAX_SEQUENCES], seq_hangs[NMRK_MAX_SEQUENCES];
};

static volatile LONG g_wedged;

int nmrk_wedged(void) { return g_wedged != 0; }

/* ---- memory, time, randomness ---- */

static void *kalloc(size_t n) { return ExAllocatePool2(POOL_FLAG_NON_PAGED, n ? n : 1, NMRK_POOL_TAG); }
static void kfree(void *p)
{
    if (p) ExFreePoolWithTag(p, NMRK_POOL_TAG);
}

static uint64_t now_ms(krun *run)
{
    LARGE_INTEGER c = KeQueryPerformanceCounter(NULL);
    uint64_t f = (uint64_t)run->freq.QuadPart, t = (uint64_t)c.QuadPart;
    if (f == 0) return 0;
    return t / f * 1000u + t % f * 1000u / f;
}

static uint32_t mix32(uint32_t x) /* a 32-bit finaliser (murmur3's) */
{
    x ^= x >> 16;
    x *= 0x85EBCA6Bu;
    x ^= x >> 13;
    x *= 0xC2B2AE35u;
    x ^= x >> 16;
    return x;
}

static uint32_t next_random(krun *run) { return mix32((uint32_t)InterlockedIncrement(&run->rng)); }

/* ---- the thread table: current_thread_key() -> slot (linear probing, backward-shift delete) ---- */

/* Who is running: the id from the exported PsGetCurrentThreadId, not KeGetCurrentThread(), which
   the WDK and mingw-w64 headers inline as a read of gs:[0x188] (the KPRCB's current thread): an
   implementation detail of the Windows kernel that only Windows provides (under Wine it reads 0,
   and every thread would be one slot). build_kernel.sh --check fails on any gs:[0x188] read in
   the driver. Ids of live threads are distinct and never 0. */
static PVOID current_thread_key(void) { return (PVOID)PsGetCurrentThreadId(); }

static uint32_t hash_ptr(PVOID p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    return (uint32_t)x & (SLOT_TABLE_SIZE - 1);
}

static uint32_t table_find_locked(krun *run, PVOID key)
{
    for (uint32_t i = hash_ptr(key), n = 0; n < SLOT_TABLE_SIZE; i = (i + 1) & (SLOT_TABLE_SIZE - 1), n++) {
        if (run->table[i].key == key) return run->table[i].slot;
        if (run->table[i].key == NULL) return NO_SLOT;
    }
    return NO_SLOT;
}

static void table_insert_locked(krun *run, PVOID key, uint32_t slot)
{
    for (uint32_t i = hash_ptr(key), n = 0; n < SLOT_TABLE_SIZE; i = (i + 1) & (SLOT_TABLE_SIZE - 1), n++) {
        if (run->table[i].key == NULL || run->table[i].key == key) {
            run->table[i].key = key;
            run->table[i].slot = slot;
            return;
        }
    }
}

static void table_remove_locked(krun *run, PVOID key)
{
    uint32_t i = hash_ptr(key), n = 0;
    while (run->table[i].key != key) {
        if (run->table[i].key == NULL || ++n == SLOT_TABLE_SIZE) return;
        i = (i + 1) & (SLOT_TABLE_SIZE - 1);
    }
    /* Shift back the entries of the cluster that follows, so that lookups never stop early. */
    for (uint32_t j = (i + 1) & (SLOT_TABLE_SIZE - 1);; j = (j + 1) & (SLOT_TABLE_SIZE - 1)) {
        if (run->table[j].key == NULL) break;
        uint32_t home = hash_ptr(run->table[j].key);
        /* j's entry may move to i when its home is not cyclically within (i, j]. */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            run->table[i] = run->table[j];
            i = j;
        }
    }
    run->table[i].key = NULL;
}

/* ---- the interposer's host ---- */

static uintptr_t h_lock(void *ctx)
{
    krun *run = ctx;
    KIRQL old;
    KeAcquireSpinLock(&run->lock, &old);
    return old;
}

static void h_unlock(void *ctx, uintptr_t token)
{
    krun *run = ctx;
    KeReleaseSpinLock(&run->lock, (KIRQL)token);
}

static uint32_t h_slot(void *ctx)
{
    krun *run = ctx;
    PVOID me = current_thread_key();
    uintptr_t t = h_lock(run);
    uint32_t slot = table_find_locked(run, me);
    if (slot == NO_SLOT && run->nforeign < FOREIGN_SLOTS) {
        /* A thread of the NMR's own calling back into a module. */
        slot = run->nworkers * SLOTS_PER_WORKER + run->nforeign++;
        table_insert_locked(run, me, slot);
    }
    h_unlock(run, t);
    return slot;
}

static uint8_t h_irql(void *ctx)
{
    (void)ctx;
    return (uint8_t)KeGetCurrentIrql();
}

static void stress_delay(krun *run, int can_block)
{
    uint32_t max = run->req->max_delay_us;
    if (max == 0) return;
    uint32_t r = next_random(run);
    if (r & 1u) return; /* half the events run through at once */
    uint32_t us = (r >> 1) % (max + 1);
    if (!can_block) {
        KeStallExecutionProcessor(us > 20 ? 20 : us); /* at DISPATCH_LEVEL: only a short spin */
    } else if (us >= 1000) {
        LARGE_INTEGER d;
        d.QuadPart = -(LONGLONG)us * 10;
        KeDelayExecutionThread(KernelMode, FALSE, &d);
    } else if (us) {
        KeStallExecutionProcessor(us);
    }
}

/* ---- replay: the NMR's own threads ----
   The model schedules the NMR's worker threads (detach workers, K4; the deferred-cleanup worker,
   K5) like any other: they are runnable from the moment the NMR starts them, numbered in that
   order, and run only when a `run` record (or the final drain) picks them. The driver cannot see
   a thread of netio.sys start: it sees an NMR thread when that thread first calls into a module,
   i.e. any thread whose first boundary event is a callback and which is not one of the sequence's
   threads (h_slot gives it a foreign slot). There it joins the replay scheduler as a new thread
   (NEW: it has not run yet as far as the schedule goes) and waits to be picked, then stops at
   every boundary event as the sequence's threads do.
   - Thread order: where a joining thread goes is the model's place for it: after the threads
     started before the NMR code that started it ran (order_base), and among the NMR threads that
     joined together by binding and by what the model starts first (a detach worker of the side
     the detach-order knob names first, then the other side's, then a cleanup worker).
   - Before the scheduler counts runnable threads, NMR threads that may have been started since
     the last count are waited for (rs_settle_arrivals: until none has joined for wait_settle_ms),
     but only when NMR code ran that could start them and the sequence's knobs let the model
     start any; an NMR thread the model does not expect still joins, late, and the replay shows
     the divergence.
   - An NMR thread back in NMR code after a callback may end there without another boundary
     event: when it makes no progress for wait_settle_ms it has ended (nmrh_rs_may_end), it is not
     blocked. A thread that calls in later with its id (a reused id, or a reused system worker
     thread) is a new NMR thread, with a new slot (rs_ended), as each of the model's workers is.
   - Points at DISPATCH_LEVEL cannot stop a thread: an NMR thread whose first callback is at
     DISPATCH_LEVEL runs on and joins at its first point below it.
   - Lab safety: an NMR thread of the real netio.sys must never stay stopped (a blocked NMR worker
     can stall the machine's network stack). After the drain, on a hang as on a clean end, every
     NMR thread is let go (release_nmr_threads) and none is stopped again in that run; in stress
     mode they are never stopped at all. What the real NMR does that the model does not (threads
     it did not predict, in another order) shows in the comparison as DIVERGED, never as a wait
     that nothing ends. */

/* The NMR code that ran on this thread just before this point may have started NMR threads: it
   ran inside a registration, deregistration or completion (K8 late detach, K4 detach workers, K5
   cleanup worker). (An NMR thread's own last stretch, after its last callback, is covered by
   rs_ended.) */
static int may_start_nmr_threads(const nmrh_obs *e)
{
    if (e->kind == NMRH_OBS_NMR_RETURN)
        return e->what == NMRH_OBS_FN_REGISTER_CLIENT || e->what == NMRH_OBS_FN_REGISTER_PROVIDER ||
               e->what == NMRH_OBS_FN_DEREGISTER_CLIENT || e->what == NMRH_OBS_FN_DEREGISTER_PROVIDER ||
               e->what == NMRH_OBS_FN_CLIENT_DETACH_COMPLETE || e->what == NMRH_OBS_FN_PROVIDER_DETACH_COMPLETE;
    if (e->kind == NMRH_OBS_CALLBACK)
        return (e->flags & (NMRH_OBS_F_IN_REGISTER | NMRH_OBS_F_IN_DEREGISTER | NMRH_OBS_F_IN_COMPLETE)) != 0;
    return 0;
}

static void note_may_start(kworker *w)
{
    if (w->nmr_expected) InterlockedExchange(&w->nmr_may_started, 1);
}

/* Where an NMR thread whose first event is `e` goes in the thread order (see above). */
static uint64_t nmr_order(const kworker *w, const nmrh_obs *e)
{
    uint32_t rank = 3;
    if (e->kind == NMRH_OBS_CALLBACK && e->what == NMRH_OBS_CB_CLIENT_DETACH) rank = w->provider_first ? 1u : 0u;
    if (e->kind == NMRH_OBS_CALLBACK && e->what == NMRH_OBS_CB_PROVIDER_DETACH) rank = w->provider_first ? 0u : 1u;
    if (e->kind == NMRH_OBS_CALLBACK && (e->what == NMRH_OBS_CB_CLIENT_CLEANUP || e->what == NMRH_OBS_CB_PROVIDER_CLEANUP))
        rank = 2;
    return (w->order_base << 16) | (1u + ((uint32_t)e->binding << 2) + rank);
}

/* The NMR thread of `slot` that is under the scheduler now, or NULL. */
static knmr *nmr_find(kworker *w, uint32_t slot)
{
    knmr *found = NULL;
    uintptr_t k = h_lock(w->run);
    for (uint32_t i = 0; i < w->nnmr; i++) {
        knmr *n = &w->nmr[i];
        if (n->gate.slot != slot || n->index == NMRH_RS_NONE) continue;
        uint32_t st = w->rs.threads[n->index].state;
        if (st != NMRH_RS_DONE && st != NMRH_RS_UNUSED) found = n;
    }
    h_unlock(w->run, k);
    return found;
}

/* A new NMR thread joins the scheduler (NEW); NULL when it cannot (the run is over, or full). */
static knmr *nmr_join(kworker *w, uint32_t slot, const nmrh_obs *e)
{
    uintptr_t k = h_lock(w->run);
    if (w->nmr_free || w->nnmr >= NMR_THREADS) {
        h_unlock(w->run, k);
        return NULL;
    }
    knmr *n = &w->nmr[w->nnmr++];
    n->index = NMRH_RS_NONE;
    n->gate.slot = slot;
    n->key = current_thread_key();
    h_unlock(w->run, k);
    KeInitializeEvent(&n->gate.go, SynchronizationEvent, FALSE);
    uint32_t index = nmrh_rs_add(&w->rs, nmr_order(w, e), &n->gate);
    if (index == NMRH_RS_NONE) return NULL;
    k = h_lock(w->run);
    n->index = index;
    int released = w->nmr_free != 0; /* let go while joining: release_nmr_threads did not see it */
    h_unlock(w->run, k);
    if (released) nmrh_rs_release(&w->rs, index);
    InterlockedIncrement(&w->nmr_arrivals);
    KeSetEvent(&w->run->controller, IO_NO_INCREMENT, FALSE);
    return n;
}

static void nmr_gate(kworker *w, uint32_t slot, const nmrh_obs *e, int can_block)
{
    if (w->nmr_free) return;
    knmr *n = nmr_find(w, slot);
    if (!n) {
        if (!can_block) return; /* cannot wait at DISPATCH_LEVEL: joins at its next point below it */
        n = nmr_join(w, slot, e);
        if (!n) return;
        nmrh_rs_thread_start(&w->rs, n->index); /* until the schedule first picks it */
    } else if (may_start_nmr_threads(e)) {
        note_may_start(w);
    }
    /* Past a callback's return it is back in NMR code, where it may end without another event. */
    nmrh_rs_may_end(&w->rs, n->index, e->kind == NMRH_OBS_CALLBACK_RETURN);
    nmrh_rs_gate(&w->rs, n->index, can_block);
}

/* The end of the run (clean or hung): every NMR thread runs on and is never stopped again. */
static void release_nmr_threads(kworker *w)
{
    uintptr_t k = h_lock(w->run);
    InterlockedExchange(&w->nmr_free, 1);
    uint32_t count = w->nnmr;
    h_unlock(w->run, k);
    for (uint32_t i = 0; i < count; i++) {
        k = h_lock(w->run);
        uint32_t index = w->nmr[i].index;
        h_unlock(w->run, k);
        if (index != NMRH_RS_NONE) nmrh_rs_release(&w->rs, index);
    }
}

static void h_gate(void *ctx, uint32_t slot, const nmrh_obs *event, int can_block)
{
    krun *run = ctx;
    if (run->mode == NMRK_MODE_STRESS) {
        stress_delay(run, can_block);
        return;
    }
    kworker *w = &run->workers[0];
    if (slot == NO_SLOT) return;
    if (slot >= SLOTS_PER_WORKER) { /* the NMR's own threads */
        nmr_gate(w, slot, event, can_block);
        return;
    }
    if (slot >= w->nthreads || !w->threads[slot].scheduled) return;
    if (may_start_nmr_threads(event)) note_may_start(w);
    nmrh_rs_gate(&w->rs, w->threads[slot].index, can_block);
}

/* ---- the replay scheduler's operations (ctx: the worker) ---- */

static uintptr_t rs_lock(void *ctx) { return h_lock(((kworker *)ctx)->run); }
static void rs_unlock(void *ctx, uintptr_t t) { h_unlock(((kworker *)ctx)->run, t); }

static kgate *rs_gate_of(void *ctx, uint32_t t) { return ((kworker *)ctx)->rs.threads[t].user; }

static void rs_signal_thread(void *ctx, uint32_t t) { KeSetEvent(&rs_gate_of(ctx, t)->go, IO_NO_INCREMENT, FALSE); }

static void rs_wait_thread(void *ctx, uint32_t t)
{
    KeWaitForSingleObject(&rs_gate_of(ctx, t)->go, Executive, KernelMode, FALSE, NULL);
}

static void rs_signal_controller(void *ctx) { KeSetEvent(&((kworker *)ctx)->run->controller, IO_NO_INCREMENT, FALSE); }

static int rs_wait_controller(void *ctx, uint32_t timeout_ms)
{
    LARGE_INTEGER to;
    to.QuadPart = -(LONGLONG)timeout_ms * 10000;
    return KeWaitForSingleObject(&((kworker *)ctx)->run->controller, Executive, KernelMode, FALSE, &to) != STATUS_TIMEOUT;
}

static uint64_t rs_now(void *ctx) { return now_ms(((kworker *)ctx)->run); }
static int rs_expects_wake(void *ctx, uint32_t t)
{
    return nmrh_ip_expects_wake(((kworker *)ctx)->run->ip, rs_gate_of(ctx, t)->slot);
}
static int rs_in_wait(void *ctx, uint32_t t) { return nmrh_ip_in_wait(((kworker *)ctx)->run->ip, rs_gate_of(ctx, t)->slot); }
static void rs_blocked(void *ctx, uint32_t t) { nmrh_ip_note(((kworker *)ctx)->run->ip, NMRH_OBS_BLOCKED, rs_gate_of(ctx, t)->slot); }
/* An NMR thread ended quietly. Its last NMR code may have started others; and a thread that calls
   in later with its id (ids are reused; so are system worker threads) is another NMR thread, with a
   slot of its own, as each of the model's workers is. */
static void rs_ended(void *ctx, uint32_t t)
{
    kworker *w = ctx;
    uintptr_t k = h_lock(w->run);
    for (uint32_t i = 0; i < w->nnmr; i++)
        if (w->nmr[i].index == t) table_remove_locked(w->run, w->nmr[i].key);
    h_unlock(w->run, k);
    note_may_start(w);
}

/* Before runnable threads are counted: when NMR code that may have started NMR threads has run
   since the last time, wait until no NMR thread has joined for wait_settle_ms (see nmr_gate). */
static void rs_settle_arrivals(void *ctx)
{
    kworker *w = ctx;
    if (!InterlockedExchange(&w->nmr_may_started, 0)) return;
    uint32_t quiet = w->rs.wait_settle_ms;
    LONG seen = w->nmr_arrivals;
    uint64_t until = now_ms(w->run) + quiet;
    for (;;) {
        uint64_t now = now_ms(w->run);
        if (w->nmr_arrivals != seen) {
            seen = w->nmr_arrivals;
            until = now + quiet;
        }
        if (now >= until) break;
        rs_wait_controller(w, (uint32_t)(until - now));
    }
    w->order_base++; /* threads that join later were started later */
}

/* ---- threads ---- */

static void module_lock_acquire(kworker *w, uint32_t m, int kind)
{
    module_lock *l = &w->locks[m];
    for (;;) {
        uintptr_t t = h_lock(w->run);
        int free = kind == LOCK_EXCLUSIVE ? !l->writer && !l->readers && !l->unloader
                   : kind == LOCK_UNLOAD  ? !l->writer && !l->unloader
                                          : !l->writer;
        if (free) {
            if (kind == LOCK_EXCLUSIVE)
                l->writer = 1;
            else
                l->readers++;
            if (kind == LOCK_UNLOAD) l->unloader = 1;
            h_unlock(w->run, t);
            return;
        }
        KeClearEvent(&l->changed);
        h_unlock(w->run, t);
        KeWaitForSingleObject(&l->changed, Executive, KernelMode, FALSE, NULL);
    }
}

static void module_lock_release(kworker *w, uint32_t m, int kind)
{
    module_lock *l = &w->locks[m];
    uintptr_t t = h_lock(w->run);
    if (kind == LOCK_EXCLUSIVE)
        l->writer = 0;
    else
        l->readers--;
    if (kind == LOCK_UNLOAD) l->unloader = 0;
    KeSetEvent(&l->changed, IO_NO_INCREMENT, FALSE);
    h_unlock(w->run, t);
}

static VOID NTAPI thread_main(PVOID arg)
{
    kthread *t = arg;
    krun *run = t->run;
    kworker *w = t->w;
    PVOID me = current_thread_key();
    uintptr_t k = h_lock(run);
    table_insert_locked(run, me, t->gate.slot);
    h_unlock(run, k);
    nmrh_ip_thread_begin(run->ip, t->gate.slot, t->module);

    if (t->scheduled)
        nmrh_rs_thread_start(&w->rs, t->index);
    else
        KeWaitForSingleObject(&t->gate.go, Executive, KernelMode, FALSE, NULL);
    int locked = run->mode == NMRK_MODE_STRESS && t->module < NMRH_SEQ_MAX_MODULES;
    if (locked) module_lock_acquire(w, t->module, t->lock_kind);
    t->fn(t->arg);
    if (locked) module_lock_release(w, t->module, t->lock_kind);
    nmrh_ip_thread_end(run->ip, t->gate.slot);

    k = h_lock(run);
    table_remove_locked(run, me);
    h_unlock(run, k);
    InterlockedExchange(&t->finished, 1);
    if (t->scheduled)
        nmrh_rs_thread_done(&w->rs, t->index);
    else
        KeSetEvent(&run->controller, IO_NO_INCREMENT, FALSE);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static int start_system_thread(kthread *t, PKSTART_ROUTINE routine)
{
    OBJECT_ATTRIBUTES oa;
    HANDLE h;
    KeInitializeEvent(&t->gate.go, SynchronizationEvent, FALSE);
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    NTSTATUS status = PsCreateSystemThread(&h, THREAD_ALL_ACCESS, &oa, NULL, NULL, routine, t);
    if (!NT_SUCCESS(status)) return 0;
    status = ObReferenceObjectByHandle(h, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, &t->object, NULL);
    if (!NT_SUCCESS(status)) t->object = NULL;
    ZwClose(h);
    return 1;
}

/* A free (unscheduled) thread starts running. */
static void release_thread(kthread *t)
{
    if (InterlockedCompareExchange(&t->started, 1, 0) == 0) KeSetEvent(&t->gate.go, IO_NO_INCREMENT, FALSE);
}

static void sweep_completions(kworker *w);
static int wait_thread_end_once(krun *run, kthread *t, uint32_t timeout_ms);

/* Waits up to timeout_ms (0: not at all) for the thread to end; true when it has. In stress, the
   wait is cut into slices with a completion sweep between them (sweep_completions). */
static int wait_thread_end(krun *run, kthread *t, uint32_t timeout_ms)
{
    if (run->mode == NMRK_MODE_STRESS && t->w) {
        uint32_t slice = run->req->max_delay_us / 1000u + 10u;
        uint64_t deadline = now_ms(run) + timeout_ms;
        for (;;) {
            uint64_t now = now_ms(run);
            uint32_t left = now >= deadline ? 0 : (uint32_t)(deadline - now);
            if (wait_thread_end_once(run, t, left < slice ? left : slice)) return 1;
            if (left <= slice) return 0;
            sweep_completions(t->w);
        }
    }
    return wait_thread_end_once(run, t, timeout_ms);
}

static int wait_thread_end_once(krun *run, kthread *t, uint32_t timeout_ms)
{
    LARGE_INTEGER to;
    to.QuadPart = -(LONGLONG)timeout_ms * 10000;
    if (t->object) return KeWaitForSingleObject(t->object, Executive, KernelMode, FALSE, &to) == STATUS_SUCCESS;
    /* No thread object (ObReferenceObjectByHandle failed): poll the flag. */
    uint64_t deadline = now_ms(run) + timeout_ms;
    while (!t->finished && now_ms(run) < deadline) {
        LARGE_INTEGER d;
        d.QuadPart = -10000;
        KeDelayExecutionThread(KernelMode, FALSE, &d);
    }
    return t->finished != 0;
}

static void forget_thread_objects(kworker *w)
{
    for (uint32_t i = 0; i < SLOTS_PER_WORKER; i++) {
        if (w->threads[i].object) ObDereferenceObject(w->threads[i].object);
        w->threads[i].object = NULL;
    }
}

/* ---- the platform table (ctx: the worker) ---- */

static void *pf_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return kalloc(size); /* ExAllocatePool2 zeroes */
}

static void pf_free(void *ctx, void *p)
{
    (void)ctx;
    kfree(p);
}

static void *pf_spawn(void *ctx, const char *name, uint32_t module, void (*fn)(void *), void *arg)
{
    kworker *w = ctx;
    krun *run = w->run;
    (void)name;
    if (w->nthreads >= INTERP_THREADS) return NULL;
    uint32_t i = w->nthreads;
    int scheduled = run->mode == NMRK_MODE_REPLAY;
    kthread *t = &w->threads[i];
    memset(t, 0, sizeof *t);
    t->index = NMRH_RS_NONE;
    if (scheduled) {
        rs_settle_arrivals(w); /* NMR threads started before this one go before it */
        t->index = nmrh_rs_add(&w->rs, ++w->order_base << 16, &t->gate);
        if (t->index == NMRH_RS_NONE) return NULL;
    }
    t->run = run;
    t->w = w;
    t->gate.slot = w->index * SLOTS_PER_WORKER + i;
    t->module = module;
    t->scheduled = (uint8_t)scheduled;
    {
        const nmrh_interp_thread *it = arg; /* the interpreter spawns its action threads only */
        t->lock_kind = it->action == NMRH_ACT_LOAD     ? LOCK_EXCLUSIVE
                       : it->action == NMRH_ACT_UNLOAD ? LOCK_UNLOAD
                                                       : LOCK_SHARED;
    }
    t->fn = fn;
    t->arg = arg;
    if (!start_system_thread(t, thread_main)) {
        if (scheduled) nmrh_rs_forget(&w->rs, t->index);
        return NULL;
    }
    w->nthreads++;
    return t;
}

static void pf_step(void *ctx, void *thread, uint32_t count)
{
    kworker *w = ctx;
    kthread *t = thread;
    if (t->scheduled)
        nmrh_rs_step(&w->rs, t->index, count);
    else
        release_thread(t);
}

static void pf_run_thread(void *ctx, void *thread)
{
    kworker *w = ctx;
    kthread *t = thread;
    if (t->scheduled)
        nmrh_rs_run_thread(&w->rs, t->index);
    else
        release_thread(t);
}

static void pf_run_all(void *ctx)
{
    kworker *w = ctx;
    if (w->run->mode == NMRK_MODE_REPLAY) {
        nmrh_rs_run_all(&w->rs);
        return;
    }
    for (uint32_t i = 0; i < w->nthreads; i++) release_thread(&w->threads[i]);
}

static int pf_stopped(void *ctx)
{
    (void)ctx;
    return 0; /* findings are recorded; the sequence goes on (there is no abandoning a kernel thread) */
}

static void pf_decide(void *ctx, uint8_t value)
{
    kworker *w = ctx;
    if (w->run->mode == NMRK_MODE_REPLAY) nmrh_rs_decide(&w->rs, value);
}

/* The real NMR has no knobs: what it does is observed. The knobs only say where the model puts
   the NMR's threads (nmr_gate): whether it has any, and which side's detach worker it starts first. */
static void pf_set_knob(void *ctx, uint32_t knob, uint32_t value)
{
    kworker *w = ctx;
    if ((knob == NMRH_KNOB_DETACH_THREAD || knob == NMRH_KNOB_CLEANUP) && value != 0) w->nmr_expected = 1;
    if (knob == NMRH_KNOB_DETACH_ORDER) w->provider_first = value == 1;
}

static void pf_fail_allocs(void *ctx, uint32_t module, uint32_t skip, uint32_t count)
{
    kworker *w = ctx;
    nmrh_ip_fail_allocs(w->run->ip, w->index, module, skip, count);
}

static void pf_fail_nmr(void *ctx, uint32_t which, uint32_t count)
{
    nmrh_ip_fail_nmr(((kworker *)ctx)->run->ip, which, count);
}

static uint32_t pf_add_module(void *ctx, const char *name)
{
    (void)name;
    return ((kworker *)ctx)->nmodules++; /* module ids are the sequence's indices */
}

static void pf_module_loaded(void *ctx, uint32_t module) { (void)ctx, (void)module; }

static void pf_module_unloaded(void *ctx, uint32_t module)
{
    kworker *w = ctx;
    nmrh_ip_module_unloaded(w->run->ip, w->index, module);
}

static void pf_record(void *ctx, uint32_t index)
{
    kworker *w = ctx;
    if (w->run->mode == NMRK_MODE_REPLAY) nmrh_ip_record(w->run->ip, index);
}

/* Stress: the sequence's threads run all at once, so a counterpart that pends its detaches
   (detach=pending) can get a binding after the sequence's last `complete` has run, and then
   nobody would complete its detach. While the worker waits for its threads it makes `complete`
   actions itself, as the end of a sequence does (nmrh_interp_finish), on a thread slot of its
   own (the last of the worker's). */
static void sweep_completions(kworker *w)
{
    krun *run = w->run;
    nmrh_interp *ip = w->interp;
    uint32_t slot = w->index * SLOTS_PER_WORKER + SLOTS_PER_WORKER - 1;
    for (uint32_t m = 0; m < ip->nmodules; m++) {
        nmrh_interp_module *mod = &ip->modules[m];
        if (!mod->kind->complete || !mod->instance || (mod->state != NMRH_MOD_LOADED && mod->state != NMRH_MOD_UNLOADING))
            continue;
        module_lock_acquire(w, m, LOCK_SHARED);
        nmrh_ip_thread_begin(run->ip, slot, m);
        if (mod->state == NMRH_MOD_LOADED || mod->state == NMRH_MOD_UNLOADING) mod->kind->complete(mod->instance);
        module_lock_release(w, m, LOCK_SHARED);
    }
}

/* ---- unloading what a sequence left loaded ---- */

static void teardown_unload(void *arg)
{
    nmrh_interp_module *m = arg;
    m->kind->unload(m->instance);
}

/* Unloads, one at a time on a thread of its own, every module the sequence left loaded, so that
   nothing stays registered with the NMR when the instance memory is freed. False on a hang. */
static int teardown(kworker *w, uint32_t timeout_ms)
{
    krun *run = w->run;
    nmrh_interp *ip = w->interp;
    for (uint32_t m = 0; m < ip->nmodules; m++) {
        nmrh_interp_module *mod = &ip->modules[m];
        if (mod->state != NMRH_MOD_LOADED || !mod->instance) continue;
        if (INTERP_THREADS + w->nteardown >= SLOTS_PER_WORKER - 1) return 0;
        kthread *t = &w->threads[INTERP_THREADS + w->nteardown];
        memset(t, 0, sizeof *t);
        t->run = run;
        t->w = w;
        t->index = INTERP_THREADS + w->nteardown;
        t->gate.slot = w->index * SLOTS_PER_WORKER + t->index;
        t->module = m;
        t->lock_kind = LOCK_UNLOAD; /* alongside completion sweeps */
        t->fn = teardown_unload;
        t->arg = mod;
        mod->state = NMRH_MOD_UNLOADING;
        if (!start_system_thread(t, thread_main)) return 0;
        w->nteardown++;
        release_thread(t);
        if (!wait_thread_end(run, t, timeout_ms)) return 0;
        mod->state = NMRH_MOD_UNLOADED;
        nmrh_ip_module_unloaded(run->ip, w->index, m);
    }
    return 1;
}

/* Every thread of the worker's current sequence has ended (waits up to timeout_ms overall). */
static int wait_all(kworker *w, uint32_t timeout_ms)
{
    krun *run = w->run;
    uint64_t deadline = now_ms(run) + timeout_ms;
    for (uint32_t i = 0; i < w->nthreads; i++) {
        uint64_t now = now_ms(run);
        uint32_t left = now >= deadline ? 0 : (uint32_t)(deadline - now);
        if (!wait_thread_end(run, &w->threads[i], left)) return 0;
    }
    return 1;
}

static void note_unfinished(kworker *w)
{
    for (uint32_t i = 0; i < w->nthreads + w->nteardown; i++) {
        kthread *t = &w->threads[i < w->nthreads ? i : INTERP_THREADS + (i - w->nthreads)];
        if (!t->finished) nmrh_ip_note(w->run->ip, NMRH_OBS_HANG, t->gate.slot);
    }
}

static void init_worker(krun *run, kworker *w, uint32_t index)
{
    w->run = run;
    w->index = index;
    w->pf = (nmrh_platform){
        .ctx = w,
        .alloc = pf_alloc,
        .free = pf_free,
        .spawn = pf_spawn,
        .step = pf_step,
        .run_thread = pf_run_thread,
        .run_all = pf_run_all,
        .stopped = pf_stopped,
        .decide = pf_decide,
        .set_knob = pf_set_knob,
        .fail_allocs = pf_fail_allocs,
        .fail_nmr = pf_fail_nmr,
        .add_module = pf_add_module,
        .module_loaded = pf_module_loaded,
        .module_unloaded = pf_module_unloaded,
        .record = pf_record,
    };
    nmrh_rs_ops ops = {
        .ctx = w,
        .lock = rs_lock,
        .unlock = rs_unlock,
        .signal_thread = rs_signal_thread,
        .wait_thread = rs_wait_thread,
        .signal_controller = rs_signal_controller,
        .wait_controller = rs_wait_controller,
        .now_ms = rs_now,
        .expects_wake = rs_expects_wake,
        .in_wait = rs_in_wait,
        .blocked = rs_blocked,
        .settle_arrivals = rs_settle_arrivals,
        .ended = rs_ended,
    };
    nmrh_rs_init(&w->rs, &ops, run->req->settle_ms, run->req->wait_settle_ms);
    for (uint32_t m = 0; m < NMRH_SEQ_MAX_MODULES; m++) KeInitializeEvent(&w->locks[m].changed, NotificationEvent, FALSE);
}

/* A sequence from the start: fresh thread table, decoded records, interpreter. */
static void begin_sequence(kworker *w, uint32_t si)
{
    const nmrk_validated *v = w->run->v;
    w->nthreads = w->nteardown = w->nmodules = 0;
    w->rs.nthreads = 0;
    w->nnmr = 0;
    w->nmr_free = w->nmr_arrivals = w->nmr_may_started = 0;
    w->nmr_expected = w->provider_first = 0;
    w->order_base = 0;
    nmrh_seq_decode(w->seq, v->target, v->seq[si], v->seq_size[si]);
    nmrh_interp_init(w->interp, &w->pf, w->seq);
}

/* ---- replay ---- */

static uint32_t run_replay(krun *run, int *out_of_memory)
{
    kworker *w = &run->workers[0];
    uint32_t hung;
    begin_sequence(w, 0);
    nmrh_interp_run(w->interp);
    nmrh_interp_finish(w->interp);
    hung = nmrh_rs_drain(&w->rs);
    release_nmr_threads(w); /* whether or not anything hung: never leave an NMR thread stopped */
    *out_of_memory = w->interp->out_of_memory;
    nmrh_ip_set_recording(run->ip, 0);
    if (hung == 0 && !teardown(w, run->req->settle_ms * 4u + 1000u)) hung = 1;
    if (hung == 0 && !wait_all(w, run->req->settle_ms * 4u + 1000u)) hung = 1;
    if (hung) {
        note_unfinished(w);
        return hung;
    }
    forget_thread_objects(w);
    nmrh_interp_release(w->interp);
    w->iterations = 1;
    return 0;
}

/* ---- stress ---- */

static VOID NTAPI worker_main(PVOID arg)
{
    kworker *w = arg;
    krun *run = w->run;
    const nmrk_validated *v = run->v;
    PVOID me = current_thread_key();
    uintptr_t k = h_lock(run);
    table_insert_locked(run, me, w->index * SLOTS_PER_WORKER + SLOTS_PER_WORKER - 1);
    h_unlock(run, k);
    while (!run->hung && now_ms(run) < run->deadline_ms) {
        uint32_t si = next_random(run) % v->nsequences;
        uint32_t before = nmrh_ip_worker_findings(run->ip, w->index);
        nmrh_ip_set_worker_tag(run->ip, w->index, (w->index << 16) | si);
        begin_sequence(w, si);
        nmrh_interp_run(w->interp);
        nmrh_interp_finish(w->interp);
        for (uint32_t i = 0; i < w->nthreads; i++) release_thread(&w->threads[i]);
        int ok = wait_all(w, run->req->settle_ms) && teardown(w, run->req->settle_ms);
        InterlockedIncrement(&run->seq_runs[si]);
        if (!ok) {
            note_unfinished(w);
            InterlockedIncrement(&run->seq_hangs[si]);
            InterlockedExchange(&run->hung, 1);
            break; /* this worker's memory is in use forever */
        }
        if (nmrh_ip_worker_findings(run->ip, w->index) != before) InterlockedIncrement(&run->seq_findings[si]);
        forget_thread_objects(w);
        nmrh_interp_release(w->interp);
        w->iterations++;
    }
    k = h_lock(run);
    table_remove_locked(run, me);
    h_unlock(run, k);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

static void run_stress(krun *run)
{
    for (uint32_t i = 0; i < run->nworkers; i++) {
        kworker *w = &run->workers[i];
        OBJECT_ATTRIBUTES oa;
        HANDLE h;
        InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
        if (!NT_SUCCESS(PsCreateSystemThread(&h, THREAD_ALL_ACCESS, &oa, NULL, NULL, worker_main, w))) continue;
        if (!NT_SUCCESS(ObReferenceObjectByHandle(h, THREAD_ALL_ACCESS, *PsThreadType, KernelMode, &w->object, NULL)))
            w->object = NULL;
        ZwClose(h);
    }
    for (uint32_t i = 0; i < run->nworkers; i++) {
        kworker *w = &run->workers[i];
        if (!w->object) continue;
        KeWaitForSingleObject(w->object, Executive, KernelMode, FALSE, NULL);
        ObDereferenceObject(w->object);
        w->object = NULL;
    }
}

/* ---- the run ---- */

static void free_run(krun *run)
{
    if (!run) return;
    for (uint32_t i = 0; run->workers && i < run->nworkers; i++) {
        kfree(run->workers[i].interp);
        kfree(run->workers[i].seq);
    }
    kfree(run->workers);
    kfree(run->ip_mem);
    kfree(run);
}

static krun *new_run(const nmrk_request *req, const nmrk_validated *v)
{
    krun *run = kalloc(sizeof *run);
    if (!run) return NULL;
    run->req = req;
    run->v = v;
    run->mode = v->mode;
    run->nworkers = v->mode == NMRK_MODE_REPLAY ? 1 : req->threads;
    KeInitializeSpinLock(&run->lock);
    KeInitializeEvent(&run->controller, SynchronizationEvent, FALSE);
    KeQueryPerformanceCounter(&run->freq);
    run->rng = (LONG)req->seed;

    nmrh_ip_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.workers = run->nworkers;
    cfg.threads_per_worker = SLOTS_PER_WORKER;
    cfg.foreign_slots = FOREIGN_SLOTS;
    if (v->mode == NMRK_MODE_REPLAY) {
        cfg.max_regs = 128;
        cfg.max_bindings = 1024;
        cfg.log_capacity = v->obs_capacity;
        cfg.flags = NMRH_IP_F_RECORD_EVENTS;
    } else {
        uint32_t modules = run->nworkers * NMRH_SEQ_MAX_MODULES;
        cfg.max_regs = modules * 4;
        cfg.max_bindings = modules * modules / 2 + 64;
        cfg.log_capacity = v->obs_capacity < 4096 ? v->obs_capacity : 4096;
        cfg.flags = NMRH_IP_F_RECYCLE | ((req->flags & NMRK_FLAG_CROSS_BIND) ? NMRH_IP_F_CROSS_WORKER : 0);
    }
    nmrh_ip_host host = {run, h_lock, h_unlock, h_slot, h_irql, h_gate};
    size_t size = nmrh_ip_size(&cfg);
    run->ip_mem = size ? kalloc(size) : NULL;
    run->ip = run->ip_mem ? nmrh_ip_init(run->ip_mem, size, &cfg, &host) : NULL;
    run->workers = kalloc(run->nworkers * sizeof(kworker));
    if (!run->ip || !run->workers) goto fail;
    for (uint32_t i = 0; i < run->nworkers; i++) {
        kworker *w = &run->workers[i];
        init_worker(run, w, i);
        w->interp = kalloc(sizeof(nmrh_interp));
        w->seq = kalloc(sizeof(nmrh_seq));
        if (!w->interp || !w->seq) goto fail;
    }
    return run;
fail:
    free_run(run);
    return NULL;
}

/* NMR threads are numbered in the order they first appear in the log (obs.h), as in the model's
   prediction. The interposer numbers them in the order they first called in, which for threads
   that then waited for the schedule is not the order they ran in. */
static void renumber_nmr_threads(void *records, uint32_t n)
{
    unsigned char *log = records;
    uint8_t map[NMRH_OBS_THREAD_FOREIGN], next = 0;
    memset(map, 0xFF, sizeof map);
    for (uint32_t i = 0; i < n; i++) {
        nmrh_obs o;
        memcpy(&o, log + (size_t)i * sizeof o, sizeof o); /* the response buffer need not be aligned for it */
        if (o.thread == NMRH_OBS_THREAD_NONE || !(o.thread & NMRH_OBS_THREAD_FOREIGN)) continue;
        uint8_t k = (uint8_t)(o.thread & ~NMRH_OBS_THREAD_FOREIGN);
        if (map[k] == 0xFF) map[k] = next++;
        o.thread = (uint8_t)(NMRH_OBS_THREAD_FOREIGN | map[k]);
        memcpy(log + (size_t)i * sizeof o, &o, sizeof o);
    }
}

static size_t write_response(krun *run, const nmrk_request *req, void *out, size_t out_len, uint32_t verdict,
                             uint32_t hung, uint64_t elapsed)
{
    nmrk_response *r = out;
    memset(r, 0, sizeof *r);
    r->magic = NMRK_RESPONSE_MAGIC;
    r->version = NMRK_PROTOCOL_VERSION;
    r->header_size = sizeof *r;
    r->verdict = verdict;
    r->seq_id = req->seq_id;
    r->hung_threads = hung;
    r->elapsed_ms = elapsed > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)elapsed;
    r->nsequences = run ? run->v->nsequences : 0;
    if (run && run->ip) {
        uint32_t n;
        const nmrh_obs *log = nmrh_ip_log(run->ip, &n);
        nmrh_ip_stats st = nmrh_ip_get_stats(run->ip);
        uint32_t cap = (uint32_t)((out_len - sizeof *r) / sizeof(nmrh_obs));
        uint32_t copy = n < cap ? n : cap;
        memcpy((char *)out + sizeof *r, log, (size_t)copy * sizeof(nmrh_obs));
        if (run->mode == NMRK_MODE_REPLAY) renumber_nmr_threads((char *)out + sizeof *r, copy);
        r->nobs = copy;
        r->obs_dropped = st.dropped + (n - copy);
        r->findings = st.findings;
        r->first_rule = st.first_rule;
        r->events = st.events;
        r->foreign_declined = st.foreign_declined;
        r->out_of_records = st.out_of_records;
        for (uint32_t i = 0; i < run->nworkers; i++) r->iterations += run->workers[i].iterations;
        for (uint32_t i = 0; i < NMRK_MAX_SEQUENCES; i++) {
            r->seq_runs[i] = (uint32_t)run->seq_runs[i];
            r->seq_findings[i] = (uint32_t)run->seq_findings[i];
            r->seq_hangs[i] = (uint32_t)run->seq_hangs[i];
        }
        if (run->mode == NMRK_MODE_REPLAY && r->iterations) r->seq_runs[0] = 1;
        if (run->mode == NMRK_MODE_REPLAY && r->findings) r->seq_findings[0] = 1;
        if (run->mode == NMRK_MODE_REPLAY && hung) r->seq_hangs[0] = 1;
    }
    r->total_size = (uint32_t)(sizeof *r + (size_t)r->nobs * sizeof(nmrh_obs));
    return r->total_size;
}

size_t nmrk_run(const nmrk_request *req, const nmrk_validated *v, void *out, size_t out_len)
{
    krun *run = new_run(req, v);
    if (!run) return write_response(NULL, req, out, out_len, NMRK_VERDICT_ERROR, 0, 0);
    run->start_ms = now_ms(run);
    run->deadline_ms = run->start_ms + req->duration_ms;
    nmrk_breadcrumb_update(req, "running", 0);
    nmrh_ip_activate(run->ip);

    uint32_t hung = 0;
    int out_of_memory = 0;
    if (v->mode == NMRK_MODE_REPLAY) {
        hung = run_replay(run, &out_of_memory);
    } else {
        run_stress(run);
        hung = (uint32_t)run->hung;
    }
    nmrh_ip_stats st = nmrh_ip_get_stats(run->ip);
    uint32_t verdict = out_of_memory ? NMRK_VERDICT_ERROR
                       : hung        ? NMRK_VERDICT_HANG
                       : st.findings ? NMRK_VERDICT_FINDING
                                     : NMRK_VERDICT_PASS;
    size_t n = write_response(run, req, out, out_len, verdict, hung, now_ms(run) - run->start_ms);
    nmrk_breadcrumb_update(req, hung ? "hung" : "done", st.findings);
    if (hung) {
        /* Threads are blocked inside the NMR or module code and may run again some day: their
           memory, the interposer (still active for them) and the modules' registrations stay. */
        InterlockedExchange(&g_wedged, 1);
        return n;
    }
    nmrh_ip_activate(NULL);
    free_run(run);
    return n;
}

/* ---- breadcrumb ---- */

char nmrk_breadcrumb[NMRK_BREADCRUMB_SIZE];

typedef struct bc_writer {
    char *s;
    size_t cap, len;
} bc_writer;

static void bc_put(bc_writer *w, const char *s)
{
    while (*s && w->len + 1 < w->cap) w->s[w->len++] = *s++;
    w->s[w->len] = '\0';
}

static void bc_hex(bc_writer *w, uint64_t v)
{
    char h[17];
    for (int i = 15; i >= 0; i--, v >>= 4) h[i] = "0123456789abcdef"[v & 15];
    h[16] = '\0';
    bc_put(w, h);
}

static void bc_dec(bc_writer *w, uint32_t v)
{
    char d[11];
    int n = 10;
    d[10] = '\0';
    do d[--n] = (char)('0' + v % 10), v /= 10;
    while (v);
    bc_put(w, d + n);
}

void nmrk_breadcrumb_update(const nmrk_request *req, const char *state, uint32_t findings)
{
    char text[NMRK_BREADCRUMB_SIZE];
    bc_writer w = {text, sizeof text, 0};
    text[0] = '\0';
    bc_put(&w, "NMRH-BREADCRUMB state=");
    bc_put(&w, state);
    bc_put(&w, req->mode == NMRK_MODE_REPLAY ? " mode=replay id=" : " mode=stress id=");
    bc_hex(&w, req->seq_id);
    bc_put(&w, " target=");
    bc_put(&w, req->target); /* validated: NUL-terminated */
    bc_put(&w, " label=");
    bc_put(&w, req->label);
    bc_put(&w, " findings=");
    bc_dec(&w, findings);
    bc_put(&w, "\n");
    memcpy(nmrk_breadcrumb, text, sizeof text);
}
