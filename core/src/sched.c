/*
 * The controlled scheduler: logical kernel threads are fibers, exactly one runs at a time, and
 * every switch happens at a scheduling point where the chooser said so (or where a thread
 * blocked or ended). The scheduler itself runs on the world's main fiber. In real-thread mode
 * (w->threaded) the same entry points hand over to threads.c.
 */
#include <stdlib.h>
#include <string.h>

#include "world_impl.h"

#ifndef NMRH_THREAD_STACK_SIZE
#define NMRH_THREAD_STACK_SIZE (256u * 1024u)
#endif

void nmrh_sched_set_state(nmrh_world *w, nmrh_thread *t, nmrh_thread_state s)
{
    if (t->state == NMRH_THREAD_RUNNABLE) w->nrunnable--;
    if (s == NMRH_THREAD_RUNNABLE) w->nrunnable++;
    t->state = s;
}

void nmrh_sched_thread_ended(nmrh_world *w, nmrh_thread *t)
{
    nmrh_shim_thread_ended(w, t);
    if (t->irql != 0 || t->spinlocks_held != 0)
        nmrh_oracle_fail(w, NMRH_RULE_IRQL_MISUSE, NULL,
                         "thread %s '%s' ended at IRQL %u holding %u spin lock(s)", t->label, t->name,
                         (unsigned)t->irql, t->spinlocks_held);
    nmrh_sched_set_state(w, t, NMRH_THREAD_FINISHED);
    nmrh_trace(w, NMRH_EV_END, 0, 0);
}

static void thread_entry(void *arg)
{
    nmrh_thread *t = arg;
    nmrh_world *w = t->world;
    t->fn(t->arg);
    nmrh_sched_thread_ended(w, t);
    /* Not nmrh_fiber_switch_final: a call to a _Noreturn function costs a system call under ASan. */
    nmrh_fiber_exit(&t->fiber, &w->main_fiber);
}

/* ---- thread stacks: reused from the world's cache (or its pool's) ---- */

enum { POOL_MAX_STACKS = 64 }; /* more than a run ever has live at once */

static void stack_cache_put(nmrh_stack_cache *c, nmrh_fiber_stack s, uint32_t limit)
{
    if (!s.map) return;
    if (c->count == c->cap && c->cap < limit) {
        uint32_t cap = c->cap ? c->cap * 2 : 8;
        nmrh_fiber_stack *n = realloc(c->stacks, cap * sizeof *n);
        if (n) {
            c->stacks = n;
            c->cap = cap;
        }
    }
    if (c->count < c->cap)
        c->stacks[c->count++] = s;
    else
        nmrh_fiber_stack_free(s);
}

static int new_fiber(nmrh_world *w, nmrh_thread *t)
{
    nmrh_stack_cache *c = w->stacks;
    if (c->count == 0) return nmrh_fiber_create(&t->fiber, NMRH_THREAD_STACK_SIZE, thread_entry, t);
    nmrh_fiber_stack s = c->stacks[--c->count];
    int r = nmrh_fiber_create_on(&t->fiber, s, thread_entry, t);
    if (r != 0) nmrh_fiber_stack_free(s);
    return r;
}

/* Remember a stack a thread runs on, for nmrh_sched_on_some_stack (threads that reuse a stack
   share its range). False when out of memory. */
bool nmrh_sched_note_stack(nmrh_world *w, const void *bottom, size_t size)
{
    for (uint32_t i = 0; i < w->nstack_ranges; i++)
        if (w->stack_ranges[i].bottom == bottom && w->stack_ranges[i].size == size) return true;
    if (w->nstack_ranges == w->stack_ranges_cap) {
        uint32_t cap = w->stack_ranges_cap ? w->stack_ranges_cap * 2 : 8;
        struct nmrh_stack_range *n = realloc(w->stack_ranges, cap * sizeof *n);
        if (!n) return false;
        w->stack_ranges = n;
        w->stack_ranges_cap = cap;
    }
    w->stack_ranges[w->nstack_ranges++] = (struct nmrh_stack_range){bottom, size};
    return true;
}

static void release_stack(nmrh_world *w, nmrh_thread *t)
{
    /* After a finding, sanitizer reports may have run deep on the stack without a recorded depth. */
    if (w->stopped) nmrh_fiber_assume_dirty(&t->fiber);
    stack_cache_put(w->stacks, nmrh_fiber_take_stack(&t->fiber), w->cfg.pool ? POOL_MAX_STACKS : UINT32_MAX);
}

void nmrh_sched_release_stacks(nmrh_world *w)
{
    for (uint32_t i = 0; i < w->nthreads; i++) release_stack(w, w->threads[i]);
    nmrh_stack_cache *own = &w->own_stacks;
    for (uint32_t i = 0; i < own->count; i++) nmrh_fiber_stack_free(own->stacks[i]);
    free(own->stacks);
    *own = (nmrh_stack_cache){0};
    w->nstack_ranges = 0; /* the array itself goes with the world's other buffers */
}

nmrh_world_pool *nmrh_world_pool_create(void) { return calloc(1, sizeof(nmrh_world_pool)); }

uint32_t nmrh_world_pool_stacks(const nmrh_world_pool *p, size_t *dirty_bytes)
{
    size_t dirty = 0;
    for (uint32_t i = 0; i < p->stacks.count; i++) dirty += nmrh_fiber_stack_dirty_bytes(p->stacks.stacks[i]);
    if (dirty_bytes) *dirty_bytes = dirty;
    return p->stacks.count;
}

void nmrh_world_pool_destroy(nmrh_world_pool *p)
{
    if (!p) return;
    nmrh_world_pool_free_spare(p);
    for (uint32_t i = 0; i < p->stacks.count; i++) nmrh_fiber_stack_free(p->stacks.stacks[i]);
    free(p->stacks.stacks);
    free(p);
}

static nmrh_thread *spawn(nmrh_world *w, const char *name, uint32_t module, nmrh_thread_fn fn, void *arg, bool internal);

nmrh_thread *nmrh_world_spawn(nmrh_world *w, const char *name, uint32_t module, nmrh_thread_fn fn, void *arg)
{
    nmrh_world_lock(w); /* real-thread mode: other threads may be running harness code */
    nmrh_thread *t = spawn(w, name, module, fn, arg, false);
    nmrh_world_unlock(w);
    return t;
}

nmrh_thread *nmrh_sched_spawn_internal(nmrh_world *w, const char *name, uint32_t module, nmrh_thread_fn fn, void *arg)
{
    return spawn(w, name, module, fn, arg, true);
}

const char *nmrh_thread_label(const nmrh_world *w, uint32_t id) { return id < w->nthreads ? w->threads[id]->label : "-"; }

/* "t3", "w12": snprintf's job, done by hand because every spawn pays for it. */
static void format_label(char label[8], char prefix, uint32_t n)
{
    char digits[10];
    int k = 0;
    do digits[k++] = (char)('0' + n % 10), n /= 10;
    while (n);
    label[0] = prefix;
    int i = 1;
    while (k && i < 7) label[i++] = digits[--k]; /* truncated like snprintf: the leading digits */
    label[i] = '\0';
}

static nmrh_thread *spawn(nmrh_world *w, const char *name, uint32_t module, nmrh_thread_fn fn, void *arg, bool internal)
{
    if (w->nthreads == w->threads_cap) {
        uint32_t cap = w->threads_cap ? w->threads_cap * 2 : 8;
        nmrh_thread **n = realloc(w->threads, cap * sizeof *n);
        if (!n) return NULL;
        w->threads = n;
        w->threads_cap = cap;
    }
    /* A pooled world reuses the thread objects of its earlier runs. */
    bool reused = w->nthreads < w->threads_alloc;
    nmrh_thread *t = reused ? w->threads[w->nthreads] : calloc(1, sizeof *t);
    if (!t) return NULL;
    if (reused) memset(t, 0, sizeof *t);
    if (!w->threaded && new_fiber(w, t) != 0) {
        if (!reused) free(t);
        return NULL;
    }
    if (!w->threaded && !nmrh_sched_note_stack(w, t->fiber.stack_bottom, t->fiber.stack_size)) {
        nmrh_fiber_destroy(&t->fiber);
        if (!reused) free(t);
        return NULL;
    }
    if (!reused) w->threads[w->threads_alloc++] = t;
    t->world = w;
    t->id = w->nthreads;
    format_label(t->label, internal ? 'w' : 't', internal ? ++w->nlabel_w : w->nlabel_t++);
    size_t len = strlen(name);
    if (len > sizeof t->name - 1) len = sizeof t->name - 1;
    memcpy(t->name, name, len);
    t->owner_module = t->cur_module = module;
    t->fn = fn;
    t->arg = arg;
    t->internal = internal;
    t->state = NMRH_THREAD_FINISHED; /* set_state below counts it as newly runnable */
    nmrh_sched_set_state(w, t, NMRH_THREAD_RUNNABLE);
    w->threads[w->nthreads++] = t;
    /* Traced as the spawning thread's event, naming the new thread. */
    nmrh_trace(w, NMRH_EV_SPAWN, t->id, 0);
    if (w->threaded && !nmrh_threads_start(w, t)) {
        nmrh_sched_set_state(w, t, NMRH_THREAD_FINISHED);
        return NULL;
    }
    return t;
}

static void resume(nmrh_world *w, nmrh_thread *t)
{
    if (w->last_run != t) {
        w->stats.switches++;
        w->current = t;
        nmrh_trace(w, NMRH_EV_SWITCH, t->id, 0);
    }
    w->current = t;
    w->last_run = t;
    nmrh_fiber_switch(&w->main_fiber, &t->fiber);
    w->current = NULL;
    nmrh_oracle_take_sanitizer_report(w); /* a TSan report parked while t ran (TSan builds) */
    /* A finished thread's stack serves the next thread spawned. */
    if (t->state == NMRH_THREAD_FINISHED) release_stack(w, t);
}

static void yield_to_scheduler(nmrh_world *w, nmrh_thread *t)
{
    nmrh_fiber_switch(&t->fiber, &w->main_fiber);
}

/* Where scans for runnable or blocked threads start: ended threads never run again, so the
   leading run of them (every thread of earlier cycles, in a long run) is skipped for good. */
static uint32_t first_live(nmrh_world *w)
{
    while (w->live_from < w->nthreads && (w->threads[w->live_from]->state == NMRH_THREAD_FINISHED ||
                                          w->threads[w->live_from]->state == NMRH_THREAD_ABANDONED))
        w->live_from++;
    return w->live_from;
}

/* The k-th runnable thread in id order, skipping `skip`. */
static nmrh_thread *nth_runnable(nmrh_world *w, uint32_t k, const nmrh_thread *skip)
{
    for (uint32_t i = first_live(w); i < w->nthreads; i++) {
        nmrh_thread *t = w->threads[i];
        if (t == skip || t->state != NMRH_THREAD_RUNNABLE) continue;
        if (k-- == 0) return t;
    }
    return NULL;
}

uint32_t nmrh_sched_choose(nmrh_world *w, uint32_t n)
{
    if (n <= 1) return 0;
    w->stats.decisions++;
    uint32_t v = w->chooser->choose(w->chooser, n);
    return v < n ? v : v % n;
}

void nmrh_sched_point(nmrh_world *w, uint32_t kind)
{
    nmrh_thread *t = w->current;
    if (!t) return;
    if (!w->threaded) nmrh_fiber_note_depth(&t->fiber);
    w->stats.points++;
    if (++t->steps > w->cfg.step_budget) {
        nmrh_oracle_fail(w, NMRH_RULE_STEP_BUDGET, NULL,
                         "thread %s '%s' passed %llu scheduling points without ending (livelock or endless loop), "
                         "in %s code at IRQL %u",
                         t->label, t->name, (unsigned long long)w->cfg.step_budget,
                         nmrh_world_module_name(w, t->cur_module), (unsigned)t->irql);
    }
    if (!(w->cfg.points & kind)) return;
    if (w->cfg.trace_points) nmrh_trace(w, NMRH_EV_POINT, kind, 0);
    if (w->threaded) {
        nmrh_threads_point(w, t);
        return;
    }
    if (w->step_mode) {
        /* Running one thread alone, a step would come straight back here: continue, unless a
           parked sanitizer report (TSan builds) must be taken between steps, as it always was. */
        if (w->solo && __atomic_load_n(&w->tsan_report.state, __ATOMIC_RELAXED) != 2) return;
        yield_to_scheduler(w, t);
        return;
    }
    uint32_t c = nmrh_sched_choose(w, w->nrunnable);
    if (c == 0) return;
    w->next_hint = nth_runnable(w, c - 1, t);
    yield_to_scheduler(w, t);
}

int32_t nmrh_sched_block(nmrh_world *w, const void *obj, nmrh_wait_kind kind, bool timed)
{
    nmrh_thread *t = w->current;
    if (!t) {
        nmrh_oracle_fail(w, NMRH_RULE_INTERNAL, NULL, "a blocking wait was attempted outside any logical thread");
        return 0;
    }
    nmrh_sched_set_state(w, t, NMRH_THREAD_BLOCKED);
    t->blocked_on = obj;
    t->wait_kind = kind;
    t->timed_wait = timed;
    nmrh_trace(w, NMRH_EV_BLOCK, kind, 0);
    if (w->threaded) return nmrh_threads_block(w, t);
    yield_to_scheduler(w, t);
    return t->wake_status;
}

uint32_t nmrh_sched_wake(nmrh_world *w, const void *obj, bool all, int32_t status)
{
    uint32_t woken = 0;
    for (uint32_t i = first_live(w); i < w->nthreads; i++) {
        nmrh_thread *t = w->threads[i];
        if (t->state != NMRH_THREAD_BLOCKED || t->blocked_on != obj) continue;
        nmrh_sched_set_state(w, t, NMRH_THREAD_RUNNABLE);
        t->blocked_on = NULL;
        t->wait_kind = NMRH_WAIT_NONE;
        t->wake_status = status;
        nmrh_trace(w, NMRH_EV_WAKE, t->id, (uint32_t)status);
        woken++;
        if (!all) break;
    }
    if (woken && w->threaded) nmrh_threads_changed(w);
    return woken;
}

_Noreturn void nmrh_sched_abandon_current(nmrh_world *w)
{
    nmrh_thread *t = w->current;
    if (w->threaded) nmrh_threads_park(w, t);
    nmrh_sched_set_state(w, t, NMRH_THREAD_ABANDONED);
    yield_to_scheduler(w, t);
    abort(); /* an abandoned thread is never resumed */
}

bool nmrh_sched_on_some_stack(const nmrh_world *w, const void *p)
{
    const char *c = p;
    for (uint32_t i = 0; i < w->nstack_ranges; i++) {
        const char *lo = w->stack_ranges[i].bottom;
        if (lo && c >= lo && c < lo + w->stack_ranges[i].size) return true;
    }
    return false;
}

uint32_t nmrh_knob_get(nmrh_world *w, nmrh_knob k)
{
    uint32_t fixed = w->cfg.knobs[k];
    if (fixed != NMRH_KNOB_CHOOSE) return fixed;
    uint32_t v = nmrh_sched_choose(w, nmrh_knob_values(k));
    nmrh_trace(w, NMRH_EV_CHOICE, (uint32_t)k, v);
    return v;
}

/* ---- driving a world ---- */

static void enter(nmrh_world *w, bool step)
{
    w->saved_current = nmrh_world_current();
    nmrh_world_set_current(w);
    w->step_mode = step;
}

static void leave(nmrh_world *w)
{
    w->step_mode = false;
    nmrh_world_set_current(w->saved_current);
}

nmrh_thread_state nmrh_world_step(nmrh_world *w, nmrh_thread *t)
{
    if (w->threaded) { /* threads run on their own; a step is only a look */
        nmrh_world_lock(w);
        nmrh_thread_state s = t->state;
        nmrh_world_unlock(w);
        return s;
    }
    if (!w->stopped && t->state == NMRH_THREAD_RUNNABLE) {
        enter(w, true);
        resume(w, t);
        leave(w);
    }
    return t->state;
}

nmrh_thread_state nmrh_world_run_thread(nmrh_world *w, nmrh_thread *t)
{
    if (w->threaded) {
        nmrh_world_lock(w);
        nmrh_threads_wait_quiet(w, t);
        nmrh_thread_state s = t->state;
        nmrh_world_unlock(w);
        return s;
    }
    /* Stepping t until it blocks or ends, without two switches at every scheduling point: the
       same trace (a step of the thread that ran last records no switch) at a fraction of the cost. */
    w->solo = true;
    while (!w->stopped && t->state == NMRH_THREAD_RUNNABLE) nmrh_world_step(w, t);
    w->solo = false;
    return t->state;
}

/* When nothing can run, a thread in a finite-timeout wait times out (lowest id first). */
bool nmrh_sched_expire_timed_wait(nmrh_world *w)
{
    for (uint32_t i = first_live(w); i < w->nthreads; i++) {
        nmrh_thread *t = w->threads[i];
        if (t->state == NMRH_THREAD_BLOCKED && t->timed_wait) {
            nmrh_trace(w, NMRH_EV_TIMEOUT, t->id, 0);
            nmrh_sched_set_state(w, t, NMRH_THREAD_RUNNABLE);
            t->blocked_on = NULL;
            t->wake_status = 0x102; /* STATUS_TIMEOUT */
            return true;
        }
    }
    return false;
}

static nmrh_thread *pick_next(nmrh_world *w)
{
    nmrh_thread *hint = w->next_hint;
    w->next_hint = NULL;
    if (hint && hint->state == NMRH_THREAD_RUNNABLE) return hint;
    if (w->nrunnable == 0 && !nmrh_sched_expire_timed_wait(w)) return NULL;
    return nth_runnable(w, nmrh_sched_choose(w, w->nrunnable), NULL);
}

bool nmrh_world_run(nmrh_world *w)
{
    if (w->threaded) {
        nmrh_world_lock(w);
        nmrh_threads_wait_quiet(w, NULL);
        bool ok = !w->stopped;
        nmrh_world_unlock(w);
        return ok;
    }
    enter(w, false);
    nmrh_thread *t;
    while (!w->stopped && (t = pick_next(w)) != NULL) resume(w, t);
    leave(w);
    return !w->stopped;
}

static bool finish(nmrh_world *w);

bool nmrh_world_finish(nmrh_world *w)
{
    nmrh_world_lock(w);
    bool ok = finish(w);
    nmrh_world_unlock(w);
    return ok;
}

static bool finish(nmrh_world *w)
{
    if (w->finished) return !w->stopped;
    w->finished = true;
    nmrh_chooser_zero drain;
    nmrh_chooser_zero_init(&drain);
    nmrh_chooser *saved = w->chooser;
    w->chooser = &drain.base;
    nmrh_world_run(w);
    w->chooser = saved;
    if (w->stopped) return false;

    enter(w, false);
    for (uint32_t i = 0; i < w->nthreads; i++) {
        if (w->threads[i]->state != NMRH_THREAD_BLOCKED) continue;
        char *dump = nmrh_world_state_text(w);
        const nmrh_thread *b = w->threads[i];
        nmrh_oracle_fail(w, NMRH_RULE_HANG, dump,
                         "thread %s '%s' is blocked forever (%s) and no other thread can run, in %s code",
                         b->label, b->name,
                         b->wait_kind == NMRH_WAIT_NMR_DEREGISTER ? "in NmrWaitFor*DeregisterComplete: a detach was never completed"
                         : b->wait_kind == NMRH_WAIT_EVENT        ? "waiting for an event"
                         : b->wait_kind == NMRH_WAIT_RUNDOWN      ? "waiting for rundown protection release"
                         : b->wait_kind == NMRH_WAIT_SPINLOCK     ? "spinning on a spin lock"
                         : b->wait_kind == NMRH_WAIT_FAST_MUTEX   ? "waiting for a fast mutex"
                                                                  : "waiting",
                         nmrh_world_module_name(w, b->cur_module));
        free(dump);
        break;
    }
    if (!w->stopped) nmrh_model_finish_checks(w);
    if (!w->stopped) {
        for (uint32_t m = 1; m < w->nmodules && !w->stopped; m++) {
            if (!w->modules[m].unloaded) continue;
            char summary[256];
            size_t n = nmrh_pool_module_leaks(&w->pool, m, summary, sizeof summary);
            if (n)
                nmrh_oracle_fail(w, NMRH_RULE_POOL_LEAK, NULL, "module %s unloaded with %zu pool block(s) not freed: %s",
                                 w->modules[m].name, n, summary);
        }
    }
    if (!w->stopped) nmrh_model_check_invariants(w);
    leave(w);
    return !w->stopped;
}

char *nmrh_world_state_text(const nmrh_world *w)
{
    char *dump = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&dump, &len);
    if (!f) return NULL;
    nmrh_world_print_state(w, f);
    fclose(f);
    return dump;
}

nmrh_thread_state nmrh_thread_get_state(const nmrh_thread *t) { return t->state; }
uint32_t nmrh_thread_id(const nmrh_thread *t) { return t->id; }
const char *nmrh_thread_name(const nmrh_thread *t) { return t->name; }
nmrh_thread *nmrh_world_thread(nmrh_world *w, uint32_t id) { return id < w->nthreads ? w->threads[id] : NULL; }
uint32_t nmrh_world_thread_count(const nmrh_world *w) { return w->nthreads; }
nmrh_thread *nmrh_world_current_thread(const nmrh_world *w)
{
    if (w && w->threaded) { /* module code runs without the lock: the OS thread says who it is */
        const nmrh_tls *c = nmrh_tls_get();
        return c && c->world == w ? c->self : NULL;
    }
    return w ? w->current : NULL;
}
