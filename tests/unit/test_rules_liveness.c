/*
 * Contract rules 11 and 12 (liveness):
 *   NMR-HANG (a Wait whose pending detach is never completed, a detach callback blocked on an
 *   event nobody sets, a fast mutex held across NmrDeregisterClient while the detach worker
 *   needs it, a rundown reference never released, two spin locks taken in opposite orders),
 *   NMR-STEP-BUDGET (a loop on InterlockedCompareExchange waiting for something that never
 *   happens).
 *
 * The subject "live-client" is a client of the rules NPI that counts its calls in flight; the
 * last call to return completes a pending detach and signals a "drained" event. No bug flag:
 * correct; a timed wait that expires is not a hang.
 */
#include "../support/rules_support.h"

#define LV_NEVER_COMPLETE   0x0001u /* B6: detach returns PENDING and nothing ever completes it */
#define LV_DRAIN_IN_DETACH  0x0002u /* B12: detach blocks on a "drained" event instead of returning PENDING */
#define LV_MUTEX_ACROSS_DEREG 0x0004u /* unload holds the config mutex across Deregister/Wait; detach takes it */
#define LV_RUNDOWN_LEAK     0x0008u /* a call path forgets to release the module's rundown reference */
#define LV_LOCK_ORDER       0x0010u /* calls take the two spin locks in opposite orders (by call value) */
#define LV_SPIN_UNTIL_IDLE  0x0020u /* unload spins until no binding is left, before deregistering */
#define LV_TIMED_QUIESCE    0x0040u /* (correct) unload waits at most 10 ms for a quiesce event */
#define LV_LEAK_INFLIGHT    0x0080u /* the error path of a call skips the in-flight decrement */
#define LV_SPIN_IN_DETACH   0x0100u /* B12: detach busy-waits for the calls in flight to drain */

#define LV_CALL_AB 0u
#define LV_CALL_BA 1u
#define LV_CALL_FAIL 2u /* a call whose request fails after the provider call */

#define LV_BINDING_TAG RT_TAG('L', 'v', 'B', 'd')

typedef struct _LV_MODULE LV_MODULE;

typedef struct _LV_BINDING {
    LV_MODULE *Module;
    HANDLE NmrBindingHandle;
    PVOID ProviderBindingContext;
    const RT_PROVIDER_DISPATCH *ProviderDispatch;
} LV_BINDING;

struct _LV_MODULE {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrClientHandle;
    ULONG Bugs;
    KSPIN_LOCK Lock;          /* protects Binding, InFlight, Detaching, DetachPending */
    LV_BINDING *Binding;
    LONG InFlight;
    LONG Bindings;            /* attached bindings, for LV_SPIN_UNTIL_IDLE */
    BOOLEAN Detaching, DetachPending;
    KEVENT Drained;           /* set when InFlight drops to zero while detaching */
    KEVENT Quiesce;           /* never set: LV_TIMED_QUIESCE times out */
    FAST_MUTEX ConfigMutex;
    EX_RUNDOWN_REF Rundown;   /* module-level: calls hold it, unload waits for it */
    KSPIN_LOCK LockA, LockB;  /* statistics locks */
};

static RT_NOTIFY_FN LvNotify;
static const RT_CLIENT_DISPATCH LvDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), LvNotify};
static VOID NTAPI LvNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

static NTSTATUS NTAPI LvAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    LV_MODULE *m = ClientContext;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    LV_BINDING *b;
    NTSTATUS status;
    KIRQL irql;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), LV_BINDING_TAG);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    b->Module = m;
    b->NmrBindingHandle = NmrBindingHandle;
    status = NmrClientAttachProvider(NmrBindingHandle, b, &LvDispatch, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(b, LV_BINDING_TAG);
        return status;
    }
    b->ProviderBindingContext = providerContext;
    b->ProviderDispatch = providerDispatch;
    KeAcquireSpinLock(&m->Lock, &irql);
    m->Binding = b;
    m->Detaching = FALSE;
    KeReleaseSpinLock(&m->Lock, irql);
    InterlockedIncrement(&m->Bindings);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI LvDetachProvider(PVOID ClientBindingContext)
{
    LV_BINDING *b = ClientBindingContext;
    LV_MODULE *m = b->Module;
    NTSTATUS status = STATUS_SUCCESS;
    BOOLEAN wait = FALSE;
    KIRQL irql;
    if (m->Bugs & LV_MUTEX_ACROSS_DEREG) {
        ExAcquireFastMutex(&m->ConfigMutex);
        ExReleaseFastMutex(&m->ConfigMutex);
    }
    if (m->Bugs & LV_SPIN_IN_DETACH) {
        while (InterlockedCompareExchange(&m->InFlight, 0, 0) != 0) {
        }
    }
    KeAcquireSpinLock(&m->Lock, &irql);
    m->Detaching = TRUE;
    if (m->Bugs & LV_NEVER_COMPLETE) {
        status = STATUS_PENDING; /* "the last call completes": but none is in flight to do it */
    } else if (m->InFlight != 0) {
        if (m->Bugs & LV_DRAIN_IN_DETACH) {
            KeClearEvent(&m->Drained);
            wait = TRUE;
        } else {
            m->DetachPending = TRUE;
            status = STATUS_PENDING;
        }
    }
    KeReleaseSpinLock(&m->Lock, irql);
    if (wait) KeWaitForSingleObject(&m->Drained, Executive, KernelMode, FALSE, NULL);
    return status;
}

static VOID NTAPI LvCleanup(PVOID ClientBindingContext)
{
    LV_BINDING *b = ClientBindingContext;
    LV_MODULE *m = b->Module;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    if (m->Binding == b) m->Binding = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    InterlockedDecrement(&m->Bindings);
    ExFreePoolWithTag(b, LV_BINDING_TAG);
}

static NTSTATUS LvLoad(void *Instance, ULONG Param)
{
    LV_MODULE *m = Instance;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    KeInitializeSpinLock(&m->Lock);
    KeInitializeSpinLock(&m->LockA);
    KeInitializeSpinLock(&m->LockB);
    KeInitializeEvent(&m->Drained, NotificationEvent, FALSE);
    KeInitializeEvent(&m->Quiesce, NotificationEvent, FALSE);
    ExInitializeFastMutex(&m->ConfigMutex);
    ExInitializeRundownProtection(&m->Rundown);
    RtInitClientCharacteristics(&m->Characteristics, &m->ModuleId, 0x09, &NPI_RT_ID, LvAttachProvider,
                                LvDetachProvider, LvCleanup);
    return NmrRegisterClient(&m->Characteristics, m, &m->NmrClientHandle);
}

static void LvUnload(void *Instance)
{
    LV_MODULE *m = Instance;
    if (m->Bugs & LV_SPIN_UNTIL_IDLE) {
        /* Waits for the bindings to go away: but only deregistering makes them go. */
        while (InterlockedCompareExchange(&m->Bindings, 0, 0) != 0) {
        }
    }
    if (m->Bugs & LV_TIMED_QUIESCE) {
        LARGE_INTEGER timeout;
        timeout.QuadPart = -10 * 1000 * 10;
        KeWaitForSingleObject(&m->Quiesce, Executive, KernelMode, FALSE, &timeout);
    }
    if (m->Bugs & LV_MUTEX_ACROSS_DEREG) ExAcquireFastMutex(&m->ConfigMutex);
    if (NmrDeregisterClient(m->NmrClientHandle) == STATUS_PENDING)
        NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
    if (m->Bugs & LV_MUTEX_ACROSS_DEREG) ExReleaseFastMutex(&m->ConfigMutex);
    ExWaitForRundownProtectionRelease(&m->Rundown);
}

static VOID LvStatistics(LV_MODULE *m, ULONG Value)
{
    PKSPIN_LOCK first = &m->LockA, second = &m->LockB;
    KIRQL irql;
    if ((m->Bugs & LV_LOCK_ORDER) && Value == LV_CALL_BA) {
        first = &m->LockB;
        second = &m->LockA;
    }
    KeAcquireSpinLock(first, &irql);
    KeAcquireSpinLockAtDpcLevel(second);
    KeReleaseSpinLockFromDpcLevel(second);
    KeReleaseSpinLock(first, irql);
}

static NTSTATUS LvCall(void *Instance, ULONG Value)
{
    LV_MODULE *m = Instance;
    LV_BINDING *b;
    BOOLEAN complete, drained;
    HANDLE handle = NULL;
    KIRQL irql;
    if (!ExAcquireRundownProtection(&m->Rundown)) return STATUS_DELETE_PENDING;
    LvStatistics(m, Value);
    KeAcquireSpinLock(&m->Lock, &irql);
    b = m->Binding;
    if (b != NULL && !m->Detaching) {
        m->InFlight++;
        handle = b->NmrBindingHandle;
    } else {
        b = NULL;
    }
    KeReleaseSpinLock(&m->Lock, irql);
    if (b != NULL) {
        b->ProviderDispatch->Ping(b->ProviderBindingContext, Value);
        if ((m->Bugs & LV_LEAK_INFLIGHT) && Value == LV_CALL_FAIL) {
            ExReleaseRundownProtection(&m->Rundown);
            return STATUS_UNSUCCESSFUL; /* error path: the in-flight count stays up */
        }
        KeAcquireSpinLock(&m->Lock, &irql);
        m->InFlight--;
        complete = m->InFlight == 0 && m->DetachPending;
        drained = m->InFlight == 0 && m->Detaching;
        if (complete) m->DetachPending = FALSE;
        KeReleaseSpinLock(&m->Lock, irql);
        if (drained) KeSetEvent(&m->Drained, IO_NO_INCREMENT, FALSE);
        if (complete) NmrClientDetachProviderComplete(handle);
    }
    if (!(m->Bugs & LV_RUNDOWN_LEAK)) ExReleaseRundownProtection(&m->Rundown);
    return b ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

static const nmrh_module_kind lv_kind = {
    .name = "live-client",
    .summary = "rules-NPI client with switchable liveness bugs",
    .instance_size = sizeof(LV_MODULE),
    .load = LvLoad,
    .unload = LvUnload,
    .call = LvCall,
};

/* ---- wrong modules ---- */

static void live_run(rs_run *r, test_instance **p, test_instance **c, ULONG bugs, const nmrh_config *cfg)
{
    rs_begin(r, cfg, NULL);
    *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    *c = rs_add(r, &lv_kind, "live-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *p));
    nmrh_world_run_thread(r->w, th_load(r->w, *c));
}

static void test_hang_detach_never_completed(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    live_run(&r, &p, &c, LV_NEVER_COMPLETE, NULL);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_HANG, "thread t2 'unload-live-client' is blocked forever",
                      "in NmrWaitFor*DeregisterComplete: a detach was never completed");
    rs_expect_details(t, r.w, "t2 unload-live-client", "blocked", "waiting for NMR deregistration",
                      "client#2 (live-client)", "deregistering, waiting",
                      "b1 (client#2 live-client <-> provider#1 rt-provider): detaching; client detach pending; "
                      "provider detach returned success");
    rs_end(&r);

    /* The provider deregisters: its Wait hangs on the client's detach. */
    live_run(&r, &p, &c, LV_NEVER_COMPLETE, NULL);
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_HANG, "'unload-rt-provider' is blocked forever", "a detach was never completed",
                      "in rt-provider code");
    rs_expect_details(t, r.w, "client detach pending", "waiting for NMR deregistration");
    rs_end(&r);
}

static void test_hang_event(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    live_run(&r, &p, &c, LV_DRAIN_IN_DETACH | LV_LEAK_INFLIGHT, NULL);
    nmrh_world_run_thread(r.w, th_call(r.w, c, LV_CALL_FAIL));
    CHECK(t, ((LV_MODULE *)c->instance)->InFlight == 1);
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_HANG, "'unload-rt-provider' is blocked forever (waiting for an event)",
                      "in live-client code");
    rs_expect_details(t, r.w, "unload-rt-provider", "module live-client waiting for event", "client detach running");
    rs_end(&r);
}

static void test_hang_mutex_across_deregister(check_tally *t)
{
    nmrh_config cfg;
    rs_config_fixed(&cfg);
    cfg.knobs[NMRH_KNOB_DETACH_THREAD] = 1; /* K4: the detach callbacks run on an NMR worker */
    rs_run r;
    test_instance *p, *c;
    live_run(&r, &p, &c, LV_MUTEX_ACROSS_DEREG, &cfg);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_HANG, "'unload-live-client' is blocked forever", "NmrWaitFor*DeregisterComplete",
                      "in live-client code");
    rs_expect_details(t, r.w, "nmr-detach-1", "module live-client waiting for fast mutex");
    rs_end(&r);

    /* On the deregistering thread the same bug is a recursive acquire. */
    live_run(&r, &p, &c, LV_MUTEX_ACROSS_DEREG, NULL);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_SPINLOCK_MISUSE, "fast mutex acquired again by its owner", "live-client");
    rs_end(&r);
}

/* Module code on a thread whose name does not say whose it is (a system worker thread). */
static VOID LvWaitForever(void *Context)
{
    LV_MODULE *m = Context;
    KeWaitForSingleObject(&m->Quiesce, Executive, KernelMode, FALSE, NULL);
}

static void test_hang_names_module(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    live_run(&r, &p, &c, 0, NULL);
    nmrh_world_spawn(r.w, "system-worker", c->module, LvWaitForever, c->instance);
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_HANG, "'system-worker' is blocked forever", "live-client code",
                      "waiting for an event");
    rs_end(&r);
}

static void test_hang_rundown(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    live_run(&r, &p, &c, LV_RUNDOWN_LEAK, NULL);
    nmrh_world_run_thread(r.w, th_call(r.w, c, LV_CALL_AB));
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_HANG, "'unload-live-client' is blocked forever",
                      "waiting for rundown protection release", "in live-client code");
    rs_end(&r);
}

/* ABBA: each call is stopped holding its first lock, then both go on. */
static void test_hang_lock_order(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    live_run(&r, &p, &c, LV_LOCK_ORDER, NULL);
    LV_MODULE *m = c->instance;
    nmrh_thread *ab = th_call(r.w, c, LV_CALL_AB);
    while (m->LockA == 0 && nmrh_world_step(r.w, ab) == NMRH_THREAD_RUNNABLE) {
    }
    nmrh_thread *ba = th_call(r.w, c, LV_CALL_BA); /* the value is read when the thread starts */
    while (m->LockB == 0 && nmrh_world_step(r.w, ba) == NMRH_THREAD_RUNNABLE) {
    }
    CHECK(t, m->LockA != 0 && m->LockB != 0);
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_HANG, "'call-live-client' is blocked forever (spinning on a spin lock)",
                      "in live-client code");
    rs_expect_details(t, r.w, "t2 call-live-client", "t3 call-live-client", "waiting for spin lock");
    rs_end(&r);
}

static void test_step_budget(check_tally *t)
{
    nmrh_config cfg;
    rs_config_fixed(&cfg);
    cfg.step_budget = 300;
    rs_run r;
    test_instance *p, *c;
    live_run(&r, &p, &c, LV_SPIN_UNTIL_IDLE, &cfg);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_STEP_BUDGET, "thread t2 'unload-live-client' passed 300 scheduling points",
                      "livelock or endless loop", "in live-client code");
    rs_end(&r);

    /* A detach callback spinning on an NMR worker thread (K4): the message names the module. */
    cfg.knobs[NMRH_KNOB_DETACH_THREAD] = 1;
    live_run(&r, &p, &c, LV_SPIN_IN_DETACH | LV_LEAK_INFLIGHT, &cfg);
    nmrh_world_run_thread(r.w, th_call(r.w, c, LV_CALL_FAIL));
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_STEP_BUDGET, "'nmr-detach-1'", "live-client code", "passed 300 scheduling points");
    rs_end(&r);
    cfg.knobs[NMRH_KNOB_DETACH_THREAD] = 0;

    /* Not bound: the loop ends at once, the run is clean within the same budget. */
    rs_begin(&r, &cfg, NULL);
    c = rs_add(&r, &lv_kind, "live-client", LV_SPIN_UNTIL_IDLE);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

/* ---- correct twins ---- */

typedef struct twin {
    ULONG flags;
    LONG pings;
} twin;

static void twin_count(rs_run *r)
{
    twin *tw = r->ctx;
    if (r->inst[0].instance) tw->pings += RtPeerCallsReceived(r->inst[0].instance);
}

static void twin_scenario(rs_run *r)
{
    twin *tw = r->ctx;
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(r, &lv_kind, "live-client", tw->flags);
    r->after = twin_count;
    th_load(r->w, p);
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_call(r->w, c, LV_CALL_AB);
    th_call(r->w, c, LV_CALL_BA);
    th_unload(r->w, p);
    th_call(r->w, c, LV_CALL_BA);
    nmrh_world_run(r->w);
    th_unload(r->w, c);
}

static void test_twins(check_tally *t)
{
    twin plain = {0, 0}, timed = {LV_TIMED_QUIESCE, 0}, drain = {LV_DRAIN_IN_DETACH, 0};
    rs_sweep(t, "liveness: calls drain, detach completes", NULL, 200, twin_scenario, &plain);
    rs_sweep(t, "liveness: timed wait expires", NULL, 100, twin_scenario, &timed);
    /* Blocking in detach for the drain (B12 style) hangs only when a count leaks. At
       DISPATCH_LEVEL it is KRNL-PASSIVE-AT-DISPATCH, so the detach IRQL is fixed here. */
    nmrh_config passive;
    nmrh_config_init(&passive);
    passive.knobs[NMRH_KNOB_DETACH_IRQL] = 0;
    rs_sweep(t, "liveness: passive detach waits for calls that do drain", &passive, 100, twin_scenario, &drain);
    CHECK(t, plain.pings > 0 && timed.pings > 0 && drain.pings > 0);
    nmrh_config tight;
    nmrh_config_init(&tight);
    tight.step_budget = 300; /* a correct run stays far below */
    rs_sweep(t, "liveness: within a small step budget", &tight, 100, twin_scenario, &plain);
}

int main(void)
{
    check_tally t = {0, 0, "rules-liveness"};
    test_hang_detach_never_completed(&t);
    test_hang_event(&t);
    test_hang_mutex_across_deregister(&t);
    test_hang_rundown(&t);
    test_hang_lock_order(&t);
    test_hang_names_module(&t);
    test_step_budget(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_liveness");
}
