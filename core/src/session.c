/* The user-mode platform: the interpreter's OS services mapped onto a world. */
#include "nmrh/session.h"

#include <stdlib.h>
#include <string.h>

#include "world_impl.h"

static uint32_t queue_choose(nmrh_chooser *self, uint32_t n)
{
    nmrh_decision_queue *q = (nmrh_decision_queue *)self;
    return q->next < q->count ? q->values[q->next++] % n : 0;
}

static nmrh_session *S(void *ctx) { return ctx; }

static void *pf_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return calloc(1, size);
}

static void pf_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* In real-thread mode these run on the driving thread or on logical threads while others run
   in parallel: each takes the world lock (a no-op in fiber mode). */
#define LOCKED(ctx, expr)                         \
    do {                                          \
        nmrh_world *w_ = S(ctx)->world;           \
        nmrh_world_lock(w_);                      \
        expr;                                     \
        nmrh_world_unlock(w_);                    \
    } while (0)

static void *pf_spawn(void *ctx, const char *name, uint32_t module, void (*fn)(void *), void *arg)
{
    void *t;
    LOCKED(ctx, t = nmrh_world_spawn(w_, name, module, fn, arg));
    return t;
}

static void pf_step(void *ctx, void *thread, uint32_t count)
{
    while (count-- && nmrh_world_step(S(ctx)->world, thread) == NMRH_THREAD_RUNNABLE) {
    }
}

static void pf_run_thread(void *ctx, void *thread) { nmrh_world_run_thread(S(ctx)->world, thread); }
static void pf_run_all(void *ctx) { nmrh_world_run(S(ctx)->world); }
static int pf_stopped(void *ctx)
{
    int stopped;
    LOCKED(ctx, stopped = nmrh_world_stopped(w_));
    return stopped;
}

static void pf_decide(void *ctx, uint8_t value)
{
    nmrh_decision_queue *q = &S(ctx)->decisions;
    if (q->count == q->capacity) {
        size_t cap = q->capacity ? q->capacity * 2 : 64;
        uint8_t *v = realloc(q->values, cap);
        if (!v) return;
        q->values = v;
        q->capacity = cap;
    }
    q->values[q->count++] = value;
}

static void pf_set_knob(void *ctx, uint32_t knob, uint32_t value)
{
    LOCKED(ctx, nmrh_world_set_knob(w_, (nmrh_knob)knob, (uint8_t)value));
}

static void pf_fail_allocs(void *ctx, uint32_t module, uint32_t skip, uint32_t count)
{
    LOCKED(ctx, nmrh_world_fail_allocs_after(w_, module, skip, count));
}

static void pf_fail_nmr(void *ctx, uint32_t which, uint32_t count)
{
    LOCKED(ctx, nmrh_world_fail_nmr(w_, which ? NMRH_FAULT_CLIENT_ATTACH : NMRH_FAULT_REGISTER, count));
}

static uint32_t pf_add_module(void *ctx, const char *name)
{
    uint32_t id;
    LOCKED(ctx, id = nmrh_world_add_module(w_, name));
    return id;
}
static void pf_module_loaded(void *ctx, uint32_t module) { LOCKED(ctx, nmrh_world_module_loaded(w_, module)); }
static void pf_module_unloaded(void *ctx, uint32_t module) { LOCKED(ctx, nmrh_world_module_unloaded(w_, module)); }
static void pf_lock(void *ctx) { nmrh_world_lock(S(ctx)->world); }
static void pf_unlock(void *ctx) { nmrh_world_unlock(S(ctx)->world); }

static void to_file(void *ctx, const char *s, size_t n) { fwrite(s, 1, n, (FILE *)ctx); }

/* Records are traced by index and printed only when someone prints the trace. */
static void print_record(void *ctx, uint32_t index, FILE *out) { nmrh_seq_print_record(S(ctx)->seq, index, to_file, out); }

static void pf_record(void *ctx, uint32_t index) { LOCKED(ctx, nmrh_trace(w_, NMRH_EV_RECORD, index, 0)); }

int nmrh_session_run(nmrh_session *s, const nmrh_seq *seq, const nmrh_config *cfg)
{
    return nmrh_session_run_with(s, seq, cfg, NULL);
}

int nmrh_session_run_with(nmrh_session *s, const nmrh_seq *seq, const nmrh_config *cfg, nmrh_chooser *chooser)
{
    memset(s, 0, sizeof *s);
    s->seq = seq;
    s->decisions.base.choose = queue_choose;
    s->world = nmrh_world_create(cfg, chooser ? chooser : &s->decisions.base);
    if (!s->world) return -1;
    s->world->record_printer = print_record;
    s->world->record_ctx = s;
    s->platform = (nmrh_platform){
        s,          pf_alloc,         pf_free,           pf_spawn,       pf_step,     pf_run_thread,
        pf_run_all, pf_stopped,       pf_decide,         pf_set_knob,    pf_fail_allocs, pf_fail_nmr,
        pf_add_module, pf_module_loaded, pf_module_unloaded, pf_record, NULL, NULL,
    };
    if (s->world->threaded) {
        s->platform.lock = pf_lock;
        s->platform.unlock = pf_unlock;
    }
    nmrh_interp_init(&s->interp, &s->platform, seq);
    nmrh_interp_run(&s->interp);
    if (!nmrh_world_stopped(s->world)) nmrh_interp_finish(&s->interp);
    if (s->interp.out_of_memory) return -1;
    return nmrh_world_finish(s->world) ? 1 : 0;
}

void nmrh_session_destroy(nmrh_session *s)
{
    /* Threads first: instance memory must outlive every (abandoned) thread that could use it. A
       real thread stuck in module code keeps its world, and the instances, alive. */
    bool ended = nmrh_world_destroy(s->world);
    s->world = NULL;
    if (!ended) return;
    nmrh_interp_release(&s->interp);
    free(s->decisions.values);
    s->decisions.values = NULL;
}
