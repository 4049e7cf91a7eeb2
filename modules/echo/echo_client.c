/*
 * Example NMR client of the echo NPI, written as ordinary WDK kernel code and meant to be correct:
 * it follows the documented patterns (the WDK documentation's reference-counting and rundown
 * samples for NMR modules), and the harness must never report a finding against it.
 *
 * - Attach: allocate a binding context, try client dispatch version 2, fall back to version 1
 *   when the provider answers STATUS_NOINTERFACE, and return exactly what
 *   NmrClientAttachProvider returned. On failure free what was allocated here.
 * - Calls: every call into a provider enters the binding's call guard; the binding stays
 *   published on the client's list until cleanup, so the guard is always valid to enter.
 * - Detach: no new calls; STATUS_SUCCESS when idle, otherwise STATUS_PENDING and the last call
 *   to return completes the detach (never touching the context after completing).
 * - Cleanup: unpublish and free the binding context. Unload: deregister and wait.
 */
#include "echo_modules.h"

typedef struct _ECHO_CLIENT {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrClientHandle;
    KSPIN_LOCK Lock;            /* protects Bindings */
    LIST_ENTRY Bindings;
    LONG NotifyCount;
#if ECHO_SEEDED(4, 1)
    BOOLEAN Started;            /* DriverEntry finished: new bindings are listed at once */
    ULONG StartingCount;
    struct _ECHO_CLIENT_BINDING *Starting[ECHO_MAX_PEERS]; /* attached while registering */
#endif
#if ECHO_SEEDED(7, 1)
    struct _ECHO_CLIENT_STATS *Stats; /* per-driver statistics, shared with calls in flight */
#endif
} ECHO_CLIENT;

#if ECHO_SEEDED(7, 1)
#define ECHO_CLIENT_STATS_TAG ECHO_POOL_TAG('E', 'h', 'o', 'S')
typedef struct _ECHO_CLIENT_STATS {
    LONG RefCount; /* one for the driver, one per call using it */
    LONG Calls;
} ECHO_CLIENT_STATS;

static VOID EchoClientStatsRelease(ECHO_CLIENT_STATS *Stats)
{
    if (InterlockedDecrement(&Stats->RefCount) == 0) ExFreePoolWithTag(Stats, ECHO_CLIENT_STATS_TAG);
}
#endif

typedef struct _ECHO_CLIENT_BINDING {
    LIST_ENTRY Link;
    ECHO_CLIENT *Client;
    HANDLE NmrBindingHandle;
    ECHO_CALL_GUARD Guard;
    PVOID ProviderBindingContext;
    const ECHO_PROVIDER_DISPATCH *ProviderDispatch;
    LONG Notifications;
#if ECHO_BUG == 8
    PLONG Stats;
#endif
#if ECHO_SEEDED(9, 1)
    BOOLEAN ProviderDetached; /* set by the detach callback: no new calls */
#endif
#if ECHO_SEEDED(10, 1)
    PULONG Reply;             /* where the provider writes its answer */
#endif
#if ECHO_BUG == 12
    KEVENT Drained;           /* set by the last call to leave once the binding is detaching */
#endif
} ECHO_CLIENT_BINDING;

static ECHO_NOTIFY_FN EchoClientNotify;

static const ECHO_CLIENT_DISPATCH EchoClientDispatchV2 = {ECHO_VERSION_2, sizeof(ECHO_CLIENT_DISPATCH), EchoClientNotify, 0};
static const ECHO_CLIENT_DISPATCH EchoClientDispatchV1 = {ECHO_VERSION_1, ECHO_CLIENT_DISPATCH_V1_SIZE, EchoClientNotify, 0};

static VOID NTAPI EchoClientNotify(PVOID ClientBindingContext, ULONG Value)
{
    ECHO_CLIENT_BINDING *binding = ClientBindingContext;
    UNREFERENCED_PARAMETER(Value);
    InterlockedIncrement(&binding->Notifications);
    InterlockedIncrement(&binding->Client->NotifyCount);
}

static NTSTATUS NTAPI EchoClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                               PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    ECHO_CLIENT *client = ClientContext;
    ECHO_CLIENT_BINDING *binding;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    NTSTATUS status;
    KIRQL irql;
#if ECHO_BUG == 16
    /* Seeded bug B16: the client dispatch table is built on the stack, for the version the
       provider accepts; the binding keeps pointing at it after this function returns. */
    ECHO_CLIENT_DISPATCH dispatch = EchoClientDispatchV2;
#endif

    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_ECHO_ID)) return STATUS_NOINTERFACE;

    binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), ECHO_CLIENT_BINDING_TAG);
    if (binding == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    binding->Client = client;
    binding->NmrBindingHandle = NmrBindingHandle;
    EchoGuardInit(&binding->Guard);
#if ECHO_SEEDED(10, 1)
    binding->Reply = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(ULONG), ECHO_CLIENT_BINDING_TAG);
    if (binding->Reply == NULL) {
        ExFreePoolWithTag(binding, ECHO_CLIENT_BINDING_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
#endif
#if ECHO_BUG == 12
    KeInitializeEvent(&binding->Drained, NotificationEvent, FALSE);
#endif

#if ECHO_BUG == 16
    status = NmrClientAttachProvider(NmrBindingHandle, binding, &dispatch, &providerContext, &providerDispatch);
    if (status == STATUS_NOINTERFACE) {
        dispatch = EchoClientDispatchV1;
        status = NmrClientAttachProvider(NmrBindingHandle, binding, &dispatch, &providerContext, &providerDispatch);
    }
#else
    status = NmrClientAttachProvider(NmrBindingHandle, binding, &EchoClientDispatchV2, &providerContext,
                                     &providerDispatch);
    if (status == STATUS_NOINTERFACE)
        status = NmrClientAttachProvider(NmrBindingHandle, binding, &EchoClientDispatchV1, &providerContext,
                                         &providerDispatch);
#endif
    if (!NT_SUCCESS(status)) {
#if ECHO_SEEDED(10, 1)
        ExFreePoolWithTag(binding->Reply, ECHO_CLIENT_BINDING_TAG);
#endif
        ExFreePoolWithTag(binding, ECHO_CLIENT_BINDING_TAG);
        return status;
    }

#if ECHO_BUG == 8
    /* Seeded bug B8: a failure after NmrClientAttachProvider succeeded is returned as is; the
       NMR and the provider already hold the binding. */
    binding->Stats = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(LONG), ECHO_CLIENT_BINDING_TAG);
    if (binding->Stats == NULL) return STATUS_INSUFFICIENT_RESOURCES;
#endif

    /* Fully initialised before it is published: a concurrent call sees all of it or none. */
    binding->ProviderBindingContext = providerContext;
    binding->ProviderDispatch = providerDispatch;
    KeAcquireSpinLock(&client->Lock, &irql);
#if ECHO_SEEDED(4, 1)
    /* Seeded bug B4: no calls before DriverEntry has finished: a binding attached while the
       client registers is set aside, and EchoClientLoad lists it once NmrRegisterClient has
       returned, taking for granted that nothing happened to it in between; but the NMR may
       already have detached it (and cleaned it up) on the way out of NmrRegisterClient. */
    if (!client->Started && client->StartingCount < ECHO_MAX_PEERS)
        client->Starting[client->StartingCount++] = binding;
    else
        InsertTailList(&client->Bindings, &binding->Link);
#else
    InsertTailList(&client->Bindings, &binding->Link);
#endif
    KeReleaseSpinLock(&client->Lock, irql);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI EchoClientDetachProvider(PVOID ClientBindingContext)
{
    ECHO_CLIENT_BINDING *binding = ClientBindingContext;
#if ECHO_BUG == 1
    /* Seeded bug B1: when no call is in flight the binding is freed right here, in detach,
       instead of in the cleanup callback. */
    NTSTATUS status = EchoGuardDetach(&binding->Guard);
    if (status == STATUS_SUCCESS) {
        KIRQL irql;
        KeAcquireSpinLock(&binding->Client->Lock, &irql);
        RemoveEntryList(&binding->Link);
        binding->Link.Flink = NULL;
        KeReleaseSpinLock(&binding->Client->Lock, irql);
        ExFreePoolWithTag(binding, ECHO_CLIENT_BINDING_TAG);
    }
    return status;
#elif ECHO_SEEDED(9, 1)
    /* Seeded bug B9: the detach raises a flag that stops new calls and reports the detach done;
       a call that saw the flag clear is still on its way into the provider. */
    binding->ProviderDetached = TRUE;
    return STATUS_SUCCESS;
#elif ECHO_SEEDED(10, 1)
    /* Seeded bug B10: no call can start any more, so the reply buffer that calls hand to the
       provider is released here; a call that entered the guard is about to pass it to Echo. */
    NTSTATUS status = EchoGuardDetach(&binding->Guard);
    ExFreePoolWithTag(binding->Reply, ECHO_CLIENT_BINDING_TAG);
    return status;
#elif ECHO_BUG == 12
    /* Seeded bug B12: instead of returning STATUS_PENDING, the detach waits for the calls in
       flight to drain (a blocking wait, in a callback that may run at DISPATCH_LEVEL). */
    KIRQL irql;
    LONG inFlight;
    KeAcquireSpinLock(&binding->Guard.Lock, &irql);
    binding->Guard.Detaching = TRUE;
    inFlight = binding->Guard.InFlight;
    KeReleaseSpinLock(&binding->Guard.Lock, irql);
    if (inFlight != 0) KeWaitForSingleObject(&binding->Drained, Executive, KernelMode, FALSE, NULL);
    return STATUS_SUCCESS;
#elif ECHO_BUG == 15
    /* Seeded bug B15: the binding is taken off the provider list here when the detach is done at
       once; when it pends, nobody takes it off, and cleanup frees it while it is still listed. */
    NTSTATUS status = EchoGuardDetach(&binding->Guard);
    if (status == STATUS_SUCCESS) {
        KIRQL irql;
        KeAcquireSpinLock(&binding->Client->Lock, &irql);
        RemoveEntryList(&binding->Link);
        KeReleaseSpinLock(&binding->Client->Lock, irql);
    }
    return status;
#elif ECHO_BUG == 17
    /* Seeded bug B17: the idle fast path returns success without closing the binding to new
       calls, so a call can still start after the detach. */
    if (binding->Guard.InFlight == 0) return STATUS_SUCCESS;
    return EchoGuardDetach(&binding->Guard);
#else
    return EchoGuardDetach(&binding->Guard);
#endif
}

static VOID NTAPI EchoClientCleanupBindingContext(PVOID ClientBindingContext)
{
    ECHO_CLIENT_BINDING *binding = ClientBindingContext;
    ECHO_CLIENT *client = binding->Client;
#if ECHO_BUG == 15
    UNREFERENCED_PARAMETER(client); /* unlisted by the detach callback (see there) */
#else
    KIRQL irql;
    KeAcquireSpinLock(&client->Lock, &irql);
    if (binding->Link.Flink != NULL) RemoveEntryList(&binding->Link);
    KeReleaseSpinLock(&client->Lock, irql);
#endif
#if ECHO_BUG == 8
    if (binding->Stats != NULL) ExFreePoolWithTag(binding->Stats, ECHO_CLIENT_BINDING_TAG);
#endif
    ExFreePoolWithTag(binding, ECHO_CLIENT_BINDING_TAG);
}

static NTSTATUS EchoClientLoad(void *Instance, ULONG Param)
{
    ECHO_CLIENT *client = Instance;
#if ECHO_SEEDED(4, 1) || ECHO_SEEDED(7, 1)
    NTSTATUS status;
#endif
#if ECHO_SEEDED(4, 1)
    KIRQL irql;
    ULONG i;
#endif
    UNREFERENCED_PARAMETER(Param);

    KeInitializeSpinLock(&client->Lock);
    InitializeListHead(&client->Bindings);
#if ECHO_SEEDED(7, 1)
    client->Stats = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(ECHO_CLIENT_STATS), ECHO_CLIENT_STATS_TAG);
    if (client->Stats == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    client->Stats->RefCount = 1;
#endif
    client->ModuleId.Length = sizeof(NPI_MODULEID);
    client->ModuleId.Type = MIT_GUID;
    client->ModuleId.Guid = NPI_ECHO_ID;
    client->ModuleId.Guid.Data4[7] = 0x10;
    client->Characteristics.Version = 0;
    client->Characteristics.Length = sizeof(NPI_CLIENT_CHARACTERISTICS);
    client->Characteristics.ClientAttachProvider = EchoClientAttachProvider;
    client->Characteristics.ClientDetachProvider = EchoClientDetachProvider;
    client->Characteristics.ClientCleanupBindingContext = EchoClientCleanupBindingContext;
    client->Characteristics.ClientRegistrationInstance.Version = 0;
    client->Characteristics.ClientRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    client->Characteristics.ClientRegistrationInstance.NpiId = &NPI_ECHO_ID;
    client->Characteristics.ClientRegistrationInstance.ModuleId = &client->ModuleId;

#if ECHO_SEEDED(4, 1)
    status = NmrRegisterClient(&client->Characteristics, client, &client->NmrClientHandle);
    if (NT_SUCCESS(status)) {
        /* Registering attached us to the providers already there (K2): list those bindings. */
        KeAcquireSpinLock(&client->Lock, &irql);
        client->Started = TRUE;
        for (i = 0; i < client->StartingCount; i++) InsertTailList(&client->Bindings, &client->Starting[i]->Link);
        client->StartingCount = 0;
        KeReleaseSpinLock(&client->Lock, irql);
    }
    return status;
#elif ECHO_SEEDED(7, 1)
    status = NmrRegisterClient(&client->Characteristics, client, &client->NmrClientHandle);
    if (!NT_SUCCESS(status)) EchoClientStatsRelease(client->Stats);
    return status;
#else
    return NmrRegisterClient(&client->Characteristics, client, &client->NmrClientHandle);
#endif
}

static void EchoClientUnload(void *Instance)
{
    ECHO_CLIENT *client = Instance;
    NTSTATUS status = NmrDeregisterClient(client->NmrClientHandle);
    if (status == STATUS_PENDING) NmrWaitForClientDeregisterComplete(client->NmrClientHandle);
#if ECHO_SEEDED(7, 1)
    {
        ECHO_CLIENT_STATS *stats = client->Stats;
        client->Stats = NULL;
        EchoClientStatsRelease(stats); /* the driver's reference */
    }
#endif
}

/* Calls Echo once on every provider the client is attached to and not detaching from. */
static NTSTATUS EchoClientCall(void *Instance, ULONG Value)
{
    ECHO_CLIENT *client = Instance;
    ECHO_CLIENT_BINDING *entered[ECHO_MAX_PEERS];
    ULONG count = 0, i;
    KIRQL irql;
    PLIST_ENTRY e;
#if ECHO_SEEDED(7, 1)
    /* Seeded bug B7: the call takes its reference on the driver's statistics after reading the
       pointer, without a lock: unload may drop the last reference and free them in between. */
    ECHO_CLIENT_STATS *stats = client->Stats;
    if (stats != NULL) {
        InterlockedIncrement(&stats->RefCount);
        InterlockedIncrement(&stats->Calls);
    }
#endif

    KeAcquireSpinLock(&client->Lock, &irql);
    for (e = client->Bindings.Flink; e != &client->Bindings && count < ECHO_MAX_PEERS; e = e->Flink) {
        ECHO_CLIENT_BINDING *binding = CONTAINING_RECORD(e, ECHO_CLIENT_BINDING, Link);
#if ECHO_SEEDED(9, 1)
        /* Seeded bug B9 (see the detach callback): the flag keeps new calls out, nothing counts
           the calls already past it. */
        if (!binding->ProviderDetached) entered[count++] = binding;
#else
        if (EchoGuardEnterAtDpc(&binding->Guard)) entered[count++] = binding;
#endif
    }
    KeReleaseSpinLock(&client->Lock, irql);
    DbgPrint("echo-client: Echo(%u) on %u provider(s)\n", (unsigned)Value, (unsigned)count);

    for (i = 0; i < count; i++) {
        ECHO_CLIENT_BINDING *binding = entered[i];
#if !ECHO_SEEDED(10, 1)
        ULONG result = 0;
#endif
        HANDLE bindingHandle = binding->NmrBindingHandle;
#if ECHO_SEEDED(6, 1)
        /* Seeded bug B6: an invalid request drops its reference on an early-exit path that skips
           the completion check, so a detach pending on this call is never completed. */
        if (Value == 0) {
            InterlockedDecrement(&binding->Guard.InFlight);
            continue;
        }
#endif
#if ECHO_SEEDED(10, 1)
        binding->ProviderDispatch->Echo(binding->ProviderBindingContext, Value, binding->Reply);
        NT_ASSERT(*binding->Reply == Value);
#else
        binding->ProviderDispatch->Echo(binding->ProviderBindingContext, Value, &result);
        NT_ASSERT(result == Value);
#endif
#if ECHO_SEEDED(9, 1)
        UNREFERENCED_PARAMETER(bindingHandle); /* no calls counted: nothing to complete */
#elif ECHO_BUG == 12
        /* Seeded bug B12 (see the detach callback): the last call out wakes the waiting detach. */
        UNREFERENCED_PARAMETER(bindingHandle);
        {
            BOOLEAN drained;
            KeAcquireSpinLock(&binding->Guard.Lock, &irql);
            binding->Guard.InFlight--;
            drained = (BOOLEAN)(binding->Guard.InFlight == 0 && binding->Guard.Detaching);
            KeReleaseSpinLock(&binding->Guard.Lock, irql);
            if (drained) KeSetEvent(&binding->Drained, IO_NO_INCREMENT, FALSE);
        }
#elif ECHO_BUG == 14
        /* Seeded bug B14: the pending detach is completed with the client's registration handle
           instead of the binding's handle. */
        UNREFERENCED_PARAMETER(bindingHandle);
        if (EchoGuardLeave(&binding->Guard)) NmrClientDetachProviderComplete(client->NmrClientHandle);
#elif ECHO_BUG == 2
        /* Seeded bug B2: the binding is touched after Complete, which may already have run the
           cleanup that frees it. */
        if (EchoGuardLeave(&binding->Guard)) {
            NmrClientDetachProviderComplete(bindingHandle);
            binding->ProviderDispatch = NULL;
        }
#else
        /* After Complete the NMR may clean up (and we free) the binding at once: use the copy. */
        if (EchoGuardLeave(&binding->Guard)) NmrClientDetachProviderComplete(bindingHandle);
#endif
    }
#if ECHO_SEEDED(7, 1)
    if (stats != NULL) EchoClientStatsRelease(stats);
#endif
    return count ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

const nmrh_module_kind echo_client_kind = {
    "echo-client", "example echo NPI client (correct)", sizeof(ECHO_CLIENT), EchoClientLoad, EchoClientUnload, EchoClientCall, NULL, NULL, 0, NULL,
};
