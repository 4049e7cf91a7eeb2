#include "replay_sched.h"

#include <string.h>

static uintptr_t lock(nmrh_rs *rs) { return rs->ops.lock(rs->ops.ctx); }
static void unlock(nmrh_rs *rs, uintptr_t t) { rs->ops.unlock(rs->ops.ctx, t); }

void nmrh_rs_init(nmrh_rs *rs, const nmrh_rs_ops *ops, uint32_t settle_ms, uint32_t wait_settle_ms)
{
    memset(rs, 0, sizeof *rs);
    rs->ops = *ops;
    rs->settle_ms = settle_ms ? settle_ms : 1;
    rs->wait_settle_ms = wait_settle_ms ? wait_settle_ms : 1;
}

uint32_t nmrh_rs_add(nmrh_rs *rs, uint64_t order, void *user)
{
    uintptr_t k = lock(rs);
    if (rs->nthreads >= NMRH_RS_MAX_THREADS) {
        unlock(rs, k);
        return NMRH_RS_NONE;
    }
    uint32_t t = rs->nthreads;
    memset(&rs->threads[t], 0, sizeof rs->threads[t]);
    rs->threads[t].state = NMRH_RS_NEW;
    rs->threads[t].order = order;
    rs->threads[t].user = user;
    rs->nthreads = t + 1; /* counted only once it is all there */
    unlock(rs, k);
    return t;
}

void nmrh_rs_forget(nmrh_rs *rs, uint32_t t)
{
    uintptr_t k = lock(rs);
    if (t < rs->nthreads) rs->threads[t].state = NMRH_RS_UNUSED;
    unlock(rs, k);
}

void nmrh_rs_release(nmrh_rs *rs, uint32_t t)
{
    uintptr_t k = lock(rs);
    int wake = 0;
    if (t < rs->nthreads && rs->threads[t].state != NMRH_RS_UNUSED && rs->threads[t].state != NMRH_RS_DONE) {
        /* A blocked or running thread keeps its state but passes every later point. */
        rs->threads[t].budget = NMRH_RS_FOREVER;
        wake = rs->threads[t].state == NMRH_RS_NEW || rs->threads[t].state == NMRH_RS_PARKED;
        if (wake) rs->threads[t].state = NMRH_RS_RUNNING;
    }
    unlock(rs, k);
    if (wake) rs->ops.signal_thread(rs->ops.ctx, t);
}

void nmrh_rs_decide(nmrh_rs *rs, uint8_t value)
{
    if (rs->ndecisions < NMRH_RS_MAX_DECISIONS) rs->decisions[rs->ndecisions++] = value;
}

nmrh_rs_state nmrh_rs_get_state(nmrh_rs *rs, uint32_t t)
{
    if (t >= rs->nthreads) return NMRH_RS_UNUSED;
    uintptr_t k = lock(rs);
    nmrh_rs_state s = (nmrh_rs_state)rs->threads[t].state;
    unlock(rs, k);
    return s;
}

static uint32_t choose(nmrh_rs *rs, uint32_t n)
{
    if (n <= 1) return 0;
    uint32_t v = rs->next_decision < rs->ndecisions ? rs->decisions[rs->next_decision++] : 0;
    rs->decisions_taken++;
    return v % n;
}

static int runnable_state(uint32_t s) { return s == NMRH_RS_NEW || s == NMRH_RS_PARKED; }

static uint32_t count_runnable(nmrh_rs *rs)
{
    uint32_t n = 0;
    uintptr_t k = lock(rs);
    for (uint32_t i = 0; i < rs->nthreads; i++) n += runnable_state(rs->threads[i].state);
    unlock(rs, k);
    return n;
}

/* Whether thread a comes before thread b in thread order (by order key, then index). */
static int before(const nmrh_rs *rs, uint32_t a, uint32_t b)
{
    uint64_t oa = rs->threads[a].order, ob = rs->threads[b].order;
    return oa < ob || (oa == ob && a < b);
}

/* The k-th runnable thread in thread order, skipping `skip`: the one with k runnable threads
   before it. */
static uint32_t nth_runnable(nmrh_rs *rs, uint32_t k, uint32_t skip)
{
    uint32_t found = NMRH_RS_NONE;
    uintptr_t key = lock(rs);
    for (uint32_t i = 0; i < rs->nthreads && found == NMRH_RS_NONE; i++) {
        if (i == skip || !runnable_state(rs->threads[i].state)) continue;
        uint32_t ahead = 0;
        for (uint32_t j = 0; j < rs->nthreads; j++)
            if (j != skip && runnable_state(rs->threads[j].state) && before(rs, j, i)) ahead++;
        if (ahead == k) found = i;
    }
    unlock(rs, key);
    return found;
}

static int grant(nmrh_rs *rs, uint32_t t, uint32_t budget)
{
    nmrh_rs_thread *th = &rs->threads[t];
    uintptr_t k = lock(rs);
    if (!runnable_state(th->state)) {
        unlock(rs, k);
        return 0;
    }
    th->state = NMRH_RS_RUNNING;
    th->budget = budget;
    unlock(rs, k);
    rs->ops.signal_thread(rs->ops.ctx, t);
    return 1;
}

static uint32_t timeout_for(nmrh_rs *rs, uint32_t t)
{
    if (rs->threads[t].may_end) return rs->wait_settle_ms;
    return rs->ops.in_wait && rs->ops.in_wait(rs->ops.ctx, t) ? rs->wait_settle_ms : rs->settle_ms;
}

/* Waits until t (RUNNING, or BLOCKED and expected to wake: settle != 0) stops at a point or ends,
   or makes no progress for its settle time. A running thread that times out is declared blocked
   (or ended, when it may end quietly); an expected wake-up that does not come is not waited for
   again until the thread moves. */
static void await_thread(nmrh_rs *rs, uint32_t t, uint32_t settle)
{
    nmrh_rs_thread *th = &rs->threads[t];
    uint64_t since = rs->ops.now_ms(rs->ops.ctx); /* the thread's last progress */
    uint32_t last = NMRH_RS_NONE;
    for (;;) {
        uintptr_t k = lock(rs);
        uint32_t state = th->state, progress = th->progress;
        unlock(rs, k);
        if (state != NMRH_RS_RUNNING && state != NMRH_RS_BLOCKED) return;
        uint64_t now = rs->ops.now_ms(rs->ops.ctx);
        if (progress != last) {
            if (last != NMRH_RS_NONE) since = now;
            last = progress;
        }
        /* Asked each time: the thread may have just entered NmrWaitFor*, where blocking is normal. */
        uint64_t deadline = since + (settle ? settle : timeout_for(rs, t));
        if (now >= deadline) {
            int declared = 0, ended = 0;
            k = lock(rs);
            if (th->state == NMRH_RS_RUNNING && th->may_end) {
                th->state = NMRH_RS_DONE;
                th->budget = 0;
                ended = 1;
            } else if (th->state == NMRH_RS_RUNNING) {
                th->state = NMRH_RS_BLOCKED;
                th->budget = 0;
                declared = 1;
            }
            else if (settle && th->state == NMRH_RS_BLOCKED)
                th->stuck_at = th->progress + 1;
            unlock(rs, k);
            if (declared && rs->ops.blocked) rs->ops.blocked(rs->ops.ctx, t);
            if (ended && rs->ops.ended) rs->ops.ended(rs->ops.ctx, t);
            return;
        }
        /* Wake up at least every wait_settle_ms to ask timeout_for again. */
        uint64_t left = deadline - now;
        if (left > rs->wait_settle_ms) left = rs->wait_settle_ms;
        rs->ops.wait_controller(rs->ops.ctx, (uint32_t)left);
    }
}

/* Blocked threads whose wait has returned (or is about to) run to their next point first, so that
   the runnable threads are the ones the model would count. */
static void settle_wakers(nmrh_rs *rs)
{
    if (!rs->ops.expects_wake) return;
    for (uint32_t t = 0; t < rs->nthreads; t++) {
        nmrh_rs_thread *th = &rs->threads[t];
        uintptr_t k = lock(rs);
        int candidate = th->state == NMRH_RS_BLOCKED && th->stuck_at != th->progress + 1;
        unlock(rs, k);
        if (candidate && rs->ops.expects_wake(rs->ops.ctx, t)) await_thread(rs, t, rs->settle_ms);
    }
}

/* Before runnable threads are counted: threads started since join, woken ones reach a point. */
static void settle_all(nmrh_rs *rs)
{
    if (rs->ops.settle_arrivals) rs->ops.settle_arrivals(rs->ops.ctx);
    settle_wakers(rs);
}

void nmrh_rs_step(nmrh_rs *rs, uint32_t t, uint32_t count)
{
    settle_wakers(rs);
    if (t >= rs->nthreads || count == 0) return;
    if (grant(rs, t, count)) await_thread(rs, t, 0);
    settle_wakers(rs);
}

void nmrh_rs_run_thread(nmrh_rs *rs, uint32_t t)
{
    settle_wakers(rs);
    if (t >= rs->nthreads) return;
    if (grant(rs, t, NMRH_RS_FOREVER)) await_thread(rs, t, 0);
    settle_wakers(rs);
}

void nmrh_rs_run_all(nmrh_rs *rs)
{
    uint32_t hint = NMRH_RS_NONE;
    for (;;) {
        settle_all(rs);
        uint32_t t = NMRH_RS_NONE;
        if (hint != NMRH_RS_NONE && runnable_state(rs->threads[hint].state)) t = hint;
        hint = NMRH_RS_NONE;
        if (t == NMRH_RS_NONE) {
            uint32_t n = count_runnable(rs);
            if (n == 0) break;
            t = nth_runnable(rs, choose(rs, n), NMRH_RS_NONE);
            if (t == NMRH_RS_NONE) break;
        }
        for (;;) {
            if (!grant(rs, t, 1)) break;
            await_thread(rs, t, 0);
            if (nmrh_rs_get_state(rs, t) != NMRH_RS_PARKED) break; /* ended or blocked: pick again */
            settle_all(rs);
            uint32_t c = choose(rs, count_runnable(rs));
            if (c == 0) continue;
            hint = nth_runnable(rs, c - 1, t);
            break;
        }
    }
}

static uint32_t count_blocked(nmrh_rs *rs)
{
    uint32_t n = 0;
    uintptr_t k = lock(rs);
    for (uint32_t i = 0; i < rs->nthreads; i++) n += rs->threads[i].state == NMRH_RS_BLOCKED;
    unlock(rs, k);
    return n;
}

uint32_t nmrh_rs_drain(nmrh_rs *rs)
{
    for (;;) {
        settle_all(rs);
        uint32_t t = nth_runnable(rs, 0, NMRH_RS_NONE);
        if (t != NMRH_RS_NONE) {
            if (grant(rs, t, NMRH_RS_FOREVER)) await_thread(rs, t, 0);
            continue;
        }
        /* Nothing runnable. A thread declared blocked may still be on its way to a point (slow
           rather than blocked): give the blocked ones one more settle time to show up. */
        if (count_blocked(rs) == 0) return 0;
        uint64_t deadline = rs->ops.now_ms(rs->ops.ctx) + rs->settle_ms;
        while (nth_runnable(rs, 0, NMRH_RS_NONE) == NMRH_RS_NONE && count_blocked(rs) != 0) {
            uint64_t now = rs->ops.now_ms(rs->ops.ctx);
            if (now >= deadline) return count_blocked(rs);
            rs->ops.wait_controller(rs->ops.ctx, (uint32_t)(deadline - now));
        }
    }
}

/* ---- thread side ---- */

void nmrh_rs_thread_start(nmrh_rs *rs, uint32_t t)
{
    nmrh_rs_thread *th = &rs->threads[t];
    for (;;) {
        uintptr_t k = lock(rs);
        int run = th->state == NMRH_RS_RUNNING;
        unlock(rs, k);
        if (run) return;
        rs->ops.wait_thread(rs->ops.ctx, t);
    }
}

void nmrh_rs_gate(nmrh_rs *rs, uint32_t t, int can_block)
{
    nmrh_rs_thread *th = &rs->threads[t];
    uintptr_t k = lock(rs);
    th->progress++;
    if (th->budget != NMRH_RS_FOREVER && th->budget > 0) th->budget--;
    if (th->budget > 0 || !can_block) {
        unlock(rs, k);
        rs->ops.signal_controller(rs->ops.ctx); /* progress: a controller waiting on us restarts its clock */
        return;
    }
    th->state = NMRH_RS_PARKED;
    unlock(rs, k);
    rs->ops.signal_controller(rs->ops.ctx);
    nmrh_rs_thread_start(rs, t);
}

void nmrh_rs_may_end(nmrh_rs *rs, uint32_t t, int yes)
{
    uintptr_t k = lock(rs);
    rs->threads[t].may_end = yes != 0;
    unlock(rs, k);
}

void nmrh_rs_thread_done(nmrh_rs *rs, uint32_t t)
{
    uintptr_t k = lock(rs);
    rs->threads[t].state = NMRH_RS_DONE;
    rs->threads[t].progress++;
    unlock(rs, k);
    rs->ops.signal_controller(rs->ops.ctx);
}
