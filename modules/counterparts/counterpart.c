/*
 * The generic client and provider (counterparts.h). One implementation serves both sides and
 * every NPI (the built-in echo shapes, or a declared nmrh_npi); every
 * behaviour it shows is legal under the NMR contract, so a finding in a run against counterparts
 * is the module under test's (or the sequence's, e.g. a pending detach never completed).
 *
 * Binding contexts are kept until unload, marked dead at cleanup rather than freed, so that a
 * late call from the peer is reported precisely (NMR-CALL-AFTER-DETACH) instead of as a crash
 * inside the counterpart.
 */
#include "counterparts.h"

#include <netioddk.h>

#include "../echo/echo_npi.h"
#include "nmrh/oracle.h"

#define CP_BINDING_TAG ECHO_POOL_TAG('N', 'h', 'C', 'b')
#define CP_MAX_PEERS 16

enum { CP_NPI_SHIFT = 0, CP_ATTACH_SHIFT = 2, CP_DETACH_SHIFT = 4, CP_CLEANUP_SHIFT = 6, CP_CONTEXT_SHIFT = 7, CP_STATUS_SHIFT = 8 };
enum { CP_ATTACH_ACCEPT, CP_ATTACH_DECLINE, CP_ATTACH_V1_ONLY, CP_ATTACH_FAIL };
enum { CP_DETACH_SUCCESS, CP_DETACH_PENDING, CP_DETACH_EARLY, CP_DETACH_PRE };

static const char *const NpiNames[] = {"echo", "a", "b", "c"};
static const char *const AttachNames[] = {"accept", "decline", "v1-only", "fail"};
static const char *const DetachNames[] = {"success", "pending", "early", "pre"};
static const char *const CleanupNames[] = {"yes", "no"};
static const char *const ContextNames[] = {"alloc", "null"};
static const char *const StatusNames[] = {"success", "unsuccessful", "not-supported", "pending"};
static const NTSTATUS SlotStatus[] = {STATUS_SUCCESS, STATUS_UNSUCCESSFUL, STATUS_NOT_SUPPORTED, STATUS_PENDING};
static const nmrh_module_param CounterpartParams[] = {
    {"npi", CP_NPI_SHIFT, 2, 4, NpiNames},
    {"attach", CP_ATTACH_SHIFT, 2, 4, AttachNames},
    {"detach", CP_DETACH_SHIFT, 2, 4, DetachNames},
    {"cleanup", CP_CLEANUP_SHIFT, 1, 2, CleanupNames},
    {"context", CP_CONTEXT_SHIFT, 1, 2, ContextNames},
};
/* A declared NPI's counterparts: its id is the kind's, and slots return a chosen status. */
const nmrh_module_param nmrh_counterpart_npi_params[NMRH_COUNTERPART_NPI_NPARAMS] = {
    {"attach", CP_ATTACH_SHIFT, 2, 4, AttachNames},
    {"detach", CP_DETACH_SHIFT, 2, 4, DetachNames},
    {"cleanup", CP_CLEANUP_SHIFT, 1, 2, CleanupNames},
    {"context", CP_CONTEXT_SHIFT, 1, 2, ContextNames},
    {"status", CP_STATUS_SHIFT, 2, 4, StatusNames},
};

/* {6e6d7268-6e70-6900-8000-00000000000N}: NPI ids a, b, c (0 = the echo NPI). */
static const GUID CounterpartNpiIds[4] = {
    {0x6e6d7268, 0x6563, 0x686f, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}},
    {0x6e6d7268, 0x6e70, 0x6900, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a}},
    {0x6e6d7268, 0x6e70, 0x6900, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b}},
    {0x6e6d7268, 0x6e70, 0x6900, {0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c}},
};

typedef struct _CP_INSTANCE CP_INSTANCE;

typedef struct _CP_BINDING {
    LIST_ENTRY Link;
    CP_INSTANCE *Instance;
    HANDLE NmrBindingHandle;
    PVOID PeerBindingContext;
    const VOID *PeerDispatch;
    LONG InFlight;
    BOOLEAN Attached;          /* the NMR accepted the binding */
    BOOLEAN Detaching;         /* detach callback called, or pre-completed: no new calls */
    BOOLEAN DetachPending;     /* returned (or will return) STATUS_PENDING, Complete still owed */
    BOOLEAN CompleteRequested; /* a `complete` action arrived (detach=pending) */
    BOOLEAN PreCompleted;
    BOOLEAN Dead;              /* cleaned up (kept as a tombstone until unload) */
} CP_BINDING;

struct _CP_INSTANCE {
    BOOLEAN IsClient;
    ULONG Options;
    const nmrh_npi *Npi;        /* NULL: the built-in echo shapes */
    const nmrh_npi_side *Side;  /* what this counterpart offers of Npi */
    /* A declared NPI's dispatch table: the header, then the slot stubs. Lives as long as the
       instance, which outlives every binding. */
    ULONG_PTR Dispatch[(NMRH_NPI_MAX_HEADER + NMRH_NPI_MAX_SLOTS * sizeof(PVOID)) / sizeof(ULONG_PTR)];
    NPI_MODULEID ModuleId;
    union {
        NPI_CLIENT_CHARACTERISTICS Client;
        NPI_PROVIDER_CHARACTERISTICS Provider;
    } Characteristics;
    HANDLE NmrHandle;
    KSPIN_LOCK Lock;           /* protects Bindings and every binding's call state */
    LIST_ENTRY Bindings;
};

_Static_assert(sizeof(CP_INSTANCE) <= NMRH_COUNTERPART_INSTANCE_SIZE, "NMRH_COUNTERPART_INSTANCE_SIZE too small");

static ULONG Option(const CP_INSTANCE *cp, unsigned shift, unsigned bits)
{
    return (cp->Options >> shift) & ((1u << bits) - 1);
}

static VOID CompleteDetach(const CP_INSTANCE *cp, HANDLE bindingHandle)
{
    if (cp->IsClient)
        NmrClientDetachProviderComplete(bindingHandle);
    else
        NmrProviderDetachClientComplete(bindingHandle);
}

/* ---- incoming NPI calls: the peer is the calling side ---- */

/* With context=null the counterpart hands out NULL contexts and cannot tell its bindings apart
   (a real driver would use a global): such calls, detaches and cleanups carry no state. */
static NTSTATUS NTAPI CpEcho(PVOID ProviderBindingContext, ULONG Value, PULONG Result)
{
    CP_BINDING *b = ProviderBindingContext;
    if (b) nmrh_oracle_check_peer_call(b->NmrBindingHandle, TRUE, "Echo");
    *Result = Value;
    return STATUS_SUCCESS;
}

static VOID NTAPI CpNotify(PVOID ClientBindingContext, ULONG Value)
{
    CP_BINDING *b = ClientBindingContext;
    UNREFERENCED_PARAMETER(Value);
    if (b) nmrh_oracle_check_peer_call(b->NmrBindingHandle, FALSE, "Notify");
}

static const ECHO_PROVIDER_DISPATCH CpProviderDispatch = {ECHO_VERSION_2, sizeof(ECHO_PROVIDER_DISPATCH), CpEcho};
static const ECHO_CLIENT_DISPATCH CpClientDispatchV2 = {ECHO_VERSION_2, sizeof(ECHO_CLIENT_DISPATCH), CpNotify, 0};
static const ECHO_CLIENT_DISPATCH CpClientDispatchV1 = {ECHO_VERSION_1, ECHO_CLIENT_DISPATCH_V1_SIZE, CpNotify, 0};

/* A declared NPI's slots: one stub per slot index, all alike. The caller is the peer, so a
   provider's slots are called by clients and the other way round. */
static NTSTATUS SlotCall(PVOID BindingContext, ULONG slot)
{
    CP_BINDING *b = BindingContext;
    const CP_INSTANCE *cp;
    const nmrh_npi_side *side;
    if (b == NULL) {
        DbgPrint("generic counterpart: slot %lu called (context=null: no binding to check)", (unsigned long)slot);
        return STATUS_SUCCESS;
    }
    cp = b->Instance;
    side = cp->Side;
    DbgPrint("NPI %s: %s called %s slot %lu%s%s", cp->Npi->name, cp->IsClient ? "provider" : "client",
             cp->IsClient ? "client" : "provider", (unsigned long)slot, side->slot_names ? " " : "",
             side->slot_names ? side->slot_names[slot] : "");
    nmrh_oracle_check_peer_call(b->NmrBindingHandle, !cp->IsClient, side->slot_names ? side->slot_names[slot] : "an NPI function");
    return SlotStatus[Option(cp, CP_STATUS_SHIFT, 2)];
}

#define SLOT(n) static NTSTATUS NTAPI Slot##n(PVOID BindingContext) { return SlotCall(BindingContext, n); }
#define SLOTS8(n) SLOT(n##0) SLOT(n##1) SLOT(n##2) SLOT(n##3) SLOT(n##4) SLOT(n##5) SLOT(n##6) SLOT(n##7)
SLOTS8(0) SLOTS8(1) SLOTS8(2) SLOTS8(3)
typedef NTSTATUS NTAPI SLOT_FN(PVOID BindingContext);
#define SLOT_REF(n) Slot##n,
#define SLOT_REFS8(n) SLOT_REF(n##0) SLOT_REF(n##1) SLOT_REF(n##2) SLOT_REF(n##3) SLOT_REF(n##4) SLOT_REF(n##5) SLOT_REF(n##6) SLOT_REF(n##7)
static SLOT_FN *const Slots[NMRH_NPI_MAX_SLOTS] = {SLOT_REFS8(0) SLOT_REFS8(1) SLOT_REFS8(2) SLOT_REFS8(3)};

/* Header bytes, then the slots at the next pointer-aligned offset. */
static VOID BuildDispatch(CP_INSTANCE *cp)
{
    const nmrh_npi_side *side = cp->Side;
    ULONG header = side->header_size > NMRH_NPI_MAX_HEADER ? NMRH_NPI_MAX_HEADER : side->header_size;
    ULONG slots = side->slots > NMRH_NPI_MAX_SLOTS ? NMRH_NPI_MAX_SLOTS : side->slots;
    ULONG first = (header + sizeof(PVOID) - 1) / sizeof(PVOID);
    if (header && side->header) RtlCopyMemory(cp->Dispatch, side->header, header);
    for (ULONG i = 0; i < slots; i++) RtlCopyMemory(&cp->Dispatch[first + i], &Slots[i], sizeof(PVOID));
}

/* The dispatch table this counterpart offers. */
static const VOID *OwnDispatch(const CP_INSTANCE *cp, BOOLEAN v1)
{
    if (cp->Npi) return cp->Dispatch;
    if (!cp->IsClient) return &CpProviderDispatch;
    return v1 ? &CpClientDispatchV1 : &CpClientDispatchV2;
}

/* ---- binding bookkeeping ---- */

static CP_BINDING *NewBinding(CP_INSTANCE *cp, HANDLE bindingHandle)
{
    CP_BINDING *b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), CP_BINDING_TAG);
    if (b == NULL) return NULL;
    b->Instance = cp;
    b->NmrBindingHandle = bindingHandle;
    return b;
}

static VOID Publish(CP_INSTANCE *cp, CP_BINDING *b)
{
    KIRQL irql;
    KeAcquireSpinLock(&cp->Lock, &irql);
    b->Attached = TRUE;
    InsertTailList(&cp->Bindings, &b->Link);
    KeReleaseSpinLock(&cp->Lock, irql);
}

/* Under the lock: TRUE when the owed Complete may be made now (then made without the lock). */
static BOOLEAN TakeCompletion(const CP_INSTANCE *cp, CP_BINDING *b)
{
    BOOLEAN waitForAction = Option(cp, CP_DETACH_SHIFT, 2) == CP_DETACH_PENDING;
    if (b->InFlight == 0 && b->DetachPending && (!waitForAction || b->CompleteRequested)) {
        b->DetachPending = FALSE;
        return TRUE;
    }
    return FALSE;
}

/* ---- callbacks ---- */

static NTSTATUS NTAPI CpClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                             PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    CP_INSTANCE *cp = ClientContext;
    ULONG attach = Option(cp, CP_ATTACH_SHIFT, 2);
    BOOLEAN nullContext = Option(cp, CP_CONTEXT_SHIFT, 1) != 0;
    PVOID peerContext = NULL;
    const VOID *peerDispatch = NULL;
    NTSTATUS status = STATUS_NOINTERFACE;
    CP_BINDING *b = NULL;

    UNREFERENCED_PARAMETER(ProviderRegistrationInstance);
    if (attach == CP_ATTACH_DECLINE) return STATUS_NOINTERFACE;
    if (attach == CP_ATTACH_FAIL) return STATUS_INSUFFICIENT_RESOURCES;
    if (!nullContext) {
        b = NewBinding(cp, NmrBindingHandle);
        if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (attach != CP_ATTACH_V1_ONLY || cp->Npi)
        status = NmrClientAttachProvider(NmrBindingHandle, b, OwnDispatch(cp, FALSE), &peerContext, &peerDispatch);
    if (status == STATUS_NOINTERFACE && !cp->Npi)
        status = NmrClientAttachProvider(NmrBindingHandle, b, OwnDispatch(cp, TRUE), &peerContext, &peerDispatch);
    if (b == NULL) return status;
    if (!NT_SUCCESS(status)) {
        ExFreePoolWithTag(b, CP_BINDING_TAG);
        return status;
    }
    b->PeerBindingContext = peerContext;
    b->PeerDispatch = peerDispatch;
    Publish(cp, b);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI CpProviderAttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                             PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                             PVOID ClientBindingContext, const VOID *ClientDispatch,
                                             PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    CP_INSTANCE *cp = ProviderContext;
    const ECHO_CLIENT_DISPATCH *dispatch = ClientDispatch;
    ULONG attach = Option(cp, CP_ATTACH_SHIFT, 2);
    CP_BINDING *b = NULL;

    UNREFERENCED_PARAMETER(ClientRegistrationInstance);
    if (attach == CP_ATTACH_DECLINE) return STATUS_NOINTERFACE;
    if (attach == CP_ATTACH_FAIL) return STATUS_INSUFFICIENT_RESOURCES;
    if (attach == CP_ATTACH_V1_ONLY && !cp->Npi && (dispatch == NULL || dispatch->Version != ECHO_VERSION_1))
        return STATUS_NOINTERFACE;
    if (Option(cp, CP_CONTEXT_SHIFT, 1) == 0) {
        b = NewBinding(cp, NmrBindingHandle);
        if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
        b->PeerBindingContext = ClientBindingContext;
        b->PeerDispatch = ClientDispatch;
        Publish(cp, b);
    }
    *ProviderBindingContext = b;
    *ProviderDispatch = OwnDispatch(cp, FALSE);
    return STATUS_SUCCESS;
}

static NTSTATUS Detach(CP_BINDING *b)
{
    CP_INSTANCE *cp;
    ULONG mode;
    NTSTATUS status = STATUS_SUCCESS;
    BOOLEAN completeNow = FALSE;
    KIRQL irql;

    if (b == NULL) return STATUS_SUCCESS; /* context=null: no calls of ours can be in flight */
    cp = b->Instance;
    mode = Option(cp, CP_DETACH_SHIFT, 2);
    KeAcquireSpinLock(&cp->Lock, &irql);
    b->Detaching = TRUE;
    if (b->PreCompleted) {
        status = STATUS_PENDING; /* the NMR remembers the Complete made before deregistering (K7) */
    } else if (b->InFlight != 0 || mode == CP_DETACH_PENDING || mode == CP_DETACH_EARLY) {
        status = STATUS_PENDING;
        b->DetachPending = TRUE;
        completeNow = TakeCompletion(cp, b);
    }
    KeReleaseSpinLock(&cp->Lock, irql);
    /* Early completion (K6) in detach=early mode: Complete before returning STATUS_PENDING. */
    if (completeNow) CompleteDetach(cp, b->NmrBindingHandle);
    return status;
}

static NTSTATUS NTAPI CpClientDetachProvider(PVOID ClientBindingContext) { return Detach(ClientBindingContext); }
static NTSTATUS NTAPI CpProviderDetachClient(PVOID ProviderBindingContext) { return Detach(ProviderBindingContext); }

static VOID NTAPI CpCleanup(PVOID BindingContext)
{
    CP_BINDING *b = BindingContext;
    KIRQL irql;
    if (b == NULL) return;
    KeAcquireSpinLock(&b->Instance->Lock, &irql);
    b->Dead = TRUE;
    KeReleaseSpinLock(&b->Instance->Lock, irql);
}

/* ---- actions ---- */

NTSTATUS nmrh_counterpart_load(const nmrh_npi *npi, void *Instance, ULONG Param, BOOLEAN isClient)
{
    CP_INSTANCE *cp = Instance;
    NPI_REGISTRATION_INSTANCE *ri;
    BOOLEAN cleanup;
    const GUID *npiId = npi ? &npi->id : &CounterpartNpiIds[Param & 3];

    cp->IsClient = isClient;
    cp->Options = npi ? Param & ~3u : Param;
    cp->Npi = npi;
    if (npi) {
        cp->Side = isClient ? &npi->client : &npi->provider;
        BuildDispatch(cp);
    }
    cleanup = Option(cp, CP_CLEANUP_SHIFT, 1) == 0;
    KeInitializeSpinLock(&cp->Lock);
    InitializeListHead(&cp->Bindings);
    cp->ModuleId.Length = sizeof(NPI_MODULEID);
    cp->ModuleId.Type = MIT_GUID;
    cp->ModuleId.Guid = *npiId;
    cp->ModuleId.Guid.Data4[6] = isClient ? 0xC1 : 0x9F;
    if (isClient) {
        NPI_CLIENT_CHARACTERISTICS *c = &cp->Characteristics.Client;
        c->Length = sizeof(*c);
        c->ClientAttachProvider = CpClientAttachProvider;
        c->ClientDetachProvider = CpClientDetachProvider;
        c->ClientCleanupBindingContext = cleanup ? CpCleanup : NULL;
        ri = &c->ClientRegistrationInstance;
    } else {
        NPI_PROVIDER_CHARACTERISTICS *p = &cp->Characteristics.Provider;
        p->Length = sizeof(*p);
        p->ProviderAttachClient = CpProviderAttachClient;
        p->ProviderDetachClient = CpProviderDetachClient;
        p->ProviderCleanupBindingContext = cleanup ? CpCleanup : NULL;
        ri = &p->ProviderRegistrationInstance;
    }
    ri->Size = sizeof(*ri);
    ri->NpiId = npi ? &npi->id : &CounterpartNpiIds[Option(cp, CP_NPI_SHIFT, 2)];
    if (npi) ri->NpiSpecificCharacteristics = cp->Side->characteristics;
    ri->ModuleId = &cp->ModuleId;
    return isClient ? NmrRegisterClient(&cp->Characteristics.Client, cp, &cp->NmrHandle)
                    : NmrRegisterProvider(&cp->Characteristics.Provider, cp, &cp->NmrHandle);
}

static NTSTATUS ClientLoad(void *Instance, ULONG Param) { return nmrh_counterpart_load(NULL, Instance, Param, TRUE); }
static NTSTATUS ProviderLoad(void *Instance, ULONG Param) { return nmrh_counterpart_load(NULL, Instance, Param, FALSE); }

/* detach=pre: complete every idle binding before deregistering, as xdp-for-windows does. */
static VOID PreComplete(CP_INSTANCE *cp)
{
    HANDLE handles[CP_MAX_PEERS];
    ULONG count = 0, i;
    KIRQL irql;
    PLIST_ENTRY e;
    KeAcquireSpinLock(&cp->Lock, &irql);
    for (e = cp->Bindings.Flink; e != &cp->Bindings && count < CP_MAX_PEERS; e = e->Flink) {
        CP_BINDING *b = CONTAINING_RECORD(e, CP_BINDING, Link);
        if (b->Detaching || b->Dead || b->InFlight != 0) continue;
        b->Detaching = TRUE;
        b->PreCompleted = TRUE;
        handles[count++] = b->NmrBindingHandle;
    }
    KeReleaseSpinLock(&cp->Lock, irql);
    for (i = 0; i < count; i++) CompleteDetach(cp, handles[i]);
}

void nmrh_counterpart_unload(void *Instance)
{
    CP_INSTANCE *cp = Instance;
    NTSTATUS status;
    if (Option(cp, CP_DETACH_SHIFT, 2) == CP_DETACH_PRE) PreComplete(cp);
    status = cp->IsClient ? NmrDeregisterClient(cp->NmrHandle) : NmrDeregisterProvider(cp->NmrHandle);
    if (status == STATUS_PENDING) {
        if (cp->IsClient)
            NmrWaitForClientDeregisterComplete(cp->NmrHandle);
        else
            NmrWaitForProviderDeregisterComplete(cp->NmrHandle);
    }
    /* Every binding is gone now: free the tombstones. A `complete` of this module may still be
       walking the list on another processor, so they come off it under the lock. */
    for (;;) {
        CP_BINDING *b = NULL;
        KIRQL irql;
        KeAcquireSpinLock(&cp->Lock, &irql);
        if (!IsListEmpty(&cp->Bindings)) b = CONTAINING_RECORD(RemoveHeadList(&cp->Bindings), CP_BINDING, Link);
        KeReleaseSpinLock(&cp->Lock, irql);
        if (b == NULL) break;
        ExFreePoolWithTag(b, CP_BINDING_TAG);
    }
}

/* One call into every peer bound and not detaching. */
NTSTATUS nmrh_counterpart_call(void *Instance, ULONG Value)
{
    CP_INSTANCE *cp = Instance;
    CP_BINDING *entered[CP_MAX_PEERS];
    ULONG count = 0, i;
    KIRQL irql;
    PLIST_ENTRY e;

    KeAcquireSpinLock(&cp->Lock, &irql);
    for (e = cp->Bindings.Flink; e != &cp->Bindings && count < CP_MAX_PEERS; e = e->Flink) {
        CP_BINDING *b = CONTAINING_RECORD(e, CP_BINDING, Link);
        if (b->Detaching || b->Dead) continue;
        b->InFlight++;
        entered[count++] = b;
    }
    KeReleaseSpinLock(&cp->Lock, irql);

    for (i = 0; i < count; i++) {
        CP_BINDING *b = entered[i];
        BOOLEAN completeNow;
        HANDLE handle = b->NmrBindingHandle;
        if (cp->Npi) {
            if (cp->Npi->call_peer) cp->Npi->call_peer(cp->IsClient, b->PeerDispatch, b->PeerBindingContext, Value);
        } else if (cp->IsClient) {
            ULONG result = 0;
            ((const ECHO_PROVIDER_DISPATCH *)b->PeerDispatch)->Echo(b->PeerBindingContext, Value, &result);
        } else {
            ((const ECHO_CLIENT_DISPATCH *)b->PeerDispatch)->Notify(b->PeerBindingContext, Value);
        }
        KeAcquireSpinLock(&cp->Lock, &irql);
        b->InFlight--;
        completeNow = TakeCompletion(cp, b);
        KeReleaseSpinLock(&cp->Lock, irql);
        if (completeNow) CompleteDetach(cp, handle);
    }
    return count ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

/* detach=pending: the sequence says when the owed Complete is made. */
NTSTATUS nmrh_counterpart_complete(void *Instance)
{
    CP_INSTANCE *cp = Instance;
    HANDLE handles[CP_MAX_PEERS];
    ULONG count = 0, i;
    KIRQL irql;
    PLIST_ENTRY e;
    KeAcquireSpinLock(&cp->Lock, &irql);
    for (e = cp->Bindings.Flink; e != &cp->Bindings && count < CP_MAX_PEERS; e = e->Flink) {
        CP_BINDING *b = CONTAINING_RECORD(e, CP_BINDING, Link);
        b->CompleteRequested = TRUE;
        if (TakeCompletion(cp, b)) handles[count++] = b->NmrBindingHandle;
    }
    KeReleaseSpinLock(&cp->Lock, irql);
    for (i = 0; i < count; i++) CompleteDetach(cp, handles[i]);
    return count ? STATUS_SUCCESS : STATUS_NOT_FOUND;
}

const nmrh_module_kind generic_client_kind = {
    "generic-client", "counterpart client: any NPI, every legal behaviour", sizeof(CP_INSTANCE), ClientLoad, nmrh_counterpart_unload,
    nmrh_counterpart_call, nmrh_counterpart_complete, CounterpartParams, sizeof(CounterpartParams) / sizeof(CounterpartParams[0]), NULL,
};

const nmrh_module_kind generic_provider_kind = {
    "generic-provider", "counterpart provider: any NPI, every legal behaviour", sizeof(CP_INSTANCE), ProviderLoad, nmrh_counterpart_unload,
    nmrh_counterpart_call, nmrh_counterpart_complete, CounterpartParams, sizeof(CounterpartParams) / sizeof(CounterpartParams[0]), NULL,
};
