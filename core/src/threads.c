/*
 * Real-thread mode (cfg.real_threads, `nmrh stress`): every logical thread is an OS thread.
 *
 * The harness (model, shim, trace, oracle) stays the single-threaded code it is in fiber mode:
 * one world lock guards all of it and is held while harness code runs. It is released whenever
 * module code runs (sequence actions, callbacks, work item routines), so module code really runs
 * in parallel and ThreadSanitizer sees its plain memory races, which the controlled scheduler
 * cannot produce between two scheduling points. Scheduling points inject yields and short sleeps
 * instead of choosing a thread. Blocking waits wait on one condition variable that is broadcast on
 * every thread state change; the driving thread waits on it for quiescence.
 *
 * After a finding, every thread that comes back into the harness parks; destroying the world
 * releases parked and blocked threads, which exit without returning into module code.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "world_impl.h"

static uint32_t *depth_of(nmrh_world *w, nmrh_thread *self) { return self ? &self->lock_depth : &w->main_depth; }

/* The logical thread this OS thread is in `w`, or NULL for the thread driving `w`. */
static nmrh_thread *self_in(const nmrh_world *w)
{
    const nmrh_tls *c = nmrh_tls_get();
    return c && c->world == w ? c->self : NULL;
}

static void take(nmrh_world *w, nmrh_thread *self)
{
    pthread_mutex_lock(&w->lock);
    w->current = self;
}

static void give(nmrh_world *w)
{
    w->current = NULL;
    pthread_mutex_unlock(&w->lock);
}

void nmrh_world_lock_threaded(nmrh_world *w)
{
    nmrh_thread *self = self_in(w);
    uint32_t *d = depth_of(w, self);
    if ((*d)++ == 0) {
        take(w, self);
        nmrh_oracle_take_sanitizer_report(w);
        if (self && w->stopped) nmrh_threads_park(w, self);
    }
}

void nmrh_world_unlock_threaded(nmrh_world *w)
{
    uint32_t *d = depth_of(w, self_in(w));
    if (--(*d) == 0) give(w);
}

uint32_t nmrh_harness_suspend(nmrh_world *w)
{
    if (!w->threaded) return 0;
    uint32_t *d = depth_of(w, self_in(w));
    uint32_t saved = *d;
    *d = 0;
    if (saved) give(w);
    return saved;
}

void nmrh_harness_resume(nmrh_world *w, uint32_t saved)
{
    if (!w->threaded || saved == 0) return;
    nmrh_thread *self = self_in(w);
    take(w, self);
    *depth_of(w, self) = saved;
    if (self && w->stopped) nmrh_threads_park(w, self);
}

void nmrh_threads_init(nmrh_world *w)
{
    w->threaded = true;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->changed, NULL);
}

void nmrh_threads_changed(nmrh_world *w) { pthread_cond_broadcast(&w->changed); }

_Noreturn void nmrh_threads_park(nmrh_world *w, nmrh_thread *t)
{
    if (t->state != NMRH_THREAD_FINISHED) nmrh_sched_set_state(w, t, NMRH_THREAD_ABANDONED);
    nmrh_threads_changed(w);
    while (!w->teardown) pthread_cond_wait(&w->changed, &w->lock);
    t->lock_depth = 0;
    give(w);
    /* Frames of module code and harness below us are dropped, as abandoned fibers' are. */
    pthread_exit(NULL);
}

/* How long the driving thread waits without any thread changing state before it reports the
   run stuck (module code spinning, or a wait the harness does not see), and how long teardown
   waits for each thread to exit. */
enum { STALL_SECONDS = 10, JOIN_SECONDS = 5 };

static struct timespec deadline(int seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    return ts;
}

bool nmrh_threads_destroy(nmrh_world *w)
{
    pthread_mutex_lock(&w->lock);
    w->teardown = true;
    nmrh_threads_changed(w);
    pthread_mutex_unlock(&w->lock);
    bool all = true;
    for (uint32_t i = 0; i < w->nthreads; i++) {
        nmrh_thread *t = w->threads[i];
        if (!t->os_started) continue;
        struct timespec until = deadline(JOIN_SECONDS);
        if (pthread_timedjoin_np(t->os_thread, NULL, &until) == 0) continue;
        /* Still in module code: its memory must stay, so the world is not freed. */
        fprintf(stderr, "nmrh: thread %s '%s' did not come back from module code within %d s; its world is leaked\n",
                t->label, t->name, JOIN_SECONDS);
        pthread_detach(t->os_thread);
        all = false;
    }
    if (all) {
        pthread_cond_destroy(&w->changed);
        pthread_mutex_destroy(&w->lock);
    }
    return all;
}

static void note_own_stack(nmrh_world *w)
{
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    void *addr;
    size_t size;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) nmrh_sched_note_stack(w, addr, size);
    pthread_attr_destroy(&attr);
}

static void *thread_main(void *arg)
{
    nmrh_thread *t = arg;
    nmrh_world *w = t->world;
    nmrh_tls_set(&t->tls);
    take(w, t);
    note_own_stack(w);
    if (w->stopped) nmrh_threads_park(w, t);
    if (t->internal) {
        /* NMR workers and work items: harness code, which suspends the lock around module code. */
        t->lock_depth = 1;
        t->fn(t->arg);
    } else {
        give(w);
        t->fn(t->arg);
        take(w, t);
        t->lock_depth = 1;
        if (w->stopped) nmrh_threads_park(w, t);
    }
    nmrh_sched_thread_ended(w, t);
    t->lock_depth = 0;
    nmrh_threads_changed(w);
    give(w);
    nmrh_tls_set(NULL);
    return NULL;
}

bool nmrh_threads_start(nmrh_world *w, nmrh_thread *t)
{
    t->tls = (nmrh_tls){w, t};
    t->rng = (w->cfg.seed ^ ((uint64_t)(t->id + 1) * 0x9E3779B97F4A7C15ull)) | 1;
    if (pthread_create(&t->os_thread, NULL, thread_main, t) != 0) return false;
    t->os_started = true;
    return true;
}

static uint64_t next_rand(nmrh_thread *t)
{
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    return t->rng;
}

/* Most points only let another thread take the lock; some yield the processor, a few sleep, so
   threads drift against each other by more than a lock hand-over. */
void nmrh_threads_point(nmrh_world *w, nmrh_thread *t)
{
    uint64_t r = next_rand(t);
    uint32_t max_us = w->cfg.max_delay_us ? w->cfg.max_delay_us : 50;
    uint32_t saved = nmrh_harness_suspend(w);
    switch (r % 16) {
    case 10: case 11: case 12: case 13:
        sched_yield();
        break;
    case 14: case 15: {
        struct timespec ts = {0, (long)(1 + (r >> 8) % max_us) * 1000L};
        nanosleep(&ts, NULL);
        break;
    }
    default:
        break;
    }
    nmrh_harness_resume(w, saved);
}

int32_t nmrh_threads_block(nmrh_world *w, nmrh_thread *t)
{
    nmrh_threads_changed(w);
    while (t->state == NMRH_THREAD_BLOCKED && !w->teardown && !w->stopped) pthread_cond_wait(&w->changed, &w->lock);
    w->current = t;
    if (w->teardown || w->stopped) nmrh_threads_park(w, t);
    return t->wake_status;
}

void nmrh_threads_wait_quiet(nmrh_world *w, nmrh_thread *t)
{
    while (!w->stopped) {
        if (t ? t->state != NMRH_THREAD_RUNNABLE : w->nrunnable == 0) {
            /* Like fiber mode: when nothing can run, a finite-timeout wait expires. */
            if (t || !nmrh_sched_expire_timed_wait(w)) return;
            nmrh_threads_changed(w);
            continue;
        }
        struct timespec until = deadline(STALL_SECONDS);
        int r = pthread_cond_timedwait(&w->changed, &w->lock, &until);
        w->current = NULL;
        nmrh_oracle_take_sanitizer_report(w);
        if (r == ETIMEDOUT && !w->stopped) {
            char *dump = nmrh_world_state_text(w);
            nmrh_oracle_fail(w, NMRH_RULE_HANG, dump,
                             "no thread changed state for %d s while %u thread(s) were runnable: module code spins or "
                             "waits outside the kernel primitives",
                             STALL_SECONDS, w->nrunnable);
            free(dump);
        }
    }
}
