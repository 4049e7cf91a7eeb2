/*
 * The knobs of the NMR contract (spec section 3), observed from module code: for every knob in
 * knobs.h and every value, the value is reachable (fixed, and left to the chooser) and has its
 * documented effect. Also the fixed facts K1 (Deregister always pends) and K2 (attach runs inside
 * the later Nmr*Register* call) and the module behaviours K6 (early completion), K7
 * (pre-completion) and K8 (late bind), which a correct module may rely on without a finding.
 *
 * The modules here are a "probe" client and provider of a private NPI: their callbacks log which
 * logical thread runs them, at which IRQL, and what they see, into the scenario's own state.
 */
#include "../support/check.h"
#include "../support/shim_test.h"
#include "../support/harness.h"
#include "echo_modules.h"
#include "nmrh/world.h"

#include <ntddk.h>
#include <netioddk.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {6e6d7268-6b6e-6f62-8000-000000000001} */
DEFINE_GUID(PROBE_NPI_ID, 0x6e6d7268, 0x6b6e, 0x6f62, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01);

enum { CLIENT = 0, PROVIDER = 1 };
#define NO_THREAD UINT32_MAX
#define MAX_EVENTS 64

typedef enum {
    DET_SUCCESS,          /* detach returns STATUS_SUCCESS */
    DET_PENDING,          /* returns STATUS_PENDING; someone else completes (or pre-completed) */
    DET_COMPLETE_INSIDE,  /* calls Complete from inside the callback, then returns STATUS_PENDING (K6) */
    DET_PARK,             /* passes a primitive scheduling point inside the callback, returns STATUS_PENDING */
    DET_WORKITEM,         /* queues a work item that completes, returns STATUS_PENDING */
    DET_WAIT_PEER,        /* blocks until the other side's detach callback ran, returns STATUS_SUCCESS */
    DET_SIGNAL_PEER,      /* signals the waiting side, returns STATUS_SUCCESS */
} detach_mode;

typedef enum {
    EV_ATTACH,            /* [side] attach callback entered */
    EV_ATTACH_RETURN,     /* [side] attach callback about to return */
    EV_DETACH,            /* [side] detach callback entered */
    EV_DETACH_RETURN,     /* [side] detach callback about to return */
    EV_CLEANUP,           /* [side] cleanup callback */
    EV_COMPLETE_CALL,     /* [side] module calls Nmr*DetachComplete */
    EV_COMPLETE_RETURN,   /* [side] ... and it returned */
    EV_DEREG_RETURN,      /* [side] Nmr*Deregister* returned */
    EV_WAIT_RETURN,       /* [side] NmrWaitFor*DeregisterComplete returned */
} event_kind;

typedef struct probe_event {
    event_kind kind;
    int side;
    uint32_t thread;      /* logical thread id */
    KIRQL irql;           /* KeGetCurrentIrql() in the callback */
    bool in_register;     /* the thread was inside its own Nmr*Register* call */
    bool in_complete;     /* the thread was inside a Nmr*DetachComplete call */
    HANDLE handle_seen;   /* attach: the side's registration handle variable, as the callback saw it */
} probe_event;

struct probe;
typedef struct probe_side {
    struct probe *p;
    int side;
} probe_side;

typedef struct probe {
    nmrh_world *w;
    NPI_MODULEID module_id[2];
    NPI_CLIENT_CHARACTERISTICS cchars;
    NPI_PROVIDER_CHARACTERISTICS pchars;
    uint32_t module[2];
    HANDLE reg[2];              /* written by Nmr*Register* */
    HANDLE binding[2];          /* each side's copy of the binding handle */
    probe_side ctx[2];          /* binding contexts */
    PVOID peer_ctx_seen;        /* provider binding context NmrClientAttachProvider handed back */
    detach_mode mode[2];
    NTSTATUS reg_status[2], dereg_status[2], wait_status[2];
    uint32_t register_thread[2];/* thread inside Nmr*Register* for that side, or NO_THREAD */
    uint32_t register_order[2]; /* order in which the two registrations entered NmrRegister* */
    uint32_t nregistered;
    uint32_t unload_thread[2];
    uint32_t complete_thread[2];/* thread inside that side's Nmr*DetachComplete, or NO_THREAD */
    bool attach_entered[2], detach_entered[2];
    bool attached_when_register_returned;
    KIRQL complete_irql;        /* IRQL the completer thread raises to before completing */
    KIRQL irql_after_dereg;
    KEVENT peer_event;
    LONG park;
    probe_event log[MAX_EVENTS];
    int nlog;
} probe;

typedef struct probe_dispatch {
    USHORT Version, Length;
} probe_dispatch;
static const probe_dispatch probe_client_dispatch = {1, sizeof(probe_dispatch)};
static const probe_dispatch probe_provider_dispatch = {1, sizeof(probe_dispatch)};

static uint32_t cur_tid(void)
{
    const nmrh_thread *t = nmrh_world_current_thread(nmrh_world_current());
    return t ? nmrh_thread_id(t) : NO_THREAD;
}

static probe_event *plog(probe *p, event_kind kind, int side)
{
    if (p->nlog >= MAX_EVENTS) abort();
    probe_event *e = &p->log[p->nlog++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->side = side;
    e->thread = cur_tid();
    e->irql = KeGetCurrentIrql();
    e->in_register = e->thread != NO_THREAD && p->register_thread[side] == e->thread;
    e->in_complete = e->thread != NO_THREAD && (p->complete_thread[CLIENT] == e->thread || p->complete_thread[PROVIDER] == e->thread);
    return e;
}

/* Index of the n-th (from 0) event of that kind and side, or -1. */
static int find_ev(const probe *p, event_kind kind, int side, int n)
{
    for (int i = 0; i < p->nlog; i++)
        if (p->log[i].kind == kind && p->log[i].side == side && n-- == 0) return i;
    return -1;
}

static int count_ev(const probe *p, event_kind kind, int side)
{
    int c = 0;
    for (int i = 0; i < p->nlog; i++) c += p->log[i].kind == kind && p->log[i].side == side;
    return c;
}

static const probe_event *ev(const probe *p, event_kind kind, int side)
{
    int i = find_ev(p, kind, side, 0);
    return i >= 0 ? &p->log[i] : NULL;
}

static const char *tname(const probe *p, uint32_t id)
{
    const nmrh_thread *t = nmrh_world_thread(p->w, id);
    return t ? nmrh_thread_name(t) : "?";
}

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* ---- the probe modules ---- */

static void probe_complete(probe *p, int side)
{
    p->complete_thread[side] = cur_tid();
    plog(p, EV_COMPLETE_CALL, side);
    if (side == CLIENT)
        NmrClientDetachProviderComplete(p->binding[CLIENT]);
    else
        NmrProviderDetachClientComplete(p->binding[PROVIDER]);
    plog(p, EV_COMPLETE_RETURN, side);
    p->complete_thread[side] = NO_THREAD;
}

static NTSTATUS NTAPI probe_client_attach(HANDLE NmrBindingHandle, PVOID ClientContext,
                                          PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    probe *p = ClientContext;
    probe_event *e = plog(p, EV_ATTACH, CLIENT);
    e->handle_seen = p->reg[CLIENT];
    p->attach_entered[CLIENT] = true;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &PROBE_NPI_ID)) abort(); /* only one NPI here */
    p->binding[CLIENT] = NmrBindingHandle;
    PVOID provider_ctx = NULL;
    const VOID *provider_dispatch = NULL;
    NTSTATUS status = NmrClientAttachProvider(NmrBindingHandle, &p->ctx[CLIENT], &probe_client_dispatch, &provider_ctx,
                                              &provider_dispatch);
    if (NT_SUCCESS(status)) p->peer_ctx_seen = provider_ctx;
    plog(p, EV_ATTACH_RETURN, CLIENT);
    return status;
}

static NTSTATUS NTAPI probe_provider_attach(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                            PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                            PVOID ClientBindingContext, const VOID *ClientDispatch,
                                            PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    probe *p = ProviderContext;
    probe_event *e = plog(p, EV_ATTACH, PROVIDER);
    e->handle_seen = p->reg[PROVIDER];
    p->attach_entered[PROVIDER] = true;
    /* A primitive point inside the provider's attach: lets step-mode tests stop here (K8). */
    InterlockedIncrement(&p->park);
    if (!IsEqualGUID(ClientRegistrationInstance->NpiId, &PROBE_NPI_ID) || ClientBindingContext != &p->ctx[CLIENT] ||
        ClientDispatch != &probe_client_dispatch)
        return STATUS_NOINTERFACE;
    p->binding[PROVIDER] = NmrBindingHandle;
    *ProviderBindingContext = &p->ctx[PROVIDER];
    *ProviderDispatch = &probe_provider_dispatch;
    return STATUS_SUCCESS;
}

static void NTAPI probe_workitem(PDEVICE_OBJECT DeviceObject, PVOID Context);

typedef struct probe_work {
    probe_side *s;
    PIO_WORKITEM item;
} probe_work;

static NTSTATUS probe_detach(probe_side *s)
{
    probe *p = s->p;
    int side = s->side;
    NTSTATUS status = STATUS_PENDING;
    plog(p, EV_DETACH, side);
    p->detach_entered[side] = true;
    switch (p->mode[side]) {
    case DET_SUCCESS: status = STATUS_SUCCESS; break;
    case DET_PENDING: break;
    case DET_COMPLETE_INSIDE: probe_complete(p, side); break;
    case DET_PARK: InterlockedIncrement(&p->park); break;
    case DET_WORKITEM: {
        probe_work *work = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof *work, 0x6B726F57u);
        PIO_WORKITEM item = IoAllocateWorkItem(NULL);
        if (!work || !item) abort(); /* no fault injection in these tests */
        work->s = s;
        work->item = item;
        IoQueueWorkItem(item, probe_workitem, DelayedWorkQueue, work);
        break;
    }
    case DET_WAIT_PEER:
        KeWaitForSingleObject(&p->peer_event, Executive, KernelMode, FALSE, NULL);
        status = STATUS_SUCCESS;
        break;
    case DET_SIGNAL_PEER:
        KeSetEvent(&p->peer_event, IO_NO_INCREMENT, FALSE);
        status = STATUS_SUCCESS;
        break;
    }
    plog(p, EV_DETACH_RETURN, side);
    return status;
}

static void NTAPI probe_workitem(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    probe_work *work = Context;
    (void)DeviceObject;
    probe_complete(work->s->p, work->s->side);
    IoFreeWorkItem(work->item);
    ExFreePoolWithTag(work, 0x6B726F57u);
}

static NTSTATUS NTAPI probe_client_detach(PVOID ClientBindingContext) { return probe_detach(ClientBindingContext); }
static NTSTATUS NTAPI probe_provider_detach(PVOID ProviderBindingContext) { return probe_detach(ProviderBindingContext); }

static void probe_cleanup(probe_side *s) { plog(s->p, EV_CLEANUP, s->side); }
static VOID NTAPI probe_client_cleanup(PVOID ClientBindingContext) { probe_cleanup(ClientBindingContext); }
static VOID NTAPI probe_provider_cleanup(PVOID ProviderBindingContext) { probe_cleanup(ProviderBindingContext); }

static void probe_init(probe *p, nmrh_world *w)
{
    memset(p, 0, sizeof *p);
    p->w = w;
    for (int s = 0; s < 2; s++) {
        p->module_id[s].Length = sizeof(NPI_MODULEID);
        p->module_id[s].Type = MIT_GUID;
        p->module_id[s].Guid = PROBE_NPI_ID;
        p->module_id[s].Guid.Data4[7] = (UCHAR)(0x10 + s);
        p->ctx[s].p = p;
        p->ctx[s].side = s;
        p->register_thread[s] = p->unload_thread[s] = NO_THREAD;
    }
    p->complete_thread[CLIENT] = p->complete_thread[PROVIDER] = NO_THREAD;
    p->cchars.Length = sizeof p->cchars;
    p->cchars.ClientAttachProvider = probe_client_attach;
    p->cchars.ClientDetachProvider = probe_client_detach;
    p->cchars.ClientCleanupBindingContext = probe_client_cleanup;
    p->cchars.ClientRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    p->cchars.ClientRegistrationInstance.NpiId = &PROBE_NPI_ID;
    p->cchars.ClientRegistrationInstance.ModuleId = &p->module_id[CLIENT];
    p->pchars.Length = sizeof p->pchars;
    p->pchars.ProviderAttachClient = probe_provider_attach;
    p->pchars.ProviderDetachClient = probe_provider_detach;
    p->pchars.ProviderCleanupBindingContext = probe_provider_cleanup;
    p->pchars.ProviderRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    p->pchars.ProviderRegistrationInstance.NpiId = &PROBE_NPI_ID;
    p->pchars.ProviderRegistrationInstance.ModuleId = &p->module_id[PROVIDER];
    p->module[CLIENT] = nmrh_world_add_module(w, "probe-client");
    p->module[PROVIDER] = nmrh_world_add_module(w, "probe-provider");
    KeInitializeEvent(&p->peer_event, NotificationEvent, FALSE);
}

/* ---- actions, each on its own logical thread ---- */

static void do_register(probe *p, int side)
{
    p->register_thread[side] = cur_tid();
    p->register_order[p->nregistered++] = (uint32_t)side;
    p->reg_status[side] = side == CLIENT ? NmrRegisterClient(&p->cchars, p, &p->reg[CLIENT])
                                         : NmrRegisterProvider(&p->pchars, p, &p->reg[PROVIDER]);
    p->register_thread[side] = NO_THREAD;
    p->attached_when_register_returned = p->binding[CLIENT] != NULL && p->binding[PROVIDER] != NULL;
}
static void t_register_client(void *arg) { do_register(arg, CLIENT); }
static void t_register_provider(void *arg) { do_register(arg, PROVIDER); }

static void do_unload(probe *p, int side)
{
    p->unload_thread[side] = cur_tid();
    p->dereg_status[side] = side == CLIENT ? NmrDeregisterClient(p->reg[CLIENT]) : NmrDeregisterProvider(p->reg[PROVIDER]);
    p->irql_after_dereg = KeGetCurrentIrql();
    plog(p, EV_DEREG_RETURN, side);
    p->wait_status[side] = side == CLIENT ? NmrWaitForClientDeregisterComplete(p->reg[CLIENT])
                                          : NmrWaitForProviderDeregisterComplete(p->reg[PROVIDER]);
    plog(p, EV_WAIT_RETURN, side);
    nmrh_world_module_unloaded(p->w, p->module[side]);
}
static void t_unload_client(void *arg) { do_unload(arg, CLIENT); }
static void t_unload_provider(void *arg) { do_unload(arg, PROVIDER); }

static void do_complete(probe *p, int side)
{
    KIRQL old = PASSIVE_LEVEL;
    if (p->complete_irql) KeRaiseIrql(p->complete_irql, &old);
    probe_complete(p, side);
    if (p->complete_irql) KeLowerIrql(old);
}
static void t_complete_client(void *arg) { do_complete(arg, CLIENT); }
static void t_complete_provider(void *arg) { do_complete(arg, PROVIDER); }

static nmrh_thread *spawn(probe *p, const char *name, int side, nmrh_thread_fn fn)
{
    return nmrh_world_spawn(p->w, name, p->module[side], fn, p);
}
static nmrh_thread *reg_thread(probe *p, int side)
{
    return side == CLIENT ? spawn(p, "reg-client", CLIENT, t_register_client)
                          : spawn(p, "reg-provider", PROVIDER, t_register_provider);
}
static nmrh_thread *unload_thread(probe *p, int side)
{
    return side == CLIENT ? spawn(p, "unload-client", CLIENT, t_unload_client)
                          : spawn(p, "unload-provider", PROVIDER, t_unload_provider);
}
static nmrh_thread *complete_thread(probe *p, int side)
{
    return side == CLIENT ? spawn(p, "complete-client", CLIENT, t_complete_client)
                          : spawn(p, "complete-provider", PROVIDER, t_complete_provider);
}

/* ---- worlds and verdicts ---- */

typedef struct knob_set {
    int v[NMRH_KNOB_COUNT]; /* value, or -1 = NMRH_KNOB_CHOOSE */
} knob_set;

static knob_set knobs_default(void)
{
    knob_set k;
    for (int i = 0; i < NMRH_KNOB_COUNT; i++) k.v[i] = 0;
    return k;
}

static nmrh_world *make_world(nmrh_chooser *ch, const knob_set *k)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    for (int i = 0; i < NMRH_KNOB_COUNT; i++) cfg.knobs[i] = k->v[i] < 0 ? NMRH_KNOB_CHOOSE : (uint8_t)k->v[i];
    return nmrh_world_create(&cfg, ch);
}

static void dump_failure(nmrh_world *w, const char *what)
{
    const nmrh_finding *f = nmrh_world_finding(w);
    fprintf(stderr, "---- %s: %s: %s\n", what, f ? f->signature : "(no finding)", f ? f->message : "");
    if (f && f->details) fprintf(stderr, "%s\n", f->details);
    nmrh_world_print_trace(w, stderr);
}

/* Finish the run; it must end without a finding and with the model's invariants intact. */
static bool finish_clean(check_tally *t, nmrh_world *w, const char *what)
{
    bool clean = nmrh_world_finish(w);
    CHECK(t, clean);
    if (!clean) {
        dump_failure(w, what);
        return false;
    }
    uint32_t inv = nmrh_world_check_model_invariants(w);
    CHECK(t, inv == 0);
    return clean && inv == 0;
}

/* Provider registers, then the client (so attach runs inside NmrRegisterClient), then `side`
   unloads, then the other side. Zero chooser: each thread runs to completion in spawn order. */
static void lifecycle(probe *p, int first_reg, int first_unload)
{
    reg_thread(p, first_reg);
    reg_thread(p, 1 - first_reg);
    nmrh_world_run(p->w);
    unload_thread(p, first_unload);
    nmrh_world_run(p->w);
    unload_thread(p, 1 - first_unload);
    nmrh_world_run(p->w);
}

/* Both bindings sides saw one attach, one detach and one cleanup, and every Nmr call returned what
   the contract says. */
static void check_full_life(check_tally *t, const probe *p)
{
    for (int s = 0; s < 2; s++) {
        CHECK(t, p->reg_status[s] == STATUS_SUCCESS);
        CHECK(t, count_ev(p, EV_ATTACH, s) == 1);
        CHECK(t, count_ev(p, EV_DETACH, s) == 1);
        CHECK(t, count_ev(p, EV_CLEANUP, s) == 1);
        CHECK(t, p->dereg_status[s] == STATUS_PENDING);
        CHECK(t, p->wait_status[s] == STATUS_SUCCESS);
        /* Cleanup after the side's detach callback, and before its Wait returned if it deregistered first. */
        CHECK(t, find_ev(p, EV_CLEANUP, s, 0) > find_ev(p, EV_DETACH, s, 0));
    }
    CHECK(t, p->peer_ctx_seen == &p->ctx[PROVIDER]);
}

/* ---- K3: handle written before or after the attach callbacks ---- */

static void test_handle_write(check_tally *t)
{
    for (int later = 0; later < 2; later++) {
        for (int v = 0; v < 2; v++) {
            nmrh_chooser_zero zero;
            nmrh_chooser_zero_init(&zero);
            knob_set k = knobs_default();
            k.v[NMRH_KNOB_HANDLE_WRITE] = v;
            nmrh_world *w = make_world(&zero.base, &k);
            probe p;
            probe_init(&p, w);
            /* `later` registers second: its attach callback runs inside its NmrRegister* call. */
            lifecycle(&p, 1 - later, CLIENT);
            const probe_event *a = ev(&p, EV_ATTACH, later);
            CHECK(t, a != NULL);
            if (a) {
                CHECK(t, a->in_register);
                CHECK(t, v == 0 ? a->handle_seen == p.reg[later] : a->handle_seen == NULL);
            }
            /* The earlier registration's handle was written long before, whatever the knob. */
            const probe_event *o = ev(&p, EV_ATTACH, 1 - later);
            CHECK(t, o && o->handle_seen == p.reg[1 - later] && o->handle_seen != NULL);
            CHECK(t, p.attached_when_register_returned);
            check_full_life(t, &p);
            finish_clean(t, w, "handle-write");
            nmrh_world_destroy(w);
        }
    }
}

/* ---- K4: order, thread and IRQL of the detach callbacks ---- */

static void test_detach_order(check_tally *t)
{
    for (int thread = 0; thread < 2; thread++)
        for (int order = 0; order < 2; order++)
            for (int dereg = 0; dereg < 2; dereg++) {
                nmrh_chooser_zero zero;
                nmrh_chooser_zero_init(&zero);
                knob_set k = knobs_default();
                k.v[NMRH_KNOB_DETACH_ORDER] = order;
                k.v[NMRH_KNOB_DETACH_THREAD] = thread;
                nmrh_world *w = make_world(&zero.base, &k);
                probe p;
                probe_init(&p, w);
                lifecycle(&p, PROVIDER, dereg);
                int c = find_ev(&p, EV_DETACH, CLIENT, 0), pr = find_ev(&p, EV_DETACH, PROVIDER, 0);
                CHECK(t, c >= 0 && pr >= 0);
                CHECK(t, order == 0 ? c < pr : pr < c);
                /* One callback returns before the other starts: the same thread runs both in turn. */
                int first_ret = find_ev(&p, EV_DETACH_RETURN, order == 0 ? CLIENT : PROVIDER, 0);
                CHECK(t, first_ret >= 0 && first_ret < (order == 0 ? pr : c));
                check_full_life(t, &p);
                finish_clean(t, w, "detach-order");
                nmrh_world_destroy(w);
            }
}

static void test_detach_thread(check_tally *t)
{
    for (int thread = 0; thread < 3; thread++)
        for (int dereg = 0; dereg < 2; dereg++) {
            nmrh_chooser_zero zero;
            nmrh_chooser_zero_init(&zero);
            knob_set k = knobs_default();
            k.v[NMRH_KNOB_DETACH_THREAD] = thread;
            nmrh_world *w = make_world(&zero.base, &k);
            probe p;
            probe_init(&p, w);
            lifecycle(&p, PROVIDER, dereg);
            const probe_event *c = ev(&p, EV_DETACH, CLIENT), *pr = ev(&p, EV_DETACH, PROVIDER);
            CHECK(t, c && pr);
            if (c && pr) {
                uint32_t unloader = p.unload_thread[dereg];
                if (thread == 0) {
                    CHECK(t, c->thread == unloader && pr->thread == unloader);
                    CHECK_STR(t, tname(&p, c->thread), dereg == CLIENT ? "unload-client" : "unload-provider");
                } else {
                    CHECK(t, c->thread != unloader && pr->thread != unloader);
                    CHECK(t, starts_with(tname(&p, c->thread), "nmr-detach-"));
                    CHECK(t, starts_with(tname(&p, pr->thread), "nmr-detach-"));
                    CHECK(t, thread == 1 ? c->thread == pr->thread : c->thread != pr->thread);
                    /* A worker detach happens after Deregister returned, never inside it. */
                    CHECK(t, find_ev(&p, EV_DETACH, CLIENT, 0) > find_ev(&p, EV_DEREG_RETURN, dereg, 0));
                }
            }
            check_full_life(t, &p);
            finish_clean(t, w, "detach-thread");
            nmrh_world_destroy(w);
        }

    /* worker-per-side runs the two callbacks concurrently: a client detach that waits for the
       provider's detach callback completes; on one thread (deregistering or worker) it hangs. */
    for (int thread = 0; thread < 3; thread++) {
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        knob_set k = knobs_default();
        k.v[NMRH_KNOB_DETACH_THREAD] = thread;
        nmrh_world *w = make_world(&zero.base, &k);
        probe p;
        probe_init(&p, w);
        p.mode[CLIENT] = DET_WAIT_PEER;
        p.mode[PROVIDER] = DET_SIGNAL_PEER;
        lifecycle(&p, PROVIDER, CLIENT);
        if (thread == 2) {
            CHECK(t, find_ev(&p, EV_DETACH, PROVIDER, 0) > find_ev(&p, EV_DETACH, CLIENT, 0));
            CHECK(t, find_ev(&p, EV_DETACH_RETURN, CLIENT, 0) > find_ev(&p, EV_DETACH_RETURN, PROVIDER, 0));
            check_full_life(t, &p);
            finish_clean(t, w, "detach-thread concurrent");
        } else {
            CHECK(t, !nmrh_world_finish(w));
            CHECK_STR(t, nmrh_world_finding(w) ? nmrh_world_finding(w)->signature : "", "NMR-HANG");
            CHECK(t, count_ev(&p, EV_DETACH, PROVIDER) == 0);
        }
        nmrh_world_destroy(w);
    }
}

static void test_detach_irql(check_tally *t)
{
    for (int thread = 0; thread < 3; thread++)
        for (int irql = 0; irql < 2; irql++) {
            nmrh_chooser_zero zero;
            nmrh_chooser_zero_init(&zero);
            knob_set k = knobs_default();
            k.v[NMRH_KNOB_DETACH_THREAD] = thread;
            k.v[NMRH_KNOB_DETACH_IRQL] = irql;
            nmrh_world *w = make_world(&zero.base, &k);
            probe p;
            probe_init(&p, w);
            lifecycle(&p, PROVIDER, CLIENT);
            KIRQL want = irql ? DISPATCH_LEVEL : PASSIVE_LEVEL;
            const probe_event *c = ev(&p, EV_DETACH, CLIENT), *pr = ev(&p, EV_DETACH, PROVIDER);
            CHECK(t, c && c->irql == want);
            CHECK(t, pr && pr->irql == want);
            /* The deregistering thread is back at its own IRQL once Deregister returned. */
            CHECK(t, p.irql_after_dereg == PASSIVE_LEVEL);
            check_full_life(t, &p);
            finish_clean(t, w, "detach-irql");
            nmrh_world_destroy(w);
        }
}

/* ---- K5: cleanup inline in the completing call, or deferred to a worker, at which IRQL ---- */

static void test_cleanup(check_tally *t)
{
    /* The client pends its detach; a separate thread completes it. */
    for (int cleanup = 0; cleanup < 2; cleanup++)
        for (int cirql = 0; cirql < 2; cirql++)
            for (int completer_irql = 0; completer_irql < 2; completer_irql++) {
                nmrh_chooser_zero zero;
                nmrh_chooser_zero_init(&zero);
                knob_set k = knobs_default();
                k.v[NMRH_KNOB_CLEANUP] = cleanup;
                k.v[NMRH_KNOB_CLEANUP_IRQL] = cirql;
                nmrh_world *w = make_world(&zero.base, &k);
                probe p;
                probe_init(&p, w);
                p.mode[CLIENT] = DET_PENDING;
                p.complete_irql = completer_irql ? DISPATCH_LEVEL : PASSIVE_LEVEL;
                reg_thread(&p, PROVIDER);
                reg_thread(&p, CLIENT);
                nmrh_world_run(w);
                nmrh_thread *u = unload_thread(&p, CLIENT);
                nmrh_world_run(w);
                CHECK(t, nmrh_thread_get_state(u) == NMRH_THREAD_BLOCKED); /* in Wait: client pending */
                CHECK(t, count_ev(&p, EV_CLEANUP, CLIENT) == 0 && count_ev(&p, EV_CLEANUP, PROVIDER) == 0);
                nmrh_thread *c = complete_thread(&p, CLIENT);
                nmrh_world_run(w);
                unload_thread(&p, PROVIDER);
                nmrh_world_run(w);
                int call = find_ev(&p, EV_COMPLETE_CALL, CLIENT, 0), ret = find_ev(&p, EV_COMPLETE_RETURN, CLIENT, 0);
                for (int s = 0; s < 2; s++) {
                    const probe_event *e = ev(&p, EV_CLEANUP, s);
                    int i = find_ev(&p, EV_CLEANUP, s, 0);
                    CHECK(t, e != NULL);
                    if (!e) continue;
                    if (cleanup == 0) {
                        /* Inside the Complete call, on the completing thread, at its IRQL. */
                        CHECK(t, e->in_complete && e->thread == nmrh_thread_id(c));
                        CHECK(t, call < i && i < ret);
                        CHECK(t, e->irql == (completer_irql ? DISPATCH_LEVEL : PASSIVE_LEVEL));
                    } else {
                        /* On an NMR worker, after Complete returned, at the knob's IRQL. */
                        CHECK(t, !e->in_complete && e->thread != nmrh_thread_id(c));
                        CHECK(t, starts_with(tname(&p, e->thread), "nmr-cleanup-"));
                        CHECK(t, i > ret);
                        CHECK(t, e->irql == (cirql ? DISPATCH_LEVEL : PASSIVE_LEVEL));
                    }
                }
                /* Both cleanups of a binding run together, on one thread. */
                const probe_event *cc = ev(&p, EV_CLEANUP, CLIENT), *pc = ev(&p, EV_CLEANUP, PROVIDER);
                CHECK(t, cc && pc && cc->thread == pc->thread);
                /* The client's Wait returned only after the cleanups. */
                CHECK(t, find_ev(&p, EV_WAIT_RETURN, CLIENT, 0) > find_ev(&p, EV_CLEANUP, PROVIDER, 0));
                check_full_life(t, &p);
                finish_clean(t, w, "cleanup");
                nmrh_world_destroy(w);
            }

    /* Both detaches return success: inline cleanup runs in the call that finished the detach, which
       with detach-thread=deregistering is NmrDeregister* itself. */
    for (int cleanup = 0; cleanup < 2; cleanup++) {
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        knob_set k = knobs_default();
        k.v[NMRH_KNOB_CLEANUP] = cleanup;
        nmrh_world *w = make_world(&zero.base, &k);
        probe p;
        probe_init(&p, w);
        lifecycle(&p, PROVIDER, CLIENT);
        const probe_event *e = ev(&p, EV_CLEANUP, CLIENT);
        int dr = find_ev(&p, EV_DEREG_RETURN, CLIENT, 0);
        CHECK(t, e != NULL);
        if (e && cleanup == 0) {
            CHECK(t, e->thread == p.unload_thread[CLIENT]);
            CHECK(t, find_ev(&p, EV_CLEANUP, CLIENT, 0) < dr && find_ev(&p, EV_CLEANUP, PROVIDER, 0) < dr);
        } else if (e) {
            CHECK(t, e->thread != p.unload_thread[CLIENT]);
            CHECK(t, find_ev(&p, EV_CLEANUP, CLIENT, 0) > dr);
        }
        check_full_life(t, &p);
        finish_clean(t, w, "cleanup success");
        nmrh_world_destroy(w);
    }
}

/* ---- every knob left to the chooser reaches every value, with its effect ---- */

typedef struct choices {
    int v[NMRH_KNOB_COUNT];       /* last value chosen, -1 = never asked */
    int handle_client;            /* handle-write chosen inside the client's registration */
    int count[NMRH_KNOB_COUNT];
} choices;

/* Reads "knob NAME = VALUE" records from the trace. */
static choices parse_choices(const nmrh_world *w)
{
    choices c;
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) c.v[k] = -1, c.count[k] = 0;
    c.handle_client = -1;
    char *text = shim_test_trace(w);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *kn = strstr(line, "knob ");
        if (!kn) continue;
        for (int k = 0; k < NMRH_KNOB_COUNT; k++) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "knob %s = ", nmrh_knob_name((nmrh_knob)k));
            if (!starts_with(kn, prefix)) continue;
            const char *val = kn + strlen(prefix);
            for (uint32_t v = 0; v < nmrh_knob_values((nmrh_knob)k); v++)
                if (strcmp(val, nmrh_knob_value_name((nmrh_knob)k, v)) == 0) {
                    c.v[k] = (int)v;
                    c.count[k]++;
                    if (k == NMRH_KNOB_HANDLE_WRITE && strstr(line, " reg-client ")) c.handle_client = (int)v;
                }
        }
    }
    free(text);
    return c;
}

static void test_chooser_reaches_every_value(check_tally *t)
{
    bool reached[NMRH_KNOB_COUNT][3] = {{false}};
    int runs = 0, clean_runs = 0;
    for (uint64_t seed = 1; seed <= 600; seed++) {
        nmrh_chooser_random rnd;
        nmrh_chooser_random_init(&rnd, seed * 7919);
        knob_set k;
        for (int i = 0; i < NMRH_KNOB_COUNT; i++) k.v[i] = -1;
        nmrh_world *w = make_world(&rnd.base, &k);
        probe p;
        probe_init(&p, w);
        static const detach_mode modes[][2] = {
            {DET_SUCCESS, DET_SUCCESS}, {DET_WORKITEM, DET_SUCCESS}, {DET_SUCCESS, DET_COMPLETE_INSIDE},
            {DET_WORKITEM, DET_WORKITEM},
        };
        p.mode[CLIENT] = modes[seed % 4][CLIENT];
        p.mode[PROVIDER] = modes[seed % 4][PROVIDER];
        int dereg = (int)(seed / 4 % 2);
        /* Provider first; client registration, both unloads race under the random chooser. */
        nmrh_world_run_thread(w, reg_thread(&p, PROVIDER));
        reg_thread(&p, CLIENT);
        nmrh_world_run(w);
        unload_thread(&p, dereg);
        unload_thread(&p, 1 - dereg);
        nmrh_world_run(w);
        runs++;
        if (!finish_clean(t, w, "chooser")) {
            nmrh_world_destroy(w);
            break;
        }
        clean_runs++;
        choices c = parse_choices(w);
        /* One registration of each side, one binding: knob questions asked exactly this often. */
        CHECK(t, c.count[NMRH_KNOB_HANDLE_WRITE] == 2);
        CHECK(t, c.count[NMRH_KNOB_DETACH_ORDER] == 1 && c.count[NMRH_KNOB_DETACH_THREAD] == 1);
        CHECK(t, c.count[NMRH_KNOB_DETACH_IRQL] == 1 && c.count[NMRH_KNOB_CLEANUP] == 1);
        CHECK(t, c.count[NMRH_KNOB_CLEANUP_IRQL] == (c.v[NMRH_KNOB_CLEANUP] == 1 ? 1 : 0));
        for (int i = 0; i < NMRH_KNOB_COUNT; i++)
            if (c.v[i] >= 0) reached[i][c.v[i]] = true;

        /* The documented effect of each chosen value. */
        const probe_event *ca = ev(&p, EV_ATTACH, CLIENT);
        const probe_event *cd = ev(&p, EV_DETACH, CLIENT), *pd = ev(&p, EV_DETACH, PROVIDER);
        const probe_event *cc = ev(&p, EV_CLEANUP, CLIENT), *pc = ev(&p, EV_CLEANUP, PROVIDER);
        CHECK(t, ca && cd && pd && cc && pc);
        if (!(ca && cd && pd && cc && pc)) {
            nmrh_world_destroy(w);
            break;
        }
        CHECK(t, ca->in_register && (c.handle_client == 0) == (ca->handle_seen != NULL));
        int thread = c.v[NMRH_KNOB_DETACH_THREAD];
        if (thread != 2) {
            bool client_first = find_ev(&p, EV_DETACH, CLIENT, 0) < find_ev(&p, EV_DETACH, PROVIDER, 0);
            CHECK(t, client_first == (c.v[NMRH_KNOB_DETACH_ORDER] == 0));
        }
        if (thread == 0)
            CHECK(t, cd->thread == pd->thread && starts_with(tname(&p, cd->thread), "unload-"));
        else
            CHECK(t, starts_with(tname(&p, cd->thread), "nmr-detach-") && starts_with(tname(&p, pd->thread), "nmr-detach-") &&
                         (thread == 1) == (cd->thread == pd->thread));
        KIRQL dirql = c.v[NMRH_KNOB_DETACH_IRQL] ? DISPATCH_LEVEL : PASSIVE_LEVEL;
        CHECK(t, cd->irql == dirql && pd->irql == dirql);
        CHECK(t, cc->thread == pc->thread);
        if (c.v[NMRH_KNOB_CLEANUP] == 1) {
            CHECK(t, starts_with(tname(&p, cc->thread), "nmr-cleanup-"));
            CHECK(t, cc->irql == (c.v[NMRH_KNOB_CLEANUP_IRQL] ? DISPATCH_LEVEL : PASSIVE_LEVEL));
        } else {
            CHECK(t, !starts_with(tname(&p, cc->thread), "nmr-cleanup-"));
            CHECK(t, cc->irql == PASSIVE_LEVEL); /* every completer here runs at PASSIVE_LEVEL */
        }
        check_full_life(t, &p);
        nmrh_world_destroy(w);
    }
    CHECK(t, clean_runs == runs);
    for (int k = 0; k < NMRH_KNOB_COUNT; k++)
        for (uint32_t v = 0; v < nmrh_knob_values((nmrh_knob)k); v++) {
            if (!reached[k][v])
                fprintf(stderr, "knob %s value %s never chosen\n", nmrh_knob_name((nmrh_knob)k),
                        nmrh_knob_value_name((nmrh_knob)k, v));
            CHECK(t, reached[k][v]);
        }
}

/* Fixing a knob mid-run overrides the chooser; releasing it gives it back. */
static void test_set_knob_midrun(check_tally *t)
{
    nmrh_chooser_zero zero;
    nmrh_chooser_zero_init(&zero);
    knob_set k;
    for (int i = 0; i < NMRH_KNOB_COUNT; i++) k.v[i] = -1;
    nmrh_world *w = make_world(&zero.base, &k);
    probe p;
    probe_init(&p, w);
    nmrh_world_set_knob(w, NMRH_KNOB_DETACH_IRQL, 1);
    nmrh_world_set_knob(w, NMRH_KNOB_DETACH_THREAD, 2);
    lifecycle(&p, PROVIDER, CLIENT);
    choices c = parse_choices(w);
    CHECK(t, c.count[NMRH_KNOB_DETACH_IRQL] == 0 && c.count[NMRH_KNOB_DETACH_THREAD] == 0);
    CHECK(t, c.count[NMRH_KNOB_DETACH_ORDER] == 1 && c.v[NMRH_KNOB_DETACH_ORDER] == 0); /* zero chooser */
    CHECK(t, c.count[NMRH_KNOB_HANDLE_WRITE] == 2);
    const probe_event *cd = ev(&p, EV_DETACH, CLIENT), *pd = ev(&p, EV_DETACH, PROVIDER);
    CHECK(t, cd && pd && cd->irql == DISPATCH_LEVEL && cd->thread != pd->thread);
    check_full_life(t, &p);
    finish_clean(t, w, "set-knob");
    nmrh_world_destroy(w);
}

/* Names of knobs and values, as sequences and traces use them. */
static void test_knob_names(check_tally *t)
{
    static const char *const names[NMRH_KNOB_COUNT] = {"handle-write", "detach-order", "detach-thread",
                                                       "detach-irql",  "cleanup",      "cleanup-irql"};
    static const uint32_t counts[NMRH_KNOB_COUNT] = {2, 2, 3, 2, 2, 2};
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) {
        CHECK_STR(t, nmrh_knob_name((nmrh_knob)k), names[k]);
        CHECK(t, nmrh_knob_from_name(names[k]) == (nmrh_knob)k);
        CHECK(t, nmrh_knob_values((nmrh_knob)k) == counts[k]);
        CHECK_STR(t, nmrh_knob_value_name((nmrh_knob)k, counts[k]), "?");
    }
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_HANDLE_WRITE, 0), "before-attach");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_HANDLE_WRITE, 1), "after-attach");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_DETACH_ORDER, 0), "client-first");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_DETACH_ORDER, 1), "provider-first");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_DETACH_THREAD, 0), "deregistering");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_DETACH_THREAD, 1), "worker");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_DETACH_THREAD, 2), "worker-per-side");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_DETACH_IRQL, 1), "dispatch");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_CLEANUP, 0), "inline");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_CLEANUP, 1), "deferred");
    CHECK_STR(t, nmrh_knob_value_name(NMRH_KNOB_CLEANUP_IRQL, 0), "passive");
    CHECK(t, nmrh_knob_from_name("no-such-knob") == NMRH_KNOB_COUNT);
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) CHECK(t, cfg.knobs[k] == NMRH_KNOB_CHOOSE);
}

/* ---- K1: Deregister always returns STATUS_PENDING, even with no bindings ---- */

static void test_k1_deregister_pends(check_tally *t)
{
    for (int side = 0; side < 2; side++) {
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        knob_set k = knobs_default();
        nmrh_world *w = make_world(&zero.base, &k);
        probe p;
        probe_init(&p, w);
        reg_thread(&p, side); /* alone: no peer, no binding */
        unload_thread(&p, side);
        nmrh_world_run(w);
        CHECK(t, p.reg_status[side] == STATUS_SUCCESS && p.reg[side] != NULL);
        CHECK(t, p.nlog == 2); /* only the deregister and wait returns: no callback at all */
        CHECK(t, p.dereg_status[side] == STATUS_PENDING);
        CHECK(t, p.wait_status[side] == STATUS_SUCCESS);
        finish_clean(t, w, "K1");
        nmrh_world_destroy(w);
    }
    /* With a binding, under every knob setting, too. */
    for (int kv = 0; kv < 12; kv++) {
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        knob_set k = knobs_default();
        k.v[NMRH_KNOB_DETACH_THREAD] = kv % 3;
        k.v[NMRH_KNOB_CLEANUP] = kv / 3 % 2;
        k.v[NMRH_KNOB_DETACH_IRQL] = kv / 6;
        nmrh_world *w = make_world(&zero.base, &k);
        probe p;
        probe_init(&p, w);
        lifecycle(&p, PROVIDER, kv % 2);
        CHECK(t, p.dereg_status[CLIENT] == STATUS_PENDING && p.dereg_status[PROVIDER] == STATUS_PENDING);
        check_full_life(t, &p);
        finish_clean(t, w, "K1 bound");
        nmrh_world_destroy(w);
    }
}

/* ---- K2: attach runs synchronously inside the later Nmr*Register* call ---- */

static void test_k2_sync_attach(check_tally *t)
{
    for (int later = 0; later < 2; later++) {
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        knob_set k = knobs_default();
        nmrh_world *w = make_world(&zero.base, &k);
        probe p;
        probe_init(&p, w);
        nmrh_thread *first = reg_thread(&p, 1 - later);
        CHECK(t, nmrh_world_run_thread(w, first) == NMRH_THREAD_FINISHED);
        CHECK(t, p.nlog == 0); /* nothing to attach to yet */
        nmrh_thread *second = reg_thread(&p, later);
        CHECK(t, nmrh_world_run_thread(w, second) == NMRH_THREAD_FINISHED);
        for (int s = 0; s < 2; s++) {
            const probe_event *a = ev(&p, EV_ATTACH, s);
            CHECK(t, a && a->thread == nmrh_thread_id(second) && a->irql == PASSIVE_LEVEL);
            CHECK(t, a && p.register_order[1] == (uint32_t)later && a->thread != nmrh_thread_id(first));
        }
        /* The client's attach wraps the provider's (NmrClientAttachProvider calls it). */
        CHECK(t, find_ev(&p, EV_ATTACH, CLIENT, 0) < find_ev(&p, EV_ATTACH, PROVIDER, 0));
        /* A module can check its binding right after registering (xdp-for-windows, ebpf-for-windows). */
        CHECK(t, p.attached_when_register_returned);
        CHECK(t, ev(&p, EV_ATTACH, later) && ev(&p, EV_ATTACH, later)->in_register);
        unload_thread(&p, CLIENT);
        unload_thread(&p, PROVIDER);
        nmrh_world_run(w);
        check_full_life(t, &p);
        finish_clean(t, w, "K2");
        nmrh_world_destroy(w);
    }
    /* Racing registrations under random schedules: attach always runs inside the registration
       that entered NmrRegister* second, on its thread. */
    for (uint64_t seed = 1; seed <= 200; seed++) {
        nmrh_chooser_random rnd;
        nmrh_chooser_random_init(&rnd, seed);
        knob_set k = knobs_default();
        k.v[NMRH_KNOB_HANDLE_WRITE] = -1;
        nmrh_world *w = make_world(&rnd.base, &k);
        probe p;
        probe_init(&p, w);
        nmrh_thread *tc = reg_thread(&p, CLIENT), *tp = reg_thread(&p, PROVIDER);
        nmrh_world_run(w);
        uint32_t later = p.register_order[1];
        uint32_t later_thread = nmrh_thread_id(later == CLIENT ? tc : tp);
        for (int s = 0; s < 2; s++) {
            const probe_event *a = ev(&p, EV_ATTACH, s);
            CHECK(t, a && a->thread == later_thread);
        }
        const probe_event *a = ev(&p, EV_ATTACH, (int)later);
        CHECK(t, a && a->in_register);
        unload_thread(&p, CLIENT);
        unload_thread(&p, PROVIDER);
        nmrh_world_run(w);
        check_full_life(t, &p);
        if (!finish_clean(t, w, "K2 race")) {
            nmrh_world_destroy(w);
            break;
        }
        nmrh_world_destroy(w);
    }
}

/* ---- K6: early completion ---- */

static void test_k6_complete_inside(check_tally *t)
{
    /* From inside the detach callback itself, under every detach/cleanup knob setting. */
    for (int kv = 0; kv < 24; kv++) {
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        knob_set k = knobs_default();
        k.v[NMRH_KNOB_DETACH_THREAD] = kv % 3;
        k.v[NMRH_KNOB_DETACH_IRQL] = kv / 3 % 2;
        k.v[NMRH_KNOB_CLEANUP] = kv / 6 % 2;
        k.v[NMRH_KNOB_DETACH_ORDER] = kv / 12;
        nmrh_world *w = make_world(&zero.base, &k);
        probe p;
        probe_init(&p, w);
        p.mode[CLIENT] = DET_COMPLETE_INSIDE;
        p.mode[PROVIDER] = kv % 2 ? DET_COMPLETE_INSIDE : DET_SUCCESS;
        lifecycle(&p, PROVIDER, kv / 2 % 2);
        int d = find_ev(&p, EV_DETACH, CLIENT, 0), call = find_ev(&p, EV_COMPLETE_CALL, CLIENT, 0),
            cret = find_ev(&p, EV_COMPLETE_RETURN, CLIENT, 0), dret = find_ev(&p, EV_DETACH_RETURN, CLIENT, 0);
        CHECK(t, d < call && call < cret && cret < dret);
        /* Cleanup never runs while the detach callback that completed is still running. */
        CHECK(t, find_ev(&p, EV_CLEANUP, CLIENT, 0) > dret);
        check_full_life(t, &p);
        finish_clean(t, w, "K6 inside");
        nmrh_world_destroy(w);
    }
}

/* Step the lowest-id runnable thread until *flag is set; false if everything blocked first. */
static bool step_until(nmrh_world *w, const bool *flag)
{
    while (!*flag) {
        nmrh_thread *next = NULL;
        for (uint32_t i = 0; i < nmrh_world_thread_count(w) && !next; i++)
            if (nmrh_thread_get_state(nmrh_world_thread(w, i)) == NMRH_THREAD_RUNNABLE) next = nmrh_world_thread(w, i);
        if (!next) return false;
        nmrh_world_step(w, next);
    }
    return true;
}

static void test_k6_complete_from_other_thread(check_tally *t)
{
    for (int kv = 0; kv < 12; kv++) {
        for (int side = 0; side < 2; side++) {
            nmrh_chooser_zero zero;
            nmrh_chooser_zero_init(&zero);
            knob_set k = knobs_default();
            k.v[NMRH_KNOB_DETACH_THREAD] = kv % 3;
            k.v[NMRH_KNOB_DETACH_IRQL] = kv / 3 % 2;
            k.v[NMRH_KNOB_CLEANUP] = kv / 6;
            nmrh_world *w = make_world(&zero.base, &k);
            probe p;
            probe_init(&p, w);
            p.mode[side] = DET_PARK; /* returns STATUS_PENDING after a scheduling point */
            reg_thread(&p, PROVIDER);
            reg_thread(&p, CLIENT);
            nmrh_world_run(w);
            unload_thread(&p, kv % 2);
            /* Stop inside `side`'s detach callback, before it returned. */
            CHECK(t, step_until(w, &p.detach_entered[side]));
            CHECK(t, count_ev(&p, EV_DETACH_RETURN, side) == 0);
            nmrh_thread *c = complete_thread(&p, side);
            CHECK(t, nmrh_world_run_thread(w, c) == NMRH_THREAD_FINISHED);
            CHECK(t, !nmrh_world_stopped(w));
            CHECK(t, count_ev(&p, EV_COMPLETE_RETURN, side) == 1 && count_ev(&p, EV_DETACH_RETURN, side) == 0);
            CHECK(t, count_ev(&p, EV_CLEANUP, side) == 0); /* not while the detach callback runs */
            nmrh_world_run(w);
            unload_thread(&p, 1 - kv % 2);
            nmrh_world_run(w);
            CHECK(t, find_ev(&p, EV_CLEANUP, side, 0) > find_ev(&p, EV_DETACH_RETURN, side, 0));
            check_full_life(t, &p);
            finish_clean(t, w, "K6 other thread");
            nmrh_world_destroy(w);
        }
    }
}

/* ---- K7: pre-completion before the NMR called detach ---- */

static void test_k7_precompletion(check_tally *t)
{
    for (int kv = 0; kv < 24; kv++) {
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        knob_set k = knobs_default();
        k.v[NMRH_KNOB_DETACH_THREAD] = kv % 3;
        k.v[NMRH_KNOB_DETACH_ORDER] = kv / 3 % 2;
        k.v[NMRH_KNOB_CLEANUP] = kv / 6 % 2;
        int side = kv / 12;          /* who pre-completes */
        int dereg = kv % 2;          /* who deregisters first */
        nmrh_world *w = make_world(&zero.base, &k);
        probe p;
        probe_init(&p, w);
        /* When finally asked, a pre-completed side returns STATUS_PENDING, as xdp-for-windows'
           provider does: Complete belongs to a pending detach (returning STATUS_SUCCESS after it is
           NMR-COMPLETE-AFTER-SUCCESS, see test_rules_detach). */
        p.mode[side] = DET_PENDING;
        reg_thread(&p, PROVIDER);
        reg_thread(&p, CLIENT);
        nmrh_world_run(w);
        complete_thread(&p, side);
        nmrh_world_run(w);
        CHECK(t, count_ev(&p, EV_COMPLETE_RETURN, side) == 1 && count_ev(&p, EV_DETACH, side) == 0);
        CHECK(t, !nmrh_world_stopped(w));
        unload_thread(&p, dereg);
        nmrh_world_run(w);
        unload_thread(&p, 1 - dereg);
        nmrh_world_run(w);
        /* The NMR remembered the completion: the detach callback is still called, once, and nobody
           has to complete again. */
        CHECK(t, find_ev(&p, EV_DETACH, side, 0) > find_ev(&p, EV_COMPLETE_RETURN, side, 0));
        CHECK(t, count_ev(&p, EV_COMPLETE_CALL, side) == 1);
        check_full_life(t, &p);
        finish_clean(t, w, "K7");
        nmrh_world_destroy(w);
    }
}

/* ---- K8: late bind, a side deregisters while an attach is in flight ---- */

static void test_k8_late_bind(check_tally *t)
{
    /* stop: 0 = in ClientAttachProvider before NmrClientAttachProvider runs the provider,
             1 = inside ProviderAttachClient. dereg: the side that deregisters meanwhile. */
    for (int kv = 0; kv < 24; kv++) {
        int stop = kv % 2, dereg = kv / 2 % 2, thread = kv / 4 % 3, cleanup = kv / 12;
        nmrh_chooser_zero zero;
        nmrh_chooser_zero_init(&zero);
        knob_set k = knobs_default();
        k.v[NMRH_KNOB_DETACH_THREAD] = thread;
        k.v[NMRH_KNOB_CLEANUP] = cleanup;
        k.v[NMRH_KNOB_HANDLE_WRITE] = 0; /* the client's handle exists while it attaches */
        nmrh_world *w = make_world(&zero.base, &k);
        probe p;
        probe_init(&p, w);
        CHECK(t, nmrh_world_run_thread(w, reg_thread(&p, PROVIDER)) == NMRH_THREAD_FINISHED);
        nmrh_thread *rc = reg_thread(&p, CLIENT);
        CHECK(t, step_until(w, &p.attach_entered[stop == 0 ? CLIENT : PROVIDER]));
        CHECK(t, nmrh_thread_get_state(rc) == NMRH_THREAD_RUNNABLE && p.reg[CLIENT] != NULL);
        nmrh_thread *u = unload_thread(&p, dereg);
        /* Deregister returns STATUS_PENDING at once; the Wait blocks on the attaching binding. */
        CHECK(t, nmrh_world_run_thread(w, u) == NMRH_THREAD_BLOCKED);
        CHECK(t, p.dereg_status[dereg] == STATUS_PENDING);
        CHECK(t, count_ev(&p, EV_DETACH, CLIENT) == 0 && count_ev(&p, EV_DETACH, PROVIDER) == 0);
        /* The attach completes; the new binding is detached right after attach returns. */
        CHECK(t, nmrh_world_run_thread(w, rc) == NMRH_THREAD_FINISHED);
        CHECK(t, p.reg_status[CLIENT] == STATUS_SUCCESS && p.attached_when_register_returned);
        if (thread == 0) {
            /* Nothing else ran: the detach callbacks ran inside NmrRegisterClient, after the attach. */
            const probe_event *cd = ev(&p, EV_DETACH, CLIENT), *pd = ev(&p, EV_DETACH, PROVIDER);
            CHECK(t, cd && pd && cd->thread == nmrh_thread_id(rc) && pd->thread == nmrh_thread_id(rc));
            CHECK(t, cd && cd->in_register);
        }
        nmrh_world_run(w);
        CHECK(t, nmrh_thread_get_state(u) == NMRH_THREAD_FINISHED && p.wait_status[dereg] == STATUS_SUCCESS);
        CHECK(t, find_ev(&p, EV_DETACH, CLIENT, 0) > find_ev(&p, EV_ATTACH_RETURN, CLIENT, 0));
        CHECK(t, find_ev(&p, EV_DETACH, PROVIDER, 0) > find_ev(&p, EV_ATTACH_RETURN, CLIENT, 0));
        CHECK(t, find_ev(&p, EV_DEREG_RETURN, dereg, 0) < find_ev(&p, EV_ATTACH_RETURN, CLIENT, 0));
        CHECK(t, find_ev(&p, EV_WAIT_RETURN, dereg, 0) > find_ev(&p, EV_CLEANUP, CLIENT, 0));
        CHECK(t, find_ev(&p, EV_WAIT_RETURN, dereg, 0) > find_ev(&p, EV_CLEANUP, PROVIDER, 0));
        unload_thread(&p, 1 - dereg);
        nmrh_world_run(w);
        check_full_life(t, &p);
        finish_clean(t, w, "K8");
        nmrh_world_destroy(w);
    }
    /* Reaching K8 by random interleaving alone: some seeds deregister the provider while the
       client's attach is in flight; never a finding. */
    int late = 0;
    for (uint64_t seed = 1; seed <= 400; seed++) {
        nmrh_chooser_random rnd;
        nmrh_chooser_random_init(&rnd, seed);
        knob_set k;
        for (int i = 0; i < NMRH_KNOB_COUNT; i++) k.v[i] = -1;
        nmrh_world *w = make_world(&rnd.base, &k);
        probe p;
        probe_init(&p, w);
        nmrh_world_run_thread(w, reg_thread(&p, PROVIDER));
        reg_thread(&p, CLIENT);
        unload_thread(&p, PROVIDER);
        nmrh_world_run(w);
        unload_thread(&p, CLIENT);
        nmrh_world_run(w);
        bool ok = finish_clean(t, w, "K8 random");
        int a = find_ev(&p, EV_ATTACH, CLIENT, 0), dr = find_ev(&p, EV_DEREG_RETURN, PROVIDER, 0);
        int pa = find_ev(&p, EV_ATTACH, PROVIDER, 0), ar = find_ev(&p, EV_ATTACH_RETURN, CLIENT, 0);
        if (a >= 0 && pa >= 0 && dr > a && dr < ar) {
            late++;
            CHECK(t, find_ev(&p, EV_DETACH, CLIENT, 0) > ar && find_ev(&p, EV_DETACH, PROVIDER, 0) > ar);
        }
        if (a >= 0 && pa >= 0) {
            CHECK(t, count_ev(&p, EV_CLEANUP, CLIENT) == 1 && count_ev(&p, EV_CLEANUP, PROVIDER) == 1);
        } else {
            /* Provider gone before the client registered: no binding, no callback. */
            CHECK(t, count_ev(&p, EV_DETACH, CLIENT) == 0 && count_ev(&p, EV_CLEANUP, CLIENT) == 0);
        }
        nmrh_world_destroy(w);
        if (!ok) break;
    }
    CHECK(t, late > 0);
}

/* Every knob fixed to every value, the others left to a random chooser: the correct echo pair
   (one client, two providers, calls racing unloads) never gets a finding, and a fixed knob is
   never asked of the chooser. */
static void test_fixed_knobs_echo(check_tally *t)
{
    for (int k = 0; k < NMRH_KNOB_COUNT; k++)
        for (uint32_t v = 0; v < nmrh_knob_values((nmrh_knob)k); v++)
            for (uint64_t seed = 1; seed <= 25; seed++) {
                nmrh_chooser_random rnd;
                nmrh_chooser_random_init(&rnd, seed * 1000 + (uint64_t)k * 10 + v);
                knob_set ks;
                for (int i = 0; i < NMRH_KNOB_COUNT; i++) ks.v[i] = -1;
                ks.v[k] = (int)v;
                nmrh_world *w = make_world(&rnd.base, &ks);
                test_instance c, p1, p2;
                th_instance_init(w, &c, &echo_client_kind, "echo-client", 0);
                th_instance_init(w, &p1, &echo_provider_kind, "echo-provider-a", 0);
                th_instance_init(w, &p2, &echo_provider_kind, "echo-provider-b", 1);
                th_load(w, &p1);
                th_load(w, &c);
                th_load(w, &p2);
                nmrh_world_run(w);
                th_call(w, &c, 1);
                th_call(w, &p2, 2);
                th_unload(w, &p1);
                th_call(w, &c, 3);
                th_unload(w, &c);
                th_unload(w, &p2);
                nmrh_world_run(w);
                bool ok = finish_clean(t, w, "fixed knob, echo");
                choices ch = parse_choices(w);
                CHECK(t, ch.count[k] == 0);
                nmrh_world_destroy(w);
                th_instance_free(&c);
                th_instance_free(&p1);
                th_instance_free(&p2);
                if (!ok) return;
            }
}

int main(void)
{
    check_tally t = {0, 0, "knobs"};
    test_knob_names(&t);
    test_handle_write(&t);
    test_detach_order(&t);
    test_detach_thread(&t);
    test_detach_irql(&t);
    test_cleanup(&t);
    test_chooser_reaches_every_value(&t);
    test_set_knob_midrun(&t);
    test_k1_deregister_pends(&t);
    test_k2_sync_attach(&t);
    test_k6_complete_inside(&t);
    test_k6_complete_from_other_thread(&t);
    test_k7_precompletion(&t);
    test_k8_late_bind(&t);
    test_fixed_knobs_echo(&t);
    return check_summary(&t, "test_knobs");
}
