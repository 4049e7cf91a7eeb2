/*
 * Contract rules 1 and 2 (attach):
 *   NMR-ATTACH-STATUS-MISMATCH, NMR-ATTACH-SUCCESS-WITHOUT-BIND,
 *   NMR-ATTACH-OUTSIDE-CALLBACK, NMR-ATTACH-AFTER-SUCCESS.
 *
 * The subject is one NMR client of the rules NPI written as WDK code; each AC_* flag switches one
 * attach bug on. With no flag it is correct: it falls back from dispatch v2 to v1, returns what
 * NmrClientAttachProvider returned, binds to one provider only (declining others), and its
 * calls and detach follow the in-flight pattern of the NMR docs.
 */
#include "../support/rules_support.h"

#define AC_REJECT_AFTER_BIND  0x001u /* B8: returns STATUS_NOINTERFACE after NmrClientAttachProvider succeeded */
#define AC_MAP_FAILURE        0x002u /* returns STATUS_UNSUCCESSFUL instead of the status NmrClientAttachProvider gave */
#define AC_SUCCESS_NO_CALL    0x004u /* already bound: answers STATUS_SUCCESS instead of STATUS_NOINTERFACE */
#define AC_IGNORE_FAILURE     0x008u /* returns STATUS_SUCCESS although NmrClientAttachProvider failed */
#define AC_ATTACH_LATER       0x010u /* declines, keeps the binding handle and attaches from a later call */
#define AC_ATTACH_ON_WORKER   0x020u /* attaches from a work item while the callback waits for it */
#define AC_WORKER_PREPARES    0x040u /* (correct) a work item prepares, the callback itself attaches */
#define AC_ATTACH_TWICE       0x080u /* wrong fallback condition: attaches again after success */
#define AC_REATTACH_FROM_CALL 0x100u /* "reconnect" from a call: NmrClientAttachProvider on an attached binding */

/* Call values of the subject. */
#define AC_CALL_PING   0u
#define AC_CALL_ATTACH 1u /* AC_ATTACH_LATER / AC_REATTACH_FROM_CALL: attach now */

#define AC_BINDING_TAG RT_TAG('A', 'c', 'B', 'd')
#define AC_WORK_TAG RT_TAG('A', 'c', 'W', 'k')

typedef struct _AC_CLIENT AC_CLIENT;

typedef struct _AC_BINDING {
    AC_CLIENT *Client;
    HANDLE NmrBindingHandle;
    PVOID ProviderBindingContext;
    const RT_PROVIDER_DISPATCH *ProviderDispatch;
    LONG InFlight;
    BOOLEAN Detaching, DetachPending;
} AC_BINDING;

struct _AC_CLIENT {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrClientHandle;
    ULONG Bugs;
    KSPIN_LOCK Lock;       /* protects Binding and the binding's call state */
    AC_BINDING *Binding;   /* the one provider we are bound to, published after attach */
    HANDLE LaterHandle;    /* AC_ATTACH_LATER */
};

typedef struct _AC_ATTACH_WORK {
    PIO_WORKITEM Item;
    AC_BINDING *Binding;
    KEVENT Done;
    NTSTATUS Status;
    BOOLEAN Attach;
    PVOID ProviderBindingContext;
    const VOID *ProviderDispatch;
} AC_ATTACH_WORK;

static RT_NOTIFY_FN AcNotify;
static const RT_CLIENT_DISPATCH AcDispatchV2 = {RT_VERSION_2, sizeof(RT_CLIENT_DISPATCH), AcNotify};
static const RT_CLIENT_DISPATCH AcDispatchV1 = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), AcNotify};

static VOID NTAPI AcNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

static NTSTATUS AcAttach(AC_BINDING *binding, const RT_CLIENT_DISPATCH *dispatch, PVOID *providerContext,
                         const VOID **providerDispatch)
{
    return NmrClientAttachProvider(binding->NmrBindingHandle, binding, dispatch, providerContext, providerDispatch);
}

static VOID NTAPI AcAttachWorker(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    AC_ATTACH_WORK *work = Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    if (work->Attach)
        work->Status = AcAttach(work->Binding, &AcDispatchV2, &work->ProviderBindingContext, &work->ProviderDispatch);
    KeSetEvent(&work->Done, IO_NO_INCREMENT, FALSE);
}

/* Runs the first attach attempt on a work item and waits for it (AC_ATTACH_ON_WORKER), or lets a
   work item do unrelated preparation and attaches here (AC_WORKER_PREPARES). */
static NTSTATUS AcAttachWithWorker(AC_CLIENT *client, AC_BINDING *binding, PVOID *providerContext,
                                   const VOID **providerDispatch)
{
    AC_ATTACH_WORK *work = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*work), AC_WORK_TAG);
    NTSTATUS status;
    if (work == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    work->Item = IoAllocateWorkItem(NULL);
    if (work->Item == NULL) {
        ExFreePoolWithTag(work, AC_WORK_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    work->Binding = binding;
    work->Attach = (client->Bugs & AC_ATTACH_ON_WORKER) != 0;
    KeInitializeEvent(&work->Done, NotificationEvent, FALSE);
    IoQueueWorkItem(work->Item, AcAttachWorker, DelayedWorkQueue, work);
    KeWaitForSingleObject(&work->Done, Executive, KernelMode, FALSE, NULL);
    if (work->Attach) {
        status = work->Status;
        *providerContext = work->ProviderBindingContext;
        *providerDispatch = work->ProviderDispatch;
    } else {
        status = AcAttach(binding, &AcDispatchV2, providerContext, providerDispatch);
    }
    IoFreeWorkItem(work->Item);
    ExFreePoolWithTag(work, AC_WORK_TAG);
    return status;
}

static NTSTATUS NTAPI AcAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    AC_CLIENT *client = ClientContext;
    AC_BINDING *binding;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    NTSTATUS status;
    BOOLEAN bound;
    KIRQL irql;

    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    KeAcquireSpinLock(&client->Lock, &irql);
    bound = client->Binding != NULL;
    KeReleaseSpinLock(&client->Lock, irql);
    if (bound) return (client->Bugs & AC_SUCCESS_NO_CALL) ? STATUS_SUCCESS : STATUS_NOINTERFACE;
    if (client->Bugs & AC_ATTACH_LATER) {
        client->LaterHandle = NmrBindingHandle;
        return STATUS_NOINTERFACE;
    }

    binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), AC_BINDING_TAG);
    if (binding == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    binding->Client = client;
    binding->NmrBindingHandle = NmrBindingHandle;

    if (client->Bugs & (AC_ATTACH_ON_WORKER | AC_WORKER_PREPARES))
        status = AcAttachWithWorker(client, binding, &providerContext, &providerDispatch);
    else
        status = AcAttach(binding, &AcDispatchV2, &providerContext, &providerDispatch);
    if (status == STATUS_NOINTERFACE || (NT_SUCCESS(status) && (client->Bugs & AC_ATTACH_TWICE)))
        status = AcAttach(binding, &AcDispatchV1, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(binding, AC_BINDING_TAG);
        if (client->Bugs & AC_IGNORE_FAILURE) return STATUS_SUCCESS;
        return (client->Bugs & AC_MAP_FAILURE) ? STATUS_UNSUCCESSFUL : status;
    }
    binding->ProviderBindingContext = providerContext;
    binding->ProviderDispatch = providerDispatch;
    KeAcquireSpinLock(&client->Lock, &irql);
    client->Binding = binding;
    KeReleaseSpinLock(&client->Lock, irql);
    /* B8: a late check that rejects the provider after the NMR bound it. */
    if (client->Bugs & AC_REJECT_AFTER_BIND) return STATUS_NOINTERFACE;
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI AcDetachProvider(PVOID ClientBindingContext)
{
    AC_BINDING *binding = ClientBindingContext;
    AC_CLIENT *client = binding->Client;
    NTSTATUS status = STATUS_SUCCESS;
    KIRQL irql;
    KeAcquireSpinLock(&client->Lock, &irql);
    binding->Detaching = TRUE;
    if (binding->InFlight) {
        binding->DetachPending = TRUE;
        status = STATUS_PENDING;
    }
    KeReleaseSpinLock(&client->Lock, irql);
    return status;
}

static VOID NTAPI AcCleanup(PVOID ClientBindingContext)
{
    AC_BINDING *binding = ClientBindingContext;
    AC_CLIENT *client = binding->Client;
    KIRQL irql;
    KeAcquireSpinLock(&client->Lock, &irql);
    if (client->Binding == binding) client->Binding = NULL;
    KeReleaseSpinLock(&client->Lock, irql);
    ExFreePoolWithTag(binding, AC_BINDING_TAG);
}

static NTSTATUS AcLoad(void *Instance, ULONG Param)
{
    AC_CLIENT *client = Instance;
    RtlZeroMemory(client, sizeof(*client));
    client->Bugs = Param;
    KeInitializeSpinLock(&client->Lock);
    RtInitClientCharacteristics(&client->Characteristics, &client->ModuleId, 0x01, &NPI_RT_ID, AcAttachProvider,
                                AcDetachProvider, AcCleanup);
    return NmrRegisterClient(&client->Characteristics, client, &client->NmrClientHandle);
}

static void AcUnload(void *Instance)
{
    AC_CLIENT *client = Instance;
    if (NmrDeregisterClient(client->NmrClientHandle) == STATUS_PENDING)
        NmrWaitForClientDeregisterComplete(client->NmrClientHandle);
}

static NTSTATUS AcPing(AC_CLIENT *client, ULONG Value)
{
    AC_BINDING *binding;
    BOOLEAN complete;
    HANDLE handle;
    KIRQL irql;
    KeAcquireSpinLock(&client->Lock, &irql);
    binding = client->Binding;
    if (binding != NULL && !binding->Detaching)
        binding->InFlight++;
    else
        binding = NULL;
    KeReleaseSpinLock(&client->Lock, irql);
    if (binding == NULL) return STATUS_DEVICE_NOT_READY;
    handle = binding->NmrBindingHandle;
    binding->ProviderDispatch->Ping(binding->ProviderBindingContext, Value);
    KeAcquireSpinLock(&client->Lock, &irql);
    binding->InFlight--;
    complete = binding->InFlight == 0 && binding->DetachPending;
    if (complete) binding->DetachPending = FALSE;
    KeReleaseSpinLock(&client->Lock, irql);
    if (complete) NmrClientDetachProviderComplete(handle);
    return STATUS_SUCCESS;
}

static NTSTATUS AcCall(void *Instance, ULONG Value)
{
    AC_CLIENT *client = Instance;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    if (Value != AC_CALL_ATTACH) return AcPing(client, Value);
    if (client->Bugs & AC_ATTACH_LATER)
        return NmrClientAttachProvider(client->LaterHandle, client, &AcDispatchV2, &providerContext, &providerDispatch);
    if ((client->Bugs & AC_REATTACH_FROM_CALL) && client->Binding != NULL)
        return AcAttach(client->Binding, &AcDispatchV2, &providerContext, &providerDispatch);
    return STATUS_SUCCESS;
}

static const nmrh_module_kind ac_kind = {
    .name = "attach-client",
    .summary = "rules-NPI client with switchable attach bugs",
    .instance_size = sizeof(AC_CLIENT),
    .load = AcLoad,
    .unload = AcUnload,
    .call = AcCall,
};

/* ---- wrong modules ---- */

/* Loads a counterpart provider (flags pflags) and adds the subject with `bugs` (not loaded yet:
   attach runs inside the subject's NmrRegisterClient). All knobs fixed, zero chooser. */
static void attach_run(rs_run *r, test_instance **p, test_instance **c, ULONG pflags, ULONG bugs)
{
    rs_begin(r, NULL, NULL);
    *p = rs_add(r, &rt_provider_kind, "rt-provider", pflags);
    *c = rs_add(r, &ac_kind, "attach-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *p));
}

static void test_mismatch_reject_after_bind(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, 0, AC_REJECT_AFTER_BIND);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_STATUS_MISMATCH, "attach-client", "b1", "STATUS_NOINTERFACE",
                      "after NmrClientAttachProvider succeeded");
    rs_end(&r);
}

static void test_mismatch_after_decline(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, RT_PEER_DECLINE, AC_MAP_FAILURE);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_STATUS_MISMATCH, "attach-client", "b1", "returned 0xC0000001",
                      "NmrClientAttachProvider returned 0xC00002B9");
    rs_end(&r);
}

static void test_mismatch_after_injected_failure(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, 0, AC_MAP_FAILURE);
    nmrh_world_fail_nmr(r.w, NMRH_FAULT_CLIENT_ATTACH, 1);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_STATUS_MISMATCH, "attach-client", "b1",
                      "NmrClientAttachProvider returned 0xC000009A");
    rs_end(&r);
}

static void test_success_without_call(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, 0, AC_SUCCESS_NO_CALL);
    test_instance *p2 = rs_add(&r, &rt_provider_kind, "rt-provider-2", 0);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    CHECK(t, !nmrh_world_stopped(r.w)); /* bound to the first provider */
    nmrh_world_run_thread(r.w, th_load(r.w, p2));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_SUCCESS_WITHOUT_BIND, "attach-client", "b2",
                      "without calling NmrClientAttachProvider");
    rs_end(&r);
}

static void test_success_after_failure(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, RT_PEER_DECLINE, AC_IGNORE_FAILURE);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_SUCCESS_WITHOUT_BIND, "attach-client", "b1",
                      "although NmrClientAttachProvider failed");
    rs_end(&r);
}

static void test_outside_callback_later(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, 0, AC_ATTACH_LATER);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    CHECK(t, !nmrh_world_stopped(r.w));
    nmrh_world_run_thread(r.w, th_call(r.w, c, AC_CALL_ATTACH));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_OUTSIDE_CALLBACK, "attach-client", "b1",
                      "outside its ClientAttachProvider");
    rs_end(&r);
}

static void test_outside_callback_worker(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, 0, AC_ATTACH_ON_WORKER);
    CHECK(t, nmrh_world_run_thread(r.w, th_load(r.w, c)) == NMRH_THREAD_BLOCKED); /* waits for its work item */
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_OUTSIDE_CALLBACK, "attach-client", "b1", "workitem");
    rs_end(&r);
}

static void test_after_success_in_callback(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, 0, AC_ATTACH_TWICE);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_AFTER_SUCCESS, "attach-client", "b1", "called again");
    rs_end(&r);
}

static void test_after_success_from_call(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, 0, AC_REATTACH_FROM_CALL);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    nmrh_world_run_thread(r.w, th_call(r.w, c, AC_CALL_PING));
    CHECK(t, !nmrh_world_stopped(r.w) && RtPeerCallsReceived(p->instance) == 1);
    nmrh_world_run_thread(r.w, th_call(r.w, c, AC_CALL_ATTACH));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_AFTER_SUCCESS, "attach-client", "b1", "call-attach-client");
    rs_end(&r);
}

/* ---- a provider that attaches on the client's behalf ---- */

/* "attach-provider" answers ProviderAttachClient by calling NmrClientAttachProvider itself (with
   AP_NESTED_ATTACH), a confusion of the two roles: the call is not the client's, and it is not
   made by the ClientAttachProvider callback of the binding but from inside the NMR's own
   NmrClientAttachProvider. Without the flag it is an ordinary provider. */
#define AP_NESTED_ATTACH 0x1u
#define AP_BINDING_TAG RT_TAG('A', 'p', 'B', 'd')

typedef struct _AP_PROVIDER {
    NPI_MODULEID ModuleId;
    NPI_PROVIDER_CHARACTERISTICS Characteristics;
    HANDLE NmrProviderHandle;
    ULONG Bugs;
    LONG Nested;
    LONG Pings;
} AP_PROVIDER;

static RT_PING_FN ApPing;
static const RT_PROVIDER_DISPATCH ApDispatch = {RT_VERSION_1, sizeof(RT_PROVIDER_DISPATCH), ApPing};
static NTSTATUS NTAPI ApPing(PVOID ProviderBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(Value);
    InterlockedIncrement(&((AP_PROVIDER *)ProviderBindingContext)->Pings);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI ApAttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                     PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance, PVOID ClientBindingContext,
                                     const VOID *ClientDispatch, PVOID *ProviderBindingContext,
                                     const VOID **ProviderDispatch)
{
    AP_PROVIDER *p = ProviderContext;
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(ClientDispatch);
    if (!IsEqualGUID(ClientRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    if ((p->Bugs & AP_NESTED_ATTACH) && InterlockedIncrement(&p->Nested) == 1) {
        PVOID ctx = NULL;
        const VOID *dispatch = NULL;
        NmrClientAttachProvider(NmrBindingHandle, ClientBindingContext, ClientDispatch, &ctx, &dispatch);
    }
    *ProviderBindingContext = p; /* the provider has no per-binding state */
    *ProviderDispatch = &ApDispatch;
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI ApDetachClient(PVOID ProviderBindingContext)
{
    UNREFERENCED_PARAMETER(ProviderBindingContext);
    return STATUS_SUCCESS;
}

static NTSTATUS ApLoad(void *Instance, ULONG Param)
{
    AP_PROVIDER *p = Instance;
    RtlZeroMemory(p, sizeof(*p));
    p->Bugs = Param;
    RtInitProviderCharacteristics(&p->Characteristics, &p->ModuleId, 0x0c, &NPI_RT_ID, ApAttachClient, ApDetachClient,
                                  NULL);
    return NmrRegisterProvider(&p->Characteristics, p, &p->NmrProviderHandle);
}

static void ApUnload(void *Instance)
{
    AP_PROVIDER *p = Instance;
    if (NmrDeregisterProvider(p->NmrProviderHandle) == STATUS_PENDING)
        NmrWaitForProviderDeregisterComplete(p->NmrProviderHandle);
}

static const nmrh_module_kind ap_kind = {
    .name = "attach-provider",
    .summary = "rules-NPI provider that may call NmrClientAttachProvider itself",
    .instance_size = sizeof(AP_PROVIDER),
    .load = ApLoad,
    .unload = ApUnload,
};

static void test_outside_callback_nested(check_tally *t)
{
    rs_run r;
    rs_begin(&r, NULL, NULL);
    test_instance *p = rs_add(&r, &ap_kind, "attach-provider", AP_NESTED_ATTACH);
    test_instance *c = rs_add(&r, &ac_kind, "attach-client", 0);
    nmrh_world_run_thread(r.w, th_load(r.w, p));
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_ATTACH_OUTSIDE_CALLBACK, "b1", "attach-provider",
                      "outside its ClientAttachProvider callback");
    rs_end(&r);

    /* Fixed: an ordinary provider. */
    rs_begin(&r, NULL, NULL);
    p = rs_add(&r, &ap_kind, "attach-provider", 0);
    c = rs_add(&r, &ac_kind, "attach-client", 0);
    nmrh_world_run_thread(r.w, th_load(r.w, p));
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    nmrh_world_run_thread(r.w, th_call(r.w, c, AC_CALL_PING));
    CHECK(t, ((AP_PROVIDER *)p->instance)->Pings == 1);
    th_unload(r.w, c);
    th_unload(r.w, p);
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

/* ---- correct twins ---- */

typedef struct twin {
    ULONG bugs;        /* flags of the subject that are not bugs (AC_WORKER_PREPARES) */
    ULONG pflags[2];   /* providers' flags */
    int providers;
    LONG pings;        /* Pings the providers received over the sweep */
} twin;

static void twin_count(rs_run *r)
{
    twin *tw = r->ctx;
    for (uint32_t i = 1; i < r->ninst; i++)
        if (r->inst[i].instance) tw->pings += RtPeerCallsReceived(r->inst[i].instance);
}

/* Providers and the subject load concurrently, then calls, a reattach request and unloads race. */
static void twin_scenario(rs_run *r)
{
    const twin *tw = r->ctx;
    test_instance *c = rs_add(r, &ac_kind, "attach-client", tw->bugs);
    test_instance *p[2];
    r->after = twin_count;
    for (int i = 0; i < tw->providers; i++) {
        p[i] = rs_add(r, &rt_provider_kind, i ? "rt-provider-2" : "rt-provider", tw->pflags[i]);
        th_load(r->w, p[i]);
    }
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_call(r->w, c, AC_CALL_PING);
    th_unload(r->w, p[0]);
    th_call(r->w, p[0], RT_PEER_CALL);
    nmrh_world_run(r->w);
    th_call(r->w, c, AC_CALL_ATTACH);
    th_unload(r->w, c);
    if (tw->providers > 1) th_unload(r->w, p[1]);
}

static void test_twins(check_tally *t)
{
    twin plain = {0, {0, 0}, 1, 0};
    twin fallback = {0, {RT_PEER_V1_ONLY, 0}, 1, 0};
    twin declined = {0, {RT_PEER_DECLINE, 0}, 1, 0};
    twin two = {0, {0, RT_PEER_V1_ONLY}, 2, 0};
    twin worker = {AC_WORKER_PREPARES, {RT_PEER_V1_ONLY, 0}, 2, 0};
    rs_sweep(t, "attach: plain", NULL, 150, twin_scenario, &plain);
    rs_sweep(t, "attach: v2 declined, v1 fallback", NULL, 150, twin_scenario, &fallback);
    rs_sweep(t, "attach: provider declines, client returns its status", NULL, 100, twin_scenario, &declined);
    rs_sweep(t, "attach: second provider declined with NOINTERFACE", NULL, 150, twin_scenario, &two);
    rs_sweep(t, "attach: work item prepares, callback attaches", NULL, 150, twin_scenario, &worker);
    /* The runs bound and called (the fallback too), except where the provider declines. */
    CHECK(t, plain.pings > 0 && fallback.pings > 0 && two.pings > 0 && worker.pings > 0);
    CHECK(t, declined.pings == 0);

    /* Injected failures of pool allocations, Nmr*Register* and NmrClientAttachProvider. */
    nmrh_config faults;
    nmrh_config_init(&faults);
    faults.fault_choices = true;
    rs_sweep(t, "attach: injected faults", &faults, 200, twin_scenario, &two);
    rs_sweep(t, "attach: injected faults with a work item", &faults, 150, twin_scenario, &worker);
}

/* The subject with the fault injected deterministically: returns the injected status. */
static void test_twin_injected_failure(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    attach_run(&r, &p, &c, 0, 0);
    nmrh_world_fail_nmr(r.w, NMRH_FAULT_CLIENT_ATTACH, 1);
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    CHECK(t, c->loaded);
    nmrh_world_run_thread(r.w, th_call(r.w, c, AC_CALL_PING));
    CHECK(t, RtPeerCallsReceived(p->instance) == 0); /* not bound */
    th_unload(r.w, c);
    th_unload(r.w, p);
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

int main(void)
{
    check_tally t = {0, 0, "rules-attach"};
    test_mismatch_reject_after_bind(&t);
    test_mismatch_after_decline(&t);
    test_mismatch_after_injected_failure(&t);
    test_success_without_call(&t);
    test_success_after_failure(&t);
    test_outside_callback_later(&t);
    test_outside_callback_worker(&t);
    test_after_success_in_callback(&t);
    test_after_success_from_call(&t);
    test_outside_callback_nested(&t);
    test_twin_injected_failure(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_attach");
}
