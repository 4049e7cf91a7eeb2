/*
 * Generic counterparts of the FLOW NPI (not driver code: what the test adds). The generic
 * provider offers the classifier's dispatch table shape (an 8-byte header, then Open, Classify,
 * Close); each slot records the call, checks that flowdrv may still call and returns the status
 * the sequence chooses (status=...). Its `call` notifies its bound clients.
 */
#include "counterparts.h"

#include "../driver/flow_npi.h"

static const FLOW_PROVIDER_CHARACTERISTICS FlowProviderCharacteristics = {
    FLOW_NPI_VERSION, sizeof(FLOW_PROVIDER_CHARACTERISTICS), 64,
};
static const FLOW_PROVIDER_DISPATCH FlowProviderHeader = {FLOW_NPI_VERSION, sizeof(FLOW_PROVIDER_DISPATCH), 0, NULL, NULL, NULL};
static const FLOW_CLIENT_DISPATCH FlowClientHeader = {FLOW_NPI_VERSION, sizeof(FLOW_CLIENT_DISPATCH), NULL};
static const char *const FlowProviderSlots[] = {"OpenFlow", "ClassifyFlow", "CloseFlow"};
static const char *const FlowClientSlots[] = {"Notify"};

static NTSTATUS FlowCallPeer(BOOLEAN callerIsClient, const VOID *peerDispatch, PVOID peerBindingContext, ULONG value)
{
    if (callerIsClient) {
        const FLOW_PROVIDER_DISPATCH *provider = peerDispatch;
        NTSTATUS status = provider->OpenFlow(peerBindingContext, value);
        if (NT_SUCCESS(status)) provider->CloseFlow(peerBindingContext, value);
        return status;
    }
    ((const FLOW_CLIENT_DISPATCH *)peerDispatch)->Notify(peerBindingContext, value);
    return STATUS_SUCCESS;
}

static const nmrh_npi FlowNpi = {
    "flow",
    {0x8a7c1c52, 0x5b0e, 0x4c55, {0x9d, 0x43, 0x31, 0xd0, 0xf1, 0xa0, 0xc0, 0xde}},
    /* client:   */ {NULL, &FlowClientHeader, FIELD_OFFSET(FLOW_CLIENT_DISPATCH, Notify), 1, FlowClientSlots},
    /* provider: */ {&FlowProviderCharacteristics, &FlowProviderHeader, FIELD_OFFSET(FLOW_PROVIDER_DISPATCH, OpenFlow), 3, FlowProviderSlots},
    FlowCallPeer,
};

NMRH_GENERIC_COUNTERPARTS(flow, FlowNpi, "flow-client", "flow-classifier");
