/*
 * Generic counterparts of a declared NPI (counterparts.h, nmrh_npi): a "ping" NPI whose provider
 * dispatch table is a header (version 7, size; 8 bytes with padding) then two slots (Reset,
 * Ping), and whose provider characteristics carry a 32-bit magic. careless-ping-client checks
 * the header and the characteristics at attach, but its detach returns success at once and it
 * keeps calling, so a call after its detach must be reported by the counterpart's slot
 * (NMR-CALL-AFTER-DETACH). Its trace lines show what the slot returned (the `status` option).
 */
#include <ntddk.h>
#include <netioddk.h>

#include "counterparts.h"
#include "nmrh/module.h"

typedef NTSTATUS NTAPI PING_FN(PVOID ProviderBindingContext, ULONG Value);
typedef struct _PING_PROVIDER_DISPATCH {
    USHORT Version;
    USHORT Size;
    PING_FN *Reset;
    PING_FN *Ping;
} PING_PROVIDER_DISPATCH;

#define PING_MAGIC 0x50494e47u

static const ULONG PingCharacteristics = PING_MAGIC;
static const PING_PROVIDER_DISPATCH PingHeader = {.Version = 7, .Size = sizeof(PING_PROVIDER_DISPATCH)};
static const char *const PingSlots[] = {"Reset", "Ping"};
static const nmrh_npi PingNpi = {
    "ping",
    {0x70696e67, 0x0001, 0x0002, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}},
    {NULL, NULL, 0, 0, NULL},
    {&PingCharacteristics, &PingHeader, FIELD_OFFSET(PING_PROVIDER_DISPATCH, Reset), 2, PingSlots},
    NULL,
};
NMRH_GENERIC_COUNTERPARTS(ping, PingNpi, "ping-client", "ping-provider");

typedef struct _PING_CLIENT {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrHandle;
    PVOID ProviderContext;
    const PING_PROVIDER_DISPATCH *Dispatch;
} PING_CLIENT;

static NTSTATUS NTAPI PingAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                         PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    PING_CLIENT *client = ClientContext;
    const ULONG *magic = ProviderRegistrationInstance->NpiSpecificCharacteristics;
    PVOID providerContext = NULL;
    const VOID *dispatch = NULL;
    NTSTATUS status;
    if (magic == NULL || *magic != PING_MAGIC) return STATUS_NOINTERFACE;
    status = NmrClientAttachProvider(NmrBindingHandle, client, NULL, &providerContext, &dispatch);
    if (!NT_SUCCESS(status)) return status;
    client->ProviderContext = providerContext;
    client->Dispatch = dispatch;
    DbgPrint("ping-client: attached, dispatch version %u size %u", client->Dispatch->Version, client->Dispatch->Size);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI PingDetachProvider(PVOID ClientBindingContext)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    return STATUS_SUCCESS; /* careless: keeps Dispatch and goes on calling */
}

static NTSTATUS PingLoad(void *Instance, ULONG Param)
{
    PING_CLIENT *client = Instance;
    static const NPIID npiId = {0x70696e67, 0x0001, 0x0002, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}};
    UNREFERENCED_PARAMETER(Param);
    client->ModuleId.Length = sizeof(NPI_MODULEID);
    client->ModuleId.Type = MIT_GUID;
    client->Characteristics.Length = sizeof(NPI_CLIENT_CHARACTERISTICS);
    client->Characteristics.ClientAttachProvider = PingAttachProvider;
    client->Characteristics.ClientDetachProvider = PingDetachProvider;
    client->Characteristics.ClientRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    client->Characteristics.ClientRegistrationInstance.NpiId = &npiId;
    client->Characteristics.ClientRegistrationInstance.ModuleId = &client->ModuleId;
    return NmrRegisterClient(&client->Characteristics, client, &client->NmrHandle);
}

static void PingUnload(void *Instance)
{
    PING_CLIENT *client = Instance;
    if (NmrDeregisterClient(client->NmrHandle) == STATUS_PENDING) NmrWaitForClientDeregisterComplete(client->NmrHandle);
}

static NTSTATUS PingCall(void *Instance, ULONG Value)
{
    PING_CLIENT *client = Instance;
    NTSTATUS status;
    if (client->Dispatch == NULL) return STATUS_NOT_FOUND;
    status = client->Dispatch->Ping(client->ProviderContext, Value);
    DbgPrint("ping-client: Ping(%lu) returned 0x%08x", (unsigned long)Value, (unsigned)(ULONG)status);
    return status;
}

static const nmrh_module_kind careless_ping_client_kind = {
    .name = "careless-ping-client",
    .summary = "a ping NPI client that calls after its detach (tests/plugin)",
    .instance_size = sizeof(PING_CLIENT),
    .load = PingLoad,
    .unload = PingUnload,
    .call = PingCall,
};

static const nmrh_module_kind *const ping_kinds[] = {&careless_ping_client_kind, &ping_provider_kind, &ping_client_kind};
const nmrh_target ping_target = {"ping", "tests/plugin: generic counterparts of a declared NPI", ping_kinds, 3};
