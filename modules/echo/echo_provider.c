/*
 * Example NMR provider of the echo NPI, the counterpart of echo_client.c and meant to be correct.
 *
 * - Attach: accept client dispatch versions up to the instance's maximum (load parameter: 1 or 2,
 *   0 meaning 2), answer STATUS_NOINTERFACE otherwise; allocate and publish a binding context.
 * - Calls into clients (Notify) go through the binding's call guard, as in the client.
 * - Detach: no new calls; SUCCESS when idle, else PENDING and the last call completes it.
 *   Incoming Echo calls stay legal until cleanup: the client may still be detaching.
 * - Cleanup: unpublish and free. Unload: deregister and wait.
 */
#include "echo_modules.h"

typedef struct _ECHO_PROVIDER {
    NPI_MODULEID ModuleId;
    NPI_PROVIDER_CHARACTERISTICS Characteristics;
    HANDLE NmrProviderHandle;
    USHORT MaxClientVersion;
    KSPIN_LOCK Lock;            /* protects Bindings */
    LIST_ENTRY Bindings;
#if ECHO_BUG == 11
    FAST_MUTEX StatsLock;
    LONG Detaches;
#endif
#if ECHO_SEEDED(7, 2)
    struct _ECHO_PROVIDER_STATS *Stats; /* per-driver statistics, shared with calls in flight */
    LONG StatsRefs;                      /* one for the driver, one per call using them */
#endif
} ECHO_PROVIDER;

typedef struct _ECHO_PROVIDER_BINDING {
    LIST_ENTRY Link;
    ECHO_PROVIDER *Provider;
    HANDLE NmrBindingHandle;
    ECHO_CALL_GUARD Guard;
    PVOID ClientBindingContext;
    const ECHO_CLIENT_DISPATCH *ClientDispatch;
    LONG Echoes;
#if ECHO_SEEDED(4, 2)
    PIO_WORKITEM ActivateWork;
#endif
#if ECHO_SEEDED(5, 1)
    PLONG Stats;
#endif
#if ECHO_SEEDED(5, 2)
    LONG RefCount; /* the NMR's reference (dropped at cleanup) and one per Notify call */
#endif
} ECHO_PROVIDER_BINDING;

#if ECHO_SEEDED(5, 2)
/* Notify calls hold a reference on the binding, so that they may touch it after completing a
   pending detach (cleanup may run inline and drop the NMR's reference). */
static VOID EchoProviderBindingRelease(ECHO_PROVIDER_BINDING *Binding)
{
    if (InterlockedDecrement(&Binding->RefCount) == 0) ExFreePoolWithTag(Binding, ECHO_PROVIDER_BINDING_TAG);
}
#endif

#if ECHO_SEEDED(7, 2)
#define ECHO_PROVIDER_STATS_TAG ECHO_POOL_TAG('E', 'h', 'o', 's')
typedef struct _ECHO_PROVIDER_STATS {
    LONG Notifies;
} ECHO_PROVIDER_STATS;

/* Seeded bug B7: the reference is dropped outside the lock and the count tested under it, so
   two releasers can both see zero (and both free the statistics). */
static VOID EchoProviderStatsRelease(ECHO_PROVIDER *Provider, ECHO_PROVIDER_STATS *Stats)
{
    KIRQL irql;
    BOOLEAN last;
    InterlockedDecrement(&Provider->StatsRefs);
    KeAcquireSpinLock(&Provider->Lock, &irql);
    last = (BOOLEAN)(Provider->StatsRefs == 0);
    if (last) Provider->Stats = NULL;
    KeReleaseSpinLock(&Provider->Lock, irql);
    if (last) ExFreePoolWithTag(Stats, ECHO_PROVIDER_STATS_TAG);
}
#endif

#if ECHO_SEEDED(4, 2)
/* Seeded bug B4: per-client setup finishes in a work item, outside the NMR's attach callback,
   and only then marks the binding attached (open for Notify calls); by then the binding may
   have been detached, and even freed. */
static VOID NTAPI EchoProviderActivateClient(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    ECHO_PROVIDER_BINDING *binding = Context;
    KIRQL irql;
    UNREFERENCED_PARAMETER(DeviceObject);
    KeAcquireSpinLock(&binding->Guard.Lock, &irql);
    binding->Guard.Detaching = FALSE;
    KeReleaseSpinLock(&binding->Guard.Lock, irql);
    IoFreeWorkItem(binding->ActivateWork);
}
#endif

static ECHO_FN EchoProviderEcho;
static const ECHO_PROVIDER_DISPATCH EchoProviderDispatch = {ECHO_VERSION_2, sizeof(ECHO_PROVIDER_DISPATCH), EchoProviderEcho};

static NTSTATUS NTAPI EchoProviderEcho(PVOID ProviderBindingContext, ULONG Value, PULONG Result)
{
    ECHO_PROVIDER_BINDING *binding = ProviderBindingContext;
    InterlockedIncrement(&binding->Echoes);
    *Result = Value;
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI EchoProviderAttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                               PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                               PVOID ClientBindingContext, const VOID *ClientDispatch,
                                               PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    ECHO_PROVIDER *provider = ProviderContext;
    const ECHO_CLIENT_DISPATCH *clientDispatch = ClientDispatch;
    ECHO_PROVIDER_BINDING *binding;
    KIRQL irql;

    if (!IsEqualGUID(ClientRegistrationInstance->NpiId, &NPI_ECHO_ID)) return STATUS_NOINTERFACE;
    if (clientDispatch == NULL || clientDispatch->Version > provider->MaxClientVersion) return STATUS_NOINTERFACE;

    binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), ECHO_PROVIDER_BINDING_TAG);
    if (binding == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    binding->Provider = provider;
    binding->NmrBindingHandle = NmrBindingHandle;
    binding->ClientBindingContext = ClientBindingContext;
    binding->ClientDispatch = clientDispatch;
    EchoGuardInit(&binding->Guard);
#if ECHO_SEEDED(4, 2)
    binding->Guard.Detaching = TRUE; /* no Notify calls before EchoProviderActivateClient */
    binding->ActivateWork = IoAllocateWorkItem(NULL); /* a driver passes its device object */
    if (binding->ActivateWork == NULL) {
        ExFreePoolWithTag(binding, ECHO_PROVIDER_BINDING_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
#endif

    KeAcquireSpinLock(&provider->Lock, &irql);
    InsertTailList(&provider->Bindings, &binding->Link);
    KeReleaseSpinLock(&provider->Lock, irql);
#if ECHO_SEEDED(5, 2)
    /* Seeded bug B5: the reference count is set after the binding was published: a Notify call
       in between takes and drops the only reference (and frees the binding), or has its
       reference overwritten (and later frees the binding under the NMR). */
    InterlockedExchange(&binding->RefCount, 1);
#endif
#if ECHO_SEEDED(4, 2)
    IoQueueWorkItem(binding->ActivateWork, EchoProviderActivateClient, DelayedWorkQueue, binding);
#endif
#if ECHO_SEEDED(5, 1)
    /* Seeded bug B5: per-client statistics are allocated after the binding was published; the
       error path frees the binding, which callers can still find on the provider's list. */
    binding->Stats = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(LONG), ECHO_PROVIDER_BINDING_TAG);
    if (binding->Stats == NULL) {
        ExFreePoolWithTag(binding, ECHO_PROVIDER_BINDING_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
#endif

    *ProviderBindingContext = binding;
    *ProviderDispatch = &EchoProviderDispatch;
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI EchoProviderDetachClient(PVOID ProviderBindingContext)
{
    ECHO_PROVIDER_BINDING *binding = ProviderBindingContext;
#if ECHO_BUG == 11
    /* Seeded bug B11: statistics under a fast mutex, a passive-level lock, in a detach callback
       that the NMR may call at DISPATCH_LEVEL. */
    ExAcquireFastMutex(&binding->Provider->StatsLock);
    binding->Provider->Detaches++;
    ExReleaseFastMutex(&binding->Provider->StatsLock);
#endif
    return EchoGuardDetach(&binding->Guard);
}

static VOID NTAPI EchoProviderCleanupBindingContext(PVOID ProviderBindingContext)
{
    ECHO_PROVIDER_BINDING *binding = ProviderBindingContext;
    ECHO_PROVIDER *provider = binding->Provider;
    KIRQL irql;
    KeAcquireSpinLock(&provider->Lock, &irql);
    RemoveEntryList(&binding->Link);
    KeReleaseSpinLock(&provider->Lock, irql);
#if ECHO_SEEDED(5, 1)
    ExFreePoolWithTag(binding->Stats, ECHO_PROVIDER_BINDING_TAG);
#endif
#if ECHO_SEEDED(5, 2)
    EchoProviderBindingRelease(binding);
#else
    ExFreePoolWithTag(binding, ECHO_PROVIDER_BINDING_TAG);
#endif
}

#if ECHO_BUG == 3
static void EchoProviderUnload(void *Instance);
#endif

static NTSTATUS EchoProviderLoad(void *Instance, ULONG Param)
{
    ECHO_PROVIDER *provider = Instance;
#if ECHO_BUG == 3 || ECHO_SEEDED(7, 2)
    NTSTATUS status;
#endif

    provider->MaxClientVersion = (USHORT)((Param & 1) ? ECHO_VERSION_1 : ECHO_VERSION_2);
    KeInitializeSpinLock(&provider->Lock);
    InitializeListHead(&provider->Bindings);
#if ECHO_BUG == 11
    ExInitializeFastMutex(&provider->StatsLock);
#endif
#if ECHO_SEEDED(7, 2)
    provider->Stats = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(ECHO_PROVIDER_STATS), ECHO_PROVIDER_STATS_TAG);
    if (provider->Stats == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    provider->StatsRefs = 1;
#endif
    provider->ModuleId.Length = sizeof(NPI_MODULEID);
    provider->ModuleId.Type = MIT_GUID;
    provider->ModuleId.Guid = NPI_ECHO_ID;
    provider->ModuleId.Guid.Data4[7] = 0x20;
    provider->Characteristics.Version = 0;
    provider->Characteristics.Length = sizeof(NPI_PROVIDER_CHARACTERISTICS);
    provider->Characteristics.ProviderAttachClient = EchoProviderAttachClient;
    provider->Characteristics.ProviderDetachClient = EchoProviderDetachClient;
    provider->Characteristics.ProviderCleanupBindingContext = EchoProviderCleanupBindingContext;
    provider->Characteristics.ProviderRegistrationInstance.Version = 0;
    provider->Characteristics.ProviderRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    provider->Characteristics.ProviderRegistrationInstance.NpiId = &NPI_ECHO_ID;
    provider->Characteristics.ProviderRegistrationInstance.ModuleId = &provider->ModuleId;

#if ECHO_BUG == 3
    status = NmrRegisterProvider(&provider->Characteristics, provider, &provider->NmrProviderHandle);
    if (!NT_SUCCESS(status)) {
        /* Seeded bug B3: the load error path undoes the load with the unload routine, which
           deregisters the handle that the failed NmrRegisterProvider never set. */
        EchoProviderUnload(provider);
    }
    return status;
#elif ECHO_SEEDED(7, 2)
    status = NmrRegisterProvider(&provider->Characteristics, provider, &provider->NmrProviderHandle);
    if (!NT_SUCCESS(status)) EchoProviderStatsRelease(provider, provider->Stats);
    return status;
#else
    return NmrRegisterProvider(&provider->Characteristics, provider, &provider->NmrProviderHandle);
#endif
}

static void EchoProviderUnload(void *Instance)
{
    ECHO_PROVIDER *provider = Instance;
    NTSTATUS status = NmrDeregisterProvider(provider->NmrProviderHandle);
#if ECHO_BUG == 13
    /* Seeded bug B13: any status but STATUS_SUCCESS is taken for a failure, so the documented
       STATUS_PENDING skips the wait and unload returns with the deregistration in progress. */
    if (status != STATUS_SUCCESS) {
        DbgPrint("echo-provider: NmrDeregisterProvider failed: 0x%08X\n", (unsigned)status);
        return;
    }
    NmrWaitForProviderDeregisterComplete(provider->NmrProviderHandle);
#else
    if (status == STATUS_PENDING) NmrWaitForProviderDeregisterComplete(provider->NmrProviderHandle);
#endif
#if ECHO_SEEDED(7, 2)
    EchoProviderStatsRelease(provider, provider->Stats); /* the driver's reference */
#endif
}

/* Notifies every client the provider is attached to and not detaching from. */
static NTSTATUS EchoProviderCall(void *Instance, ULONG Value)
{
    ECHO_PROVIDER *provider = Instance;
    ECHO_PROVIDER_BINDING *entered[ECHO_MAX_PEERS];
    ULONG count = 0, i;
    KIRQL irql;
    PLIST_ENTRY e;
#if ECHO_SEEDED(7, 2)
    ECHO_PROVIDER_STATS *stats;
#endif
#if ECHO_SEEDED(10, 2)
    ULONG candidates = 0;
#endif

    KeAcquireSpinLock(&provider->Lock, &irql);
#if ECHO_SEEDED(7, 2)
    stats = provider->Stats;
    if (stats != NULL) InterlockedIncrement(&provider->StatsRefs);
#endif
    for (e = provider->Bindings.Flink; e != &provider->Bindings && count < ECHO_MAX_PEERS; e = e->Flink) {
        ECHO_PROVIDER_BINDING *binding = CONTAINING_RECORD(e, ECHO_PROVIDER_BINDING, Link);
#if ECHO_SEEDED(9, 2)
        /* Seeded bug B9: bindings that are detaching are skipped on the plain flag, read without
           the guard's lock, and the call is counted afterwards: the detach can run in between,
           see no call in flight and return STATUS_SUCCESS. */
        if (!binding->Guard.Detaching) {
            KeAcquireSpinLockAtDpcLevel(&binding->Guard.Lock);
            binding->Guard.InFlight++;
            KeReleaseSpinLockFromDpcLevel(&binding->Guard.Lock);
            entered[count++] = binding;
        }
#elif ECHO_SEEDED(10, 2)
        entered[candidates++] = binding; /* guards entered below, outside the list lock */
#elif ECHO_SEEDED(5, 2)
        if (EchoGuardEnterAtDpc(&binding->Guard)) {
            InterlockedIncrement(&binding->RefCount);
            entered[count++] = binding;
        }
#else
        if (EchoGuardEnterAtDpc(&binding->Guard)) entered[count++] = binding;
#endif
    }
    KeReleaseSpinLock(&provider->Lock, irql);
#if ECHO_SEEDED(10, 2)
    /* Seeded bug B10: the guards are entered after the list lock was dropped, so as not to nest
       the two locks; by then a binding may have been detached, cleaned up and freed. */
    for (i = 0; i < candidates; i++) {
        ECHO_PROVIDER_BINDING *binding = entered[i];
        BOOLEAN open;
        KeAcquireSpinLock(&binding->Guard.Lock, &irql);
        open = (BOOLEAN)!binding->Guard.Detaching;
        if (open) binding->Guard.InFlight++;
        KeReleaseSpinLock(&binding->Guard.Lock, irql);
        if (open) entered[count++] = binding;
    }
#endif
    DbgPrint("echo-provider: Notify(%u) to %u client(s)\n", (unsigned)Value, (unsigned)count);

    for (i = 0; i < count; i++) {
        ECHO_PROVIDER_BINDING *binding = entered[i];
        HANDLE bindingHandle = binding->NmrBindingHandle;
        binding->ClientDispatch->Notify(binding->ClientBindingContext, Value);
        if (EchoGuardLeave(&binding->Guard)) NmrProviderDetachClientComplete(bindingHandle);
#if ECHO_SEEDED(5, 2)
        EchoProviderBindingRelease(binding);
#endif
    }
#if ECHO_SEEDED(7, 2)
    if (stats != NULL) {
        InterlockedAdd(&stats->Notifies, (LONG)count);
        EchoProviderStatsRelease(provider, stats);
    }
#endif
    return count ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

static const char *const EchoVersionNames[] = {"2", "1"};
static const nmrh_module_param EchoProviderParams[] = {
    {"version", 0, 1, 2, EchoVersionNames}, /* highest client dispatch version accepted */
};

const nmrh_module_kind echo_provider_kind = {
    "echo-provider", "example echo NPI provider (correct)", sizeof(ECHO_PROVIDER), EchoProviderLoad, EchoProviderUnload, EchoProviderCall,
    NULL, EchoProviderParams, 1, NULL,
};
