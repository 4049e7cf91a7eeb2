/*
 * The NMR test double (ktd_nmr.h). Semantics follow docs/nmr-contract.md section 2 and the knob
 * choices of ktd_nmr_config: attach runs on the thread that registers later, inside its
 * Nmr*Register* call (K2); Deregister always returns STATUS_PENDING (K1); a binding whose attach
 * is in flight when a side deregisters is detached when the attach returns (K8); Complete may
 * come early or before the detach callback (K6, K7). Detach callbacks run on the deregistering
 * thread, on one worker thread, or on a worker per side, and cleanup inline or on a worker of its
 * own, as the configuration says (K4, K5). Registrations and bindings are heap objects whose
 * addresses are the handles; they are freed when the registration's Wait returns and nothing
 * refers to them any more.
 *
 * The host (lock, condition, threads, memory) is ktd_nmr_os.h: pthreads for the user-mode tests,
 * kernel APIs for the Wine-only NETIO.SYS that runs the real driver binary (stress/wine/).
 */
#include <ntddk.h>
#include <netioddk.h>

#include "ktd_nmr.h"
#include "ktd_nmr_os.h"

enum { B_ATTACHING, B_ATTACHED, B_DECLINED, B_DETACHING, B_CLEANING, B_DEAD };
enum { D_NONE, D_RUNNING, D_SUCCESS, D_PENDING, D_COMPLETED };

typedef struct reg reg;
struct reg {
    reg *next;
    int is_client, dereg, waited;
    int live;  /* bindings attaching, attached or detaching */
    int refs;  /* bindings naming this registration */
    const void *chars;
    PVOID context;
};

typedef struct binding binding;
struct binding {
    binding *next;
    reg *c, *p;
    int state, attach_ok, detach_requested;
    int detach[2], complete[2];
    PVOID ctx[2];
};

static reg *g_regs, **g_regs_tail = &g_regs;
static binding *g_bindings;
static ktd_nmr_config g_cfg;
static int g_live_regs, g_live_bindings;

void ktd_nmr_configure(const ktd_nmr_config *cfg) { g_cfg = *cfg; }

int ktd_nmr_live_registrations(void)
{
    ktd_os_lock();
    int n = g_live_regs;
    ktd_os_unlock();
    return n;
}

int ktd_nmr_live_bindings(void)
{
    ktd_os_lock();
    int n = g_live_bindings;
    ktd_os_unlock();
    return n;
}

static const NPI_CLIENT_CHARACTERISTICS *cchars(const reg *r) { return r->chars; }
static const NPI_PROVIDER_CHARACTERISTICS *pchars(const reg *r) { return r->chars; }

static const NPI_REGISTRATION_INSTANCE *instance(const reg *r)
{
    return r->is_client ? &cchars(r)->ClientRegistrationInstance : &pchars(r)->ProviderRegistrationInstance;
}

/* ---- freeing (with the lock) ---- */

static void unlink_reg(reg *r)
{
    for (reg **pp = &g_regs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            if (g_regs_tail == &r->next) g_regs_tail = pp;
            ktd_os_free(r);
            g_live_regs--;
            return;
        }
}

static void collect_locked(void)
{
    for (binding **pp = &g_bindings; *pp;) {
        binding *b = *pp;
        if ((b->state == B_DEAD || b->state == B_DECLINED) && b->c->waited && b->p->waited) {
            *pp = b->next;
            b->c->refs--, b->p->refs--;
            ktd_os_free(b);
        } else {
            pp = &b->next;
        }
    }
    for (reg *r = g_regs, *next; r; r = next) {
        next = r->next;
        if (r->waited && r->refs == 0) unlink_reg(r);
    }
}

static void binding_gone_locked(binding *b, int state)
{
    b->state = state;
    b->c->live--, b->p->live--;
    g_live_bindings--;
    ktd_os_broadcast();
}

/* ---- cleanup and detach ---- */

static void run_cleanup(binding *b)
{
    PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN cf = cchars(b->c)->ClientCleanupBindingContext;
    PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN pf = pchars(b->p)->ProviderCleanupBindingContext;
    if (cf) cf(b->ctx[0]);
    if (pf) pf(b->ctx[1]);
    ktd_os_lock();
    binding_gone_locked(b, B_DEAD);
    ktd_os_unlock();
}

static void cleanup_worker(void *arg) { run_cleanup(arg); }

static void both_sides_done(binding *b)
{
    if (g_cfg.cleanup_deferred)
        ktd_os_start_thread(cleanup_worker, b);
    else
        run_cleanup(b);
}

static int side_done(int d) { return d == D_SUCCESS || d == D_COMPLETED; }

/* With the lock: true when the binding just finished detaching (its cleanup is for the caller). */
static int finished_locked(binding *b)
{
    if (b->state != B_DETACHING || !side_done(b->detach[0]) || !side_done(b->detach[1])) return 0;
    b->state = B_CLEANING;
    return 1;
}

static void detach_side(binding *b, int s)
{
    ktd_os_lock();
    if (b->detach[s] != D_NONE) {
        ktd_os_unlock();
        return;
    }
    b->detach[s] = D_RUNNING;
    ktd_os_unlock();
    KIRQL old = PASSIVE_LEVEL;
    if (g_cfg.detach_at_dispatch) KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS status = s == 0 ? cchars(b->c)->ClientDetachProvider(b->ctx[0]) : pchars(b->p)->ProviderDetachClient(b->ctx[1]);
    if (g_cfg.detach_at_dispatch) KeLowerIrql(old);
    ktd_os_lock();
    b->detach[s] = b->complete[s] ? D_COMPLETED : status == STATUS_SUCCESS ? D_SUCCESS : D_PENDING;
    int done = finished_locked(b);
    ktd_os_unlock();
    if (done) both_sides_done(b);
}

static void run_detach(binding *b)
{
    int first = g_cfg.provider_first ? 1 : 0;
    detach_side(b, first);
    detach_side(b, 1 - first);
}

static void detach_worker(void *arg) { run_detach(arg); }

/* One side's detach on a worker of its own (detach_per_side): the job names the side. */
typedef struct side_job {
    binding *b;
    int side;
} side_job;

static void side_worker(void *arg)
{
    side_job job = *(side_job *)arg;
    ktd_os_free(arg);
    detach_side(job.b, job.side);
}

static void start_side_worker(binding *b, int side)
{
    side_job *job = ktd_os_zalloc(sizeof *job);
    if (!job) ktd_os_fatal("no memory for a detach job");
    job->b = b, job->side = side;
    ktd_os_start_thread(side_worker, job);
}

static void start_detach(binding *b)
{
    if (g_cfg.detach_per_side) {
        int first = g_cfg.provider_first ? 1 : 0;
        start_side_worker(b, first);
        start_side_worker(b, 1 - first);
    } else if (g_cfg.detach_on_worker) {
        ktd_os_start_thread(detach_worker, b);
    } else {
        run_detach(b);
    }
}

/* ---- registration and attach ---- */

/* With the lock: a new binding of the pair, counted live at once, so that neither side's Wait
   can return before the attach is over (an NMR never calls back after Wait returned). NULL when
   a side has started deregistering. */
static binding *new_binding_locked(reg *c, reg *p)
{
    if (c->dereg || p->dereg) return NULL;
    binding *b = ktd_os_zalloc(sizeof *b);
    if (!b) ktd_os_fatal("no memory for a binding");
    b->c = c, b->p = p;
    b->next = g_bindings;
    g_bindings = b;
    c->live++, p->live++;
    c->refs++, p->refs++;
    g_live_bindings++;
    return b;
}

static void attach_pair(binding *b)
{
    reg *c = b->c, *p = b->p;
    NTSTATUS status = cchars(c)->ClientAttachProvider(b, c->context, instance(p));

    ktd_os_lock();
    int late = 0;
    if (b->attach_ok && status == STATUS_SUCCESS) {
        b->state = B_ATTACHED;
        if (b->detach_requested || c->dereg || p->dereg) {
            b->state = B_DETACHING;
            late = 1;
        }
    } else {
        binding_gone_locked(b, B_DECLINED);
    }
    ktd_os_unlock();
    if (late) start_detach(b);
}

static NTSTATUS do_register(int is_client, const void *chars, PVOID context, PHANDLE handle)
{
    reg *r = ktd_os_zalloc(sizeof *r);
    if (!r) return STATUS_INSUFFICIENT_RESOURCES;
    r->is_client = is_client;
    r->chars = chars;
    r->context = context;
    reg *peers[64];
    int n = 0;
    ktd_os_lock();
    for (reg *q = g_regs; q && n < 64; q = q->next)
        if (q->is_client != is_client && !q->dereg && IsEqualGUID(instance(q)->NpiId, instance(r)->NpiId)) peers[n++] = q;
    for (int i = 0; i < n; i++) peers[i]->refs++; /* kept while we attach to them */
    *g_regs_tail = r;
    g_regs_tail = &r->next;
    g_live_regs++;
    if (!g_cfg.handle_after_attach) *handle = r;
    ktd_os_unlock();

    for (int i = 0; i < n; i++) {
        ktd_os_lock();
        binding *b = new_binding_locked(is_client ? r : peers[i], is_client ? peers[i] : r);
        ktd_os_unlock();
        if (b) attach_pair(b);
    }
    ktd_os_lock();
    for (int i = 0; i < n; i++) peers[i]->refs--;
    if (g_cfg.handle_after_attach) *handle = r;
    ktd_os_unlock();
    return STATUS_SUCCESS;
}

NTSTATUS NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS ClientCharacteristics, PVOID ClientContext, PHANDLE NmrClientHandle)
{
    return do_register(1, ClientCharacteristics, ClientContext, NmrClientHandle);
}

NTSTATUS NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS ProviderCharacteristics, PVOID ProviderContext,
                             PHANDLE NmrProviderHandle)
{
    return do_register(0, ProviderCharacteristics, ProviderContext, NmrProviderHandle);
}

NTSTATUS NmrClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientBindingContext, const VOID *ClientDispatch,
                                 PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    binding *b = NmrBindingHandle;
    PVOID ctx = NULL;
    const VOID *dispatch = NULL;
    NTSTATUS status = pchars(b->p)->ProviderAttachClient(b, b->p->context, instance(b->c), ClientBindingContext,
                                                         ClientDispatch, &ctx, &dispatch);
    if (status == STATUS_SUCCESS) {
        ktd_os_lock();
        b->attach_ok = 1;
        b->ctx[0] = ClientBindingContext;
        b->ctx[1] = ctx;
        ktd_os_unlock();
        *ProviderBindingContext = ctx;
        *ProviderDispatch = dispatch;
    }
    return status;
}

static NTSTATUS do_deregister(HANDLE h)
{
    enum { MAX_DETACH = 256 };
    reg *r = h;
    binding **list = ktd_os_zalloc(MAX_DETACH * sizeof *list); /* not on the stack: kernel stacks are small */
    int n = 0;
    if (!list) ktd_os_fatal("no memory for a deregistration");
    ktd_os_lock();
    r->dereg = 1;
    /* Oldest first, as the model does: the list is newest first. */
    for (binding *b = g_bindings; b; b = b->next) {
        if (b->c != r && b->p != r) continue;
        if (b->state == B_ATTACHING)
            b->detach_requested = 1;
        else if (b->state == B_ATTACHED && n < MAX_DETACH)
            list[n++] = b;
    }
    for (int i = 0; i < n; i++) list[i]->state = B_DETACHING;
    ktd_os_unlock();
    for (int i = n - 1; i >= 0; i--) start_detach(list[i]);
    ktd_os_free(list);
    return STATUS_PENDING;
}

NTSTATUS NmrDeregisterClient(HANDLE NmrClientHandle) { return do_deregister(NmrClientHandle); }
NTSTATUS NmrDeregisterProvider(HANDLE NmrProviderHandle) { return do_deregister(NmrProviderHandle); }

static NTSTATUS do_wait(HANDLE h)
{
    reg *r = h;
    ktd_os_lock();
    while (r->live > 0 || g_cfg.never_release_waits) ktd_os_wait();
    r->waited = 1;
    collect_locked();
    ktd_os_unlock();
    return STATUS_SUCCESS;
}

NTSTATUS NmrWaitForClientDeregisterComplete(HANDLE NmrClientHandle) { return do_wait(NmrClientHandle); }
NTSTATUS NmrWaitForProviderDeregisterComplete(HANDLE NmrProviderHandle) { return do_wait(NmrProviderHandle); }

static void do_complete(HANDLE h, int s)
{
    binding *b = h;
    ktd_os_lock();
    b->complete[s] = 1;
    int done = 0;
    if (b->detach[s] == D_PENDING) {
        b->detach[s] = D_COMPLETED;
        done = finished_locked(b);
    }
    ktd_os_unlock();
    if (done) both_sides_done(b);
}

VOID NmrClientDetachProviderComplete(HANDLE NmrBindingHandle) { do_complete(NmrBindingHandle, 0); }
VOID NmrProviderDetachClientComplete(HANDLE NmrBindingHandle) { do_complete(NmrBindingHandle, 1); }
