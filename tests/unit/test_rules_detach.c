/*
 * Contract rules 3, 4 and 9 and the detach-side checks:
 *   NMR-COMPLETE-AFTER-SUCCESS, NMR-COMPLETE-TWICE, NMR-DETACH-BAD-STATUS,
 *   NMR-CALL-AFTER-DETACH, NMR-CONTEXT-FREED-BEFORE-CLEANUP.
 *
 * The subject ("detach-client" or, with DT_PROVIDER, "detach-provider") is one module of the
 * rules NPI written as WDK code, bound to a counterpart (tests/support/rules_support.c) whose
 * NPI functions check every incoming call against rule 9. With no bug flag it is correct in each
 * of its detach styles: SUCCESS when idle / PENDING completed by the last call (default),
 * completion from a work item (DT_DEFER), completion inside the callback (DT_EARLY, K6).
 */
#include "../support/rules_support.h"

#define DT_PROVIDER             0x0001u /* the subject is a provider (default: a client) */
#define DT_DEFER                0x0002u /* completes from a preallocated work item; returns PENDING */
#define DT_EARLY                0x0004u /* completes inside the detach callback, then returns PENDING (K6) */
#define DT_DEFER_SAYS_SUCCESS   0x0008u /* bug: DT_DEFER, but the callback returns STATUS_SUCCESS */
#define DT_EARLY_TOO            0x0010u /* bug: DT_DEFER, and completes inside the callback as well */
#define DT_ALLOC_IN_DETACH      0x0020u /* bug: DT_DEFER allocating in the callback, returning the failure */
#define DT_FREE_IN_DETACH       0x0040u /* bug B1: frees its binding context in the detach callback */
#define DT_FREE_BEFORE_COMPLETE 0x0080u /* bug: the deferred completion frees the context, then completes */
#define DT_CALL_AFTER_DETACH    0x0100u /* bug B17: calls do not check whether the binding detaches */
#define DT_CACHE_PEER           0x0200u /* bug B15: caches the peer's dispatch, never cleared on detach */
#define DT_POOL_DISPATCH        0x0400u /* its dispatch table is a per-binding pool block, freed at cleanup */
#define DT_FREE_DISPATCH_EARLY  0x0800u /* bug: DT_POOL_DISPATCH, freed in the detach callback */
#define DT_PRECOMPLETE          0x1000u /* unload completes its bindings before deregistering (K7) */
#define DT_EARLY_SAYS_SUCCESS   0x2000u /* bug: DT_EARLY, but returns STATUS_SUCCESS after completing */

#define DT_CALL_PEERS  0u
#define DT_CALL_CACHED 1u /* call through the cached peer (DT_CACHE_PEER) */

#define DT_BINDING_TAG RT_TAG('D', 't', 'B', 'd')
#define DT_WORK_TAG RT_TAG('D', 't', 'W', 'k')
#define DT_DISPATCH_TAG RT_TAG('D', 't', 'D', 's')

typedef struct _DT_MODULE DT_MODULE;
typedef struct _DT_BINDING DT_BINDING;

typedef struct _DT_WORK {
    PIO_WORKITEM Item;
    DT_MODULE *Module;
    DT_BINDING *Binding;
    HANDLE NmrBindingHandle;
} DT_WORK;

struct _DT_BINDING {
    LIST_ENTRY Link;
    DT_MODULE *Module;
    HANDLE NmrBindingHandle;
    PVOID PeerContext;
    const VOID *PeerDispatch;
    LONG InFlight;
    BOOLEAN Linked, Detaching, DetachPending;
    BOOLEAN PreCompleted;  /* DT_PRECOMPLETE: detached by the module before the NMR asked */
    DT_WORK *Work;     /* preallocated deferred completion (DT_DEFER); NULL once queued */
    PVOID OwnDispatch; /* DT_POOL_DISPATCH: our dispatch table for this binding */
};

struct _DT_MODULE {
    NPI_MODULEID ModuleId;
    union {
        NPI_CLIENT_CHARACTERISTICS Client;
        NPI_PROVIDER_CHARACTERISTICS Provider;
    } Characteristics;
    HANDLE NmrHandle;
    ULONG Bugs;
    BOOLEAN IsProvider;
    KSPIN_LOCK Lock;   /* protects Bindings and every binding's call state */
    LIST_ENTRY Bindings;
    PVOID CachedContext;            /* DT_CACHE_PEER */
    const RT_PROVIDER_DISPATCH *CachedDispatch;
};

static RT_PING_FN DtPing;
static RT_NOTIFY_FN DtNotify;
static const RT_PROVIDER_DISPATCH DtProviderDispatch = {RT_VERSION_1, sizeof(RT_PROVIDER_DISPATCH), DtPing};
static const RT_CLIENT_DISPATCH DtClientDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), DtNotify};

static NTSTATUS NTAPI DtPing(PVOID ProviderBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ProviderBindingContext);
    UNREFERENCED_PARAMETER(Value);
    return STATUS_SUCCESS;
}

static VOID NTAPI DtNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

static VOID DtComplete(const DT_MODULE *m, HANDLE NmrBindingHandle)
{
    if (m->IsProvider)
        NmrProviderDetachClientComplete(NmrBindingHandle);
    else
        NmrClientDetachProviderComplete(NmrBindingHandle);
}

static DT_WORK *DtAllocWork(DT_MODULE *m)
{
    DT_WORK *work = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*work), DT_WORK_TAG);
    if (work == NULL) return NULL;
    work->Item = IoAllocateWorkItem(NULL);
    if (work->Item == NULL) {
        ExFreePoolWithTag(work, DT_WORK_TAG);
        return NULL;
    }
    work->Module = m;
    return work;
}

static VOID DtFreeWork(DT_WORK *work)
{
    IoFreeWorkItem(work->Item);
    ExFreePoolWithTag(work, DT_WORK_TAG);
}

static VOID DtUnlinkAndFree(DT_BINDING *b)
{
    DT_MODULE *m = b->Module;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    if (b->Linked) RemoveEntryList(&b->Link);
    b->Linked = FALSE;
    KeReleaseSpinLock(&m->Lock, irql);
    if (b->Work) DtFreeWork(b->Work);
    if (b->OwnDispatch) ExFreePoolWithTag(b->OwnDispatch, DT_DISPATCH_TAG);
    ExFreePoolWithTag(b, DT_BINDING_TAG);
}

/* DT_POOL_DISPATCH: a per-binding copy of the module's dispatch table. */
static const VOID *DtOwnDispatch(DT_BINDING *b)
{
    DT_MODULE *m = b->Module;
    SIZE_T size = m->IsProvider ? sizeof(RT_PROVIDER_DISPATCH) : sizeof(RT_CLIENT_DISPATCH);
    const VOID *table = m->IsProvider ? (const VOID *)&DtProviderDispatch : (const VOID *)&DtClientDispatch;
    if (!(m->Bugs & DT_POOL_DISPATCH)) return table;
    b->OwnDispatch = ExAllocatePool2(POOL_FLAG_NON_PAGED, size, DT_DISPATCH_TAG);
    if (b->OwnDispatch == NULL) return NULL;
    RtlCopyMemory(b->OwnDispatch, table, size);
    return b->OwnDispatch;
}

/* A new binding context, with its deferred completion preallocated (DT_DEFER). */
static DT_BINDING *DtNewBinding(DT_MODULE *m, HANDLE NmrBindingHandle)
{
    DT_BINDING *b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), DT_BINDING_TAG);
    if (b == NULL) return NULL;
    b->Module = m;
    b->NmrBindingHandle = NmrBindingHandle;
    if ((m->Bugs & DT_DEFER) && !(m->Bugs & DT_ALLOC_IN_DETACH)) {
        b->Work = DtAllocWork(m);
        if (b->Work == NULL) {
            ExFreePoolWithTag(b, DT_BINDING_TAG);
            return NULL;
        }
    }
    return b;
}

static VOID DtPublish(DT_BINDING *b, PVOID PeerContext, const VOID *PeerDispatch)
{
    DT_MODULE *m = b->Module;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    b->PeerContext = PeerContext;
    b->PeerDispatch = PeerDispatch;
    InsertTailList(&m->Bindings, &b->Link);
    b->Linked = TRUE;
    if (m->Bugs & DT_CACHE_PEER) {
        m->CachedContext = PeerContext;
        m->CachedDispatch = PeerDispatch;
    }
    KeReleaseSpinLock(&m->Lock, irql);
}

static NTSTATUS NTAPI DtClientAttach(HANDLE NmrBindingHandle, PVOID ClientContext,
                                     PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    DT_MODULE *m = ClientContext;
    PVOID peerContext = NULL;
    const VOID *peerDispatch = NULL;
    DT_BINDING *b;
    NTSTATUS status;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    const VOID *dispatch;
    b = DtNewBinding(m, NmrBindingHandle);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    dispatch = DtOwnDispatch(b);
    if (dispatch == NULL) {
        DtUnlinkAndFree(b);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    status = NmrClientAttachProvider(NmrBindingHandle, b, dispatch, &peerContext, &peerDispatch);
    if (!NT_SUCCESS(status)) {
        DtUnlinkAndFree(b);
        return status;
    }
    DtPublish(b, peerContext, peerDispatch);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI DtProviderAttach(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                       PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                       PVOID ClientBindingContext, const VOID *ClientDispatch,
                                       PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    DT_MODULE *m = ProviderContext;
    DT_BINDING *b;
    if (!IsEqualGUID(ClientRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    const VOID *dispatch;
    b = DtNewBinding(m, NmrBindingHandle);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    dispatch = DtOwnDispatch(b);
    if (dispatch == NULL) {
        DtUnlinkAndFree(b);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    DtPublish(b, ClientBindingContext, ClientDispatch);
    *ProviderBindingContext = b;
    *ProviderDispatch = dispatch;
    return STATUS_SUCCESS;
}

static VOID NTAPI DtDeferredComplete(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    DT_WORK *work = Context;
    UNREFERENCED_PARAMETER(DeviceObject);
    if (work->Module->Bugs & DT_FREE_BEFORE_COMPLETE) DtUnlinkAndFree(work->Binding);
    DtComplete(work->Module, work->NmrBindingHandle);
    DtFreeWork(work);
}

static NTSTATUS NTAPI DtDetach(PVOID BindingContext)
{
    DT_BINDING *b = BindingContext;
    DT_MODULE *m = b->Module;
    DT_WORK *work = NULL;
    BOOLEAN idle;
    KIRQL irql;

    if (m->Bugs & DT_FREE_IN_DETACH) {
        DtUnlinkAndFree(b);
        return STATUS_SUCCESS;
    }
    if ((m->Bugs & DT_FREE_DISPATCH_EARLY) && b->OwnDispatch) {
        ExFreePoolWithTag(b->OwnDispatch, DT_DISPATCH_TAG); /* "we are detaching: nobody calls us" */
        b->OwnDispatch = NULL;
    }
    KeAcquireSpinLock(&m->Lock, &irql);
    if (b->PreCompleted) { /* completed already, or the last call will (K7) */
        KeReleaseSpinLock(&m->Lock, irql);
        return STATUS_PENDING;
    }
    b->Detaching = TRUE;
    idle = b->InFlight == 0;
    if (!idle) b->DetachPending = TRUE; /* the last call to return completes */
    if (idle && (m->Bugs & DT_DEFER)) {
        work = b->Work;
        b->Work = NULL;
    }
    KeReleaseSpinLock(&m->Lock, irql);

    if (!idle) return STATUS_PENDING;
    if (m->Bugs & DT_DEFER) {
        if (m->Bugs & DT_ALLOC_IN_DETACH) {
            work = DtAllocWork(m);
            if (work == NULL) return STATUS_INSUFFICIENT_RESOURCES;
        }
        work->Binding = b;
        work->NmrBindingHandle = b->NmrBindingHandle;
        if (m->Bugs & DT_EARLY_TOO) DtComplete(m, b->NmrBindingHandle);
        IoQueueWorkItem(work->Item, DtDeferredComplete, DelayedWorkQueue, work);
        return (m->Bugs & DT_DEFER_SAYS_SUCCESS) ? STATUS_SUCCESS : STATUS_PENDING;
    }
    if (m->Bugs & DT_EARLY) {
        DtComplete(m, b->NmrBindingHandle);
        return (m->Bugs & DT_EARLY_SAYS_SUCCESS) ? STATUS_SUCCESS : STATUS_PENDING;
    }
    return STATUS_SUCCESS;
}

static VOID NTAPI DtCleanup(PVOID BindingContext) { DtUnlinkAndFree(BindingContext); }

static NTSTATUS DtCallPeers(DT_MODULE *m, ULONG Value)
{
    DT_BINDING *entered[8];
    ULONG count = 0;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    for (PLIST_ENTRY e = m->Bindings.Flink; e != &m->Bindings && count < 8; e = e->Flink) {
        DT_BINDING *b = CONTAINING_RECORD(e, DT_BINDING, Link);
        if (b->Detaching && !(m->Bugs & DT_CALL_AFTER_DETACH)) continue;
        b->InFlight++;
        entered[count++] = b;
    }
    KeReleaseSpinLock(&m->Lock, irql);
    for (ULONG i = 0; i < count; i++) {
        DT_BINDING *b = entered[i];
        HANDLE handle = b->NmrBindingHandle;
        BOOLEAN complete;
        if (m->IsProvider)
            ((const RT_CLIENT_DISPATCH *)b->PeerDispatch)->Notify(b->PeerContext, Value);
        else
            ((const RT_PROVIDER_DISPATCH *)b->PeerDispatch)->Ping(b->PeerContext, Value);
        KeAcquireSpinLock(&m->Lock, &irql);
        b->InFlight--;
        complete = b->InFlight == 0 && b->DetachPending;
        if (complete) b->DetachPending = FALSE;
        KeReleaseSpinLock(&m->Lock, irql);
        if (complete) DtComplete(m, handle);
    }
    return count ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

static NTSTATUS DtCall(void *Instance, ULONG Value)
{
    DT_MODULE *m = Instance;
    if (Value == DT_CALL_CACHED && m->CachedDispatch != NULL)
        return m->CachedDispatch->Ping(m->CachedContext, Value);
    return DtCallPeers(m, Value);
}

static NTSTATUS DtLoad(void *Instance, ULONG Param)
{
    DT_MODULE *m = Instance;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    m->IsProvider = (Param & DT_PROVIDER) != 0;
    KeInitializeSpinLock(&m->Lock);
    InitializeListHead(&m->Bindings);
    if (m->IsProvider) {
        RtInitProviderCharacteristics(&m->Characteristics.Provider, &m->ModuleId, 0x02, &NPI_RT_ID, DtProviderAttach,
                                      DtDetach, DtCleanup);
        return NmrRegisterProvider(&m->Characteristics.Provider, m, &m->NmrHandle);
    }
    RtInitClientCharacteristics(&m->Characteristics.Client, &m->ModuleId, 0x02, &NPI_RT_ID, DtClientAttach, DtDetach,
                                DtCleanup);
    return NmrRegisterClient(&m->Characteristics.Client, m, &m->NmrHandle);
}

/* DT_PRECOMPLETE: stop using every binding not yet detaching and complete it now (the last
   call in flight completes a busy one), before the NMR calls the detach callbacks. */
static VOID DtPreComplete(DT_MODULE *m)
{
    HANDLE handles[8];
    ULONG count = 0;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    for (PLIST_ENTRY e = m->Bindings.Flink; e != &m->Bindings && count < 8; e = e->Flink) {
        DT_BINDING *b = CONTAINING_RECORD(e, DT_BINDING, Link);
        if (b->Detaching) continue;
        b->Detaching = TRUE;
        b->PreCompleted = TRUE;
        if (b->InFlight)
            b->DetachPending = TRUE;
        else
            handles[count++] = b->NmrBindingHandle;
    }
    KeReleaseSpinLock(&m->Lock, irql);
    for (ULONG i = 0; i < count; i++) DtComplete(m, handles[i]);
}

static void DtUnload(void *Instance)
{
    DT_MODULE *m = Instance;
    if (m->Bugs & DT_PRECOMPLETE) DtPreComplete(m);
    if (m->IsProvider) {
        if (NmrDeregisterProvider(m->NmrHandle) == STATUS_PENDING) NmrWaitForProviderDeregisterComplete(m->NmrHandle);
    } else {
        if (NmrDeregisterClient(m->NmrHandle) == STATUS_PENDING) NmrWaitForClientDeregisterComplete(m->NmrHandle);
    }
}

static const nmrh_module_kind dt_kind = {
    .name = "detach-subject",
    .summary = "rules-NPI client or provider with switchable detach bugs",
    .instance_size = sizeof(DT_MODULE),
    .load = DtLoad,
    .unload = DtUnload,
    .call = DtCall,
};

/* ---- wrong modules ---- */

/* Loads the counterpart (flags pflags) and the subject (bugs): one binding, b1. Fixed knobs:
   client detach first, on the deregistering thread, at PASSIVE_LEVEL, cleanup inline. */
static void detach_run(rs_run *r, test_instance **peer, test_instance **subject, ULONG pflags, ULONG bugs)
{
    rs_begin(r, NULL, NULL);
    int provider = (bugs & DT_PROVIDER) != 0;
    *peer = rs_add(r, provider ? &rt_client_kind : &rt_provider_kind, provider ? "rt-client" : "rt-provider", pflags);
    *subject = rs_add(r, &dt_kind, provider ? "detach-provider" : "detach-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *peer));
    nmrh_world_run_thread(r->w, th_load(r->w, *subject));
}

static void test_complete_after_success(check_tally *t, ULONG side)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, side | DT_DEFER | DT_DEFER_SAYS_SUCCESS);
    /* Deregistration detaches both sides, cleans up and returns; then the work item completes. */
    CHECK(t, nmrh_world_run_thread(r.w, th_unload(r.w, s)) == NMRH_THREAD_FINISHED);
    CHECK(t, !nmrh_world_stopped(r.w));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_COMPLETE_AFTER_SUCCESS, side ? "detach-provider" : "detach-client", "b1",
                      side ? "NmrProviderDetachClientComplete" : "NmrClientDetachProviderComplete",
                      side ? "provider detach callback returned STATUS_SUCCESS" : "client detach callback returned STATUS_SUCCESS",
                      "workitem");
    rs_end(&r);
}

/* Complete inside the callback, then STATUS_SUCCESS: Complete belongs to a pending detach. */
static void test_early_complete_then_success(check_tally *t, ULONG side)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, side | DT_EARLY | DT_EARLY_SAYS_SUCCESS);
    nmrh_world_run_thread(r.w, th_unload(r.w, s));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_COMPLETE_AFTER_SUCCESS, side ? "detach-provider" : "detach-client", "b1",
                      "returned STATUS_SUCCESS", "already called");
    rs_end(&r);
}

static void test_complete_twice(check_tally *t, ULONG side)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, side | DT_DEFER | DT_EARLY_TOO);
    nmrh_world_run_thread(r.w, th_unload(r.w, s));
    CHECK(t, !nmrh_world_stopped(r.w)); /* the early completion was legal */
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_COMPLETE_TWICE, side ? "detach-provider" : "detach-client", "b1",
                      "called twice", "workitem");
    rs_end(&r);
}

/* The peer deregisters: the subject's detach runs on the peer's unload thread. */
static void test_complete_twice_peer_unload(check_tally *t)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, DT_DEFER | DT_EARLY_TOO);
    nmrh_world_run_thread(r.w, th_unload(r.w, peer));
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_COMPLETE_TWICE, "detach-client", "b1", "NmrClientDetachProviderComplete");
    rs_end(&r);
}

static void test_detach_bad_status(check_tally *t, ULONG side)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, side | DT_DEFER | DT_ALLOC_IN_DETACH);
    nmrh_world_fail_allocs(r.w, s->module, 1);
    nmrh_world_run_thread(r.w, th_unload(r.w, s));
    rs_expect_finding(t, r.w, NMRH_RULE_DETACH_BAD_STATUS, side ? "detach-provider" : "detach-client", "b1",
                      side ? "provider detach callback" : "client detach callback", "0xC000009A");
    rs_end(&r);
}

/* B17: the provider holds its detach pending, so the binding outlives the client's SUCCESS. */
static void test_call_after_detach_success(check_tally *t)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, RT_PEER_HOLD_DETACH, DT_CALL_AFTER_DETACH);
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_PEERS));
    CHECK(t, RtPeerCallsReceived(peer->instance) == 1);
    CHECK(t, nmrh_world_run_thread(r.w, th_unload(r.w, peer)) == NMRH_THREAD_BLOCKED); /* in Wait */
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_PEERS));
    rs_expect_finding(t, r.w, NMRH_RULE_CALL_AFTER_DETACH, "client side of binding b1", "detach-client", "Ping",
                      "its detach callback returned STATUS_SUCCESS", "call-detach-client");
    rs_end(&r);
}

static void test_call_after_detach_completed(check_tally *t)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, RT_PEER_HOLD_DETACH, DT_DEFER | DT_CALL_AFTER_DETACH);
    nmrh_thread *unload = th_unload(r.w, peer);
    CHECK(t, nmrh_world_run_thread(r.w, unload) == NMRH_THREAD_BLOCKED);
    /* The subject's work item completes its detach. */
    nmrh_thread *work = nmrh_world_thread(r.w, nmrh_thread_id(unload) + 1);
    CHECK(t, work && strncmp(nmrh_thread_name(work), "workitem", 8) == 0);
    if (work) nmrh_world_run_thread(r.w, work);
    CHECK(t, !nmrh_world_stopped(r.w));
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_PEERS));
    rs_expect_finding(t, r.w, NMRH_RULE_CALL_AFTER_DETACH, "client side of binding b1", "detach-client", "Ping",
                      "it completed its detach");
    rs_end(&r);
}

/* B15: a cached dispatch pointer outlives the binding. */
static void test_call_after_cleanup(check_tally *t)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, DT_CACHE_PEER);
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_CACHED));
    CHECK(t, !nmrh_world_stopped(r.w) && RtPeerCallsReceived(peer->instance) == 1);
    nmrh_world_run_thread(r.w, th_unload(r.w, peer));
    CHECK(t, !nmrh_world_stopped(r.w));
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_CACHED));
    rs_expect_finding(t, r.w, NMRH_RULE_CALL_AFTER_DETACH, "client side of binding b1", "detach-client", "Ping",
                      "already cleaned up");
    rs_end(&r);
}

static void test_call_after_detach_provider(check_tally *t)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, RT_PEER_HOLD_DETACH, DT_PROVIDER | DT_CALL_AFTER_DETACH);
    CHECK(t, nmrh_world_run_thread(r.w, th_unload(r.w, peer)) == NMRH_THREAD_BLOCKED);
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_PEERS));
    rs_expect_finding(t, r.w, NMRH_RULE_CALL_AFTER_DETACH, "provider side of binding b1", "detach-provider", "Notify",
                      "its detach callback returned STATUS_SUCCESS");
    rs_end(&r);
}

static void test_context_freed_in_detach(check_tally *t, ULONG side)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, side | DT_FREE_IN_DETACH);
    nmrh_world_run_thread(r.w, th_unload(r.w, peer));
    rs_expect_finding(t, r.w, NMRH_RULE_CONTEXT_FREED_BEFORE_CLEANUP,
                      side ? "provider binding context of b1" : "client binding context of b1",
                      side ? "detach-provider" : "detach-client", side ? "provider detach running" : "client detach running");
    rs_end(&r);
}

static void test_context_freed_before_complete(check_tally *t)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, DT_DEFER | DT_FREE_BEFORE_COMPLETE);
    CHECK(t, nmrh_world_run_thread(r.w, th_unload(r.w, s)) == NMRH_THREAD_BLOCKED);
    nmrh_world_finish(r.w);
    rs_expect_finding(t, r.w, NMRH_RULE_CONTEXT_FREED_BEFORE_CLEANUP, "client binding context of b1", "detach-client",
                      "client detach pending", "workitem");
    rs_end(&r);
}

/* The peer may call through our dispatch table until the binding is cleaned up. */
static void test_dispatch_freed_in_detach(check_tally *t, ULONG side)
{
    rs_run r;
    test_instance *peer, *s;
    detach_run(&r, &peer, &s, 0, side | DT_POOL_DISPATCH | DT_FREE_DISPATCH_EARLY);
    nmrh_world_run_thread(r.w, th_call(r.w, peer, RT_PEER_CALL)); /* through the pool table: fine */
    CHECK(t, !nmrh_world_stopped(r.w));
    nmrh_world_run_thread(r.w, th_unload(r.w, s));
    rs_expect_finding(t, r.w, NMRH_RULE_CONTEXT_FREED_BEFORE_CLEANUP,
                      side ? "the provider dispatch table of b1" : "the client dispatch table of b1",
                      side ? "detach-provider" : "detach-client", "detach running");
    rs_end(&r);
}

/* ---- correct twins ---- */

typedef struct twin {
    ULONG bugs;      /* the subject's (correct) style */
    LONG calls;      /* calls the counterparts received over the sweep */
} twin;

static void twin_count(rs_run *r)
{
    twin *tw = r->ctx;
    if (r->inst[0].instance) tw->calls += RtPeerCallsReceived(r->inst[0].instance);
}

#define TW_SUBJECT_UNLOADS_FIRST 0x8000u /* scenario flag, not a module flag */

/* Calls in both directions race each other and the deregistration of either side. */
static void twin_scenario(rs_run *r)
{
    twin *tw = r->ctx;
    int provider = (tw->bugs & DT_PROVIDER) != 0;
    test_instance *peer = rs_add(r, provider ? &rt_client_kind : &rt_provider_kind, "peer", 0);
    test_instance *s = rs_add(r, &dt_kind, "subject", tw->bugs & ~TW_SUBJECT_UNLOADS_FIRST);
    r->after = twin_count;
    th_load(r->w, peer);
    th_load(r->w, s);
    nmrh_world_run(r->w);
    th_call(r->w, s, DT_CALL_CACHED);
    th_call(r->w, peer, RT_PEER_CALL);
    th_call(r->w, s, DT_CALL_CACHED);
    nmrh_world_run(r->w);
    th_call(r->w, s, DT_CALL_PEERS);
    th_call(r->w, peer, RT_PEER_CALL);
    th_unload(r->w, (tw->bugs & TW_SUBJECT_UNLOADS_FIRST) ? s : peer);
    th_call(r->w, s, DT_CALL_PEERS);
    th_call(r->w, peer, RT_PEER_CALL);
    nmrh_world_run(r->w);
    th_unload(r->w, s);
    th_unload(r->w, peer);
}

static void test_twins(check_tally *t)
{
    static const ULONG styles[] = {0, DT_DEFER | DT_POOL_DISPATCH, DT_EARLY, DT_PRECOMPLETE};
    for (unsigned i = 0; i < 4; i++)
        for (ULONG side = 0; side <= DT_PROVIDER; side += DT_PROVIDER)
            for (ULONG order = 0; order <= TW_SUBJECT_UNLOADS_FIRST; order += TW_SUBJECT_UNLOADS_FIRST) {
                twin tw = {styles[i] | side | order, 0};
                char name[96];
                snprintf(name, sizeof name, "detach: %s %s, %s deregisters first",
                         side ? "provider" : "client",
                         i == 0 ? "success-or-pending" : i == 1 ? "deferred" : i == 2 ? "early" : "pre-completed",
                         order ? "subject" : "peer");
                rs_sweep(t, name, NULL, 60, twin_scenario, &tw);
                CHECK(t, tw.calls > 0);
            }
}

/* The exact schedules of the wrong-module tests, with the bug fixed. */
static void test_twins_fixed(check_tally *t)
{
    rs_run r;
    test_instance *peer, *s;

    /* DT_DEFER returning PENDING: the late Complete is legal. Same for the provider side. */
    for (ULONG side = 0; side <= DT_PROVIDER; side += DT_PROVIDER) {
        detach_run(&r, &peer, &s, 0, side | DT_DEFER);
        CHECK(t, nmrh_world_run_thread(r.w, th_unload(r.w, s)) == NMRH_THREAD_BLOCKED);
        rs_expect_clean(t, r.w);
        rs_end(&r);
    }
    /* Preallocated work item: an allocation failure at detach time cannot happen. */
    detach_run(&r, &peer, &s, 0, DT_DEFER);
    nmrh_world_fail_allocs(r.w, s->module, 1);
    nmrh_world_run_thread(r.w, th_unload(r.w, s));
    rs_expect_clean(t, r.w);
    rs_end(&r);
    /* No calls after the detach returned success; the held peer detach completes later. */
    detach_run(&r, &peer, &s, RT_PEER_HOLD_DETACH, 0);
    CHECK(t, nmrh_world_run_thread(r.w, th_unload(r.w, peer)) == NMRH_THREAD_BLOCKED);
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_PEERS));
    CHECK(t, RtPeerCallsReceived(peer->instance) == 0);
    nmrh_world_run_thread(r.w, th_call(r.w, peer, RT_PEER_COMPLETE));
    rs_expect_clean(t, r.w);
    rs_end(&r);
    /* Provider side of the same. */
    detach_run(&r, &peer, &s, RT_PEER_HOLD_DETACH, DT_PROVIDER);
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_PEERS));
    CHECK(t, RtPeerCallsReceived(peer->instance) == 1);
    CHECK(t, nmrh_world_run_thread(r.w, th_unload(r.w, peer)) == NMRH_THREAD_BLOCKED);
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_PEERS));
    CHECK(t, RtPeerCallsReceived(peer->instance) == 1);
    nmrh_world_run_thread(r.w, th_call(r.w, peer, RT_PEER_COMPLETE));
    rs_expect_clean(t, r.w);
    rs_end(&r);
    /* Calls through the binding list (not a cache) after the peer unloaded. */
    detach_run(&r, &peer, &s, 0, 0);
    nmrh_world_run_thread(r.w, th_unload(r.w, peer));
    nmrh_world_run_thread(r.w, th_call(r.w, s, DT_CALL_PEERS));
    rs_expect_clean(t, r.w);
    rs_end(&r);
}

int main(void)
{
    check_tally t = {0, 0, "rules-detach"};
    test_complete_after_success(&t, 0);
    test_early_complete_then_success(&t, 0);
    test_complete_after_success(&t, DT_PROVIDER);
    test_complete_twice(&t, 0);
    test_complete_twice(&t, DT_PROVIDER);
    test_complete_twice_peer_unload(&t);
    test_detach_bad_status(&t, 0);
    test_detach_bad_status(&t, DT_PROVIDER);
    test_call_after_detach_success(&t);
    test_call_after_detach_completed(&t);
    test_call_after_cleanup(&t);
    test_call_after_detach_provider(&t);
    test_context_freed_in_detach(&t, 0);
    test_context_freed_in_detach(&t, DT_PROVIDER);
    test_context_freed_before_complete(&t);
    test_dispatch_freed_in_detach(&t, 0);
    test_dispatch_freed_in_detach(&t, DT_PROVIDER);
    test_twins_fixed(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_detach");
}
