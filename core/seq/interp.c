#include "nmrh/interp.h"

#include <string.h>

#include "nmrh/knobs.h"

static void append_str(char *dst, size_t cap, size_t *len, const char *s)
{
    while (*s && *len + 1 < cap) dst[(*len)++] = *s++;
    dst[*len] = '\0';
}

static void append_num(char *dst, size_t cap, size_t *len, uint32_t v)
{
    char digits[10];
    int n = 0;
    do digits[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n && *len + 1 < cap) dst[(*len)++] = digits[--n];
    dst[*len] = '\0';
}

void nmrh_interp_init(nmrh_interp *ip, const nmrh_platform *pf, const nmrh_seq *seq)
{
    memset(ip, 0, sizeof *ip);
    ip->pf = pf;
    ip->seq = seq;
}

static void lock(const nmrh_interp *ip)
{
    if (ip->pf->lock) ip->pf->lock(ip->pf->ctx);
}

static void unlock(const nmrh_interp *ip)
{
    if (ip->pf->unlock) ip->pf->unlock(ip->pf->ctx);
}

/* Module code runs between unlock and lock: the interpreter's bookkeeping around it is guarded
   where threads run in parallel (platform.h). */
static void action_thread(void *arg)
{
    nmrh_interp_thread *t = arg;
    nmrh_interp *ip = t->ip;
    nmrh_interp_module *m = &ip->modules[t->module];
    lock(ip);
    switch ((nmrh_action)t->action) {
    case NMRH_ACT_LOAD:
        /* A reload reuses the instance only when nothing still runs on the old incarnation. */
        if ((m->state != NMRH_MOD_IDLE && m->state != NMRH_MOD_UNLOADED) || m->calls || m->refused) break;
        memset(m->instance, 0, m->kind->instance_size);
        /* A kind whose state is in its image's globals gets them back at their initial values, as
           every load of a driver maps a fresh image (module.h). */
        if (m->kind->image) m->kind->image->restore(m->kind->image);
        m->state = NMRH_MOD_LOADING;
        ip->pf->module_loaded(ip->pf->ctx, m->id);
        unlock(ip);
        NTSTATUS status = m->kind->load(m->instance, m->options);
        lock(ip);
        m->state = NT_SUCCESS(status) ? NMRH_MOD_LOADED : NMRH_MOD_IDLE;
        /* A failed DriverEntry unloads the driver without calling Unload: whatever the load left
           registered or allocated is checked like after an unload (module.h: nothing may be). */
        if (m->state == NMRH_MOD_IDLE) ip->pf->module_unloaded(ip->pf->ctx, m->id);
        break;
    case NMRH_ACT_UNLOAD:
        if (m->state != NMRH_MOD_LOADED) break;
        m->state = NMRH_MOD_UNLOADING;
        unlock(ip);
        m->kind->unload(m->instance);
        lock(ip);
        m->state = NMRH_MOD_UNLOADED;
        ip->pf->module_unloaded(ip->pf->ctx, m->id);
        break;
    case NMRH_ACT_CALL:
    case NMRH_ACT_COMPLETE: {
        NTSTATUS (*call)(void *, ULONG) = m->kind->call;
        if (m->state != NMRH_MOD_LOADED && m->state != NMRH_MOD_UNLOADING) break;
        m->calls++;
        unlock(ip);
        if (t->action == NMRH_ACT_CALL && call)
            call(m->instance, t->value);
        else if (t->action == NMRH_ACT_COMPLETE && m->kind->complete)
            m->kind->complete(m->instance);
        lock(ip);
        m->calls--;
        break;
    }
    default:
        break;
    }
    unlock(ip);
}

static void declare_module(nmrh_interp *ip, const nmrh_record *r)
{
    const nmrh_platform *pf = ip->pf;
    nmrh_interp_module *m = &ip->modules[ip->nmodules];
    size_t len = 0;
    m->kind = ip->seq->target->kinds[r->a];
    /* Two instances of a kind that keeps its state in globals would share it: the second one never
       loads (the text parser refuses such a sequence; a fuzzer's input just loses the module). */
    for (uint32_t i = 0; i < ip->nmodules; i++)
        if (m->kind->image && ip->modules[i].kind == m->kind) m->refused = 1;
    m->options = (uint32_t)r->b | ((uint32_t)r->c << 8);
    append_str(m->name, sizeof m->name, &len, "m");
    append_num(m->name, sizeof m->name, &len, ip->nmodules);
    append_str(m->name, sizeof m->name, &len, ":");
    append_str(m->name, sizeof m->name, &len, m->kind->name);
    m->instance = pf->alloc(pf->ctx, m->kind->instance_size ? m->kind->instance_size : 1);
    if (!m->instance) ip->out_of_memory = 1;
    m->id = pf->add_module(pf->ctx, m->name);
    ip->nmodules++;
}

static void *start_thread(nmrh_interp *ip, const nmrh_record *r)
{
    nmrh_interp_thread *t = &ip->threads[ip->nthreads];
    char name[32];
    size_t len = 0;
    t->ip = ip;
    t->action = r->a;
    t->module = r->b;
    t->value = r->c;
    append_str(name, sizeof name, &len, nmrh_action_name((nmrh_action)r->a));
    append_str(name, sizeof name, &len, " m");
    append_num(name, sizeof name, &len, r->b);
    ip->nthreads++;
    t->handle = ip->pf->spawn(ip->pf->ctx, name, ip->modules[r->b].id, action_thread, t);
    if (!t->handle) ip->out_of_memory = 1;
    return t->handle;
}

void nmrh_interp_run(nmrh_interp *ip)
{
    const nmrh_platform *pf = ip->pf;
    void *ctx = pf->ctx;
    for (uint32_t i = 0; i < ip->seq->count && !ip->out_of_memory && !pf->stopped(ctx); i++) {
        const nmrh_record *r = &ip->seq->records[i];
        if (pf->record) pf->record(ctx, i);
        switch ((nmrh_op)r->op) {
        case NMRH_OP_MODULE: declare_module(ip, r); break;
        case NMRH_OP_START: start_thread(ip, r); break;
        case NMRH_OP_DO: {
            void *h = start_thread(ip, r);
            if (h) pf->run_thread(ctx, h);
            break;
        }
        case NMRH_OP_STEP: pf->step(ctx, ip->threads[r->a].handle, (uint32_t)r->b + 1); break;
        case NMRH_OP_RUN: pf->run_thread(ctx, ip->threads[r->a].handle); break;
        case NMRH_OP_RUN_ALL: pf->run_all(ctx); break;
        case NMRH_OP_DECIDE: pf->decide(ctx, r->a); break;
        case NMRH_OP_KNOB:
            pf->set_knob(ctx, r->a, r->b == nmrh_knob_values((nmrh_knob)r->a) ? NMRH_KNOB_CHOOSE : r->b);
            break;
        case NMRH_OP_FAIL_ALLOCS: pf->fail_allocs(ctx, ip->modules[r->a].id, r->c, r->b); break;
        case NMRH_OP_FAIL_NMR: pf->fail_nmr(ctx, r->a, r->b); break;
        default: break;
        }
    }
}

void nmrh_interp_finish(nmrh_interp *ip)
{
    for (uint32_t i = 0; i < ip->nmodules && !ip->out_of_memory; i++) {
        const nmrh_interp_module *m = &ip->modules[i];
        /* Whatever the module's state now: the drain runs the sequence's own threads first (lower
           numbers), and one of them may still load it (a load stepped and left, or started and
           never run) and pend a detach. The action checks the state when it runs. */
        if (!m->kind->complete) continue;
        nmrh_record r = {NMRH_OP_START, NMRH_ACT_COMPLETE, (uint8_t)i, 0};
        start_thread(ip, &r);
    }
}

void nmrh_interp_release(nmrh_interp *ip)
{
    for (uint32_t i = 0; i < ip->nmodules; i++)
        if (ip->modules[i].instance) ip->pf->free(ip->pf->ctx, ip->modules[i].instance);
}
