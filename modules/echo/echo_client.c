/*
 * Example NMR client of the echo NPI, written as ordinary WDK kernel code and meant to be correct:
 * it follows the documented patterns (seeds 002 and 004 in shared/), and the harness must never
 * report a finding against it.
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
} ECHO_CLIENT;

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

    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_ECHO_ID)) return STATUS_NOINTERFACE;

    binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), ECHO_CLIENT_BINDING_TAG);
    if (binding == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    binding->Client = client;
    binding->NmrBindingHandle = NmrBindingHandle;
    EchoGuardInit(&binding->Guard);

    status = NmrClientAttachProvider(NmrBindingHandle, binding, &EchoClientDispatchV2, &providerContext,
                                     &providerDispatch);
    if (status == STATUS_NOINTERFACE)
        status = NmrClientAttachProvider(NmrBindingHandle, binding, &EchoClientDispatchV1, &providerContext,
                                         &providerDispatch);
    if (!NT_SUCCESS(status)) {
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
    InsertTailList(&client->Bindings, &binding->Link);
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
    KIRQL irql;
    KeAcquireSpinLock(&client->Lock, &irql);
    if (binding->Link.Flink != NULL) RemoveEntryList(&binding->Link);
    KeReleaseSpinLock(&client->Lock, irql);
#if ECHO_BUG == 8
    if (binding->Stats != NULL) ExFreePoolWithTag(binding->Stats, ECHO_CLIENT_BINDING_TAG);
#endif
    ExFreePoolWithTag(binding, ECHO_CLIENT_BINDING_TAG);
}

static NTSTATUS EchoClientLoad(void *Instance, ULONG Param)
{
    ECHO_CLIENT *client = Instance;
    UNREFERENCED_PARAMETER(Param);

    KeInitializeSpinLock(&client->Lock);
    InitializeListHead(&client->Bindings);
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

    return NmrRegisterClient(&client->Characteristics, client, &client->NmrClientHandle);
}

static void EchoClientUnload(void *Instance)
{
    ECHO_CLIENT *client = Instance;
    NTSTATUS status = NmrDeregisterClient(client->NmrClientHandle);
    if (status == STATUS_PENDING) NmrWaitForClientDeregisterComplete(client->NmrClientHandle);
}

/* Calls Echo once on every provider the client is attached to and not detaching from. */
static NTSTATUS EchoClientCall(void *Instance, ULONG Value)
{
    ECHO_CLIENT *client = Instance;
    ECHO_CLIENT_BINDING *entered[ECHO_MAX_PEERS];
    ULONG count = 0, i;
    KIRQL irql;
    PLIST_ENTRY e;

    KeAcquireSpinLock(&client->Lock, &irql);
    for (e = client->Bindings.Flink; e != &client->Bindings && count < ECHO_MAX_PEERS; e = e->Flink) {
        ECHO_CLIENT_BINDING *binding = CONTAINING_RECORD(e, ECHO_CLIENT_BINDING, Link);
        if (EchoGuardEnterAtDpc(&binding->Guard)) entered[count++] = binding;
    }
    KeReleaseSpinLock(&client->Lock, irql);
    DbgPrint("echo-client: Echo(%u) on %u provider(s)\n", (unsigned)Value, (unsigned)count);

    for (i = 0; i < count; i++) {
        ECHO_CLIENT_BINDING *binding = entered[i];
        ULONG result = 0;
        HANDLE bindingHandle = binding->NmrBindingHandle;
#if ECHO_BUG == 6
        /* Seeded bug B6: an invalid request drops its reference on an early-exit path that skips
           the completion check, so a detach pending on this call is never completed. */
        if (Value == 0) {
            InterlockedDecrement(&binding->Guard.InFlight);
            continue;
        }
#endif
        binding->ProviderDispatch->Echo(binding->ProviderBindingContext, Value, &result);
        NT_ASSERT(result == Value);
#if ECHO_BUG == 2
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
    return count ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

const nmrh_module_kind echo_client_kind = {
    "echo-client", "example echo NPI client (correct)", sizeof(ECHO_CLIENT), EchoClientLoad, EchoClientUnload, EchoClientCall, NULL, NULL, 0,
};
