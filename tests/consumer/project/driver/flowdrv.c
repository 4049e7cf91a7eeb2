/*++

Module Name:

    flowdrv.c

Abstract:

    A FLOW NPI client: binds to every flow classifier, and for each request of its own opens a
    flow on every bound classifier, classifies it and closes it. Classifiers notify it of flow
    events through its client dispatch table.

    All state is global, as in most drivers. A binding is kept alive by a count of calls in
    flight: a detach that finds calls in flight is pended and completed by the last of them.
    The classifiers' combined capacity is configuration, read by every request and written at
    attach, under a push lock (both at PASSIVE_LEVEL).

Environment:

    Kernel mode.

--*/

#include <ntddk.h>
#include <netioddk.h>

#include "flow_npi.h"

#pragma warning(push)
#pragma warning(disable: 4201) // nameless struct/union

#define FLOWDRV_TAG 'bwlF'
#define FLOWDRV_MAX_PEERS 8
#define FLOWDRV_NO_VERDICT 0xffui8

typedef struct _FLOWDRV_BINDING {
    LIST_ENTRY Link;
    HANDLE NmrBindingHandle;
    PVOID ProviderBindingContext;
    const FLOW_PROVIDER_DISPATCH *ProviderDispatch;
    ULONG MaxFlows;
    union {
        struct {
            LONG CallsInFlight;
            BOOLEAN Detaching;
        };
        LONGLONG State;
    };
} FLOWDRV_BINDING, *PFLOWDRV_BINDING;

#pragma warning(pop)

DRIVER_INITIALIZE DriverEntry;
DRIVER_UNLOAD FlowDrvUnload;
NPI_CLIENT_ATTACH_PROVIDER_FN FlowDrvAttachProvider;
NPI_CLIENT_DETACH_PROVIDER_FN FlowDrvDetachProvider;
NPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN FlowDrvCleanupBindingContext;
FLOW_NOTIFY_FN FlowDrvNotify;
NTSTATUS FlowDrvProcessRequest(_In_ ULONG Value);

//
// Globals.
//

static const NPI_MODULEID FlowDrvModuleId = {
    sizeof(NPI_MODULEID),
    MIT_GUID,
    {0x8a7c1c52, 0x5b0e, 0x4c55, {0x9d, 0x43, 0x31, 0xd0, 0xf1, 0xa0, 0x01, 0x01}},
};

static const FLOW_CLIENT_DISPATCH FlowDrvClientDispatch = {
    FLOW_NPI_VERSION,
    sizeof(FLOW_CLIENT_DISPATCH),
    FlowDrvNotify,
};

static NPI_CLIENT_CHARACTERISTICS FlowDrvClientCharacteristics;
static HANDLE FlowDrvNmrClientHandle;
static KSPIN_LOCK FlowDrvBindingLock;   // protects FlowDrvBindings and every binding's call state
static LIST_ENTRY FlowDrvBindings;
static volatile LONG FlowDrvUnloading;
static volatile LONG FlowDrvEvents;
static ULONG FlowDrvNextFlowId = 1000;  // initialised data: must read 1000 at every load
static EX_PUSH_LOCK FlowDrvConfigLock;  // protects FlowDrvCapacity
static ULONG FlowDrvCapacity;           // flows all bound classifiers accept, summed
static volatile LONG FlowDrvVerdicts[FlowVerdictMax];

//
// Binding bookkeeping.
//

__forceinline
BOOLEAN
FlowDrvVerdictIsValid(
    _In_ UCHAR Verdict
    )
{
    return (BOOLEAN)(Verdict != FLOWDRV_NO_VERDICT && Verdict < FlowVerdictMax);
}

_IRQL_requires_max_(APC_LEVEL)
static
VOID
FlowDrvAddCapacity(
    _In_ ULONG Flows
    )
{
    KeEnterCriticalRegion();
    ExAcquirePushLockExclusive(&FlowDrvConfigLock);
    FlowDrvCapacity += Flows;
    ExReleasePushLockExclusive(&FlowDrvConfigLock);
    KeLeaveCriticalRegion();
}

_IRQL_requires_max_(APC_LEVEL)
static
ULONG
FlowDrvReadCapacity(
    VOID
    )
{
    ULONG capacity;

    KeEnterCriticalRegion();
    ExAcquirePushLockShared(&FlowDrvConfigLock);
    capacity = FlowDrvCapacity;
    ExReleasePushLockShared(&FlowDrvConfigLock);
    KeLeaveCriticalRegion();
    return capacity;
}

_IRQL_requires_max_(DISPATCH_LEVEL)
static
BOOLEAN
FlowDrvReleaseCall(
    _Inout_ PFLOWDRV_BINDING Binding
    )
/*++
Return Value:
    TRUE when this was the last call of a binding whose detach is pending: the caller completes it.
--*/
{
    KIRQL oldIrql;
    BOOLEAN complete;

    KeAcquireSpinLock(&FlowDrvBindingLock, &oldIrql);
    Binding->CallsInFlight--;
    complete = (BOOLEAN)(Binding->CallsInFlight == 0 && Binding->Detaching);
    KeReleaseSpinLock(&FlowDrvBindingLock, oldIrql);
    return complete;
}

_Use_decl_annotations_
NTSTATUS
NTAPI
FlowDrvAttachProvider(
    HANDLE NmrBindingHandle,
    PVOID ClientContext,
    PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance
    )
{
    const FLOW_PROVIDER_CHARACTERISTICS *providerCharacteristics;
    const VOID *providerDispatch = NULL;
    PVOID providerBindingContext = NULL;
    PFLOWDRV_BINDING binding;
    NTSTATUS status;
    KIRQL oldIrql;

    UNREFERENCED_PARAMETER(ClientContext);

    providerCharacteristics = ProviderRegistrationInstance->NpiSpecificCharacteristics;
    if (providerCharacteristics == NULL ||
        providerCharacteristics->Version != FLOW_NPI_VERSION ||
        providerCharacteristics->Size < sizeof(FLOW_PROVIDER_CHARACTERISTICS)) {
        return STATUS_NOINTERFACE;
    }

    binding = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*binding), FLOWDRV_TAG);
    if (binding == NULL) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    binding->NmrBindingHandle = NmrBindingHandle;
    binding->MaxFlows = providerCharacteristics->MaxFlows;

    status = NmrClientAttachProvider(NmrBindingHandle,
                                     binding,
                                     &FlowDrvClientDispatch,
                                     &providerBindingContext,
                                     &providerDispatch);
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(binding, FLOWDRV_TAG);
        return status;
    }

    binding->ProviderBindingContext = providerBindingContext;
    binding->ProviderDispatch = providerDispatch;
    if (binding->ProviderDispatch->Version != FLOW_NPI_VERSION ||
        binding->ProviderDispatch->Size < sizeof(FLOW_PROVIDER_DISPATCH)) {
        //
        // Attached but unusable: keep the binding (the NMR detaches it) and never call it.
        //
        binding->Detaching = TRUE;
    }

    KeAcquireSpinLock(&FlowDrvBindingLock, &oldIrql);
    InsertTailList(&FlowDrvBindings, &binding->Link);
    KeReleaseSpinLock(&FlowDrvBindingLock, oldIrql);
    FlowDrvAddCapacity(binding->MaxFlows);
    return STATUS_SUCCESS;
}

_Use_decl_annotations_
NTSTATUS
NTAPI
FlowDrvDetachProvider(
    PVOID ClientBindingContext
    )
{
    PFLOWDRV_BINDING binding = ClientBindingContext;
    NTSTATUS status = STATUS_SUCCESS;
    KIRQL oldIrql;

    KeAcquireSpinLock(&FlowDrvBindingLock, &oldIrql);
    binding->Detaching = TRUE;
    RemoveEntryList(&binding->Link);
    InitializeListHead(&binding->Link);
#ifndef FLOWDRV_SEEDED_BUG
    if (binding->CallsInFlight != 0) {
        status = STATUS_PENDING;  // the last call completes the detach
    }
#endif
    KeReleaseSpinLock(&FlowDrvBindingLock, oldIrql);
    return status;
}

_Use_decl_annotations_
VOID
NTAPI
FlowDrvCleanupBindingContext(
    PVOID ClientBindingContext
    )
{
    ExFreePoolWithTag(ClientBindingContext, FLOWDRV_TAG);
}

_Use_decl_annotations_
VOID
NTAPI
FlowDrvNotify(
    PVOID ClientBindingContext,
    ULONG Event
    )
{
    UNREFERENCED_PARAMETER(ClientBindingContext);

    if (ReadNoFence(&FlowDrvUnloading) == 0) {
        InterlockedIncrement(&FlowDrvEvents);
    }
    DbgPrint("flowdrv: flow event %lu\n", (unsigned long)Event);
}

//
// Requests: what the driver's IOCTL handler does with a request.
//

_IRQL_requires_max_(DISPATCH_LEVEL)
static
VOID
FlowDrvClassifyOne(
    _In_ PFLOWDRV_BINDING Binding,
    _In_ ULONG FlowId
    )
{
    const FLOW_PROVIDER_DISPATCH *dispatch = Binding->ProviderDispatch;
    FLOW_VERDICT verdict = FlowVerdictInspect;
    NTSTATUS status;

    status = dispatch->OpenFlow(Binding->ProviderBindingContext, FlowId);
    if (!NT_SUCCESS(status)) {
        return;
    }
    InterlockedIncrement(&FlowDrvEvents);
    status = dispatch->ClassifyFlow(Binding->ProviderBindingContext, FlowId, &verdict);
    if (NT_SUCCESS(status) && FlowDrvVerdictIsValid((UCHAR)verdict)) {
        InterlockedIncrement(&FlowDrvVerdicts[verdict]);
    }
    dispatch->CloseFlow(Binding->ProviderBindingContext, FlowId);
    InterlockedIncrement(&FlowDrvEvents);
}

_Use_decl_annotations_
NTSTATUS
FlowDrvProcessRequest(
    ULONG Value
    )
{
    PFLOWDRV_BINDING entered[FLOWDRV_MAX_PEERS];
    ULONG count = 0;
    ULONG flowId;
    ULONG i;
    PLIST_ENTRY entry;
    KIRQL oldIrql;

    if (ReadNoFence(&FlowDrvUnloading) != 0) {
        return STATUS_DEVICE_NOT_READY;
    }
    if (FlowDrvReadCapacity() == 0) {
        return STATUS_NOT_FOUND;  // no classifier ever bound
    }

    KeAcquireSpinLock(&FlowDrvBindingLock, &oldIrql);
    flowId = FlowDrvNextFlowId++;
    for (entry = FlowDrvBindings.Flink; entry != &FlowDrvBindings && count < FLOWDRV_MAX_PEERS; entry = entry->Flink) {
        PFLOWDRV_BINDING binding = CONTAINING_RECORD(entry, FLOWDRV_BINDING, Link);
        if (binding->Detaching) {
            continue;
        }
        binding->CallsInFlight++;
        entered[count++] = binding;
    }
    KeReleaseSpinLock(&FlowDrvBindingLock, oldIrql);

    DbgPrint("flowdrv: request %lu, flow %lu on %lu classifiers\n", (unsigned long)Value, (unsigned long)flowId,
             (unsigned long)count);
    for (i = 0; i < count; i++) {
        HANDLE bindingHandle = entered[i]->NmrBindingHandle;
        FlowDrvClassifyOne(entered[i], flowId);
        if (FlowDrvReleaseCall(entered[i])) {
            NmrClientDetachProviderComplete(bindingHandle);
        }
    }
    return count != 0 ? STATUS_SUCCESS : STATUS_NOT_FOUND;
}

//
// Load and unload.
//

_Use_decl_annotations_
VOID
FlowDrvUnload(
    PDRIVER_OBJECT DriverObject
    )
{
    NTSTATUS status;

    UNREFERENCED_PARAMETER(DriverObject);

    InterlockedExchange(&FlowDrvUnloading, 1);
    status = NmrDeregisterClient(FlowDrvNmrClientHandle);
    if (status == STATUS_PENDING) {
        NmrWaitForClientDeregisterComplete(FlowDrvNmrClientHandle);
    }
    DbgPrint("flowdrv: unloaded after %ld events\n", (long)ReadNoFence(&FlowDrvEvents));
}

_Use_decl_annotations_
NTSTATUS
DriverEntry(
    PDRIVER_OBJECT DriverObject,
    PUNICODE_STRING RegistryPath
    )
{
    NPI_CLIENT_CHARACTERISTICS *characteristics = &FlowDrvClientCharacteristics;
    NTSTATUS status;

    UNREFERENCED_PARAMETER(RegistryPath);

    DbgPrint("flowdrv: DriverEntry, next flow %lu, %lu verdicts so far\n", (unsigned long)FlowDrvNextFlowId,
             (unsigned long)(ReadNoFence(&FlowDrvVerdicts[FlowVerdictPermit]) + ReadNoFence(&FlowDrvVerdicts[FlowVerdictBlock]) +
                             ReadNoFence(&FlowDrvVerdicts[FlowVerdictInspect])));

    KeInitializeSpinLock(&FlowDrvBindingLock);
    InitializeListHead(&FlowDrvBindings);
    ExInitializePushLock(&FlowDrvConfigLock);

    characteristics->Version = 0;
    characteristics->Length = sizeof(*characteristics);
    characteristics->ClientAttachProvider = FlowDrvAttachProvider;
    characteristics->ClientDetachProvider = FlowDrvDetachProvider;
    characteristics->ClientCleanupBindingContext = FlowDrvCleanupBindingContext;
    characteristics->ClientRegistrationInstance.Version = 0;
    characteristics->ClientRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    characteristics->ClientRegistrationInstance.NpiId = &NPI_FLOW_CLASSIFY_ID;
    characteristics->ClientRegistrationInstance.ModuleId = &FlowDrvModuleId;
    characteristics->ClientRegistrationInstance.Number = 0;
    characteristics->ClientRegistrationInstance.NpiSpecificCharacteristics = NULL;

    status = NmrRegisterClient(characteristics, NULL, &FlowDrvNmrClientHandle);
    if (!NT_SUCCESS(status)) {
        return status;
    }

    DriverObject->DriverUnload = FlowDrvUnload;
    return STATUS_SUCCESS;
}
