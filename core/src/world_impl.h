/*
 * Internal layout of a world, shared by the scheduler, the trace, the oracle, the kernel shim
 * and the NMR model. Nothing outside core/ includes this.
 */
#ifndef NMRH_WORLD_IMPL_H
#define NMRH_WORLD_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nmrh/coverage.h"
#include "nmrh/fiber.h"
#include "nmrh/oracle.h"
#include "nmrh/world.h"

/* What a blocked thread waits for; also names the wait in hang dumps. */
typedef enum {
    NMRH_WAIT_NONE,
    NMRH_WAIT_EVENT,
    NMRH_WAIT_SPINLOCK,
    NMRH_WAIT_FAST_MUTEX,
    NMRH_WAIT_RUNDOWN,
    NMRH_WAIT_NMR_DEREGISTER,
    NMRH_WAIT_DELAY,
    NMRH_WAIT_PUSH_LOCK,        /* core/shim/push_lock.c */
    NMRH_WAIT_RESOURCE,         /* core/shim/resource.c */
    NMRH_WAIT_PRIMITIVE,        /* a primitive added through nmrh/shim.h */
} nmrh_wait_kind;

const char *nmrh_wait_name(nmrh_wait_kind k);

/* What the thread-local pointer points at: the world, and in real-thread mode the logical thread
   this OS thread is (NULL for the thread that drives the world). */
typedef struct nmrh_tls {
    nmrh_world *world;
    nmrh_thread *self;
} nmrh_tls;

struct nmrh_thread {
    nmrh_world *world;
    uint32_t id;                /* index in the world's thread array */
    char label[8];              /* "t3" for the n-th thread spawned through nmrh_world_spawn (the
                                   sequence's tN), "w2" for threads the NMR model and the shim
                                   start (workers, work items), so sequence numbers stay aligned */
    char name[32];
    nmrh_fiber fiber;
    nmrh_thread_state state;
    uint32_t owner_module;      /* module whose action the thread runs; 0 = the NMR */
    uint32_t cur_module;        /* module whose code runs now (callbacks switch it) */
    uint8_t irql;
    uint32_t spinlocks_held;
    const void *blocked_on;
    nmrh_wait_kind wait_kind;
    bool timed_wait;
    int32_t wake_status;
    uint64_t steps;
    nmrh_thread_fn fn;
    void *arg;
    /* real-thread mode (threads.c) */
    nmrh_tls tls;
    pthread_t os_thread;
    bool os_started;
    bool internal;              /* started by the model or shim: its body is harness code */
    uint32_t lock_depth;        /* nested harness entries holding the world lock */
    uint64_t rng;               /* delay decisions, private to the OS thread */
    /* kernel-primitive shim state of the thread (core/shim/region.c, push_lock.c, resource.c) */
    int32_t apc_disable;        /* critical and guarded region depth */
    uint32_t locks_held;        /* push locks and executive resource acquisitions held */
    const void *push_locks[8];  /* the push locks held (the first eight), for recursion checks */
};

typedef struct nmrh_module {
    char name[32];
    bool unloaded;
    uint32_t fail_allocs;
    uint32_t fail_skip;            /* allocations that still succeed before fail_allocs start */
} nmrh_module;

/* Trace record kinds; payload meaning in trace.c. */
typedef enum {
    NMRH_EV_SPAWN,
    NMRH_EV_END,
    NMRH_EV_SWITCH,
    NMRH_EV_POINT,
    NMRH_EV_BLOCK,
    NMRH_EV_WAKE,
    NMRH_EV_TIMEOUT,
    NMRH_EV_NMR_CALL,
    NMRH_EV_NMR_RETURN,
    NMRH_EV_CALLBACK,
    NMRH_EV_CALLBACK_RETURN,
    NMRH_EV_CHOICE,
    NMRH_EV_FAULT,
    NMRH_EV_NOTE,
    NMRH_EV_FINDING,
    NMRH_EV_UNLOADED,
    NMRH_EV_BIND,
    NMRH_EV_RECORD,
} nmrh_event_kind;

/* NMR functions and module callbacks, as named in traces. */
typedef enum {
    NMRH_FN_REGISTER_CLIENT,
    NMRH_FN_DEREGISTER_CLIENT,
    NMRH_FN_WAIT_CLIENT,
    NMRH_FN_CLIENT_ATTACH_PROVIDER,
    NMRH_FN_CLIENT_DETACH_COMPLETE,
    NMRH_FN_REGISTER_PROVIDER,
    NMRH_FN_DEREGISTER_PROVIDER,
    NMRH_FN_WAIT_PROVIDER,
    NMRH_FN_PROVIDER_DETACH_COMPLETE,
    NMRH_FN_COUNT
} nmrh_nmr_fn;
typedef enum {
    NMRH_CB_CLIENT_ATTACH,
    NMRH_CB_CLIENT_DETACH,
    NMRH_CB_CLIENT_CLEANUP,
    NMRH_CB_PROVIDER_ATTACH,
    NMRH_CB_PROVIDER_DETACH,
    NMRH_CB_PROVIDER_CLEANUP,
    NMRH_CB_COUNT
} nmrh_callback;
/* Object references in trace payloads: kind in the high 32 bits, sequence number below. */
enum { NMRH_REF_NONE, NMRH_REF_CLIENT, NMRH_REF_PROVIDER, NMRH_REF_BINDING, NMRH_REF_INVALID };
#define NMRH_REF(kind, seq) (((uint64_t)(kind) << 32) | (uint32_t)(seq))
const char *nmrh_status_name(int32_t status);
/* Names for traces and messages (trace.c holds the one table of each). */
const char *nmrh_fn_name(nmrh_nmr_fn fn);

typedef struct nmrh_trace_rec {
    uint16_t kind;
    uint16_t thread;
    uint32_t a;
    uint64_t b;
} nmrh_trace_rec;

typedef struct nmrh_pool_block {
    void *ptr;               /* NULL = empty slot, (void*)1 = tombstone */
    size_t size;
    uint32_t tag;
    uint32_t module;
    uint64_t seq;
} nmrh_pool_block;

typedef struct nmrh_pool {
    nmrh_pool_block *slots;  /* open addressing on the pointer */
    size_t capacity, live, used;
    uint64_t next_seq;
} nmrh_pool;

/* Stacks of finished threads, ready for new ones (all NMRH_THREAD_STACK_SIZE, in sched.c). */
typedef struct nmrh_stack_cache {
    nmrh_fiber_stack *stacks;
    uint32_t count, cap;
} nmrh_stack_cache;

struct nmrh_world_pool {
    nmrh_stack_cache stacks;
    nmrh_world *spare;             /* a destroyed world kept with its buffers for the next create */
};

struct nmrh_model;

struct nmrh_world {
    nmrh_config cfg;
    nmrh_chooser *chooser;
    nmrh_fiber main_fiber;
    nmrh_world *saved_current;     /* restored when the world stops running threads */
    nmrh_thread **threads;
    uint32_t nthreads, threads_cap;
    uint32_t threads_alloc;        /* threads[0 .. threads_alloc) are allocated (reused by a pooled world) */
    nmrh_thread *current;          /* running logical thread, NULL on the scheduler */
    nmrh_thread *last_run;         /* thread that ran last, to trace switches only */
    uint32_t nrunnable;
    nmrh_thread *next_hint;        /* chosen by a scheduling point in free-run mode */
    bool step_mode;
    bool solo;                     /* nmrh_world_run_thread: points in step mode continue the thread */
    bool stopped;
    bool finished;
    nmrh_finding finding;
    nmrh_module *modules;          /* [0] is the NMR */
    uint32_t nmodules, modules_cap;
    uint32_t nmr_faults[NMRH_FAULT_NMR_COUNT];
    nmrh_trace_rec *trace;
    size_t ntrace, trace_cap;
    char *text;                    /* strings referenced by trace records (offsets into it) */
    size_t text_len, text_cap;
    /* Prints the sequence record a NMRH_EV_RECORD event refers to (set by the session). */
    void (*record_printer)(void *ctx, uint32_t index, FILE *out);
    void *record_ctx;
    nmrh_pool pool;
    struct nmrh_model *model;
    nmrh_world_stats stats;
    uint32_t worker_seq;           /* names NMR worker threads deterministically */
    uint64_t shim_clock;           /* calls to the shim's clocks so far (core/shim/clock.c) */
    uint64_t shim_uuid_seq;        /* ExUuidCreate calls so far */
    uint32_t nlabel_t, nlabel_w;   /* labels handed out (see nmrh_thread.label) */
    uint32_t transitions[NMRH_TRANSITION_COUNT];
    nmrh_stack_cache own_stacks;   /* stack cache when the config names no pool */
    nmrh_stack_cache *stacks;      /* &cfg.pool->stacks or &own_stacks */
    uint32_t live_from;            /* threads[0 .. live_from) have all ended (finished or abandoned) */
    struct nmrh_stack_range {      /* every stack a thread of this world ran on, once each */
        const char *bottom;
        size_t size;
    } *stack_ranges;
    uint32_t nstack_ranges, stack_ranges_cap;
    nmrh_tls main_tls;             /* {this world, NULL}: what the driving thread's pointer is set to */
    /* Real-thread mode (cfg.real_threads, threads.c): one OS thread per logical thread; the lock
       guards every field above and is held while harness code runs, never while module code does. */
    bool threaded;
    pthread_mutex_t lock;
    pthread_cond_t changed;        /* broadcast on every thread state change */
    uint32_t main_depth;           /* lock_depth of the driving thread */
    bool teardown;                 /* parked and blocked threads exit */
    /* A ThreadSanitizer report, parked by its hook (which runs inside TSan's report lock and so
       must not take the world lock) until the next harness entry turns it into the finding. */
    struct nmrh_pending_report {
        int state;                 /* 0 free, 1 being written, 2 ready, 3 taken (atomics) */
        char kind[48];
        char thread[48];           /* "t3 'call m1'" of the reporting thread, or "" */
        void *pcs[2][16];          /* the accesses' stacks */
    } tsan_report;
};

/* The thread-local current world (the only mutable global of the harness). */
void nmrh_world_set_current(nmrh_world *w);
const nmrh_tls *nmrh_tls_get(void);
void nmrh_tls_set(const nmrh_tls *tls);

/* ---- harness entry (threads.c) ----
   Every kernel-shim and NMR entry point declares NMRH_HARNESS(w): w is the current world (or
   NULL), and in real-thread mode the world lock is held until the function returns, with
   w->current naming the calling logical thread. Nested entries only count. In fiber mode it costs
   a branch. Around calls into module code the harness suspends the lock and resumes it after. */
#define NMRH_HARNESS(w) nmrh_world *w __attribute__((cleanup(nmrh_harness_leave))) = nmrh_harness_enter()
/* The same for the thread that drives world `w` (the session, the stress runner), or any thread
   that knows its world. */
void nmrh_world_lock_threaded(nmrh_world *w);
void nmrh_world_unlock_threaded(nmrh_world *w);
static inline void nmrh_world_lock(nmrh_world *w)
{
    if (w->threaded) nmrh_world_lock_threaded(w);
}
static inline void nmrh_world_unlock(nmrh_world *w)
{
    if (w->threaded) nmrh_world_unlock_threaded(w);
}
/* Release the lock entirely while module code runs (returns what resume needs); no-ops in fiber
   mode. After resume the run may have stopped: a logical thread then parks and never returns. */
uint32_t nmrh_harness_suspend(nmrh_world *w);
void nmrh_harness_resume(nmrh_world *w, uint32_t depth);

/* Inline so that fiber mode pays a test of one flag per kernel-shim or NMR call. */
static inline nmrh_world *nmrh_harness_enter(void)
{
    nmrh_world *w = nmrh_world_current();
    if (w && w->threaded) nmrh_world_lock_threaded(w);
    return w;
}

static inline void nmrh_harness_leave(nmrh_world **w)
{
    if (*w && (*w)->threaded) nmrh_world_unlock_threaded(*w);
}

/* Real-thread counterparts of the scheduler (called by sched.c when w->threaded). */
void nmrh_threads_init(nmrh_world *w);
/* Ends every thread; false when one stayed in module code (the world must then not be freed). */
bool nmrh_threads_destroy(nmrh_world *w);
bool nmrh_threads_start(nmrh_world *w, nmrh_thread *t);
void nmrh_threads_point(nmrh_world *w, nmrh_thread *t);
int32_t nmrh_threads_block(nmrh_world *w, nmrh_thread *t);
void nmrh_threads_changed(nmrh_world *w);
_Noreturn void nmrh_threads_park(nmrh_world *w, nmrh_thread *t);
/* Wait until `t` (or, when NULL, every thread) is no longer runnable, or the run stopped. */
void nmrh_threads_wait_quiet(nmrh_world *w, nmrh_thread *t);

/* ---- scheduler (sched.c) ---- */
void nmrh_sched_set_state(nmrh_world *w, nmrh_thread *t, nmrh_thread_state s);
/* End-of-thread checks and bookkeeping, on the ending thread. */
void nmrh_sched_thread_ended(nmrh_world *w, nmrh_thread *t);
bool nmrh_sched_note_stack(nmrh_world *w, const void *bottom, size_t size);
/* A finite-timeout wait times out (lowest id first); false if there is none. */
bool nmrh_sched_expire_timed_wait(nmrh_world *w);
/* nmrh_world_print_state as a malloc'd string for finding details (NULL when out of memory). */
char *nmrh_world_state_text(const nmrh_world *w);
/* A thread started by the NMR model or the shim (labelled w<n>, not t<n>). */
nmrh_thread *nmrh_sched_spawn_internal(nmrh_world *w, const char *name, uint32_t module, nmrh_thread_fn fn, void *arg);
/* The label of thread `id` ("t3", "w1"), or "-" for the scheduler. */
const char *nmrh_thread_label(const nmrh_world *w, uint32_t id);
/* A scheduling point of the given kind (NMRH_POINTS_*) on the current thread. */
void nmrh_sched_point(nmrh_world *w, uint32_t kind);
/* Park the current thread on `obj` until woken; returns the wake status. */
int32_t nmrh_sched_block(nmrh_world *w, const void *obj, nmrh_wait_kind kind, bool timed);
/* Wake threads blocked on obj: all of them, or only the lowest-id one. Returns how many. */
uint32_t nmrh_sched_wake(nmrh_world *w, const void *obj, bool all, int32_t status);
/* Ask the chooser for a value in [0, n); n <= 1 asks nothing and returns 0. */
uint32_t nmrh_sched_choose(nmrh_world *w, uint32_t n);
/* A knob's value for this occasion: fixed, or chosen (and recorded in the trace). */
uint32_t nmrh_knob_get(nmrh_world *w, nmrh_knob k);
/* Abandon the current thread after a finding; never returns. */
_Noreturn void nmrh_sched_abandon_current(nmrh_world *w);
/* Does any logical thread's stack contain p? */
bool nmrh_sched_on_some_stack(const nmrh_world *w, const void *p);
/* Release every thread's stack (to the pool when there is one); part of destroying a world. */
void nmrh_sched_release_stacks(nmrh_world *w);
/* Free the world a pool keeps for reuse (world.c), when the pool is destroyed. */
void nmrh_world_pool_free_spare(nmrh_world_pool *p);

/* ---- trace (trace.c) ---- */
void nmrh_trace(nmrh_world *w, nmrh_event_kind kind, uint32_t a, uint64_t b);
/* Keeps a copy of s for the trace; returns its offset (append-only: no lookup on hot paths). */
uint32_t nmrh_trace_string(nmrh_world *w, const char *s);

/* ---- oracle (oracle.c) ---- */
void nmrh_oracle_fail(nmrh_world *w, nmrh_rule rule, const char *details, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Turns a parked sanitizer report into the finding (with the world lock held); no-op when none. */
void nmrh_oracle_take_sanitizer_report(nmrh_world *w);
/* Describe the running thread and module for messages: "t3 nmr-worker-1 in echo-client". */
void nmrh_oracle_where(const nmrh_world *w, char *buf, size_t size);

/* ---- kernel-primitive shim (core/shim/) ---- */
/* End-of-thread checks of the shim's per-thread state (regions entered, locks held). */
void nmrh_shim_thread_ended(nmrh_world *w, nmrh_thread *t);

/* ---- pool (core/shim/pool.c) ---- */
void nmrh_pool_init(nmrh_pool *p);
void nmrh_pool_release_all(nmrh_pool *p);
/* Live blocks owned by `module`: count and (first) tag; returns number of blocks. */
size_t nmrh_pool_module_leaks(const nmrh_pool *p, uint32_t module, char *summary, size_t size);
/* The live block containing p, or NULL. */
const nmrh_pool_block *nmrh_pool_find_containing(const nmrh_pool *p, const void *ptr);

/* ---- NMR model (core/model/) ---- */
struct nmrh_model *nmrh_model_create(nmrh_world *w);
void nmrh_model_destroy(struct nmrh_model *m);
void nmrh_model_print_state(const nmrh_world *w, FILE *out);
/* Called by the pool before freeing [p, p+size): reports memory the NMR still references. */
void nmrh_model_check_free(nmrh_world *w, const void *p, size_t size);
/* End-of-run checks that belong to the model (waits skipped). */
void nmrh_model_finish_checks(nmrh_world *w);
void nmrh_model_unload_check(nmrh_world *w, uint32_t module);
uint32_t nmrh_model_check_invariants(nmrh_world *w);
/* Human-readable name of an NMR handle or binding id for traces: "b3", "client#1". */
void nmrh_model_describe_binding(const nmrh_world *w, uint32_t binding_id, char *buf, size_t size);

#endif
