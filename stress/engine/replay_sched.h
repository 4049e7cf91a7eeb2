/*
 * The replay scheduler of the kernel driver: the sequence's threads are real threads (kernel
 * system threads), and this state machine lets exactly one of them run between boundary events
 * (NMR calls and callbacks, reported by the interposer through nmrh_rs_gate), so that a sequence's
 * step / run / run-all records reproduce the order of boundary events of the user-mode model run
 * with boundary-only scheduling points (nmrh replay --boundary-only).
 *
 * Semantics, as the model's scheduler (core/src/sched.c):
 *   step t N    t passes its current point and runs until it has reached N more points (it stops
 *               at the Nth), or until it blocks or ends;
 *   run t       t runs alone until it blocks or ends;
 *   run (all)   at every point of the running thread the decision queue says whether it goes on
 *               (0) or which other runnable thread runs (k: the k-th other, in thread order); when
 *               the running thread blocks or ends, decision k picks the k-th runnable thread; a
 *               question with one possible answer takes no decision; an empty queue answers 0;
 *   drain       the lowest-numbered runnable thread runs until it blocks or ends, again and again.
 * A thread "blocks" when it stops making progress without reaching a point: it waits inside the
 * real NMR (a deregistration wait) or in module code. The controller cannot see that directly, so
 * it decides by time: no progress for settle_ms (wait_settle_ms inside NmrWaitFor*) means blocked.
 * When the interposer says a blocked thread's wait is about to return (its registration has no
 * bindings left), the controller waits for that thread to reach its next point before it counts
 * runnable threads, so the count is the model's. A blocked thread that wakes runs (NMR code only,
 * in the deregistration-wait case) to its next point and parks there.
 *
 * Points at IRQL >= DISPATCH_LEVEL cannot stop a thread (nmrh_rs_gate with can_block 0): they
 * count, and the thread stops at its next point below DISPATCH_LEVEL instead.
 *
 * Thread order: "the k-th runnable thread" counts threads in the order of their `order` keys (the
 * model's thread ids: the order threads were started in), not their indices, because the NMR's
 * own threads join while the sequence runs (nmrh_rs_add from any thread, when such a thread first
 * reaches a point) and the platform knows their place only then. Before it counts runnable threads
 * the controller lets the platform settle such arrivals (ops.settle_arrivals). A thread that may
 * end without a last point of its own (an NMR thread back in NMR code after a callback:
 * nmrh_rs_may_end) and makes no progress for wait_settle_ms has ended, not blocked.
 *
 * Portable: no OS calls; the platform supplies a lock, one event per thread and one for the
 * controller (auto-reset: a signal is kept until a wait takes it), and a millisecond clock.
 */
#ifndef NMRH_REPLAY_SCHED_H
#define NMRH_REPLAY_SCHED_H

#include <stdint.h>

#define NMRH_RS_MAX_THREADS 64u
#define NMRH_RS_MAX_DECISIONS 1024u
#define NMRH_RS_NONE 0xFFFFFFFFu
#define NMRH_RS_FOREVER 0xFFFFFFFFu

typedef enum nmrh_rs_state {
    NMRH_RS_UNUSED,
    NMRH_RS_NEW,     /* created, not started */
    NMRH_RS_PARKED,  /* stopped at a point, waiting for the controller */
    NMRH_RS_RUNNING, /* granted: running towards its next stop */
    NMRH_RS_BLOCKED, /* stopped making progress without reaching a point */
    NMRH_RS_DONE,
} nmrh_rs_state;

typedef struct nmrh_rs_ops {
    void *ctx;
    uintptr_t (*lock)(void *ctx);
    void (*unlock)(void *ctx, uintptr_t token);
    void (*signal_thread)(void *ctx, uint32_t t);
    void (*wait_thread)(void *ctx, uint32_t t);
    void (*signal_controller)(void *ctx);
    /* Waits up to timeout_ms for the controller's event; returns 0 on timeout. */
    int (*wait_controller)(void *ctx, uint32_t timeout_ms);
    uint64_t (*now_ms)(void *ctx);
    /* May be NULL: thread t waits in the NMR for something that has happened (interposer). */
    int (*expects_wake)(void *ctx, uint32_t t);
    /* May be NULL: thread t is inside NmrWaitFor*DeregisterComplete. */
    int (*in_wait)(void *ctx, uint32_t t);
    /* May be NULL: the controller declared thread t blocked (for the log). */
    void (*blocked)(void *ctx, uint32_t t);
    /* May be NULL: called before runnable threads are counted; waits until threads that may have
       been started since (the NMR's) have joined (nmrh_rs_add). */
    void (*settle_arrivals)(void *ctx);
    /* May be NULL: thread t (nmrh_rs_may_end) made no progress and is taken as ended. */
    void (*ended)(void *ctx, uint32_t t);
} nmrh_rs_ops;

typedef struct nmrh_rs_thread {
    volatile uint32_t state;    /* nmrh_rs_state */
    volatile uint32_t budget;   /* points to reach before stopping; NMRH_RS_FOREVER */
    volatile uint32_t progress; /* points passed */
    uint32_t stuck_at;          /* progress + 1 when an expected wake-up timed out there */
    volatile uint32_t may_end;  /* no progress means it ended (nmrh_rs_may_end) */
    uint64_t order;             /* place in the thread order */
    void *user;                 /* the platform's, given to nmrh_rs_add */
} nmrh_rs_thread;

typedef struct nmrh_rs {
    nmrh_rs_ops ops;
    uint32_t settle_ms, wait_settle_ms;
    uint32_t nthreads;
    nmrh_rs_thread threads[NMRH_RS_MAX_THREADS];
    uint32_t ndecisions, next_decision;
    uint8_t decisions[NMRH_RS_MAX_DECISIONS];
    uint32_t decisions_taken;
} nmrh_rs;

void nmrh_rs_init(nmrh_rs *rs, const nmrh_rs_ops *ops, uint32_t settle_ms, uint32_t wait_settle_ms);

/* ---- controller ---- */
/* A new thread (NEW) at `order` in the thread order, with the platform's `user` pointer; returns
   its index, or NMRH_RS_NONE when all are used. Safe from any thread. */
uint32_t nmrh_rs_add(nmrh_rs *rs, uint64_t order, void *user);
/* Forgets thread t (its creation failed): it never counts again. */
void nmrh_rs_forget(nmrh_rs *rs, uint32_t t);
/* Lets thread t run on freely, never to stop again (the end of a run, a hang): a NEW or PARKED
   one goes at once, a running or blocked one passes every point it reaches from now on. */
void nmrh_rs_release(nmrh_rs *rs, uint32_t t);
void nmrh_rs_decide(nmrh_rs *rs, uint8_t value);
void nmrh_rs_step(nmrh_rs *rs, uint32_t t, uint32_t count);
void nmrh_rs_run_thread(nmrh_rs *rs, uint32_t t);
void nmrh_rs_run_all(nmrh_rs *rs);
/* Runs every runnable thread to its end (or until it blocks); returns the threads left blocked. */
uint32_t nmrh_rs_drain(nmrh_rs *rs);
nmrh_rs_state nmrh_rs_get_state(nmrh_rs *rs, uint32_t t);

/* ---- the threads themselves ---- */
/* First thing a new thread does: wait until the controller first lets it run. */
void nmrh_rs_thread_start(nmrh_rs *rs, uint32_t t);
/* At every boundary point: go on, or stop until the controller says. */
void nmrh_rs_gate(nmrh_rs *rs, uint32_t t, int can_block);
/* Whether t, once past its current point, may end without reaching another (see above). */
void nmrh_rs_may_end(nmrh_rs *rs, uint32_t t, int yes);
/* Last thing: the action returned. */
void nmrh_rs_thread_done(nmrh_rs *rs, uint32_t t);

#endif
