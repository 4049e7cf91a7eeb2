/*
 * Contract rule 10 and pool discipline:
 *   KRNL-POOL-LEAK (binding context, request buffer, work item, a failed load's allocation;
 *   reported per pool tag once the module unloaded), KRNL-POOL-BAD-FREE (double free through
 *   ExFreePoolWithTag and ExFreePool, wrong tag, memory that is not a pool block).
 *
 * The subject "pool-client" is a client of the rules NPI that allocates a receive buffer at
 * load ('PlBf'), a binding context per binding ('PlBd'), a request buffer per call ('PlRq') and
 * a work item per detach ('IoWk', the shim's tag for work items). No bug flag: correct, also
 * under injected allocation failures.
 */
#include "../support/rules_support.h"

#define PL_LEAK_BINDING     0x0001u /* cleanup forgets to free the binding context */
#define PL_LEAK_REQUEST     0x0002u /* the "not bound" path of a call forgets its request buffer */
#define PL_LEAK_WORKITEM    0x0004u /* the deferred completion never frees its work item */
#define PL_LEAK_ON_LOAD_ERR 0x0008u /* a failed registration leaves the receive buffer allocated */
#define PL_DOUBLE_FREE      0x0010u /* B7: unload frees the receive buffer the last cleanup already freed */
#define PL_DOUBLE_FREE_UNTAGGED 0x0020u /* ... with ExFreePool */
#define PL_WRONG_TAG        0x0040u /* frees the request buffer with the binding tag */
#define PL_FREE_EMBEDDED    0x0080u /* frees the embedded statistics block as if it were allocated */

#define PL_BUFFER_TAG RT_TAG('P', 'l', 'B', 'f')
#define PL_BINDING_TAG RT_TAG('P', 'l', 'B', 'd')
#define PL_REQUEST_TAG RT_TAG('P', 'l', 'R', 'q')

typedef struct _PL_MODULE PL_MODULE;

typedef struct _PL_BINDING {
    PL_MODULE *Module;
    HANDLE NmrBindingHandle;
    PVOID ProviderBindingContext;
    const RT_PROVIDER_DISPATCH *ProviderDispatch;
    LONG InFlight;
    BOOLEAN Detaching, DetachPending;
} PL_BINDING;

typedef struct _PL_STATS {
    LONG Requests;
} PL_STATS;

struct _PL_MODULE {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrClientHandle;
    ULONG Bugs;
    KSPIN_LOCK Lock;       /* protects Binding and its call state */
    PL_BINDING *Binding;
    PVOID ReceiveBuffer;   /* 'PlBf' */
    BOOLEAN BufferFreedByCleanup;
    PL_STATS Stats;
};

typedef struct _PL_WORK {
    PIO_WORKITEM Item;
    PL_MODULE *Module;
    HANDLE NmrBindingHandle;
} PL_WORK;

static RT_NOTIFY_FN PlNotify;
static const RT_CLIENT_DISPATCH PlDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), PlNotify};
static VOID NTAPI PlNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

static NTSTATUS NTAPI PlAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    PL_MODULE *m = ClientContext;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    PL_BINDING *b;
    NTSTATUS status;
    KIRQL irql;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), PL_BINDING_TAG);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    b->Module = m;
    b->NmrBindingHandle = NmrBindingHandle;
    status = NmrClientAttachProvider(NmrBindingHandle, b, &PlDispatch, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(b, PL_BINDING_TAG);
        return status;
    }
    b->ProviderBindingContext = providerContext;
    b->ProviderDispatch = providerDispatch;
    KeAcquireSpinLock(&m->Lock, &irql);
    m->Binding = b;
    KeReleaseSpinLock(&m->Lock, irql);
    return STATUS_SUCCESS;
}

static VOID NTAPI PlDeferredComplete(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    PL_WORK *work = Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    NmrClientDetachProviderComplete(work->NmrBindingHandle);
    if (!(work->Module->Bugs & PL_LEAK_WORKITEM)) IoFreeWorkItem(work->Item);
    ExFreePoolWithTag(work, PL_BINDING_TAG);
}

/* Idle: completes from a work item (allocated here; on failure it completes inline, early). */
static NTSTATUS NTAPI PlDetachProvider(PVOID ClientBindingContext)
{
    PL_BINDING *b = ClientBindingContext;
    PL_MODULE *m = b->Module;
    PL_WORK *work;
    BOOLEAN busy;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    b->Detaching = TRUE;
    busy = b->InFlight != 0;
    if (busy) b->DetachPending = TRUE;
    KeReleaseSpinLock(&m->Lock, irql);
    if (busy) return STATUS_PENDING;
    work = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*work), PL_BINDING_TAG);
    if (work) work->Item = IoAllocateWorkItem(NULL);
    if (work == NULL || work->Item == NULL) {
        if (work) ExFreePoolWithTag(work, PL_BINDING_TAG);
        NmrClientDetachProviderComplete(b->NmrBindingHandle); /* early completion (K6) */
        return STATUS_PENDING;
    }
    work->Module = m;
    work->NmrBindingHandle = b->NmrBindingHandle;
    IoQueueWorkItem(work->Item, PlDeferredComplete, DelayedWorkQueue, work);
    return STATUS_PENDING;
}

static VOID NTAPI PlCleanup(PVOID ClientBindingContext)
{
    PL_BINDING *b = ClientBindingContext;
    PL_MODULE *m = b->Module;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    if (m->Binding == b) m->Binding = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    if (m->Bugs & (PL_DOUBLE_FREE | PL_DOUBLE_FREE_UNTAGGED)) {
        /* "The last binding owns the receive buffer": but unload frees it as well. */
        ExFreePoolWithTag(m->ReceiveBuffer, PL_BUFFER_TAG);
        m->BufferFreedByCleanup = TRUE;
    }
    if (!(m->Bugs & PL_LEAK_BINDING)) ExFreePoolWithTag(b, PL_BINDING_TAG);
}

static NTSTATUS PlLoad(void *Instance, ULONG Param)
{
    PL_MODULE *m = Instance;
    NTSTATUS status;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    KeInitializeSpinLock(&m->Lock);
    m->ReceiveBuffer = ExAllocatePool2(POOL_FLAG_NON_PAGED, 256, PL_BUFFER_TAG);
    if (m->ReceiveBuffer == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    RtInitClientCharacteristics(&m->Characteristics, &m->ModuleId, 0x08, &NPI_RT_ID, PlAttachProvider,
                                PlDetachProvider, PlCleanup);
    status = NmrRegisterClient(&m->Characteristics, m, &m->NmrClientHandle);
    if (!NT_SUCCESS(status)) {
        if (!(m->Bugs & PL_LEAK_ON_LOAD_ERR)) ExFreePoolWithTag(m->ReceiveBuffer, PL_BUFFER_TAG);
        return status;
    }
    return STATUS_SUCCESS;
}

static void PlUnload(void *Instance)
{
    PL_MODULE *m = Instance;
    if (NmrDeregisterClient(m->NmrClientHandle) == STATUS_PENDING)
        NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
    if (m->Bugs & PL_DOUBLE_FREE_UNTAGGED)
        ExFreePool(m->ReceiveBuffer);
    else
        ExFreePoolWithTag(m->ReceiveBuffer, PL_BUFFER_TAG);
    if (m->Bugs & PL_FREE_EMBEDDED) ExFreePoolWithTag(&m->Stats, PL_BUFFER_TAG);
}

static NTSTATUS PlCall(void *Instance, ULONG Value)
{
    PL_MODULE *m = Instance;
    PL_BINDING *b;
    BOOLEAN complete;
    HANDLE handle;
    KIRQL irql;
    PULONG request = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(ULONG), PL_REQUEST_TAG);
    if (request == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    *request = Value;
    InterlockedIncrement(&m->Stats.Requests);
    KeAcquireSpinLock(&m->Lock, &irql);
    b = m->Binding;
    if (b != NULL && !b->Detaching)
        b->InFlight++;
    else
        b = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    if (b == NULL) {
        if (!(m->Bugs & PL_LEAK_REQUEST)) ExFreePoolWithTag(request, PL_REQUEST_TAG);
        return STATUS_DEVICE_NOT_READY;
    }
    handle = b->NmrBindingHandle;
    b->ProviderDispatch->Ping(b->ProviderBindingContext, *request);
    KeAcquireSpinLock(&m->Lock, &irql);
    b->InFlight--;
    complete = b->InFlight == 0 && b->DetachPending;
    if (complete) b->DetachPending = FALSE;
    KeReleaseSpinLock(&m->Lock, irql);
    if (complete) NmrClientDetachProviderComplete(handle);
    ExFreePoolWithTag(request, (m->Bugs & PL_WRONG_TAG) ? PL_BINDING_TAG : PL_REQUEST_TAG);
    return STATUS_SUCCESS;
}

static const nmrh_module_kind pl_kind = {
    .name = "pool-client",
    .summary = "rules-NPI client with switchable pool bugs",
    .instance_size = sizeof(PL_MODULE),
    .load = PlLoad,
    .unload = PlUnload,
    .call = PlCall,
};

/* ---- wrong modules ---- */

static void pool_run(rs_run *r, test_instance **p, test_instance **c, ULONG bugs)
{
    rs_begin(r, NULL, NULL);
    *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    *c = rs_add(r, &pl_kind, "pool-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *p));
    nmrh_world_run_thread(r->w, th_load(r->w, *c));
}

/* Calls, provider unload (the binding detaches), a call finding no binding, client unload. */
static void pool_life(rs_run *r, test_instance *p, test_instance *c)
{
    nmrh_world_run_thread(r->w, th_call(r->w, c, 1));
    nmrh_world_run_thread(r->w, th_unload(r->w, p));
    nmrh_world_run_thread(r->w, th_call(r->w, c, 2));
    nmrh_world_run(r->w);
    nmrh_world_run_thread(r->w, th_unload(r->w, c));
}

static void test_leaks(check_tally *t)
{
    static const struct {
        ULONG bug;
        const char *what;
    } cases[] = {
        {PL_LEAK_BINDING, "module pool-client unloaded with 1 pool block(s) not freed: 1 x tag 'PlBd'"},
        {PL_LEAK_REQUEST, "module pool-client unloaded with 1 pool block(s) not freed: 1 x tag 'PlRq' (4 bytes)"},
        {PL_LEAK_WORKITEM, "module pool-client unloaded with 1 pool block(s) not freed: 1 x tag 'IoWk'"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_run r;
        test_instance *p, *c;
        pool_run(&r, &p, &c, cases[i].bug);
        pool_life(&r, p, c);
        CHECK(t, !nmrh_world_stopped(r.w)); /* reported at the end, per tag */
        nmrh_world_finish(r.w);
        rs_expect_finding(t, r.w, NMRH_RULE_POOL_LEAK, cases[i].what);
        rs_end(&r);
    }
    /* Still loaded at the end: what it holds is not a leak. */
    rs_run r;
    test_instance *p, *c;
    pool_run(&r, &p, &c, PL_LEAK_REQUEST);
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    nmrh_world_run_thread(r.w, th_call(r.w, c, 2));
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

/* A failed DriverEntry: the driver is gone without Unload, as the interpreter reports it. */
static void test_leak_on_load_failure(check_tally *t)
{
    rs_run r;
    rs_begin(&r, NULL, NULL);
    test_instance *c = rs_add(&r, &pl_kind, "pool-client", PL_LEAK_ON_LOAD_ERR);
    nmrh_world_fail_nmr(r.w, NMRH_FAULT_REGISTER, 1);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    CHECK(t, c->load_status == STATUS_INSUFFICIENT_RESOURCES);
    nmrh_world_module_unloaded(r.w, c->module);
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_POOL_LEAK, "module pool-client unloaded with 1 pool block(s) not freed",
                      "1 x tag 'PlBf' (256 bytes)");
    rs_end(&r);

    rs_begin(&r, NULL, NULL); /* fixed */
    c = rs_add(&r, &pl_kind, "pool-client", 0);
    nmrh_world_fail_nmr(r.w, NMRH_FAULT_REGISTER, 1);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    nmrh_world_module_unloaded(r.w, c->module);
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

static void test_bad_free(check_tally *t)
{
    static const struct {
        ULONG bug;
        const char *what;
    } cases[] = {
        {PL_DOUBLE_FREE, "ExFreePoolWithTag of memory that is not an allocated pool block (double free?)"},
        {PL_DOUBLE_FREE_UNTAGGED, "ExFreePool of memory that is not an allocated pool block (double free?)"},
        {PL_WRONG_TAG, "ExFreePoolWithTag with tag 'PlBd' of a block allocated with tag 'PlRq'"},
        {PL_FREE_EMBEDDED, "ExFreePoolWithTag of memory that is not an allocated pool block"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_run r;
        test_instance *p, *c;
        pool_run(&r, &p, &c, cases[i].bug);
        pool_life(&r, p, c);
        rs_expect_finding(t, r.w, NMRH_RULE_POOL_BAD_FREE, cases[i].what, "pool-client");
        rs_end(&r);
    }
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

static void twin_scenario(rs_run *r)
{
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(r, &pl_kind, "pool-client", 0);
    r->after = twin_count;
    th_load(r->w, p);
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_call(r->w, c, 1);
    th_call(r->w, c, 2);
    th_unload(r->w, p);
    th_call(r->w, c, 3);
    nmrh_world_run(r->w);
    th_unload(r->w, c);
}

static void test_twins(check_tally *t)
{
    twin a = {0}, b = {0};
    rs_sweep(t, "pool: every block freed", NULL, 200, twin_scenario, &a);
    CHECK(t, a.pings > 0);
    nmrh_config faults;
    nmrh_config_init(&faults);
    faults.fault_choices = true;
    rs_sweep(t, "pool: every block freed under injected faults", &faults, 200, twin_scenario, &b);
    CHECK(t, b.pings > 0);

    rs_run r; /* the deterministic schedule of the wrong modules */
    test_instance *p, *c;
    pool_run(&r, &p, &c, 0);
    pool_life(&r, p, c);
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

int main(void)
{
    check_tally t = {0, 0, "rules-pool"};
    test_leaks(&t);
    test_leak_on_load_failure(&t);
    test_bad_free(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_pool");
}
