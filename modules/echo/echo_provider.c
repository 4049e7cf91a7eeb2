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
} ECHO_PROVIDER;

typedef struct _ECHO_PROVIDER_BINDING {
    LIST_ENTRY Link;
    ECHO_PROVIDER *Provider;
    HANDLE NmrBindingHandle;
    ECHO_CALL_GUARD Guard;
    PVOID ClientBindingContext;
    const ECHO_CLIENT_DISPATCH *ClientDispatch;
    LONG Echoes;
} ECHO_PROVIDER_BINDING;

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

    KeAcquireSpinLock(&provider->Lock, &irql);
    InsertTailList(&provider->Bindings, &binding->Link);
    KeReleaseSpinLock(&provider->Lock, irql);

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
    ExFreePoolWithTag(binding, ECHO_PROVIDER_BINDING_TAG);
}

static NTSTATUS EchoProviderLoad(void *Instance, ULONG Param)
{
    ECHO_PROVIDER *provider = Instance;

    provider->MaxClientVersion = (USHORT)((Param & 1) ? ECHO_VERSION_1 : ECHO_VERSION_2);
    KeInitializeSpinLock(&provider->Lock);
    InitializeListHead(&provider->Bindings);
#if ECHO_BUG == 11
    ExInitializeFastMutex(&provider->StatsLock);
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

    return NmrRegisterProvider(&provider->Characteristics, provider, &provider->NmrProviderHandle);
}

static void EchoProviderUnload(void *Instance)
{
    ECHO_PROVIDER *provider = Instance;
    NTSTATUS status = NmrDeregisterProvider(provider->NmrProviderHandle);
    if (status == STATUS_PENDING) NmrWaitForProviderDeregisterComplete(provider->NmrProviderHandle);
}

/* Notifies every client the provider is attached to and not detaching from. */
static NTSTATUS EchoProviderCall(void *Instance, ULONG Value)
{
    ECHO_PROVIDER *provider = Instance;
    ECHO_PROVIDER_BINDING *entered[ECHO_MAX_PEERS];
    ULONG count = 0, i;
    KIRQL irql;
    PLIST_ENTRY e;

    KeAcquireSpinLock(&provider->Lock, &irql);
    for (e = provider->Bindings.Flink; e != &provider->Bindings && count < ECHO_MAX_PEERS; e = e->Flink) {
        ECHO_PROVIDER_BINDING *binding = CONTAINING_RECORD(e, ECHO_PROVIDER_BINDING, Link);
        if (EchoGuardEnterAtDpc(&binding->Guard)) entered[count++] = binding;
    }
    KeReleaseSpinLock(&provider->Lock, irql);
    DbgPrint("echo-provider: Notify(%u) to %u client(s)\n", (unsigned)Value, (unsigned)count);

    for (i = 0; i < count; i++) {
        ECHO_PROVIDER_BINDING *binding = entered[i];
        HANDLE bindingHandle = binding->NmrBindingHandle;
        binding->ClientDispatch->Notify(binding->ClientBindingContext, Value);
        if (EchoGuardLeave(&binding->Guard)) NmrProviderDetachClientComplete(bindingHandle);
    }
    return count ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

static const char *const EchoVersionNames[] = {"2", "1"};
static const nmrh_module_param EchoProviderParams[] = {
    {"version", 0, 1, 2, EchoVersionNames}, /* highest client dispatch version accepted */
};

const nmrh_module_kind echo_provider_kind = {
    "echo-provider", "example echo NPI provider (correct)", sizeof(ECHO_PROVIDER), EchoProviderLoad, EchoProviderUnload, EchoProviderCall,
    NULL, EchoProviderParams, 1,
};
