/*
 * The FLOW classification NPI: a flow classifier (provider) offers Open/Classify/Close to its
 * clients; a client offers a Notify for flow events. Shared by providers and clients of the NPI,
 * as NPI headers are.
 */
#pragma once

#include <ntddk.h>
#include <netioddk.h>

/* {8a7c1c52-5b0e-4c55-9d43-31d0f1a0c0de} */
DEFINE_GUID(NPI_FLOW_CLASSIFY_ID, 0x8a7c1c52, 0x5b0e, 0x4c55, 0x9d, 0x43, 0x31, 0xd0, 0xf1, 0xa0, 0xc0, 0xde);

#define FLOW_NPI_VERSION 3

typedef enum _FLOW_VERDICT { FlowVerdictPermit, FlowVerdictBlock, FlowVerdictInspect, FlowVerdictMax } FLOW_VERDICT;

/* What a classifier tells its clients in NPI_REGISTRATION_INSTANCE.NpiSpecificCharacteristics. */
typedef struct _FLOW_PROVIDER_CHARACTERISTICS {
    USHORT Version;
    USHORT Size;
    ULONG MaxFlows;
} FLOW_PROVIDER_CHARACTERISTICS;

typedef
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
NTAPI
FLOW_OPEN_FN(
    _In_ PVOID ProviderBindingContext,
    _In_ ULONG FlowId
    );

typedef
_IRQL_requires_max_(DISPATCH_LEVEL)
NTSTATUS
NTAPI
FLOW_CLASSIFY_FN(
    _In_ PVOID ProviderBindingContext,
    _In_ ULONG FlowId,
    _Out_ FLOW_VERDICT *Verdict
    );

typedef
_IRQL_requires_max_(DISPATCH_LEVEL)
VOID
NTAPI
FLOW_CLOSE_FN(
    _In_ PVOID ProviderBindingContext,
    _In_ ULONG FlowId
    );

typedef struct _FLOW_PROVIDER_DISPATCH {
    USHORT Version;
    USHORT Size;
    ULONG Flags;
    FLOW_OPEN_FN *OpenFlow;
    FLOW_CLASSIFY_FN *ClassifyFlow;
    FLOW_CLOSE_FN *CloseFlow;
} FLOW_PROVIDER_DISPATCH;

typedef
_IRQL_requires_max_(DISPATCH_LEVEL)
VOID
NTAPI
FLOW_NOTIFY_FN(
    _In_ PVOID ClientBindingContext,
    _In_ ULONG Event
    );

typedef struct _FLOW_CLIENT_DISPATCH {
    USHORT Version;
    USHORT Size;
    FLOW_NOTIFY_FN *Notify;
} FLOW_CLIENT_DISPATCH;
