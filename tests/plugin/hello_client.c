/*
 * A user's own NMR client, plugged into nmrh the way docs/plugging-in-a-module.md describes:
 * ordinary WDK code (callbacks, DriverEntry-style load, Unload-style unload), an adapter
 * (nmrh_module_kind) and a target (nmrh_target) that pairs it with the generic provider.
 * It binds to providers of NPI "a" (a generic-provider with npi=a), receives Notify calls and
 * makes no calls of its own, so its detach never has anything to wait for.
 */
#include <ntddk.h>
#include <netioddk.h>

#include "counterparts.h"
#include "echo_npi.h"
#include "nmrh/module.h"

/* The counterparts' NPI "a" (modules/counterparts/counterpart.c). */
static const NPIID HelloNpiId = {0x6e6d7268, 0x6e70, 0x6900, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a}};

#define HELLO_TAG ECHO_POOL_TAG('H', 'e', 'l', 'o')

typedef struct _HELLO_CLIENT {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrHandle;
} HELLO_CLIENT;

typedef struct _HELLO_BINDING {
    LONG Notifications;
} HELLO_BINDING;

static VOID NTAPI HelloNotify(PVOID ClientBindingContext, ULONG Value)
{
    HELLO_BINDING *binding = ClientBindingContext;
    UNREFERENCED_PARAMETER(Value);
    InterlockedIncrement(&binding->Notifications);
}

static const ECHO_CLIENT_DISPATCH HelloDispatch = {ECHO_VERSION_1, ECHO_CLIENT_DISPATCH_V1_SIZE, HelloNotify, 0};

static NTSTATUS NTAPI HelloAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                          PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    HELLO_BINDING *binding;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(ClientContext);
    UNREFERENCED_PARAMETER(ProviderRegistrationInstance);
    binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), HELLO_TAG);
    if (binding == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    status = NmrClientAttachProvider(NmrBindingHandle, binding, &HelloDispatch, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) ExFreePoolWithTag(binding, HELLO_TAG);
    return status;
}

static NTSTATUS NTAPI HelloDetachProvider(PVOID ClientBindingContext)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    return STATUS_SUCCESS; /* no calls of ours can be in flight */
}

static VOID NTAPI HelloCleanup(PVOID ClientBindingContext) { ExFreePoolWithTag(ClientBindingContext, HELLO_TAG); }

static NTSTATUS HelloLoad(void *Instance, ULONG Param)
{
    HELLO_CLIENT *client = Instance;
    UNREFERENCED_PARAMETER(Param);
    client->ModuleId.Length = sizeof(NPI_MODULEID);
    client->ModuleId.Type = MIT_GUID;
    client->Characteristics.Length = sizeof(NPI_CLIENT_CHARACTERISTICS);
    client->Characteristics.ClientAttachProvider = HelloAttachProvider;
    client->Characteristics.ClientDetachProvider = HelloDetachProvider;
    client->Characteristics.ClientCleanupBindingContext = HelloCleanup;
    client->Characteristics.ClientRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    client->Characteristics.ClientRegistrationInstance.NpiId = &HelloNpiId;
    client->Characteristics.ClientRegistrationInstance.ModuleId = &client->ModuleId;
    return NmrRegisterClient(&client->Characteristics, client, &client->NmrHandle);
}

static void HelloUnload(void *Instance)
{
    HELLO_CLIENT *client = Instance;
    if (NmrDeregisterClient(client->NmrHandle) == STATUS_PENDING) NmrWaitForClientDeregisterComplete(client->NmrHandle);
}

static const nmrh_module_kind hello_client_kind = {
    "hello-client", "a user's client of NPI a (tests/plugin)", sizeof(HELLO_CLIENT), HelloLoad, HelloUnload, NULL, NULL, NULL, 0, NULL,
};

static const nmrh_module_kind *const hello_kinds[] = {&hello_client_kind, &generic_provider_kind};

const nmrh_target hello_target = {"hello", "tests/plugin: a user's client against the generic provider", hello_kinds, 2};
