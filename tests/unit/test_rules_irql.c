/*
 * Contract rule 8 and IRQL discipline:
 *   NMR-IRQL-TOO-HIGH (NmrRegisterClient and NmrClientAttachProvider above PASSIVE_LEVEL,
 *   NmrWaitForClientDeregisterComplete at DISPATCH_LEVEL, Complete above DISPATCH_LEVEL),
 *   KRNL-PASSIVE-AT-DISPATCH (paged pool, KeWaitForSingleObject with NULL or finite timeout,
 *   ExAcquireFastMutex, ExWaitForRundownProtectionRelease, KeDelayExecutionThread, from a detach
 *   or cleanup callback the model ran at DISPATCH_LEVEL, and from code holding a spin lock),
 *   KRNL-IRQL-MISUSE (callback returns at another IRQL, thread ends raised, raise below / lower
 *   above the current IRQL, lower below DISPATCH_LEVEL holding a spin lock, spin lock acquired
 *   above DISPATCH_LEVEL).
 *
 * The subject "irql-client" is a client of the rules NPI that has passive-only housekeeping to
 * do when a binding detaches (a paged log buffer, a fast-mutex-protected table, a wait for an
 * event and for a rundown, a short delay). Correct (no bug flag): it asks KeGetCurrentIrql() and
 * defers that work to a work item when the NMR detaches it at DISPATCH_LEVEL (the fix of
 * xdp-for-windows PR #720), returning STATUS_PENDING and completing from the work item.
 */
#include "../support/rules_support.h"

#define IQ_REGISTER_UNDER_LOCK  0x00000001u /* NmrRegisterClient inside the module's spin lock */
#define IQ_ATTACH_UNDER_LOCK    0x00000002u /* NmrClientAttachProvider inside the spin lock */
#define IQ_WAIT_RAISED          0x00000004u /* Deregister (legal) and Wait (not) at DISPATCH_LEVEL */
#define IQ_COMPLETE_AT_DIRQL    0x00000008u /* completes (early, K6) at device IRQL, e.g. from ISR-synchronised code */
#define IQ_INLINE_PAGED         0x00000010u /* B11: passive work done inline in detach: paged pool */
#define IQ_INLINE_WAIT          0x00000020u /* B11/B12: ... KeWaitForSingleObject, no timeout */
#define IQ_INLINE_WAIT_TIMEOUT  0x00000040u /* ... KeWaitForSingleObject, 10 ms timeout */
#define IQ_INLINE_FAST_MUTEX    0x00000080u /* ... ExAcquireFastMutex */
#define IQ_INLINE_RUNDOWN       0x00000100u /* ... ExWaitForRundownProtectionRelease */
#define IQ_INLINE_DELAY         0x00000200u /* ... KeDelayExecutionThread */
#define IQ_CLEANUP_FAST_MUTEX   0x00000400u /* B11: cleanup takes the fast mutex */
#define IQ_PAGED_UNDER_LOCK     0x00000800u /* a call allocates paged pool holding the spin lock */
#define IQ_DETACH_KEEPS_LOCK    0x00001000u /* detach returns holding the spin lock (early-return path) */
#define IQ_CALL_LEAKS_IRQL      0x00002000u /* a call raises to DISPATCH_LEVEL and never lowers */
#define IQ_LOWER_ABOVE          0x00004000u /* KeLowerIrql to a higher IRQL */
#define IQ_RAISE_BELOW          0x00008000u /* KeRaiseIrql to a lower IRQL */
#define IQ_LOWER_UNDER_LOCK     0x00010000u /* KeLowerIrql to PASSIVE_LEVEL holding a spin lock */
#define IQ_ACQUIRE_AT_DIRQL     0x00020000u /* KeAcquireSpinLock at device IRQL */

#define IQ_INLINE_ANY (IQ_INLINE_PAGED | IQ_INLINE_WAIT | IQ_INLINE_WAIT_TIMEOUT | IQ_INLINE_FAST_MUTEX | \
                       IQ_INLINE_RUNDOWN | IQ_INLINE_DELAY)

#define IQ_DIRQL 5
#define IQ_BINDING_TAG RT_TAG('I', 'q', 'B', 'd')
#define IQ_LOG_TAG RT_TAG('I', 'q', 'L', 'g')

typedef struct _IQ_MODULE IQ_MODULE;

typedef struct _IQ_BINDING {
    IQ_MODULE *Module;
    HANDLE NmrBindingHandle;
    PVOID ProviderBindingContext;
    const RT_PROVIDER_DISPATCH *ProviderDispatch;
    LONG InFlight;
    LONG Holds;        /* reasons the pending detach waits for: in-flight calls, the work item */
    BOOLEAN Detaching;
    PIO_WORKITEM Work; /* preallocated: deferred passive work */
} IQ_BINDING;

struct _IQ_MODULE {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrClientHandle;
    ULONG Bugs;
    KSPIN_LOCK Lock;           /* protects Binding and its call state */
    IQ_BINDING *Binding;
    FAST_MUTEX TableMutex;     /* protects the (passive) statistics table */
    ULONG Detaches;
    KEVENT Ready;              /* signalled at load */
    EX_RUNDOWN_REF Maintenance;/* never held in these tests: the wait returns at once */
    LONG Stats;
};

static RT_NOTIFY_FN IqNotify;
static const RT_CLIENT_DISPATCH IqDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), IqNotify};
static VOID NTAPI IqNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

/* Passive-only housekeeping when a binding goes away. `kinds` selects the steps. */
static VOID IqPassiveWork(IQ_MODULE *m, ULONG kinds)
{
    if (kinds & IQ_INLINE_PAGED) {
        PVOID log = ExAllocatePool2(POOL_FLAG_PAGED, 64, IQ_LOG_TAG);
        if (log) ExFreePoolWithTag(log, IQ_LOG_TAG);
    }
    if (kinds & IQ_INLINE_WAIT) KeWaitForSingleObject(&m->Ready, Executive, KernelMode, FALSE, NULL);
    if (kinds & IQ_INLINE_WAIT_TIMEOUT) {
        LARGE_INTEGER timeout;
        timeout.QuadPart = -10 * 1000 * 10; /* 10 ms, relative */
        KeWaitForSingleObject(&m->Ready, Executive, KernelMode, FALSE, &timeout);
    }
    if (kinds & IQ_INLINE_FAST_MUTEX) {
        ExAcquireFastMutex(&m->TableMutex);
        m->Detaches++;
        ExReleaseFastMutex(&m->TableMutex);
    }
    if (kinds & IQ_INLINE_RUNDOWN) {
        ExWaitForRundownProtectionRelease(&m->Maintenance);
        ExReInitializeRundownProtection(&m->Maintenance);
    }
    if (kinds & IQ_INLINE_DELAY) {
        LARGE_INTEGER interval;
        interval.QuadPart = -10 * 1000; /* 1 ms */
        KeDelayExecutionThread(KernelMode, FALSE, &interval);
    }
}

/* Drops one hold of a detaching binding; the last one completes the detach. */
static VOID IqRelease(IQ_BINDING *b)
{
    IQ_MODULE *m = b->Module;
    HANDLE handle = b->NmrBindingHandle;
    BOOLEAN complete;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    complete = --b->Holds == 0;
    KeReleaseSpinLock(&m->Lock, irql);
    if (complete) NmrClientDetachProviderComplete(handle);
}

static VOID NTAPI IqDeferredWork(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    IQ_BINDING *b = Context;
    PIO_WORKITEM item = b->Work;
    UNREFERENCED_PARAMETER(DeviceObject);
    IqPassiveWork(b->Module, IQ_INLINE_ANY);
    b->Work = NULL;
    IqRelease(b); /* may clean up b inline */
    IoFreeWorkItem(item);
}

static NTSTATUS NTAPI IqAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    IQ_MODULE *m = ClientContext;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    IQ_BINDING *b;
    NTSTATUS status;
    KIRQL irql = PASSIVE_LEVEL;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), IQ_BINDING_TAG);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    b->Module = m;
    b->NmrBindingHandle = NmrBindingHandle;
    b->Work = IoAllocateWorkItem(NULL);
    if (b->Work == NULL) {
        ExFreePoolWithTag(b, IQ_BINDING_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (m->Bugs & IQ_ATTACH_UNDER_LOCK) KeAcquireSpinLock(&m->Lock, &irql);
    status = NmrClientAttachProvider(NmrBindingHandle, b, &IqDispatch, &providerContext, &providerDispatch);
    if (m->Bugs & IQ_ATTACH_UNDER_LOCK) KeReleaseSpinLock(&m->Lock, irql);
    if (!NT_SUCCESS(status)) {
        IoFreeWorkItem(b->Work);
        ExFreePoolWithTag(b, IQ_BINDING_TAG);
        return status;
    }
    b->ProviderBindingContext = providerContext;
    b->ProviderDispatch = providerDispatch;
    KeAcquireSpinLock(&m->Lock, &irql);
    m->Binding = b;
    KeReleaseSpinLock(&m->Lock, irql);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI IqDetachProvider(PVOID ClientBindingContext)
{
    IQ_BINDING *b = ClientBindingContext;
    IQ_MODULE *m = b->Module;
    BOOLEAN defer = KeGetCurrentIrql() > APC_LEVEL && !(m->Bugs & IQ_INLINE_ANY);
    LONG holds;
    KIRQL irql;

    KeAcquireSpinLock(&m->Lock, &irql);
    if (m->Bugs & IQ_DETACH_KEEPS_LOCK) return STATUS_SUCCESS; /* early return, lock still held */
    b->Detaching = TRUE;
    b->Holds = b->InFlight + (defer ? 1 : 0);
    holds = b->Holds;
    KeReleaseSpinLock(&m->Lock, irql);

    if (defer) {
        IoQueueWorkItem(b->Work, IqDeferredWork, DelayedWorkQueue, b);
        return STATUS_PENDING;
    }
    IqPassiveWork(m, (m->Bugs & IQ_INLINE_ANY) ? (m->Bugs & IQ_INLINE_ANY) : IQ_INLINE_ANY);
    if (m->Bugs & IQ_COMPLETE_AT_DIRQL && holds == 0) {
        KIRQL old;
        KeRaiseIrql(IQ_DIRQL, &old);
        NmrClientDetachProviderComplete(b->NmrBindingHandle);
        KeLowerIrql(old);
        return STATUS_PENDING;
    }
    return holds ? STATUS_PENDING : STATUS_SUCCESS;
}

static VOID NTAPI IqCleanup(PVOID ClientBindingContext)
{
    IQ_BINDING *b = ClientBindingContext;
    IQ_MODULE *m = b->Module;
    KIRQL irql;
    if (m->Bugs & IQ_CLEANUP_FAST_MUTEX) {
        ExAcquireFastMutex(&m->TableMutex);
        m->Detaches++;
        ExReleaseFastMutex(&m->TableMutex);
    }
    KeAcquireSpinLock(&m->Lock, &irql);
    if (m->Binding == b) m->Binding = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    if (b->Work) IoFreeWorkItem(b->Work);
    ExFreePoolWithTag(b, IQ_BINDING_TAG);
}

static NTSTATUS IqLoad(void *Instance, ULONG Param)
{
    IQ_MODULE *m = Instance;
    NTSTATUS status;
    KIRQL irql = PASSIVE_LEVEL;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    KeInitializeSpinLock(&m->Lock);
    ExInitializeFastMutex(&m->TableMutex);
    KeInitializeEvent(&m->Ready, NotificationEvent, TRUE);
    ExInitializeRundownProtection(&m->Maintenance);
    RtInitClientCharacteristics(&m->Characteristics, &m->ModuleId, 0x06, &NPI_RT_ID, IqAttachProvider,
                                IqDetachProvider, IqCleanup);
    if (m->Bugs & IQ_REGISTER_UNDER_LOCK) KeAcquireSpinLock(&m->Lock, &irql);
    status = NmrRegisterClient(&m->Characteristics, m, &m->NmrClientHandle);
    if (m->Bugs & IQ_REGISTER_UNDER_LOCK) KeReleaseSpinLock(&m->Lock, irql);
    return status;
}

static void IqUnload(void *Instance)
{
    IQ_MODULE *m = Instance;
    NTSTATUS status;
    KIRQL old;
    /* Deregistering at DISPATCH_LEVEL is legal (the detach callbacks then run at DISPATCH_LEVEL
       on this thread, or on a worker); waiting there is not. */
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    status = NmrDeregisterClient(m->NmrClientHandle);
    if (m->Bugs & IQ_WAIT_RAISED) NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
    KeLowerIrql(old);
    if (status == STATUS_PENDING && !(m->Bugs & IQ_WAIT_RAISED)) NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
}

/* IRQL bookkeeping of a call, right or (with the flags) wrong. */
static VOID IqCallIrql(IQ_MODULE *m)
{
    KIRQL old, irql;
    /* Correct: a raise and a matching lower, a spin lock taken and released. */
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    InterlockedIncrement(&m->Stats);
    KeLowerIrql(old);
    if (m->Bugs & IQ_CALL_LEAKS_IRQL) old = KeRaiseIrqlToDpcLevel(); /* the lower is on another path */
    if (m->Bugs & IQ_LOWER_ABOVE) {
        KeRaiseIrql(APC_LEVEL, &old);
        KeLowerIrql(DISPATCH_LEVEL);
    }
    if (m->Bugs & (IQ_RAISE_BELOW | IQ_LOWER_UNDER_LOCK | IQ_PAGED_UNDER_LOCK)) {
        KeAcquireSpinLock(&m->Lock, &irql);
        if (m->Bugs & IQ_RAISE_BELOW) KeRaiseIrql(PASSIVE_LEVEL, &old);
        if (m->Bugs & IQ_LOWER_UNDER_LOCK) KeLowerIrql(PASSIVE_LEVEL);
        if (m->Bugs & IQ_PAGED_UNDER_LOCK) IqPassiveWork(m, IQ_INLINE_PAGED);
        KeReleaseSpinLock(&m->Lock, irql);
    }
    if (m->Bugs & IQ_ACQUIRE_AT_DIRQL) {
        KeRaiseIrql(IQ_DIRQL, &old);
        KeAcquireSpinLock(&m->Lock, &irql);
        KeReleaseSpinLock(&m->Lock, irql);
        KeLowerIrql(old);
    }
}

static NTSTATUS IqCall(void *Instance, ULONG Value)
{
    IQ_MODULE *m = Instance;
    IQ_BINDING *b;
    BOOLEAN release;
    KIRQL irql;
    IqCallIrql(m);
    KeAcquireSpinLock(&m->Lock, &irql);
    b = m->Binding;
    if (b != NULL && !b->Detaching)
        b->InFlight++;
    else
        b = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    if (b == NULL) return STATUS_DEVICE_NOT_READY;
    b->ProviderDispatch->Ping(b->ProviderBindingContext, Value);
    KeAcquireSpinLock(&m->Lock, &irql);
    b->InFlight--;
    release = b->Detaching;
    KeReleaseSpinLock(&m->Lock, irql);
    if (release) IqRelease(b);
    return STATUS_SUCCESS;
}

static const nmrh_module_kind iq_kind = {
    .name = "irql-client",
    .summary = "rules-NPI client with switchable IRQL bugs",
    .instance_size = sizeof(IQ_MODULE),
    .load = IqLoad,
    .unload = IqUnload,
    .call = IqCall,
};

/* ---- wrong modules ---- */

/* Fixed knobs; detach_irql / cleanup_irql select DISPATCH_LEVEL for the callbacks (K4, K5). */
static void irql_run(rs_run *r, test_instance **p, test_instance **c, ULONG bugs, int detach_irql, int cleanup_irql)
{
    nmrh_config cfg;
    rs_config_fixed(&cfg);
    cfg.knobs[NMRH_KNOB_DETACH_IRQL] = (uint8_t)detach_irql;
    if (cleanup_irql) {
        cfg.knobs[NMRH_KNOB_CLEANUP] = 1;
        cfg.knobs[NMRH_KNOB_CLEANUP_IRQL] = 1;
    }
    rs_begin(r, &cfg, NULL);
    *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    *c = rs_add(r, &iq_kind, "irql-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *p));
    nmrh_world_run_thread(r->w, th_load(r->w, *c));
}

static void test_too_high(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;

    irql_run(&r, &p, &c, IQ_REGISTER_UNDER_LOCK, 0, 0);
    rs_expect_finding(t, r.w, NMRH_RULE_IRQL_TOO_HIGH, "NmrRegisterClient called at IRQL 2 (allowed up to 0)",
                      "irql-client");
    rs_end(&r);

    irql_run(&r, &p, &c, IQ_ATTACH_UNDER_LOCK, 0, 0);
    rs_expect_finding(t, r.w, NMRH_RULE_IRQL_TOO_HIGH, "NmrClientAttachProvider called at IRQL 2 (allowed up to 0)",
                      "irql-client");
    rs_end(&r);

    irql_run(&r, &p, &c, IQ_WAIT_RAISED, 0, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_IRQL_TOO_HIGH,
                      "NmrWaitForClientDeregisterComplete called at IRQL 2 (allowed up to 1)", "irql-client");
    rs_end(&r);

    irql_run(&r, &p, &c, IQ_COMPLETE_AT_DIRQL, 0, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    rs_expect_finding(t, r.w, NMRH_RULE_IRQL_TOO_HIGH,
                      "NmrClientDetachProviderComplete called at IRQL 5 (allowed up to 2)", "irql-client");
    rs_end(&r);
}

static void test_passive_at_dispatch(check_tally *t)
{
    static const struct {
        ULONG bug;
        const char *what;
    } cases[] = {
        {IQ_INLINE_PAGED, "paged pool allocation at IRQL 2"},
        {IQ_INLINE_WAIT, "KeWaitForSingleObject without a timeout at IRQL 2 (allowed up to 1)"},
        {IQ_INLINE_WAIT_TIMEOUT, "KeWaitForSingleObject with a non-zero timeout at IRQL 2 (allowed up to 1)"},
        {IQ_INLINE_FAST_MUTEX, "ExAcquireFastMutex at IRQL 2 (allowed up to 1)"},
        {IQ_INLINE_RUNDOWN, "ExWaitForRundownProtectionRelease at IRQL 2 (allowed up to 1)"},
        {IQ_INLINE_DELAY, "KeDelayExecutionThread at IRQL 2 (allowed up to 1)"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_run r;
        test_instance *p, *c;
        /* Detach at PASSIVE_LEVEL: the same inline work is legal there. */
        irql_run(&r, &p, &c, cases[i].bug, 0, 0);
        nmrh_world_run_thread(r.w, th_unload(r.w, p));
        rs_expect_clean(t, r.w);
        rs_end(&r);
        /* The model detaches at DISPATCH_LEVEL (K4). */
        irql_run(&r, &p, &c, cases[i].bug, 1, 0);
        nmrh_world_run_thread(r.w, th_unload(r.w, p));
        rs_expect_finding(t, r.w, NMRH_RULE_PASSIVE_AT_DISPATCH, cases[i].what, "irql-client", "unload-rt-provider");
        rs_end(&r);
        /* Set mid-run with nmrh_world_set_knob, the client deregistering this time. */
        irql_run(&r, &p, &c, cases[i].bug, 0, 0);
        nmrh_world_set_knob(r.w, NMRH_KNOB_DETACH_IRQL, 1);
        nmrh_world_run_thread(r.w, th_unload(r.w, c));
        rs_expect_finding(t, r.w, NMRH_RULE_PASSIVE_AT_DISPATCH, cases[i].what, "irql-client", "unload-irql-client");
        rs_end(&r);
    }
}

static void test_passive_at_dispatch_cleanup(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    irql_run(&r, &p, &c, IQ_CLEANUP_FAST_MUTEX, 0, 1);
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    nmrh_world_finish(r.w); /* cleanup runs on an NMR worker at DISPATCH_LEVEL (K5) */
    rs_expect_finding(t, r.w, NMRH_RULE_PASSIVE_AT_DISPATCH, "ExAcquireFastMutex at IRQL 2", "irql-client",
                      "nmr-cleanup");
    rs_end(&r);
}

static void test_passive_under_spin_lock(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    irql_run(&r, &p, &c, IQ_PAGED_UNDER_LOCK, 0, 0);
    nmrh_world_run_thread(r.w, th_call(r.w, c, 0));
    rs_expect_finding(t, r.w, NMRH_RULE_PASSIVE_AT_DISPATCH, "paged pool allocation at IRQL 2", "call-irql-client");
    rs_end(&r);
}

static void test_irql_misuse(check_tally *t)
{
    static const struct {
        ULONG bug;
        const char *what;
    } calls[] = {
        {IQ_CALL_LEAKS_IRQL, "thread t2 'call-irql-client' ended at IRQL 2 holding 0 spin lock(s)"},
        {IQ_LOWER_ABOVE, "KeLowerIrql to 2 above the current IRQL 1"},
        {IQ_RAISE_BELOW, "KeRaiseIrql to 0 below the current IRQL 2"},
        {IQ_LOWER_UNDER_LOCK, "KeLowerIrql to 0 while holding 1 spin lock(s)"},
        {IQ_ACQUIRE_AT_DIRQL, "KeAcquireSpinLock at IRQL 5"},
    };
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        rs_run r;
        test_instance *p, *c;
        irql_run(&r, &p, &c, calls[i].bug, 0, 0);
        nmrh_world_run_thread(r.w, th_call(r.w, c, 0));
        rs_expect_finding(t, r.w, NMRH_RULE_IRQL_MISUSE, calls[i].what, "irql-client");
        rs_end(&r);
    }
    rs_run r;
    test_instance *p, *c;
    irql_run(&r, &p, &c, IQ_DETACH_KEEPS_LOCK, 0, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    rs_expect_finding(t, r.w, NMRH_RULE_IRQL_MISUSE, "callback returned at IRQL 2 but was called at IRQL 0",
                      "irql-client");
    rs_end(&r);
}

/* ---- correct twins ---- */

typedef struct twin {
    LONG pings;
} twin;

static void twin_count(rs_run *r)
{
    twin *tw = r->ctx;
    if (r->inst[0].instance) tw->pings += RtPeerCallsReceived(r->inst[0].instance);
}

/* Detach and cleanup IRQL, thread and order are all chosen per run (K4, K5). */
static void twin_scenario(rs_run *r)
{
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(r, &iq_kind, "irql-client", 0);
    r->after = twin_count;
    th_load(r->w, p);
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_call(r->w, c, 0);
    th_call(r->w, c, 0);
    th_unload(r->w, p);
    th_call(r->w, c, 0);
    nmrh_world_run(r->w);
    th_unload(r->w, c);
}

static void twin_scenario_client_first(rs_run *r)
{
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(r, &iq_kind, "irql-client", 0);
    r->after = twin_count;
    th_load(r->w, p);
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_call(r->w, c, 0);
    th_unload(r->w, c);
    th_call(r->w, c, 0);
    th_unload(r->w, p);
}

static void test_twins(check_tally *t)
{
    twin a = {0}, b = {0};
    rs_sweep(t, "irql: provider deregisters, any detach IRQL", NULL, 200, twin_scenario, &a);
    rs_sweep(t, "irql: client deregisters, any detach IRQL", NULL, 200, twin_scenario_client_first, &b);
    CHECK(t, a.pings > 0 && b.pings > 0);

    /* Every knob at DISPATCH_LEVEL, deferred cleanup: the passive work goes to the work item. */
    nmrh_config dispatch;
    nmrh_config_init(&dispatch);
    dispatch.knobs[NMRH_KNOB_DETACH_IRQL] = 1;
    dispatch.knobs[NMRH_KNOB_CLEANUP] = 1;
    dispatch.knobs[NMRH_KNOB_CLEANUP_IRQL] = 1;
    rs_sweep(t, "irql: detach and cleanup at DISPATCH_LEVEL", &dispatch, 150, twin_scenario, &a);
    rs_sweep(t, "irql: detach and cleanup at DISPATCH_LEVEL, client first", &dispatch, 150,
             twin_scenario_client_first, &b);
}

int main(void)
{
    check_tally t = {0, 0, "rules-irql"};
    test_too_high(&t);
    test_passive_at_dispatch(&t);
    test_passive_at_dispatch_cleanup(&t);
    test_passive_under_spin_lock(&t);
    test_irql_misuse(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_irql");
}
