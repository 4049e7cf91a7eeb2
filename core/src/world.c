#include <stdlib.h>
#include <string.h>

#include "world_impl.h"

/* The one mutable global: kernel-style free functions (NmrRegisterClient, ExAllocatePool2, ...)
   find the world they run in through it. */
static _Thread_local const nmrh_tls *current;

nmrh_world *nmrh_world_current(void) { return current ? current->world : NULL; }
void nmrh_world_set_current(nmrh_world *w) { current = w ? &w->main_tls : NULL; }
const nmrh_tls *nmrh_tls_get(void) { return current; }
void nmrh_tls_set(const nmrh_tls *tls) { current = tls; }

void nmrh_config_init(nmrh_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) cfg->knobs[k] = NMRH_KNOB_CHOOSE;
    cfg->points = NMRH_POINTS_ALL;
    cfg->step_budget = 100000;
}

static void copy_name(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n > size - 1) n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

uint32_t nmrh_world_add_module(nmrh_world *w, const char *name)
{
    if (w->nmodules == w->modules_cap) {
        uint32_t cap = w->modules_cap ? w->modules_cap * 2 : 8;
        nmrh_module *m = realloc(w->modules, cap * sizeof *m);
        if (!m) abort();
        w->modules = m;
        w->modules_cap = cap;
    }
    nmrh_module *m = &w->modules[w->nmodules];
    memset(m, 0, sizeof *m);
    copy_name(m->name, sizeof m->name, name);
    return w->nmodules++;
}

const char *nmrh_world_module_name(const nmrh_world *w, uint32_t module)
{
    return module < w->nmodules ? w->modules[module].name : "?";
}

/* The buffers a pooled world keeps from one run to the next; everything else starts at zero. */
typedef struct world_buffers {
    nmrh_thread **threads;
    uint32_t threads_cap, threads_alloc;
    nmrh_trace_rec *trace;
    size_t trace_cap;
    char *text;
    size_t text_cap;
    nmrh_module *modules;
    uint32_t modules_cap;
    struct nmrh_stack_range *stack_ranges;
    uint32_t stack_ranges_cap;
} world_buffers;

/* A world from the pool's spare, reset to exactly what calloc gives except for its buffers'
   capacity (their contents are dead: every reader stops at the counts, which are zero). */
static nmrh_world *reuse_spare(nmrh_world_pool *pool)
{
    nmrh_world *w = pool->spare;
    pool->spare = NULL;
    world_buffers b = {w->threads, w->threads_cap, w->threads_alloc, w->trace, w->trace_cap, w->text, w->text_cap,
                       w->modules, w->modules_cap, w->stack_ranges, w->stack_ranges_cap};
    memset(w, 0, sizeof *w);
    w->threads = b.threads;
    w->threads_cap = b.threads_cap;
    w->threads_alloc = b.threads_alloc;
    w->trace = b.trace;
    w->trace_cap = b.trace_cap;
    w->text = b.text;
    w->text_cap = b.text_cap;
    w->modules = b.modules;
    w->modules_cap = b.modules_cap;
    w->stack_ranges = b.stack_ranges;
    w->stack_ranges_cap = b.stack_ranges_cap;
    return w;
}

nmrh_world *nmrh_world_create(const nmrh_config *cfg, nmrh_chooser *chooser)
{
    nmrh_world_pool *pool = cfg && !cfg->real_threads ? cfg->pool : NULL;
    nmrh_world *w = pool && pool->spare ? reuse_spare(pool) : calloc(1, sizeof *w);
    if (!w) return NULL;
    if (cfg)
        w->cfg = *cfg;
    else
        nmrh_config_init(&w->cfg);
    w->chooser = chooser;
    w->main_tls.world = w;
    if (w->cfg.real_threads) nmrh_threads_init(w);
    w->stacks = w->cfg.pool ? &w->cfg.pool->stacks : &w->own_stacks;
    nmrh_fiber_init_main(&w->main_fiber);
    nmrh_pool_init(&w->pool);
    nmrh_world_add_module(w, "nmr");
    w->model = nmrh_model_create(w);
    if (!w->model) {
        nmrh_world_destroy(w);
        return NULL;
    }
    return w;
}

static void free_buffers(nmrh_world *w)
{
    for (uint32_t i = 0; i < w->threads_alloc; i++) free(w->threads[i]);
    free(w->threads);
    free(w->trace);
    free(w->text);
    free(w->modules);
    free(w->stack_ranges);
}

bool nmrh_world_destroy(nmrh_world *w)
{
    if (!w) return true;
    if (w->threaded && !nmrh_threads_destroy(w)) return false;
    nmrh_sched_release_stacks(w);
    nmrh_pool_release_all(&w->pool);
    if (w->model) nmrh_model_destroy(w->model);
    free(w->finding.details);
    if (current && current->world == w) current = NULL;
    /* A pooled fiber-mode world keeps its buffers (thread objects, trace, strings) for the next. */
    nmrh_world_pool *pool = w->threaded ? NULL : w->cfg.pool;
    if (pool && !pool->spare) {
        pool->spare = w;
        return true;
    }
    free_buffers(w);
    free(w);
    return true;
}

void nmrh_world_pool_free_spare(nmrh_world_pool *p)
{
    if (!p->spare) return;
    free_buffers(p->spare);
    free(p->spare);
    p->spare = NULL;
}

void nmrh_world_module_unloaded(nmrh_world *w, uint32_t module)
{
    if (module == 0 || module >= w->nmodules || w->stopped) return;
    w->modules[module].unloaded = true;
    nmrh_trace(w, NMRH_EV_UNLOADED, module, 0);
    nmrh_model_unload_check(w, module);
}

void nmrh_world_module_loaded(nmrh_world *w, uint32_t module)
{
    if (module != 0 && module < w->nmodules) w->modules[module].unloaded = false;
}

void nmrh_world_fail_allocs(nmrh_world *w, uint32_t module, uint32_t count) { nmrh_world_fail_allocs_after(w, module, 0, count); }

void nmrh_world_fail_allocs_after(nmrh_world *w, uint32_t module, uint32_t skip, uint32_t count)
{
    if (module >= w->nmodules) return;
    w->modules[module].fail_skip = skip;
    w->modules[module].fail_allocs = count;
}

void nmrh_world_fail_nmr(nmrh_world *w, nmrh_nmr_fault which, uint32_t count)
{
    if ((unsigned)which < NMRH_FAULT_NMR_COUNT) w->nmr_faults[which] = count;
}

void nmrh_world_set_knob(nmrh_world *w, nmrh_knob k, uint8_t value)
{
    if ((unsigned)k < NMRH_KNOB_COUNT) w->cfg.knobs[k] = value;
}

bool nmrh_world_stopped(const nmrh_world *w) { return w->stopped; }

const nmrh_finding *nmrh_world_finding(const nmrh_world *w) { return w->stopped ? &w->finding : NULL; }

nmrh_world_stats nmrh_world_get_stats(const nmrh_world *w)
{
    nmrh_world_stats s = w->stats;
    s.events = w->ntrace;
    s.model_events = 0;
    for (size_t i = 0; i < w->ntrace; i++) {
        uint16_t k = w->trace[i].kind;
        s.model_events += k == NMRH_EV_NMR_CALL || k == NMRH_EV_NMR_RETURN || k == NMRH_EV_CALLBACK ||
                          k == NMRH_EV_CALLBACK_RETURN;
    }
    return s;
}

uint32_t nmrh_world_check_model_invariants(nmrh_world *w) { return nmrh_model_check_invariants(w); }
