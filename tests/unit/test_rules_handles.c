/*
 * Contract rule 5 (handles): NMR-BAD-HANDLE (NULL, not an NMR handle, corrupted, stale) and
 * NMR-WRONG-HANDLE-KIND (registration handle to DetachComplete, client handle to
 * NmrDeregisterProvider, binding handle to NmrDeregisterClient, provider handle to
 * NmrWaitForClientDeregisterComplete). Windows bugchecks on these (K9); the model reports them.
 *
 * The subject "handle-client" is a client of the rules NPI that completes its detach from a
 * preallocated work item; with HM_FILTER it is also a provider of a second NPI (a filter
 * driver's shape), so it holds two registration handles. With HM_OPTIONAL its registration is
 * optional: the driver loads without it. No bug flag: correct.
 */
#include "../support/rules_support.h"

#define HM_FILTER               0x0001u /* also registers as a provider of NPI_RT_OTHER */
#define HM_OPTIONAL             0x0002u /* loads even when NmrRegisterClient fails */
#define HM_NULL_DEREG           0x0004u /* bug B3: HM_OPTIONAL, but unload deregisters the never-set handle */
#define HM_SENTINEL             0x0008u /* bug B3: "no handle" is INVALID_HANDLE_VALUE, unload tests for NULL */
#define HM_CLOBBER              0x0010u /* bug: a counter update through a wrong field hits the binding handle */
#define HM_COMPLETE_DECLINED    0x0020u /* bug: tears down the last binding it tried, though it never attached */
#define HM_ATTACH_BEFORE_INIT   0x0040u /* bug B5: attaches with the binding's handle field before setting it */
#define HM_COMPLETE_REG_HANDLE  0x0080u /* bug B14: completes the detach with the client registration handle */
#define HM_SWAP_DEREG           0x0100u /* bug: HM_FILTER, deregisters the provider with the client handle */
#define HM_DEREG_BINDING        0x0200u /* bug: deregisters the client with its binding handle */
#define HM_SWAP_WAIT            0x0400u /* bug: HM_FILTER, waits for the client with the provider handle */

#define HM_CALL_PING          0u
#define HM_CALL_TEARDOWN_LAST 1u /* complete the detach of the last binding tried (HM_COMPLETE_DECLINED) */

#define HM_NO_HANDLE ((HANDLE)(LONG_PTR)-1) /* INVALID_HANDLE_VALUE */
#define HM_BINDING_TAG RT_TAG('H', 'm', 'B', 'd')

typedef struct _HM_MODULE HM_MODULE;

typedef struct _HM_BINDING {
    HM_MODULE *Module;
    union {
        HANDLE NmrBindingHandle;
        LONG64 Raw;
    } h;
    PVOID ProviderBindingContext;
    const RT_PROVIDER_DISPATCH *ProviderDispatch;
    LONG InFlight;
    LONG Pings;
    BOOLEAN Detaching, DetachPending;
    PIO_WORKITEM Work;    /* preallocated deferred completion */
    PIO_WORKITEM Queued;  /* the work item once queued: it frees itself */
} HM_BINDING;

struct _HM_MODULE {
    NPI_MODULEID ClientId, ProviderId;
    NPI_CLIENT_CHARACTERISTICS ClientChars;
    NPI_PROVIDER_CHARACTERISTICS ProviderChars;
    HANDLE NmrClientHandle, NmrProviderHandle;
    BOOLEAN ClientRegistered;
    ULONG Bugs;
    KSPIN_LOCK Lock;          /* protects Binding and its call state */
    HM_BINDING *Binding;
    HANDLE LastBindingHandle; /* the binding last offered to us */
};

static RT_NOTIFY_FN HmNotify;
static const RT_CLIENT_DISPATCH HmDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), HmNotify};
static VOID NTAPI HmNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

static VOID HmFreeBinding(HM_BINDING *b)
{
    if (b->Work) IoFreeWorkItem(b->Work);
    ExFreePoolWithTag(b, HM_BINDING_TAG);
}

static NTSTATUS NTAPI HmAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    HM_MODULE *m = ClientContext;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    HM_BINDING *b;
    NTSTATUS status;
    KIRQL irql;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    m->LastBindingHandle = NmrBindingHandle;
    b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), HM_BINDING_TAG);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    b->Module = m;
    b->Work = IoAllocateWorkItem(NULL);
    if (b->Work == NULL) {
        HmFreeBinding(b);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (!(m->Bugs & HM_ATTACH_BEFORE_INIT)) b->h.NmrBindingHandle = NmrBindingHandle;
    status = NmrClientAttachProvider(b->h.NmrBindingHandle, b, &HmDispatch, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) {
        HmFreeBinding(b);
        return status;
    }
    b->h.NmrBindingHandle = NmrBindingHandle;
    b->ProviderBindingContext = providerContext;
    b->ProviderDispatch = providerDispatch;
    KeAcquireSpinLock(&m->Lock, &irql);
    m->Binding = b;
    KeReleaseSpinLock(&m->Lock, irql);
    return STATUS_SUCCESS;
}

static VOID HmComplete(HM_MODULE *m, HANDLE NmrBindingHandle)
{
    NmrClientDetachProviderComplete((m->Bugs & HM_COMPLETE_REG_HANDLE) ? m->NmrClientHandle : NmrBindingHandle);
}

static VOID NTAPI HmDeferredComplete(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    HM_BINDING *b = Context;
    PIO_WORKITEM item = b->Queued;
    UNREFERENCED_PARAMETER(DeviceObject);
    HmComplete(b->Module, b->h.NmrBindingHandle); /* cleanup may free b inline: b is not touched after */
    IoFreeWorkItem(item);
}

static NTSTATUS NTAPI HmDetachProvider(PVOID ClientBindingContext)
{
    HM_BINDING *b = ClientBindingContext;
    HM_MODULE *m = b->Module;
    PIO_WORKITEM work = NULL;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    b->Detaching = TRUE;
    if (b->InFlight) {
        b->DetachPending = TRUE;
    } else {
        work = b->Work;
        b->Work = NULL;
    }
    if (m->Bugs & HM_CLOBBER) b->h.Raw += 1; /* meant for a generation counter in the next field */
    KeReleaseSpinLock(&m->Lock, irql);
    if (work) {
        b->Queued = work;
        IoQueueWorkItem(work, HmDeferredComplete, DelayedWorkQueue, b);
    }
    return STATUS_PENDING;
}

static VOID NTAPI HmCleanup(PVOID ClientBindingContext)
{
    HM_BINDING *b = ClientBindingContext;
    HM_MODULE *m = b->Module;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    if (m->Binding == b) m->Binding = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    HmFreeBinding(b);
}

/* The provider side of a filter: offers NPI_RT_OTHER, which nobody in these tests uses. */
static NTSTATUS NTAPI HmAttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                     PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                     PVOID ClientBindingContext, const VOID *ClientDispatch,
                                     PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    UNREFERENCED_PARAMETER(NmrBindingHandle);
    UNREFERENCED_PARAMETER(ProviderContext);
    UNREFERENCED_PARAMETER(ClientRegistrationInstance);
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(ClientDispatch);
    UNREFERENCED_PARAMETER(ProviderBindingContext);
    UNREFERENCED_PARAMETER(ProviderDispatch);
    return STATUS_NOINTERFACE;
}
static NTSTATUS NTAPI HmDetachClient(PVOID ProviderBindingContext)
{
    UNREFERENCED_PARAMETER(ProviderBindingContext);
    return STATUS_SUCCESS;
}

static NTSTATUS HmLoad(void *Instance, ULONG Param)
{
    HM_MODULE *m = Instance;
    NTSTATUS status;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    KeInitializeSpinLock(&m->Lock);
    m->NmrClientHandle = (m->Bugs & HM_SENTINEL) ? HM_NO_HANDLE : NULL;
    RtInitClientCharacteristics(&m->ClientChars, &m->ClientId, 0x03, &NPI_RT_ID, HmAttachProvider, HmDetachProvider,
                                HmCleanup);
    status = NmrRegisterClient(&m->ClientChars, m, &m->NmrClientHandle);
    m->ClientRegistered = NT_SUCCESS(status);
    if (!NT_SUCCESS(status) && !(m->Bugs & HM_OPTIONAL)) return status;
    if (m->Bugs & HM_FILTER) {
        RtInitProviderCharacteristics(&m->ProviderChars, &m->ProviderId, 0x04, &NPI_RT_OTHER_ID, HmAttachClient,
                                      HmDetachClient, NULL);
        status = NmrRegisterProvider(&m->ProviderChars, m, &m->NmrProviderHandle);
        if (!NT_SUCCESS(status)) {
            if (m->ClientRegistered && NmrDeregisterClient(m->NmrClientHandle) == STATUS_PENDING)
                NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
            return status;
        }
    }
    return STATUS_SUCCESS;
}

static void HmUnload(void *Instance)
{
    HM_MODULE *m = Instance;
    BOOLEAN registered = (m->Bugs & HM_NULL_DEREG) ? TRUE
                         : (m->Bugs & HM_SENTINEL) ? m->NmrClientHandle != NULL
                                                   : m->ClientRegistered;
    HANDLE binding = m->LastBindingHandle;
    if (m->Bugs & HM_FILTER) {
        HANDLE provider = (m->Bugs & HM_SWAP_DEREG) ? m->NmrClientHandle : m->NmrProviderHandle;
        if (NmrDeregisterProvider(provider) == STATUS_PENDING) NmrWaitForProviderDeregisterComplete(provider);
    }
    if (!registered) return;
    if (NmrDeregisterClient((m->Bugs & HM_DEREG_BINDING) ? binding : m->NmrClientHandle) == STATUS_PENDING)
        NmrWaitForClientDeregisterComplete((m->Bugs & HM_SWAP_WAIT) ? m->NmrProviderHandle : m->NmrClientHandle);
}

static NTSTATUS HmCall(void *Instance, ULONG Value)
{
    HM_MODULE *m = Instance;
    HM_BINDING *b;
    BOOLEAN complete;
    HANDLE handle;
    KIRQL irql;
    if (Value == HM_CALL_TEARDOWN_LAST) {
        /* The correct module never tears down a binding the NMR did not attach. */
        if ((m->Bugs & HM_COMPLETE_DECLINED) && m->LastBindingHandle != NULL && m->Binding == NULL)
            NmrClientDetachProviderComplete(m->LastBindingHandle);
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
    handle = b->h.NmrBindingHandle;
    b->ProviderDispatch->Ping(b->ProviderBindingContext, Value);
    KeAcquireSpinLock(&m->Lock, &irql);
    b->InFlight--;
    complete = b->InFlight == 0 && b->DetachPending;
    if (complete) b->DetachPending = FALSE;
    KeReleaseSpinLock(&m->Lock, irql);
    if (complete) HmComplete(m, handle);
    return STATUS_SUCCESS;
}

static const nmrh_module_kind hm_kind = {
    .name = "handle-client",
    .summary = "rules-NPI client (and optional provider of a second NPI) with switchable handle bugs",
    .instance_size = sizeof(HM_MODULE),
    .load = HmLoad,
    .unload = HmUnload,
    .call = HmCall,
};

/* ---- wrong modules ---- */

static void handle_run(rs_run *r, test_instance **p, test_instance **c, ULONG pflags, ULONG bugs, int fail_register)
{
    rs_begin(r, NULL, NULL);
    *p = rs_add(r, &rt_provider_kind, "rt-provider", pflags);
    *c = rs_add(r, &hm_kind, "handle-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *p));
    if (fail_register) nmrh_world_fail_nmr(r->w, NMRH_FAULT_REGISTER, 1);
    nmrh_world_run_thread(r->w, th_load(r->w, *c));
}

static void test_bad_handle_null(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_OPTIONAL | HM_NULL_DEREG, 1);
    CHECK(t, c->loaded && !nmrh_world_stopped(r.w));
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_BAD_HANDLE, "NmrDeregisterClient got a NULL handle", "handle-client");
    rs_end(&r);
}

static void test_bad_handle_null_attach(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_ATTACH_BEFORE_INIT, 0);
    rs_expect_finding(t, r.w, NMRH_RULE_BAD_HANDLE, "NmrClientAttachProvider got a NULL handle", "handle-client");
    rs_end(&r);
}

static void test_bad_handle_not_nmr(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_OPTIONAL | HM_SENTINEL, 1);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_BAD_HANDLE, "NmrDeregisterClient got a value that is not an NMR handle",
                      "handle-client");
    rs_end(&r);
}

static void test_bad_handle_corrupted(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_CLOBBER, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    nmrh_world_finish(r.w); /* the work item completes with the clobbered handle */
    rs_expect_finding(t, r.w, NMRH_RULE_BAD_HANDLE,
                      "NmrClientDetachProviderComplete got a forged or corrupted NMR handle", "handle-client");
    rs_end(&r);
}

static void test_bad_handle_stale(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, RT_PEER_DECLINE, HM_COMPLETE_DECLINED, 0);
    CHECK(t, c->loaded && !nmrh_world_stopped(r.w));
    nmrh_world_run_thread(r.w, th_call(r.w, c, HM_CALL_TEARDOWN_LAST));
    rs_expect_finding(t, r.w, NMRH_RULE_BAD_HANDLE, "NmrClientDetachProviderComplete got the stale handle of binding b1",
                      "handle-client", "never attached");
    rs_end(&r);
}

static void test_wrong_kind_complete(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_COMPLETE_REG_HANDLE, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_WRONG_HANDLE_KIND,
                      "NmrClientDetachProviderComplete got the client registration handle of client#2 (handle-client) "
                      "instead of a binding handle",
                      "workitem");
    rs_end(&r);
}

static void test_wrong_kind_deregister_provider(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_FILTER | HM_SWAP_DEREG, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_WRONG_HANDLE_KIND,
                      "NmrDeregisterProvider got a client registration handle instead of a provider registration handle",
                      "handle-client");
    rs_end(&r);
}

static void test_wrong_kind_deregister_binding(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_DEREG_BINDING, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_WRONG_HANDLE_KIND,
                      "NmrDeregisterClient got a binding handle instead of a client registration handle", "handle-client");
    rs_end(&r);
}

static void test_wrong_kind_wait(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_FILTER | HM_SWAP_WAIT, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_WRONG_HANDLE_KIND,
                      "NmrWaitForClientDeregisterComplete got a provider registration handle instead of a client "
                      "registration handle",
                      "handle-client");
    rs_end(&r);
}

/* ---- correct twins ---- */

typedef struct twin {
    ULONG bugs, pflags;
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
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", tw->pflags);
    test_instance *c = rs_add(r, &hm_kind, "handle-client", tw->bugs);
    r->after = twin_count;
    th_load(r->w, p);
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_call(r->w, c, HM_CALL_PING);
    th_call(r->w, c, HM_CALL_PING);
    th_unload(r->w, p);
    nmrh_world_run(r->w);
    th_call(r->w, c, HM_CALL_TEARDOWN_LAST);
    th_unload(r->w, c);
}

static void test_twins(check_tally *t)
{
    twin plain = {0, 0, 0}, filter = {HM_FILTER, 0, 0}, optional = {HM_OPTIONAL, 0, 0};
    twin declined = {HM_FILTER, RT_PEER_DECLINE, 0};
    rs_sweep(t, "handles: plain", NULL, 150, twin_scenario, &plain);
    rs_sweep(t, "handles: filter (two registration handles)", NULL, 150, twin_scenario, &filter);
    rs_sweep(t, "handles: declined binding not torn down", NULL, 100, twin_scenario, &declined);
    CHECK(t, plain.pings > 0 && filter.pings > 0 && declined.pings == 0);
    nmrh_config faults;
    nmrh_config_init(&faults);
    faults.fault_choices = true;
    rs_sweep(t, "handles: optional registration under injected faults", &faults, 200, twin_scenario, &optional);
    rs_sweep(t, "handles: filter under injected faults", &faults, 200, twin_scenario, &filter);

    /* The deterministic schedules of the wrong modules, bug fixed. */
    rs_run r;
    test_instance *p, *c;
    handle_run(&r, &p, &c, 0, HM_OPTIONAL, 1); /* registration failed: nothing to deregister */
    CHECK(t, c->loaded);
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_clean(t, r.w);
    rs_end(&r);
    handle_run(&r, &p, &c, RT_PEER_DECLINE, 0, 0); /* declined: no teardown */
    nmrh_world_run_thread(r.w, th_call(r.w, c, HM_CALL_TEARDOWN_LAST));
    th_unload(r.w, c);
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

int main(void)
{
    check_tally t = {0, 0, "rules-handles"};
    test_bad_handle_null(&t);
    test_bad_handle_null_attach(&t);
    test_bad_handle_not_nmr(&t);
    test_bad_handle_corrupted(&t);
    test_bad_handle_stale(&t);
    test_wrong_kind_complete(&t);
    test_wrong_kind_deregister_provider(&t);
    test_wrong_kind_deregister_binding(&t);
    test_wrong_kind_wait(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_handles");
}
