/*
 * Contract rules 6 and 7 (deregistration and unload):
 *   NMR-DEREGISTER-TWICE, NMR-WAIT-WITHOUT-DEREGISTER, NMR-WAIT-TWICE,
 *   NMR-UNLOAD-BEFORE-WAIT (still registered / deregistered but not waited for / still being
 *   waited for), NMR-WAIT-SKIPPED, NMR-FREED-WHILE-REGISTERED (characteristics, context).
 *
 * The subject "dereg-client" is a client of the rules NPI whose registration can be stopped at
 * run time (a "stop" request, as on a configuration change) as well as at unload; whoever stops
 * first deregisters and waits, and unload waits for that to finish. Its characteristics are
 * static const by default (DR_POOL_CHARS: a pool block) and its registration context is the
 * driver's global state (DR_POOL_CONTEXT: a pool block). No bug flag: correct.
 */
#include "../support/rules_support.h"

#define DR_POOL_CHARS          0x0001u /* characteristics in a pool block, freed at unload */
#define DR_POOL_CONTEXT        0x0002u /* registration context in a pool block, freed at unload */
#define DR_DEREG_TWICE         0x0004u /* bug B13: treats STATUS_PENDING as a failure and deregisters again */
#define DR_WAIT_NO_DEREG       0x0008u /* bug: unload waits without having deregistered */
#define DR_WAIT_TWICE          0x0010u /* bug: unload waits again after the stop path waited */
#define DR_WAIT_ONLY_ON_SUCCESS 0x0020u /* bug B13: waits only if Deregister returned STATUS_SUCCESS */
#define DR_NO_DEREG            0x0040u /* bug: unload forgets to deregister */
#define DR_STOP_ON_WORKER      0x0080u /* bug: unload hands the stop to a work item and returns */
#define DR_STOP_NO_WAIT        0x0100u /* bug: the stop request deregisters and never waits */
#define DR_FREE_EARLY          0x0200u /* bug: frees the pool characteristics/context before Wait */
#define DR_LOAD_ERROR_LEAK_REG 0x0400u /* bug B3: a late load failure frees the context but stays registered */
#define DR_POOL_IDENTITY       0x0800u /* module id and NPI-specific characteristics in a pool block */
#define DR_FREE_IDENTITY_EARLY 0x1000u /* bug: frees that block before Wait (what the registration points to) */

#define DR_CALL_PING 0u
#define DR_CALL_STOP 1u

#define DR_BINDING_TAG RT_TAG('D', 'r', 'B', 'd')
#define DR_CHARS_TAG RT_TAG('D', 'r', 'C', 'h')
#define DR_CONTEXT_TAG RT_TAG('D', 'r', 'C', 'x')
#define DR_IDENTITY_TAG RT_TAG('D', 'r', 'I', 'd')

typedef struct _DR_MODULE DR_MODULE;

typedef struct _DR_BINDING {
    DR_MODULE *Module;
    HANDLE NmrBindingHandle;
    PVOID ProviderBindingContext;
    const RT_PROVIDER_DISPATCH *ProviderDispatch;
    LONG InFlight;
    BOOLEAN Detaching, DetachPending;
} DR_BINDING;

typedef struct _DR_CONTEXT { /* DR_POOL_CONTEXT: the registration context */
    DR_MODULE *Module;
} DR_CONTEXT;

typedef struct _DR_CHARS {   /* DR_POOL_CHARS */
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
} DR_CHARS;

typedef struct _DR_IDENTITY { /* DR_POOL_IDENTITY: what the registration instance points to */
    NPI_MODULEID ModuleId;
    ULONG Capabilities;       /* the NPI-specific characteristics */
} DR_IDENTITY;

struct _DR_MODULE {
    ULONG Bugs;
    HANDLE NmrClientHandle;
    LONG Registered;      /* 1 until a stop takes it */
    KEVENT Stopped;       /* set once the stop finished waiting */
    KSPIN_LOCK Lock;      /* protects Binding and its call state */
    DR_BINDING *Binding;
    PIO_WORKITEM Work;
    DR_CONTEXT GlobalContext; /* the registration context, unless DR_POOL_CONTEXT */
    DR_CHARS *PoolChars;
    DR_CONTEXT *PoolContext;
    NPI_CLIENT_CHARACTERISTICS InstanceChars; /* DR_POOL_IDENTITY */
    DR_IDENTITY *Identity;
};

static NPI_CLIENT_ATTACH_PROVIDER_FN DrAttachProvider;
static NPI_CLIENT_DETACH_PROVIDER_FN DrDetachProvider;
static NPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN DrCleanup;

static const NPI_MODULEID DrModuleId = {
    .Length = sizeof(NPI_MODULEID),
    .Type = MIT_GUID,
    .Guid = {0x6e6d7268, 0x7275, 0x6c65, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05}},
};
static const NPI_CLIENT_CHARACTERISTICS DrCharacteristics = {
    .Version = 0,
    .Length = sizeof(NPI_CLIENT_CHARACTERISTICS),
    .ClientAttachProvider = DrAttachProvider,
    .ClientDetachProvider = DrDetachProvider,
    .ClientCleanupBindingContext = DrCleanup,
    .ClientRegistrationInstance = {0, sizeof(NPI_REGISTRATION_INSTANCE), &NPI_RT_ID, &DrModuleId, 0, NULL},
};

static RT_NOTIFY_FN DrNotify;
static const RT_CLIENT_DISPATCH DrDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), DrNotify};
static VOID NTAPI DrNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

static NTSTATUS NTAPI DrAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    DR_MODULE *m = ((DR_CONTEXT *)ClientContext)->Module;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    DR_BINDING *b;
    NTSTATUS status;
    KIRQL irql;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), DR_BINDING_TAG);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    b->Module = m;
    b->NmrBindingHandle = NmrBindingHandle;
    status = NmrClientAttachProvider(NmrBindingHandle, b, &DrDispatch, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(b, DR_BINDING_TAG);
        return status;
    }
    b->ProviderBindingContext = providerContext;
    b->ProviderDispatch = providerDispatch;
    KeAcquireSpinLock(&m->Lock, &irql);
    m->Binding = b;
    KeReleaseSpinLock(&m->Lock, irql);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI DrDetachProvider(PVOID ClientBindingContext)
{
    DR_BINDING *b = ClientBindingContext;
    DR_MODULE *m = b->Module;
    NTSTATUS status = STATUS_SUCCESS;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    b->Detaching = TRUE;
    if (b->InFlight) {
        b->DetachPending = TRUE;
        status = STATUS_PENDING;
    }
    KeReleaseSpinLock(&m->Lock, irql);
    return status;
}

static VOID NTAPI DrCleanup(PVOID ClientBindingContext)
{
    DR_BINDING *b = ClientBindingContext;
    DR_MODULE *m = b->Module;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    if (m->Binding == b) m->Binding = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    ExFreePoolWithTag(b, DR_BINDING_TAG);
}

static VOID DrFreePool(DR_MODULE *m)
{
    if (m->Identity) ExFreePoolWithTag(m->Identity, DR_IDENTITY_TAG);
    m->Identity = NULL;
    if (m->PoolChars) ExFreePoolWithTag(m->PoolChars, DR_CHARS_TAG);
    if (m->PoolContext) ExFreePoolWithTag(m->PoolContext, DR_CONTEXT_TAG);
    m->PoolChars = NULL;
    m->PoolContext = NULL;
}

/* Deregisters and waits, once, whoever asks first (a stop request, unload, a load error path). */
static VOID DrStop(DR_MODULE *m)
{
    HANDLE h = m->NmrClientHandle;
    NTSTATUS status;
    if (InterlockedExchange(&m->Registered, 0) != 1) return;
    status = NmrDeregisterClient(h);
    if ((m->Bugs & DR_DEREG_TWICE) && status != STATUS_SUCCESS) status = NmrDeregisterClient(h);
    if (m->Bugs & DR_FREE_EARLY) DrFreePool(m);
    if ((m->Bugs & DR_FREE_IDENTITY_EARLY) && m->Identity) {
        ExFreePoolWithTag(m->Identity, DR_IDENTITY_TAG);
        m->Identity = NULL;
    }
    if (m->Bugs & DR_WAIT_ONLY_ON_SUCCESS) {
        if (status == STATUS_SUCCESS) NmrWaitForClientDeregisterComplete(h);
    } else if (!(m->Bugs & DR_STOP_NO_WAIT)) {
        NmrWaitForClientDeregisterComplete(h);
    }
    KeSetEvent(&m->Stopped, IO_NO_INCREMENT, FALSE);
}

static VOID NTAPI DrStopWorker(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    DrStop(Context);
}

static NTSTATUS DrLoad(void *Instance, ULONG Param)
{
    DR_MODULE *m = Instance;
    const NPI_CLIENT_CHARACTERISTICS *chars = &DrCharacteristics;
    PVOID context;
    NTSTATUS status;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    KeInitializeSpinLock(&m->Lock);
    KeInitializeEvent(&m->Stopped, NotificationEvent, FALSE);
    m->GlobalContext.Module = m;
    context = &m->GlobalContext;
    if (m->Bugs & DR_POOL_CONTEXT) {
        m->PoolContext = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(DR_CONTEXT), DR_CONTEXT_TAG);
        if (m->PoolContext == NULL) return STATUS_INSUFFICIENT_RESOURCES;
        m->PoolContext->Module = m;
        context = m->PoolContext;
    }
    if (m->Bugs & DR_POOL_CHARS) {
        m->PoolChars = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(DR_CHARS), DR_CHARS_TAG);
        if (m->PoolChars == NULL) {
            DrFreePool(m);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        RtInitClientCharacteristics(&m->PoolChars->Characteristics, &m->PoolChars->ModuleId, 0x05, &NPI_RT_ID,
                                    DrAttachProvider, DrDetachProvider, DrCleanup);
        chars = &m->PoolChars->Characteristics;
    }
    if (m->Bugs & DR_POOL_IDENTITY) {
        m->Identity = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(DR_IDENTITY), DR_IDENTITY_TAG);
        if (m->Identity == NULL) {
            DrFreePool(m);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        m->Identity->ModuleId = DrModuleId;
        m->Identity->Capabilities = 1;
        m->InstanceChars = *chars;
        m->InstanceChars.ClientRegistrationInstance.ModuleId = &m->Identity->ModuleId;
        m->InstanceChars.ClientRegistrationInstance.NpiSpecificCharacteristics = &m->Identity->Capabilities;
        chars = &m->InstanceChars;
    }
    status = NmrRegisterClient(chars, context, &m->NmrClientHandle);
    if (!NT_SUCCESS(status)) {
        DrFreePool(m);
        return status;
    }
    m->Registered = 1;
    /* A late initialisation step that can fail. */
    m->Work = IoAllocateWorkItem(NULL);
    if (m->Work == NULL) {
        if (!(m->Bugs & DR_LOAD_ERROR_LEAK_REG)) DrStop(m);
        DrFreePool(m);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    return STATUS_SUCCESS;
}

static void DrUnload(void *Instance)
{
    DR_MODULE *m = Instance;
    if (m->Bugs & DR_STOP_ON_WORKER) {
        IoQueueWorkItem(m->Work, DrStopWorker, DelayedWorkQueue, m);
        return; /* the work item (and its memory) outlive the driver */
    }
    if (m->Bugs & DR_WAIT_NO_DEREG) {
        NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
        return;
    }
    if (!(m->Bugs & DR_NO_DEREG)) {
        DrStop(m);
        KeWaitForSingleObject(&m->Stopped, Executive, KernelMode, FALSE, NULL);
        if (m->Bugs & DR_WAIT_TWICE) NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
    }
    IoFreeWorkItem(m->Work);
    DrFreePool(m);
}

static NTSTATUS DrCall(void *Instance, ULONG Value)
{
    DR_MODULE *m = Instance;
    DR_BINDING *b;
    BOOLEAN complete;
    HANDLE handle;
    KIRQL irql;
    if (Value == DR_CALL_STOP) {
        DrStop(m);
        return STATUS_SUCCESS;
    }
    KeAcquireSpinLock(&m->Lock, &irql);
    b = m->Binding;
    if (b != NULL && !b->Detaching)
        b->InFlight++;
    else
        b = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    if (b == NULL) return STATUS_DEVICE_NOT_READY;
    handle = b->NmrBindingHandle;
    b->ProviderDispatch->Ping(b->ProviderBindingContext, Value);
    KeAcquireSpinLock(&m->Lock, &irql);
    b->InFlight--;
    complete = b->InFlight == 0 && b->DetachPending;
    if (complete) b->DetachPending = FALSE;
    KeReleaseSpinLock(&m->Lock, irql);
    if (complete) NmrClientDetachProviderComplete(handle);
    return STATUS_SUCCESS;
}

static const nmrh_module_kind dr_kind = {
    .name = "dereg-client",
    .summary = "rules-NPI client with switchable deregistration and unload bugs",
    .instance_size = sizeof(DR_MODULE),
    .load = DrLoad,
    .unload = DrUnload,
    .call = DrCall,
};

/* ---- wrong modules ---- */

/* A counterpart provider (flags pflags) and the subject, both loaded: binding b1. */
static void dereg_run(rs_run *r, test_instance **p, test_instance **c, ULONG pflags, ULONG bugs)
{
    rs_begin(r, NULL, NULL);
    *p = rs_add(r, &rt_provider_kind, "rt-provider", pflags);
    *c = rs_add(r, &dr_kind, "dereg-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *p));
    nmrh_world_run_thread(r->w, th_load(r->w, *c));
}

static void test_deregister_twice(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, 0, DR_DEREG_TWICE);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_DEREGISTER_TWICE, "NmrDeregisterClient called twice for client#2 (dereg-client)");
    rs_end(&r);
}

static void test_wait_without_deregister(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, 0, DR_WAIT_NO_DEREG);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_WAIT_WITHOUT_DEREGISTER,
                      "NmrWaitForClientDeregisterComplete for client#2 (dereg-client) before it was deregistered");
    rs_end(&r);
}

static void test_wait_twice(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, 0, DR_WAIT_TWICE);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_WAIT_TWICE,
                      "NmrWaitForClientDeregisterComplete called twice for client#2 (dereg-client)");
    rs_end(&r);
}

/* A second Wait while the first one is still blocked (the stop request waits for a held detach). */
static void test_wait_twice_concurrent(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, RT_PEER_HOLD_DETACH, DR_WAIT_NO_DEREG);
    CHECK(t, nmrh_world_run_thread(r.w, th_call(r.w, c, DR_CALL_STOP)) == NMRH_THREAD_BLOCKED);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_WAIT_TWICE, "called twice for client#2 (dereg-client)", "unload-dereg-client");
    rs_end(&r);
}

static void test_unload_not_waited(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, 0, DR_WAIT_ONLY_ON_SUCCESS);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_UNLOAD_BEFORE_WAIT,
                      "module dereg-client finished unloading while client#2 (dereg-client) was deregistered but not "
                      "waited for");
    rs_end(&r);
}

static void test_unload_still_registered(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, 0, DR_NO_DEREG);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_UNLOAD_BEFORE_WAIT,
                      "module dereg-client finished unloading while client#2 (dereg-client) was still registered");
    rs_end(&r);
}

/* Unload hands deregistration to a work item and returns: the message depends on how far the
   work item got. `worker_first`: let it deregister and block in Wait (the provider holds its
   detach) before unload returns. */
static void test_unload_worker(check_tally *t, int worker_first)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, RT_PEER_HOLD_DETACH, DR_STOP_ON_WORKER);
    nmrh_thread *unload = th_unload(r.w, c);
    uint32_t before = nmrh_world_thread_count(r.w);
    if (worker_first) {
        while (nmrh_world_thread_count(r.w) == before && nmrh_world_step(r.w, unload) == NMRH_THREAD_RUNNABLE) {
        }
        nmrh_thread *worker = nmrh_world_thread(r.w, before);
        CHECK(t, worker != NULL && nmrh_thread_get_state(unload) == NMRH_THREAD_RUNNABLE);
        if (worker) CHECK(t, nmrh_world_run_thread(r.w, worker) == NMRH_THREAD_BLOCKED);
    }
    nmrh_world_run_thread(r.w, unload);
    rs_expect_finding(t, r.w, NMRH_RULE_UNLOAD_BEFORE_WAIT, "module dereg-client finished unloading while client#2",
                      worker_first ? "was still being waited for" : "was still registered");
    rs_end(&r);
}

static void test_wait_skipped(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, 0, DR_STOP_NO_WAIT);
    nmrh_world_run_thread(r.w, th_call(r.w, c, DR_CALL_STOP));
    CHECK(t, !nmrh_world_stopped(r.w));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_WAIT_SKIPPED, "client#2 (dereg-client) was deregistered",
                      "NmrWaitFor*DeregisterComplete was never called");
    rs_end(&r);
}

static void test_freed_while_registered(check_tally *t, ULONG what)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, 0, what | DR_FREE_EARLY);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_FREED_WHILE_REGISTERED,
                      what == DR_POOL_CHARS ? "the characteristics of client#2 (dereg-client)"
                                            : "the registration context of client#2 (dereg-client)",
                      "freed before its deregistration completed", "unload-dereg-client");
    rs_end(&r);
}

/* The registration instance points to a module id and NPI-specific characteristics in pool:
   they too must stay valid until deregistration completes. */
static void test_freed_identity(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, 0, DR_POOL_IDENTITY | DR_FREE_IDENTITY_EARLY);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_FREED_WHILE_REGISTERED, "the module id of client#2 (dereg-client)",
                      "freed before its deregistration completed");
    rs_end(&r);
}

/* B3: the load error path frees the context of a registration it never deregistered. The
   allocation after NmrRegisterClient fails: step the load until the context exists. */
static void test_freed_by_load_error_path(check_tally *t)
{
    rs_run r;
    rs_begin(&r, NULL, NULL);
    test_instance *c = rs_add(&r, &dr_kind, "dereg-client", DR_POOL_CONTEXT | DR_LOAD_ERROR_LEAK_REG);
    nmrh_thread *load = th_load(r.w, c);
    while ((c->instance == NULL || ((DR_MODULE *)c->instance)->Registered == 0) &&
           nmrh_world_step(r.w, load) == NMRH_THREAD_RUNNABLE) {
    }
    nmrh_world_fail_allocs(r.w, c->module, 1);
    nmrh_world_run_thread(r.w, load);
    rs_expect_finding(t, r.w, NMRH_RULE_FREED_WHILE_REGISTERED, "the registration context of client#1 (dereg-client)",
                      "load-dereg-client");
    rs_end(&r);
}

/* ---- correct twins ---- */

typedef struct twin {
    ULONG flags;
    int stops;
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
    test_instance *c = rs_add(r, &dr_kind, "dereg-client", tw->flags);
    r->after = twin_count;
    th_load(r->w, p);
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_call(r->w, c, DR_CALL_PING);
    th_call(r->w, c, DR_CALL_PING);
    nmrh_world_run(r->w);
    if (tw->stops) th_call(r->w, c, DR_CALL_STOP); /* races unload: both try to stop */
    th_unload(r->w, c);
    th_unload(r->w, p);
}

static void test_twins(check_tally *t)
{
    twin plain = {0, 0, 0}, stop = {0, 1, 0};
    twin pooled = {DR_POOL_CHARS | DR_POOL_CONTEXT | DR_POOL_IDENTITY, 1, 0};
    rs_sweep(t, "deregister: plain", NULL, 150, twin_scenario, &plain);
    rs_sweep(t, "deregister: stop request races unload", NULL, 150, twin_scenario, &stop);
    rs_sweep(t, "deregister: pool characteristics and context", NULL, 150, twin_scenario, &pooled);
    CHECK(t, plain.pings > 0 && stop.pings > 0 && pooled.pings > 0);
    nmrh_config faults;
    nmrh_config_init(&faults);
    faults.fault_choices = true; /* includes the late load failure of the error-path test */
    rs_sweep(t, "deregister: injected faults", &faults, 200, twin_scenario, &pooled);

    /* The deterministic schedules of the wrong modules, bug fixed. */
    rs_run r;
    test_instance *p, *c;
    dereg_run(&r, &p, &c, RT_PEER_HOLD_DETACH, 0); /* stop waits; unload waits for the stop */
    CHECK(t, nmrh_world_run_thread(r.w, th_call(r.w, c, DR_CALL_STOP)) == NMRH_THREAD_BLOCKED);
    CHECK(t, nmrh_world_run_thread(r.w, th_unload(r.w, c)) == NMRH_THREAD_BLOCKED);
    nmrh_world_run_thread(r.w, th_call(r.w, p, RT_PEER_COMPLETE));
    rs_expect_clean(t, r.w);
    rs_end(&r);

    rs_begin(&r, NULL, NULL);
    c = rs_add(&r, &dr_kind, "dereg-client", DR_POOL_CONTEXT);
    nmrh_thread *load = th_load(r.w, c);
    while ((c->instance == NULL || ((DR_MODULE *)c->instance)->Registered == 0) &&
           nmrh_world_step(r.w, load) == NMRH_THREAD_RUNNABLE) {
    }
    nmrh_world_fail_allocs(r.w, c->module, 1);
    nmrh_world_run_thread(r.w, load);
    CHECK(t, c->load_status == STATUS_INSUFFICIENT_RESOURCES);
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

int main(void)
{
    check_tally t = {0, 0, "rules-deregister"};
    test_deregister_twice(&t);
    test_wait_without_deregister(&t);
    test_wait_twice(&t);
    test_wait_twice_concurrent(&t);
    test_unload_not_waited(&t);
    test_unload_still_registered(&t);
    test_unload_worker(&t, 0);
    test_unload_worker(&t, 1);
    test_wait_skipped(&t);
    test_freed_while_registered(&t, DR_POOL_CHARS);
    test_freed_while_registered(&t, DR_POOL_CONTEXT);
    test_freed_identity(&t);
    test_freed_by_load_error_path(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_deregister");
}
