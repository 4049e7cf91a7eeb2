/*
 * The interposer (interpose.h). Registration and binding records live in arrays inside the
 * interposer's memory block; the NMR gets pointers to them as contexts, and every pointer that
 * comes back from the NMR is checked against those arrays before it is used.
 *
 * The rule checks mirror the NMR model's (core/model): same conditions, same order, so that a
 * module gets the same verdict from the kernel driver as from the fuzzer where both can see it.
 */
#include "interpose.h"

#include <string.h>

/* The wrappers below call the real ExAllocatePoolWithTag, tags and all (see interpose_nmr.h). */
#ifdef ExAllocatePoolWithTag
#undef ExAllocatePoolWithTag
#endif

#define REG_MAGIC 0x6752684Eu     /* "NhRg" */
#define BINDING_MAGIC 0x6442684Eu /* "NhBd" */
#define NONE32 0xFFFFFFFFu

enum { SIDE_CLIENT, SIDE_PROVIDER };
enum { B_FREE, B_ATTACHING, B_ATTACHED, B_DECLINED, B_DETACHING, B_CLEANING, B_DEAD };
enum { D_NONE, D_RUNNING, D_SUCCESS, D_PENDING, D_COMPLETED };

typedef union ip_chars {
    NPI_CLIENT_CHARACTERISTICS c;
    NPI_PROVIDER_CHARACTERISTICS p;
} ip_chars;

typedef struct ip_reg {
    uint32_t magic;
    nmrh_ip *ip;
    uint8_t in_use, is_client, module, registered, failed, dereg_called, wait_called, wait_returned;
    uint32_t worker;
    uint32_t live; /* bindings attaching or attached and not yet gone: the NMR's Wait waits for these */
    uint32_t refs; /* binding records naming this registration */
    uint32_t created;
    HANDLE handle;
    PHANDLE phandle;
    PVOID context;  /* the module's registration context */
    ip_chars orig;  /* the module's characteristics (its callbacks) */
    ip_chars chars; /* what the NMR got: the same with the trampolines */
} ip_reg;

typedef struct ip_side {
    uint8_t detach, complete_called, cleanup_done, has_cleanup;
} ip_side;

typedef struct ip_binding {
    uint32_t magic;
    nmrh_ip *ip;
    uint8_t state, serial, in_client_attach, nmr_attach_called, nmr_attach_ok, counted_live;
    uint32_t reg[2]; /* client, provider */
    uint32_t attach_slot;
    uint32_t created;
    NTSTATUS last_attach_status;
    HANDLE handle;
    PVOID ctx[2];    /* the modules' binding contexts */
    ip_side side[2];
} ip_binding;

typedef struct ip_slot {
    uint8_t cur_module, in_register, in_deregister, in_complete;
    uint32_t cur_worker;
    uint32_t attach_binding; /* index + 1 of the binding whose ClientAttachProvider runs here */
    uint32_t registering;    /* index + 1 of the registration this thread is registering */
    uint32_t waiting;        /* index + 1 of the registration whose Wait this thread is in */
} ip_slot;

typedef struct ip_fail {
    uint32_t skip, count;
} ip_fail;

struct nmrh_ip {
    nmrh_ip_config cfg;
    nmrh_ip_host host;
    uint32_t nslots, seq_slots;
    ip_slot *slots;
    ip_reg *regs;
    ip_binding *bindings;
    nmrh_obs *log;
    uint32_t nlog;
    ip_fail *fail;         /* workers * NMRH_IP_MAX_MODULES */
    uint32_t *worker_tags; /* workers */
    uint32_t *worker_findings; /* workers */
    uint32_t nmr_faults[2];
    uint32_t binding_serial, created;
    uint32_t rule_counts[NMRH_RULE_COUNT];
    nmrh_ip_stats stats;
};

static nmrh_ip *volatile g_ip;

/* ---- layout ---- */

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

size_t nmrh_ip_size(const nmrh_ip_config *cfg)
{
    if (!cfg || cfg->workers == 0 || cfg->workers > 256 || cfg->threads_per_worker == 0 ||
        cfg->threads_per_worker > 256 || cfg->foreign_slots > 1024 || cfg->max_regs == 0 || cfg->max_regs > 65536 ||
        cfg->max_bindings == 0 || cfg->max_bindings > 65536 || cfg->log_capacity > (1u << 24))
        return 0;
    size_t slots = (size_t)cfg->workers * cfg->threads_per_worker + cfg->foreign_slots;
    return align8(sizeof(nmrh_ip)) + align8(slots * sizeof(ip_slot)) + align8(cfg->max_regs * sizeof(ip_reg)) +
           align8(cfg->max_bindings * sizeof(ip_binding)) + align8((size_t)cfg->log_capacity * sizeof(nmrh_obs)) +
           align8((size_t)cfg->workers * NMRH_IP_MAX_MODULES * sizeof(ip_fail)) +
           2 * align8((size_t)cfg->workers * sizeof(uint32_t));
}

nmrh_ip *nmrh_ip_init(void *mem, size_t size, const nmrh_ip_config *cfg, const nmrh_ip_host *host)
{
    size_t need = nmrh_ip_size(cfg);
    if (!mem || !host || need == 0 || size < need) return NULL;
    memset(mem, 0, need);
    unsigned char *p = mem;
    nmrh_ip *ip = (nmrh_ip *)p;
    p += align8(sizeof *ip);
    ip->cfg = *cfg;
    ip->host = *host;
    ip->seq_slots = cfg->workers * cfg->threads_per_worker;
    ip->nslots = ip->seq_slots + cfg->foreign_slots;
    ip->slots = (ip_slot *)p;
    p += align8(ip->nslots * sizeof(ip_slot));
    ip->regs = (ip_reg *)p;
    p += align8(cfg->max_regs * sizeof(ip_reg));
    ip->bindings = (ip_binding *)p;
    p += align8(cfg->max_bindings * sizeof(ip_binding));
    ip->log = (nmrh_obs *)p;
    p += align8((size_t)cfg->log_capacity * sizeof(nmrh_obs));
    ip->fail = (ip_fail *)p;
    p += align8((size_t)cfg->workers * NMRH_IP_MAX_MODULES * sizeof(ip_fail));
    ip->worker_tags = (uint32_t *)p;
    p += align8((size_t)cfg->workers * sizeof(uint32_t));
    ip->worker_findings = (uint32_t *)p;
    for (uint32_t i = 0; i < ip->nslots; i++) {
        ip->slots[i].cur_module = NMRH_IP_MODULE_NONE;
        ip->slots[i].cur_worker = i < ip->seq_slots ? i / cfg->threads_per_worker : NONE32;
    }
    for (uint32_t i = 0; i < cfg->max_regs; i++) ip->regs[i].magic = REG_MAGIC, ip->regs[i].ip = ip;
    for (uint32_t i = 0; i < cfg->max_bindings; i++) ip->bindings[i].magic = BINDING_MAGIC, ip->bindings[i].ip = ip;
    return ip;
}

void nmrh_ip_activate(nmrh_ip *ip) { g_ip = ip; }
nmrh_ip *nmrh_ip_active(void) { return g_ip; }

/* ---- small helpers ---- */

static uintptr_t lock(nmrh_ip *ip) { return ip->host.lock(ip->host.ctx); }
static void unlock(nmrh_ip *ip, uintptr_t t) { ip->host.unlock(ip->host.ctx, t); }
static uint32_t current_slot(nmrh_ip *ip) { return ip->host.slot(ip->host.ctx); }
static uint8_t current_irql(nmrh_ip *ip) { return ip->host.irql(ip->host.ctx); }

static ip_slot *slot_state(nmrh_ip *ip, uint32_t slot) { return slot < ip->nslots ? &ip->slots[slot] : NULL; }

static uint8_t obs_thread(const nmrh_ip *ip, uint32_t slot)
{
    if (slot < ip->seq_slots) return (uint8_t)(slot % ip->cfg.threads_per_worker);
    if (slot < ip->nslots && slot - ip->seq_slots < 0x7Fu) return (uint8_t)(NMRH_OBS_THREAD_FOREIGN | (slot - ip->seq_slots));
    return NMRH_OBS_THREAD_NONE;
}

static uint8_t thread_flags(const nmrh_ip *ip, const ip_slot *st)
{
    uint8_t f = 0;
    if (!st) return 0;
    if (st->in_complete) f |= NMRH_OBS_F_IN_COMPLETE;
    if (st->in_deregister) f |= NMRH_OBS_F_IN_DEREGISTER;
    if (st->in_register) f |= NMRH_OBS_F_IN_REGISTER;
    if (st->waiting) f |= NMRH_OBS_F_IN_WAIT;
    (void)ip;
    return f;
}

static int is_reg(const nmrh_ip *ip, const void *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)ip->regs, hi = lo + ip->cfg.max_regs * sizeof(ip_reg);
    return a >= lo && a < hi && (a - lo) % sizeof(ip_reg) == 0 && ((const ip_reg *)p)->magic == REG_MAGIC &&
           ((const ip_reg *)p)->in_use;
}

static int is_binding(const nmrh_ip *ip, const void *p)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)ip->bindings, hi = lo + ip->cfg.max_bindings * sizeof(ip_binding);
    return a >= lo && a < hi && (a - lo) % sizeof(ip_binding) == 0 &&
           ((const ip_binding *)p)->magic == BINDING_MAGIC && ((const ip_binding *)p)->state != B_FREE;
}

static uint32_t reg_index(const nmrh_ip *ip, const ip_reg *r) { return (uint32_t)(r - ip->regs); }
static uint32_t binding_index(const nmrh_ip *ip, const ip_binding *b) { return (uint32_t)(b - ip->bindings); }

static uint8_t reg_module(const nmrh_ip *ip, uint32_t r) { return r < ip->cfg.max_regs ? ip->regs[r].module : NMRH_IP_MODULE_NONE; }

static uint32_t worker_tag(const nmrh_ip *ip, uint32_t worker)
{
    return worker < ip->cfg.workers ? ip->worker_tags[worker] : NONE32;
}

/* ---- the log (call with the lock held) ---- */

static void append_locked(nmrh_ip *ip, const nmrh_obs *o)
{
    if (o->kind != NMRH_OBS_FINDING && o->kind != NMRH_OBS_HANG && !(ip->cfg.flags & NMRH_IP_F_RECORD_EVENTS)) return;
    if (ip->nlog < ip->cfg.log_capacity)
        ip->log[ip->nlog++] = *o;
    else
        ip->stats.dropped++;
}

static void emit(nmrh_ip *ip, const nmrh_obs *o)
{
    uintptr_t t = lock(ip);
    if (o->kind >= NMRH_OBS_NMR_CALL && o->kind <= NMRH_OBS_CALLBACK_RETURN) ip->stats.events++;
    append_locked(ip, o);
    unlock(ip, t);
}

static nmrh_obs make(uint32_t kind, uint32_t what, uint8_t thread, uint8_t irql, uint8_t module, uint8_t peer,
                     uint8_t binding, uint8_t flags, uint32_t status)
{
    nmrh_obs o;
    o.kind = (uint8_t)kind;
    o.what = (uint8_t)what;
    o.thread = thread;
    o.irql = irql;
    o.module = module;
    o.peer = peer;
    o.binding = binding;
    o.flags = flags;
    o.status = status;
    o.aux = 0;
    return o;
}

/* A pending finding, recorded once the lock is released (or with it held: finding_locked). */
typedef struct finding {
    nmrh_rule rule;
    uint8_t what, module, binding;
    uint32_t worker;
} finding;

static void finding_locked(nmrh_ip *ip, const finding *f, uint32_t slot, uint8_t irql)
{
    if (f->rule == NMRH_RULE_NONE || (unsigned)f->rule >= NMRH_RULE_COUNT) return;
    ip->rule_counts[f->rule]++;
    if (ip->stats.findings++ == 0) ip->stats.first_rule = (uint32_t)f->rule;
    nmrh_obs o = make(NMRH_OBS_FINDING, f->what, obs_thread(ip, slot), irql, f->module, NMRH_OBS_NONE8, f->binding, 0,
                      (uint32_t)f->rule);
    uint32_t worker = f->worker != NONE32 ? f->worker : slot < ip->seq_slots ? slot / ip->cfg.threads_per_worker : NONE32;
    o.aux = worker_tag(ip, worker);
    if (worker < ip->cfg.workers) ip->worker_findings[worker]++;
    append_locked(ip, &o);
}

static void record_finding(nmrh_ip *ip, const finding *f, uint32_t slot, uint8_t irql)
{
    uintptr_t t = lock(ip);
    finding_locked(ip, f, slot, irql);
    unlock(ip, t);
}

static void gate(nmrh_ip *ip, uint32_t slot, const nmrh_obs *o)
{
    ip->host.gate(ip->host.ctx, slot, o, o->irql < DISPATCH_LEVEL);
}

/* At DISPATCH_LEVEL a gate cannot stop the thread: say so in the record. */
static uint8_t irql_flags(uint8_t irql) { return irql >= DISPATCH_LEVEL ? NMRH_OBS_F_UNGATED : 0; }

/* ---- records ---- */

static ip_reg *alloc_reg(nmrh_ip *ip)
{
    for (uint32_t i = 0; i < ip->cfg.max_regs; i++) {
        ip_reg *r = &ip->regs[i];
        if (r->in_use) continue;
        memset((char *)r + offsetof(ip_reg, in_use), 0, sizeof *r - offsetof(ip_reg, in_use));
        r->in_use = 1;
        r->created = ++ip->created;
        return r;
    }
    return NULL;
}

static ip_binding *alloc_binding(nmrh_ip *ip)
{
    for (uint32_t i = 0; i < ip->cfg.max_bindings; i++) {
        ip_binding *b = &ip->bindings[i];
        if (b->state != B_FREE) continue;
        memset((char *)b + offsetof(ip_binding, state), 0, sizeof *b - offsetof(ip_binding, state));
        b->created = ++ip->created;
        if (ip->binding_serial < NMRH_OBS_BINDING_MAX) ip->binding_serial++;
        b->serial = (uint8_t)ip->binding_serial;
        return b;
    }
    return NULL;
}

/* A registration by handle (the live one if several carry it). Returns NONE32 and the rule to
   report when there is none of the wanted kind. */
static uint32_t find_reg(const nmrh_ip *ip, HANDLE h, int want_client, nmrh_rule *why)
{
    uint32_t best = NONE32, other = NONE32;
    for (uint32_t i = 0; i < ip->cfg.max_regs; i++) {
        const ip_reg *r = &ip->regs[i];
        if (!r->in_use || !r->registered || r->handle != h || h == NULL) continue;
        if ((int)r->is_client != !!want_client) {
            other = i;
            continue;
        }
        if (best == NONE32 || (ip->regs[best].wait_returned && !r->wait_returned) ||
            (ip->regs[best].wait_returned == r->wait_returned && r->created > ip->regs[best].created))
            best = i;
    }
    if (best != NONE32 && !ip->regs[best].wait_returned) return best;
    if (best == NONE32 && other != NONE32 && !ip->regs[other].wait_returned) {
        *why = NMRH_RULE_WRONG_HANDLE_KIND;
        return NONE32;
    }
    if (best == NONE32) {
        for (uint32_t i = 0; i < ip->cfg.max_bindings && h != NULL; i++)
            if (ip->bindings[i].state != B_FREE && ip->bindings[i].handle == h) {
                *why = NMRH_RULE_WRONG_HANDLE_KIND;
                return NONE32;
            }
    }
    *why = NMRH_RULE_BAD_HANDLE; /* NULL, unknown, or a registration already waited for (stale) */
    return NONE32;
}

/* A binding by handle: a live one if any, else the newest gone one (a stale handle). */
static uint32_t find_binding(const nmrh_ip *ip, HANDLE h)
{
    uint32_t best = NONE32;
    if (h == NULL) return NONE32;
    for (uint32_t i = 0; i < ip->cfg.max_bindings; i++) {
        const ip_binding *b = &ip->bindings[i];
        if (b->state == B_FREE || b->handle != h) continue;
        int live = b->state != B_DEAD && b->state != B_DECLINED;
        if (best == NONE32) {
            best = i;
            continue;
        }
        const ip_binding *c = &ip->bindings[best];
        int best_live = c->state != B_DEAD && c->state != B_DECLINED;
        if ((live && !best_live) || (live == best_live && b->created > c->created)) best = i;
    }
    return best;
}

/* The registration whose characteristics hold this registration instance: the pointer the NMR
   was given, or failing that (an NMR that copies the instance) the same NpiId and ModuleId. */
static uint32_t reg_of_instance(const nmrh_ip *ip, PNPI_REGISTRATION_INSTANCE ri, int want_client)
{
    uint32_t best = NONE32;
    if (ri == NULL) return NONE32;
    for (uint32_t i = 0; i < ip->cfg.max_regs; i++) {
        const ip_reg *r = &ip->regs[i];
        if (!r->in_use || (int)r->is_client != !!want_client) continue;
        const NPI_REGISTRATION_INSTANCE *mine =
            want_client ? &r->chars.c.ClientRegistrationInstance : &r->chars.p.ProviderRegistrationInstance;
        if (mine == ri) return i;
    }
    for (uint32_t i = 0; i < ip->cfg.max_regs; i++) {
        const ip_reg *r = &ip->regs[i];
        if (!r->in_use || r->failed || r->dereg_called || (int)r->is_client != !!want_client) continue;
        const NPI_REGISTRATION_INSTANCE *mine =
            want_client ? &r->chars.c.ClientRegistrationInstance : &r->chars.p.ProviderRegistrationInstance;
        if (mine->NpiId == ri->NpiId && mine->ModuleId == ri->ModuleId &&
            (best == NONE32 || r->created > ip->regs[best].created))
            best = i;
    }
    return best;
}

static void binding_gone_locked(nmrh_ip *ip, ip_binding *b)
{
    if (!b->counted_live) return;
    b->counted_live = 0;
    for (int s = 0; s < 2; s++)
        if (b->reg[s] < ip->cfg.max_regs && ip->regs[b->reg[s]].live) ip->regs[b->reg[s]].live--;
}

static int side_done(const ip_side *s) { return s->detach == D_SUCCESS || s->detach == D_COMPLETED; }
static int cleanups_done(const ip_binding *b)
{
    return (!b->side[0].has_cleanup || b->side[0].cleanup_done) && (!b->side[1].has_cleanup || b->side[1].cleanup_done);
}

/* Both sides finished detaching: the binding is gone once its cleanup callbacks have run. */
static void check_done_locked(nmrh_ip *ip, ip_binding *b)
{
    if (b->state == B_DEAD || b->state == B_FREE || !side_done(&b->side[0]) || !side_done(&b->side[1])) return;
    if (cleanups_done(b)) {
        b->state = B_DEAD;
        binding_gone_locked(ip, b);
    } else {
        b->state = B_CLEANING;
    }
}

/* Stress: once both registrations of a binding were waited for, the NMR will never mention it
   again, and a registration waited for with no binding records left can be reused. */
static void recycle_locked(nmrh_ip *ip)
{
    if (!(ip->cfg.flags & NMRH_IP_F_RECYCLE)) return;
    for (uint32_t i = 0; i < ip->cfg.max_bindings; i++) {
        ip_binding *b = &ip->bindings[i];
        if (b->state == B_FREE) continue;
        const ip_reg *c = &ip->regs[b->reg[SIDE_CLIENT]], *p = &ip->regs[b->reg[SIDE_PROVIDER]];
        if ((c->wait_returned || c->failed) && (p->wait_returned || p->failed)) {
            binding_gone_locked(ip, b);
            ip->regs[b->reg[SIDE_CLIENT]].refs--;
            ip->regs[b->reg[SIDE_PROVIDER]].refs--;
            b->state = B_FREE;
        }
    }
    for (uint32_t i = 0; i < ip->cfg.max_regs; i++) {
        ip_reg *r = &ip->regs[i];
        if (r->in_use && (r->wait_returned || r->failed) && r->refs == 0) r->in_use = 0;
    }
}

/* ---- trampolines: the NMR calls the module through these ---- */

typedef struct frame {
    nmrh_ip *ip;
    uint32_t slot;
    ip_slot *st;
    ip_slot saved;
} frame;

static void frame_enter(frame *f, nmrh_ip *ip, const ip_reg *callee)
{
    f->ip = ip;
    f->slot = current_slot(ip);
    f->st = slot_state(ip, f->slot);
    if (f->st) {
        f->saved = *f->st;
        f->st->cur_module = callee->module;
        f->st->cur_worker = callee->worker;
    }
}

static void frame_leave(frame *f)
{
    if (!f->st) return;
    f->st->cur_module = f->saved.cur_module;
    f->st->cur_worker = f->saved.cur_worker;
    f->st->attach_binding = f->saved.attach_binding;
}

static void callback_begin(frame *f, nmrh_obs *ev, uint32_t cb, const ip_binding *b, int side, uint8_t extra_flags)
{
    nmrh_ip *ip = f->ip;
    uint8_t irql = current_irql(ip);
    *ev = make(NMRH_OBS_CALLBACK, cb, obs_thread(ip, f->slot), irql, reg_module(ip, b->reg[side]),
               reg_module(ip, b->reg[1 - side]), b->serial,
               (uint8_t)(thread_flags(ip, f->st) | extra_flags | irql_flags(irql)), 0);
    gate(ip, f->slot, ev);
    emit(ip, ev);
}

static void callback_end(frame *f, nmrh_obs *ev, uint32_t status)
{
    ev->kind = NMRH_OBS_CALLBACK_RETURN;
    ev->irql = current_irql(f->ip);
    ev->flags = (uint8_t)((ev->flags & ~NMRH_OBS_F_UNGATED) | irql_flags(ev->irql));
    ev->status = status;
    emit(f->ip, ev);
    gate(f->ip, f->slot, ev);
}

static uint8_t handle_written(const nmrh_ip *ip, const ip_slot *st)
{
    if (!st || !st->registering) return 0;
    const ip_reg *r = &ip->regs[st->registering - 1];
    return (r->phandle && *r->phandle != NULL) ? NMRH_OBS_F_HANDLE_WRITTEN : 0;
}

/* Registration contexts the NMR hands to attach callbacks are our registration records. */
static ip_reg *reg_from_context(PVOID ctx)
{
    nmrh_ip *ip = g_ip;
    if (ip && is_reg(ip, ctx)) return ctx;
    if (ip) {
        finding fd = {NMRH_RULE_INTERNAL, NMRH_OBS_NONE8, NMRH_OBS_NONE8, 0, NONE32};
        record_finding(ip, &fd, current_slot(ip), current_irql(ip));
    }
    return NULL;
}

static NTSTATUS NTAPI tr_client_attach(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    ip_reg *c = reg_from_context(ClientContext);
    frame f;
    nmrh_obs ev;
    uintptr_t t;
    if (!c) return STATUS_NOINTERFACE;
    nmrh_ip *ip = c->ip;

    t = lock(ip);
    uint32_t pi = reg_of_instance(ip, ProviderRegistrationInstance, 0);
    ip_binding *b = NULL;
    if (pi != NONE32 && ip->regs[pi].worker != c->worker && !(ip->cfg.flags & NMRH_IP_F_CROSS_WORKER))
        pi = NONE32; /* another worker's sequence: declined like a module that is not interposed */
    if (pi == NONE32) {
        ip->stats.foreign_declined++;
    } else if ((b = alloc_binding(ip)) == NULL) {
        ip->stats.out_of_records++;
    } else {
        b->state = B_ATTACHING;
        b->handle = NmrBindingHandle;
        b->reg[SIDE_CLIENT] = reg_index(ip, c);
        b->reg[SIDE_PROVIDER] = pi;
        b->counted_live = 1;
        c->live++, c->refs++;
        ip->regs[pi].live++, ip->regs[pi].refs++;
        b->side[SIDE_CLIENT].has_cleanup = c->orig.c.ClientCleanupBindingContext != NULL;
        b->side[SIDE_PROVIDER].has_cleanup = ip->regs[pi].orig.p.ProviderCleanupBindingContext != NULL;
        b->in_client_attach = 1;
    }
    unlock(ip, t);
    if (pi == NONE32) return STATUS_NOINTERFACE;
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;

    frame_enter(&f, ip, c);
    b->attach_slot = f.slot;
    if (f.st) f.st->attach_binding = binding_index(ip, b) + 1;
    callback_begin(&f, &ev, NMRH_OBS_CB_CLIENT_ATTACH, b, SIDE_CLIENT, handle_written(ip, f.st));
    NTSTATUS status = c->orig.c.ClientAttachProvider(NmrBindingHandle, c->context, ProviderRegistrationInstance);
    callback_end(&f, &ev, (uint32_t)status);
    frame_leave(&f);

    finding fd = {NMRH_RULE_NONE, NMRH_OBS_WHAT_CB | NMRH_OBS_CB_CLIENT_ATTACH, c->module, b->serial, c->worker};
    t = lock(ip);
    b->in_client_attach = 0;
    if (b->nmr_attach_ok && status != STATUS_SUCCESS)
        fd.rule = NMRH_RULE_ATTACH_STATUS_MISMATCH;
    else if (!b->nmr_attach_ok && status == STATUS_SUCCESS)
        fd.rule = NMRH_RULE_ATTACH_SUCCESS_WITHOUT_BIND;
    else if (!b->nmr_attach_ok && b->nmr_attach_called && status != b->last_attach_status)
        fd.rule = NMRH_RULE_ATTACH_STATUS_MISMATCH;
    if (b->nmr_attach_ok && status == STATUS_SUCCESS) {
        if (b->state == B_ATTACHING) b->state = B_ATTACHED;
    } else if (b->state == B_ATTACHING) {
        b->state = B_DECLINED;
        binding_gone_locked(ip, b);
    }
    finding_locked(ip, &fd, f.slot, ev.irql);
    unlock(ip, t);
    return status;
}

static NTSTATUS NTAPI tr_provider_attach(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                         PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                         PVOID ClientBindingContext, const VOID *ClientDispatch,
                                         PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    ip_reg *p = reg_from_context(ProviderContext);
    ip_binding *b = ClientBindingContext;
    frame f;
    nmrh_obs ev;
    if (!p) return STATUS_NOINTERFACE;
    nmrh_ip *ip = p->ip;

    uintptr_t t = lock(ip);
    int ours = is_binding(ip, b) && b->handle == NmrBindingHandle;
    if (!ours) ip->stats.foreign_declined++;
    unlock(ip, t);
    if (!ours) return STATUS_NOINTERFACE;

    frame_enter(&f, ip, p);
    callback_begin(&f, &ev, NMRH_OBS_CB_PROVIDER_ATTACH, b, SIDE_PROVIDER, handle_written(ip, f.st));
    PVOID ctx = NULL;
    const VOID *dispatch = NULL;
    NTSTATUS status = p->orig.p.ProviderAttachClient(NmrBindingHandle, p->context, ClientRegistrationInstance,
                                                     b->ctx[SIDE_CLIENT], ClientDispatch, &ctx, &dispatch);
    callback_end(&f, &ev, (uint32_t)status);
    frame_leave(&f);
    if (status == STATUS_SUCCESS) {
        t = lock(ip);
        b->ctx[SIDE_PROVIDER] = ctx;
        unlock(ip, t);
        *ProviderBindingContext = b;
        *ProviderDispatch = dispatch;
    }
    return status;
}

static NTSTATUS detach(ip_binding *b, int side)
{
    nmrh_ip *ip = b->ip;
    ip_reg *r = &ip->regs[b->reg[side]];
    frame f;
    nmrh_obs ev;

    uintptr_t t = lock(ip);
    b->side[side].detach = D_RUNNING;
    if (b->state == B_ATTACHED) b->state = B_DETACHING;
    unlock(ip, t);

    frame_enter(&f, ip, r);
    callback_begin(&f, &ev, side == SIDE_CLIENT ? NMRH_OBS_CB_CLIENT_DETACH : NMRH_OBS_CB_PROVIDER_DETACH, b, side, 0);
    NTSTATUS status = side == SIDE_CLIENT ? r->orig.c.ClientDetachProvider(b->ctx[side])
                                          : r->orig.p.ProviderDetachClient(b->ctx[side]);
    callback_end(&f, &ev, (uint32_t)status);
    frame_leave(&f);

    finding fd = {NMRH_RULE_NONE, NMRH_OBS_WHAT_CB | ev.what, r->module, b->serial, r->worker};
    t = lock(ip);
    ip_side *s = &b->side[side];
    if (status != STATUS_SUCCESS && status != STATUS_PENDING) {
        fd.rule = NMRH_RULE_DETACH_BAD_STATUS;
    } else if (status == STATUS_SUCCESS && s->complete_called) {
        fd.rule = NMRH_RULE_COMPLETE_AFTER_SUCCESS;
    } else {
        s->detach = s->complete_called ? D_COMPLETED : status == STATUS_SUCCESS ? D_SUCCESS : D_PENDING;
        check_done_locked(ip, b);
    }
    finding_locked(ip, &fd, f.slot, ev.irql);
    unlock(ip, t);
    return status;
}

static void cleanup(ip_binding *b, int side)
{
    nmrh_ip *ip = b->ip;
    ip_reg *r = &ip->regs[b->reg[side]];
    frame f;
    nmrh_obs ev;

    frame_enter(&f, ip, r);
    callback_begin(&f, &ev, side == SIDE_CLIENT ? NMRH_OBS_CB_CLIENT_CLEANUP : NMRH_OBS_CB_PROVIDER_CLEANUP, b, side, 0);
    if (side == SIDE_CLIENT)
        r->orig.c.ClientCleanupBindingContext(b->ctx[side]);
    else
        r->orig.p.ProviderCleanupBindingContext(b->ctx[side]);
    callback_end(&f, &ev, 0);
    frame_leave(&f);

    uintptr_t t = lock(ip);
    b->side[side].cleanup_done = 1;
    if (side_done(&b->side[0]) && side_done(&b->side[1]) && cleanups_done(b)) {
        b->state = B_DEAD;
        binding_gone_locked(ip, b);
    }
    unlock(ip, t);
}

/* Contexts the NMR hands to detach and cleanup are always our binding records (attach forms no
   other bindings); anything else would be an NMR bug, reported as NMRH-INTERNAL. */
static ip_binding *binding_from_context(PVOID ctx)
{
    ip_binding *b = ctx;
    nmrh_ip *ip = g_ip;
    if (ip && is_binding(ip, b)) return b;
    if (ip) {
        finding fd = {NMRH_RULE_INTERNAL, NMRH_OBS_NONE8, NMRH_OBS_NONE8, 0, NONE32};
        record_finding(ip, &fd, current_slot(ip), current_irql(ip));
    }
    return NULL;
}

static NTSTATUS NTAPI tr_client_detach(PVOID ctx)
{
    ip_binding *b = binding_from_context(ctx);
    return b ? detach(b, SIDE_CLIENT) : STATUS_SUCCESS;
}

static NTSTATUS NTAPI tr_provider_detach(PVOID ctx)
{
    ip_binding *b = binding_from_context(ctx);
    return b ? detach(b, SIDE_PROVIDER) : STATUS_SUCCESS;
}

static VOID NTAPI tr_client_cleanup(PVOID ctx)
{
    ip_binding *b = binding_from_context(ctx);
    if (b) cleanup(b, SIDE_CLIENT);
}

static VOID NTAPI tr_provider_cleanup(PVOID ctx)
{
    ip_binding *b = binding_from_context(ctx);
    if (b) cleanup(b, SIDE_PROVIDER);
}

/* ---- NMR calls: modules call the NMR through these ---- */

typedef struct call {
    nmrh_ip *ip;
    uint32_t slot;
    ip_slot *st;
    nmrh_obs ev;
} call;

static void call_init(call *c, nmrh_ip *ip)
{
    c->ip = ip;
    c->slot = current_slot(ip);
    c->st = slot_state(ip, c->slot);
}

static uint8_t caller_module(const call *c) { return c->st ? c->st->cur_module : NMRH_OBS_NONE8; }
static uint32_t caller_worker(const call *c) { return c->st ? c->st->cur_worker : NONE32; }

/* Entry: record the call (and the finding that suppresses it), then gate. */
static void call_begin(call *c, uint32_t fn, uint8_t irql, uint8_t peer, uint8_t binding, uint8_t flags,
                       const finding *fd)
{
    nmrh_ip *ip = c->ip;
    c->ev = make(NMRH_OBS_NMR_CALL, fn, obs_thread(ip, c->slot), irql, caller_module(c), peer, binding,
                 (uint8_t)(thread_flags(ip, c->st) | flags | irql_flags(irql)), 0);
    uintptr_t t = lock(ip);
    ip->stats.events++;
    append_locked(ip, &c->ev);
    if (fd) finding_locked(ip, fd, c->slot, irql);
    unlock(ip, t);
    gate(ip, c->slot, &c->ev);
}

/* Exit: gate, then record the return. */
static void call_end(call *c, uint32_t status)
{
    c->ev.kind = NMRH_OBS_NMR_RETURN;
    c->ev.irql = current_irql(c->ip);
    c->ev.status = status;
    c->ev.flags = (uint8_t)((c->ev.flags & (NMRH_OBS_F_FAULT | NMRH_OBS_F_SUPPRESSED)) | thread_flags(c->ip, c->st) |
                            irql_flags(c->ev.irql));
    /* A wait's own return is not "inside a wait" (its call was recorded before it began). */
    if (c->ev.what == NMRH_OBS_FN_WAIT_CLIENT || c->ev.what == NMRH_OBS_FN_WAIT_PROVIDER)
        c->ev.flags = (uint8_t)(c->ev.flags & ~NMRH_OBS_F_IN_WAIT);
    gate(c->ip, c->slot, &c->ev);
    emit(c->ip, &c->ev);
}

static int take_nmr_fault(nmrh_ip *ip, uint32_t which)
{
    if (!ip->nmr_faults[which]) return 0;
    ip->nmr_faults[which]--;
    return 1;
}

static NTSTATUS ip_register(int is_client, const void *chars, PVOID context, PHANDLE handle)
{
    nmrh_ip *ip = g_ip;
    uint32_t fn = is_client ? NMRH_OBS_FN_REGISTER_CLIENT : NMRH_OBS_FN_REGISTER_PROVIDER;
    call c;
    call_init(&c, ip);
    uint8_t irql = current_irql(ip);
    const NPI_CLIENT_CHARACTERISTICS *cc = chars;
    const NPI_PROVIDER_CHARACTERISTICS *pc = chars;
    const NPI_REGISTRATION_INSTANCE *ri =
        !chars ? NULL : is_client ? &cc->ClientRegistrationInstance : &pc->ProviderRegistrationInstance;
    int has_attach = chars && (is_client ? cc->ClientAttachProvider != NULL : pc->ProviderAttachClient != NULL);
    int has_detach = chars && (is_client ? cc->ClientDetachProvider != NULL : pc->ProviderDetachClient != NULL);
    finding fd = {NMRH_RULE_NONE, (uint8_t)fn, caller_module(&c), 0, caller_worker(&c)};
    if (!chars || !handle || !ri->NpiId || !ri->ModuleId || !has_attach || !has_detach)
        fd.rule = NMRH_RULE_BAD_CHARACTERISTICS;
    else if (irql > PASSIVE_LEVEL)
        fd.rule = NMRH_RULE_IRQL_TOO_HIGH;

    ip_reg *r = NULL;
    int fault = 0;
    uintptr_t t = lock(ip);
    if (fd.rule == NMRH_RULE_NONE) {
        r = alloc_reg(ip);
        if (r == NULL) ip->stats.out_of_records++;
        fault = r == NULL || take_nmr_fault(ip, 0);
    }
    unlock(ip, t);
    if (r) {
        r->is_client = (uint8_t)!!is_client;
        r->module = caller_module(&c);
        r->worker = caller_worker(&c);
        r->phandle = handle;
        r->context = context;
        if (is_client) {
            r->orig.c = *cc;
            r->chars.c = *cc;
            r->chars.c.ClientAttachProvider = tr_client_attach;
            r->chars.c.ClientDetachProvider = tr_client_detach;
            r->chars.c.ClientCleanupBindingContext = cc->ClientCleanupBindingContext ? tr_client_cleanup : NULL;
        } else {
            r->orig.p = *pc;
            r->chars.p = *pc;
            r->chars.p.ProviderAttachClient = tr_provider_attach;
            r->chars.p.ProviderDetachClient = tr_provider_detach;
            r->chars.p.ProviderCleanupBindingContext = pc->ProviderCleanupBindingContext ? tr_provider_cleanup : NULL;
        }
        *handle = NULL; /* out parameter: lets the attach trampolines see when the NMR writes it (K3) */
    }
    uint8_t flags = fd.rule != NMRH_RULE_NONE ? NMRH_OBS_F_SUPPRESSED : fault ? NMRH_OBS_F_FAULT : 0;
    call_begin(&c, fn, irql, NMRH_OBS_NONE8, 0, flags, fd.rule != NMRH_RULE_NONE ? &fd : NULL);
    NTSTATUS status;
    if (fd.rule != NMRH_RULE_NONE) {
        status = STATUS_INVALID_PARAMETER;
    } else if (fault) {
        status = STATUS_INSUFFICIENT_RESOURCES;
    } else {
        uint32_t saved = 0;
        if (c.st) {
            saved = c.st->registering;
            c.st->registering = reg_index(ip, r) + 1;
            c.st->in_register++;
        }
        status = is_client ? NmrRegisterClient(&r->chars.c, r, handle) : NmrRegisterProvider(&r->chars.p, r, handle);
        if (c.st) {
            c.st->in_register--;
            c.st->registering = saved;
        }
    }
    call_end(&c, (uint32_t)status);
    if (r) {
        t = lock(ip);
        if (NT_SUCCESS(status) && !fault) {
            r->registered = 1;
            r->handle = *handle;
        } else {
            r->failed = 1;
            if (r->refs == 0) r->in_use = 0;
        }
        unlock(ip, t);
    }
    return status;
}

NTSTATUS NTAPI nmrh_ip_NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS ClientCharacteristics, PVOID ClientContext,
                                         PHANDLE NmrClientHandle)
{
    if (!g_ip) return NmrRegisterClient(ClientCharacteristics, ClientContext, NmrClientHandle);
    return ip_register(1, ClientCharacteristics, ClientContext, NmrClientHandle);
}

NTSTATUS NTAPI nmrh_ip_NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS ProviderCharacteristics,
                                           PVOID ProviderContext, PHANDLE NmrProviderHandle)
{
    if (!g_ip) return NmrRegisterProvider(ProviderCharacteristics, ProviderContext, NmrProviderHandle);
    return ip_register(0, ProviderCharacteristics, ProviderContext, NmrProviderHandle);
}

static NTSTATUS ip_deregister(int is_client, HANDLE h)
{
    nmrh_ip *ip = g_ip;
    uint32_t fn = is_client ? NMRH_OBS_FN_DEREGISTER_CLIENT : NMRH_OBS_FN_DEREGISTER_PROVIDER;
    call c;
    call_init(&c, ip);
    uint8_t irql = current_irql(ip);
    finding fd = {NMRH_RULE_NONE, (uint8_t)fn, caller_module(&c), 0, caller_worker(&c)};
    uintptr_t t = lock(ip);
    uint32_t ri = find_reg(ip, h, is_client, &fd.rule);
    if (ri != NONE32) {
        if (irql > DISPATCH_LEVEL)
            fd.rule = NMRH_RULE_IRQL_TOO_HIGH;
        else if (ip->regs[ri].dereg_called)
            fd.rule = NMRH_RULE_DEREGISTER_TWICE;
        else
            ip->regs[ri].dereg_called = 1;
    }
    unlock(ip, t);
    int bad = fd.rule != NMRH_RULE_NONE;
    call_begin(&c, fn, irql, NMRH_OBS_NONE8, 0, bad ? NMRH_OBS_F_SUPPRESSED : 0, bad ? &fd : NULL);
    NTSTATUS status = STATUS_INVALID_PARAMETER;
    if (!bad) {
        if (c.st) c.st->in_deregister++;
        status = is_client ? NmrDeregisterClient(h) : NmrDeregisterProvider(h);
        if (c.st) c.st->in_deregister--;
    }
    call_end(&c, (uint32_t)status);
    return status;
}

NTSTATUS NTAPI nmrh_ip_NmrDeregisterClient(HANDLE NmrClientHandle)
{
    return g_ip ? ip_deregister(1, NmrClientHandle) : NmrDeregisterClient(NmrClientHandle);
}

NTSTATUS NTAPI nmrh_ip_NmrDeregisterProvider(HANDLE NmrProviderHandle)
{
    return g_ip ? ip_deregister(0, NmrProviderHandle) : NmrDeregisterProvider(NmrProviderHandle);
}

static NTSTATUS ip_wait(int is_client, HANDLE h)
{
    nmrh_ip *ip = g_ip;
    uint32_t fn = is_client ? NMRH_OBS_FN_WAIT_CLIENT : NMRH_OBS_FN_WAIT_PROVIDER;
    call c;
    call_init(&c, ip);
    uint8_t irql = current_irql(ip);
    finding fd = {NMRH_RULE_NONE, (uint8_t)fn, caller_module(&c), 0, caller_worker(&c)};
    uintptr_t t = lock(ip);
    uint32_t ri = find_reg(ip, h, is_client, &fd.rule);
    if (ri != NONE32) {
        ip_reg *r = &ip->regs[ri];
        if (irql > APC_LEVEL)
            fd.rule = NMRH_RULE_IRQL_TOO_HIGH;
        else if (!r->dereg_called)
            fd.rule = NMRH_RULE_WAIT_WITHOUT_DEREGISTER;
        else if (r->wait_called)
            fd.rule = NMRH_RULE_WAIT_TWICE;
        else
            r->wait_called = 1;
    }
    unlock(ip, t);
    int bad = fd.rule != NMRH_RULE_NONE;
    call_begin(&c, fn, irql, NMRH_OBS_NONE8, 0, bad ? NMRH_OBS_F_SUPPRESSED : 0, bad ? &fd : NULL);
    NTSTATUS status = STATUS_INVALID_PARAMETER;
    if (!bad) {
        uint32_t saved = c.st ? c.st->waiting : 0;
        if (c.st) c.st->waiting = ri + 1;
        status = is_client ? NmrWaitForClientDeregisterComplete(h) : NmrWaitForProviderDeregisterComplete(h);
        /* Still "waiting" until past the exit gate: until it parks there, the replay scheduler
           must know that this thread is on its way back from the wait (nmrh_ip_expects_wake). */
        call_end(&c, (uint32_t)status);
        if (c.st) c.st->waiting = saved;
        t = lock(ip);
        ip->regs[ri].wait_returned = 1;
        recycle_locked(ip);
        unlock(ip, t);
    } else {
        call_end(&c, (uint32_t)status);
    }
    return status;
}

NTSTATUS NTAPI nmrh_ip_NmrWaitForClientDeregisterComplete(HANDLE NmrClientHandle)
{
    return g_ip ? ip_wait(1, NmrClientHandle) : NmrWaitForClientDeregisterComplete(NmrClientHandle);
}

NTSTATUS NTAPI nmrh_ip_NmrWaitForProviderDeregisterComplete(HANDLE NmrProviderHandle)
{
    return g_ip ? ip_wait(0, NmrProviderHandle) : NmrWaitForProviderDeregisterComplete(NmrProviderHandle);
}

/* A binding handle where a registration handle of either kind was given: wrong kind, else bad. */
static nmrh_rule bad_binding_handle(const nmrh_ip *ip, HANDLE h)
{
    nmrh_rule why = NMRH_RULE_BAD_HANDLE;
    if (h != NULL && (find_reg(ip, h, 1, &why) != NONE32 || find_reg(ip, h, 0, &why) != NONE32))
        return NMRH_RULE_WRONG_HANDLE_KIND;
    return NMRH_RULE_BAD_HANDLE;
}

NTSTATUS NTAPI nmrh_ip_NmrClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientBindingContext,
                                               const VOID *ClientDispatch, PVOID *ProviderBindingContext,
                                               const VOID **ProviderDispatch)
{
    nmrh_ip *ip = g_ip;
    if (!ip)
        return NmrClientAttachProvider(NmrBindingHandle, ClientBindingContext, ClientDispatch, ProviderBindingContext,
                                       ProviderDispatch);
    const uint32_t fn = NMRH_OBS_FN_CLIENT_ATTACH_PROVIDER;
    call c;
    call_init(&c, ip);
    uint8_t irql = current_irql(ip);
    finding fd = {NMRH_RULE_NONE, (uint8_t)fn, caller_module(&c), 0, caller_worker(&c)};
    ip_binding *b = NULL;
    int fault = 0;
    uint8_t peer = NMRH_OBS_NONE8, serial = 0;

    uintptr_t t = lock(ip);
    uint32_t bi = find_binding(ip, NmrBindingHandle);
    if (bi == NONE32) {
        fd.rule = bad_binding_handle(ip, NmrBindingHandle);
    } else {
        b = &ip->bindings[bi];
        serial = b->serial;
        peer = reg_module(ip, b->reg[SIDE_PROVIDER]);
        fd.binding = serial;
        if (irql > PASSIVE_LEVEL)
            fd.rule = NMRH_RULE_IRQL_TOO_HIGH;
        else if (b->nmr_attach_ok)
            fd.rule = NMRH_RULE_ATTACH_AFTER_SUCCESS;
        else if (b->state != B_ATTACHING || !b->in_client_attach || b->attach_slot != c.slot)
            fd.rule = NMRH_RULE_ATTACH_OUTSIDE_CALLBACK;
        else if (!ProviderBindingContext || !ProviderDispatch)
            fd.rule = NMRH_RULE_BAD_CHARACTERISTICS;
        else {
            b->nmr_attach_called = 1;
            fault = take_nmr_fault(ip, 1);
            if (fault) b->last_attach_status = STATUS_INSUFFICIENT_RESOURCES;
        }
    }
    unlock(ip, t);
    int bad = fd.rule != NMRH_RULE_NONE;
    call_begin(&c, fn, irql, peer, serial, bad ? NMRH_OBS_F_SUPPRESSED : fault ? NMRH_OBS_F_FAULT : 0, bad ? &fd : NULL);
    NTSTATUS status;
    if (bad) {
        status = STATUS_INVALID_PARAMETER;
    } else if (fault) {
        status = STATUS_INSUFFICIENT_RESOURCES;
    } else {
        PVOID raw = NULL;
        const VOID *dispatch = NULL;
        t = lock(ip);
        b->ctx[SIDE_CLIENT] = ClientBindingContext;
        b->in_client_attach = 0; /* a nested NmrClientAttachProvider from the provider is outside */
        unlock(ip, t);
        status = NmrClientAttachProvider(NmrBindingHandle, b, ClientDispatch, &raw, &dispatch);
        t = lock(ip);
        b->in_client_attach = 1;
        b->last_attach_status = status;
        PVOID provider_ctx = raw == (PVOID)b ? b->ctx[SIDE_PROVIDER] : raw;
        if (status == STATUS_SUCCESS) b->nmr_attach_ok = 1;
        unlock(ip, t);
        if (status == STATUS_SUCCESS) {
            *ProviderBindingContext = provider_ctx;
            *ProviderDispatch = dispatch;
        }
    }
    call_end(&c, (uint32_t)status);
    return status;
}

static void ip_complete(int side, HANDLE h)
{
    nmrh_ip *ip = g_ip;
    uint32_t fn = side == SIDE_CLIENT ? NMRH_OBS_FN_CLIENT_DETACH_COMPLETE : NMRH_OBS_FN_PROVIDER_DETACH_COMPLETE;
    call c;
    call_init(&c, ip);
    uint8_t irql = current_irql(ip);
    finding fd = {NMRH_RULE_NONE, (uint8_t)fn, caller_module(&c), 0, caller_worker(&c)};
    uint8_t peer = NMRH_OBS_NONE8, serial = 0;

    uintptr_t t = lock(ip);
    uint32_t bi = find_binding(ip, h);
    if (bi == NONE32) {
        fd.rule = bad_binding_handle(ip, h);
    } else {
        ip_binding *b = &ip->bindings[bi];
        ip_side *s = &b->side[side];
        serial = fd.binding = b->serial;
        peer = reg_module(ip, b->reg[1 - side]);
        if (irql > DISPATCH_LEVEL)
            fd.rule = NMRH_RULE_IRQL_TOO_HIGH;
        else if (s->complete_called)
            fd.rule = NMRH_RULE_COMPLETE_TWICE;
        else if (s->detach == D_SUCCESS)
            fd.rule = NMRH_RULE_COMPLETE_AFTER_SUCCESS;
        else if (b->state == B_DECLINED || b->state == B_DEAD)
            fd.rule = NMRH_RULE_BAD_HANDLE;
        else {
            /* State first: cleanup may run inline inside the real call below (K5). */
            s->complete_called = 1;
            if (s->detach == D_PENDING) {
                s->detach = D_COMPLETED;
                check_done_locked(ip, b);
            }
        }
    }
    unlock(ip, t);
    int bad = fd.rule != NMRH_RULE_NONE;
    call_begin(&c, fn, irql, peer, serial, bad ? NMRH_OBS_F_SUPPRESSED : 0, bad ? &fd : NULL);
    if (!bad) {
        if (c.st) c.st->in_complete++;
        if (side == SIDE_CLIENT)
            NmrClientDetachProviderComplete(h);
        else
            NmrProviderDetachClientComplete(h);
        if (c.st) c.st->in_complete--;
    }
    call_end(&c, 0);
}

VOID NTAPI nmrh_ip_NmrClientDetachProviderComplete(HANDLE NmrBindingHandle)
{
    if (g_ip)
        ip_complete(SIDE_CLIENT, NmrBindingHandle);
    else
        NmrClientDetachProviderComplete(NmrBindingHandle);
}

VOID NTAPI nmrh_ip_NmrProviderDetachClientComplete(HANDLE NmrBindingHandle)
{
    if (g_ip)
        ip_complete(SIDE_PROVIDER, NmrBindingHandle);
    else
        NmrProviderDetachClientComplete(NmrBindingHandle);
}

/* ---- pool allocations of module code: fail-allocs ---- */

static int inject_alloc_failure(void)
{
    nmrh_ip *ip = g_ip;
    if (!ip) return 0;
    ip_slot *st = slot_state(ip, current_slot(ip));
    if (!st || st->cur_module >= NMRH_IP_MAX_MODULES || st->cur_worker >= ip->cfg.workers) return 0;
    int fail = 0;
    uintptr_t t = lock(ip);
    ip_fail *f = &ip->fail[st->cur_worker * NMRH_IP_MAX_MODULES + st->cur_module];
    if (f->skip)
        f->skip--;
    else if (f->count)
        f->count--, fail = 1;
    unlock(ip, t);
    return fail;
}

PVOID NTAPI nmrh_ip_ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    return inject_alloc_failure() ? NULL : ExAllocatePool2(Flags, NumberOfBytes, Tag);
}

PVOID NTAPI nmrh_ip_ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return inject_alloc_failure() ? NULL : ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}

/* ---- rule 9 ---- */

void nmrh_ip_check_peer_call(void *binding_handle, int caller_is_client)
{
    nmrh_ip *ip = g_ip;
    if (!ip) return;
    uint32_t slot = current_slot(ip);
    uint8_t irql = current_irql(ip);
    int side = caller_is_client ? SIDE_CLIENT : SIDE_PROVIDER;
    uintptr_t t = lock(ip);
    uint32_t bi = find_binding(ip, binding_handle);
    if (bi != NONE32) {
        const ip_binding *b = &ip->bindings[bi];
        const ip_side *s = &b->side[side];
        if (b->state == B_DEAD || s->detach == D_SUCCESS || s->complete_called) {
            const ip_reg *r = &ip->regs[b->reg[side]];
            finding fd = {NMRH_RULE_CALL_AFTER_DETACH, NMRH_OBS_NONE8, r->module, b->serial, r->worker};
            finding_locked(ip, &fd, slot, irql);
        }
    }
    unlock(ip, t);
}

/* ---- platform hooks ---- */

void nmrh_ip_thread_begin(nmrh_ip *ip, uint32_t slot, uint32_t module)
{
    ip_slot *st = slot_state(ip, slot);
    if (!st) return;
    uint32_t worker = st->cur_worker;
    memset(st, 0, sizeof *st);
    st->cur_worker = slot < ip->seq_slots ? slot / ip->cfg.threads_per_worker : worker;
    st->cur_module = module < NMRH_IP_MAX_MODULES ? (uint8_t)module : NMRH_IP_MODULE_NONE;
}

void nmrh_ip_thread_end(nmrh_ip *ip, uint32_t slot)
{
    ip_slot *st = slot_state(ip, slot);
    uint8_t module = st ? st->cur_module : NMRH_OBS_NONE8;
    nmrh_obs o = make(NMRH_OBS_THREAD_END, 0, obs_thread(ip, slot), current_irql(ip), module, NMRH_OBS_NONE8, 0, 0, 0);
    emit(ip, &o);
}

void nmrh_ip_record(nmrh_ip *ip, uint32_t index)
{
    nmrh_obs o = make(NMRH_OBS_RECORD, 0, NMRH_OBS_THREAD_NONE, 0, NMRH_OBS_NONE8, NMRH_OBS_NONE8, 0, 0, index);
    emit(ip, &o);
}

void nmrh_ip_note(nmrh_ip *ip, uint32_t kind, uint32_t slot)
{
    ip_slot *st = slot_state(ip, slot);
    uint8_t flags = (uint8_t)(st && st->waiting ? NMRH_OBS_F_IN_WAIT : 0);
    nmrh_obs o = make(kind, 0, obs_thread(ip, slot), 0, st ? st->cur_module : NMRH_OBS_NONE8, NMRH_OBS_NONE8, 0, flags, 0);
    if (kind == NMRH_OBS_HANG) {
        uintptr_t t = lock(ip);
        finding fd = {NMRH_RULE_HANG, NMRH_OBS_NONE8, o.module, 0, NONE32};
        append_locked(ip, &o);
        finding_locked(ip, &fd, slot, 0);
        unlock(ip, t);
        return;
    }
    emit(ip, &o);
}

void nmrh_ip_set_worker_tag(nmrh_ip *ip, uint32_t worker, uint32_t tag)
{
    if (worker < ip->cfg.workers) ip->worker_tags[worker] = tag;
}

void nmrh_ip_module_unloaded(nmrh_ip *ip, uint32_t worker, uint32_t module)
{
    uintptr_t t = lock(ip);
    for (uint32_t i = 0; i < ip->cfg.max_regs; i++) {
        const ip_reg *r = &ip->regs[i];
        if (!r->in_use || !r->registered || r->failed || r->wait_returned || r->worker != worker || r->module != module)
            continue;
        finding fd = {NMRH_RULE_UNLOAD_BEFORE_WAIT, NMRH_OBS_NONE8, r->module, 0, r->worker};
        finding_locked(ip, &fd, NMRH_IP_NO_SLOT, 0);
        break;
    }
    unlock(ip, t);
}

void nmrh_ip_fail_allocs(nmrh_ip *ip, uint32_t worker, uint32_t module, uint32_t skip, uint32_t count)
{
    if (worker >= ip->cfg.workers || module >= NMRH_IP_MAX_MODULES) return;
    uintptr_t t = lock(ip);
    ip->fail[worker * NMRH_IP_MAX_MODULES + module].skip = skip;
    ip->fail[worker * NMRH_IP_MAX_MODULES + module].count = count;
    unlock(ip, t);
}

void nmrh_ip_fail_nmr(nmrh_ip *ip, uint32_t which, uint32_t count)
{
    if (which > 1) return;
    uintptr_t t = lock(ip);
    ip->nmr_faults[which] = count;
    unlock(ip, t);
}

int nmrh_ip_expects_wake(nmrh_ip *ip, uint32_t slot)
{
    const ip_slot *st = slot_state(ip, slot);
    if (!st || !st->waiting) return 0;
    uintptr_t t = lock(ip);
    const ip_reg *r = &ip->regs[st->waiting - 1];
    int drained = r->dereg_called && r->live == 0;
    unlock(ip, t);
    return drained;
}

int nmrh_ip_in_wait(nmrh_ip *ip, uint32_t slot)
{
    const ip_slot *st = slot_state(ip, slot);
    return st && st->waiting;
}

const nmrh_obs *nmrh_ip_log(const nmrh_ip *ip, uint32_t *count)
{
    *count = ip->nlog;
    return ip->log;
}

nmrh_ip_stats nmrh_ip_get_stats(const nmrh_ip *ip) { return ip->stats; }

uint32_t nmrh_ip_worker_findings(nmrh_ip *ip, uint32_t worker)
{
    if (worker >= ip->cfg.workers) return 0;
    uintptr_t t = lock(ip);
    uint32_t n = ip->worker_findings[worker];
    unlock(ip, t);
    return n;
}

void nmrh_ip_set_recording(nmrh_ip *ip, int on)
{
    uintptr_t t = lock(ip);
    if (on)
        ip->cfg.flags |= NMRH_IP_F_RECORD_EVENTS;
    else
        ip->cfg.flags &= ~NMRH_IP_F_RECORD_EVENTS;
    unlock(ip, t);
}
const uint32_t *nmrh_ip_rule_counts(const nmrh_ip *ip) { return ip->rule_counts; }
