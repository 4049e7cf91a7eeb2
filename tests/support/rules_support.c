#include "rules_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <stdarg.h>
#include <stdlib.h>

#include "nmrh/oracle.h"

/* ---- characteristics boilerplate ---- */

static VOID RtInitModuleId(NPI_MODULEID *ModuleId, UCHAR IdByte)
{
    RtlZeroMemory(ModuleId, sizeof(*ModuleId));
    ModuleId->Length = sizeof(NPI_MODULEID);
    ModuleId->Type = MIT_GUID;
    ModuleId->Guid = NPI_RT_ID;
    ModuleId->Guid.Data4[7] = IdByte;
}

VOID RtInitClientCharacteristics(NPI_CLIENT_CHARACTERISTICS *Chars, NPI_MODULEID *ModuleId, UCHAR IdByte,
                                 const GUID *NpiId, PNPI_CLIENT_ATTACH_PROVIDER_FN Attach,
                                 PNPI_CLIENT_DETACH_PROVIDER_FN Detach, PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN Cleanup)
{
    RtInitModuleId(ModuleId, IdByte);
    RtlZeroMemory(Chars, sizeof(*Chars));
    Chars->Length = sizeof(NPI_CLIENT_CHARACTERISTICS);
    Chars->ClientAttachProvider = Attach;
    Chars->ClientDetachProvider = Detach;
    Chars->ClientCleanupBindingContext = Cleanup;
    Chars->ClientRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    Chars->ClientRegistrationInstance.NpiId = NpiId;
    Chars->ClientRegistrationInstance.ModuleId = ModuleId;
}

VOID RtInitProviderCharacteristics(NPI_PROVIDER_CHARACTERISTICS *Chars, NPI_MODULEID *ModuleId, UCHAR IdByte,
                                   const GUID *NpiId, PNPI_PROVIDER_ATTACH_CLIENT_FN Attach,
                                   PNPI_PROVIDER_DETACH_CLIENT_FN Detach,
                                   PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN Cleanup)
{
    RtInitModuleId(ModuleId, IdByte);
    RtlZeroMemory(Chars, sizeof(*Chars));
    Chars->Length = sizeof(NPI_PROVIDER_CHARACTERISTICS);
    Chars->ProviderAttachClient = Attach;
    Chars->ProviderDetachClient = Detach;
    Chars->ProviderCleanupBindingContext = Cleanup;
    Chars->ProviderRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    Chars->ProviderRegistrationInstance.NpiId = NpiId;
    Chars->ProviderRegistrationInstance.ModuleId = ModuleId;
}

/* ---- per-binding call tracking shared by both counterparts ----
 * A binding lives in a slot of its module instance from attach until cleanup; the slot memory
 * stays valid until unload, so a (wrong) call through a cleaned-up binding reaches the oracle's
 * check instead of freed memory. All fields are protected by the instance's spin lock. */

#define RT_SLOTS 8

typedef struct _RT_SLOT {
    BOOLEAN InUse;      /* between attach and cleanup */
    BOOLEAN Attached;   /* calls into the peer may start */
    BOOLEAN Detaching;  /* detach callback ran: no new calls */
    BOOLEAN DetachPending;
    BOOLEAN Held;       /* RT_PEER_HOLD_DETACH: completion waits for RT_PEER_COMPLETE */
    LONG InFlight;
    HANDLE NmrBindingHandle;
    PVOID PeerContext;
    const VOID *PeerDispatch;
    PVOID Owner;
} RT_SLOT;

typedef struct _RT_PEER {
    NPI_MODULEID ModuleId;
    union {
        NPI_CLIENT_CHARACTERISTICS Client;
        NPI_PROVIDER_CHARACTERISTICS Provider;
    } Characteristics;
    BOOLEAN IsClient;
    HANDLE NmrHandle;
    ULONG Flags;
    KSPIN_LOCK Lock;
    LONG Received;
    RT_SLOT Slots[RT_SLOTS];
} RT_PEER;

LONG RtPeerCallsReceived(void *Instance) { return ((RT_PEER *)Instance)->Received; }

static RT_SLOT *RtSlotAllocate(RT_PEER *peer, HANDLE NmrBindingHandle)
{
    RT_SLOT *slot = NULL;
    KIRQL irql;
    KeAcquireSpinLock(&peer->Lock, &irql);
    for (ULONG i = 0; i < RT_SLOTS; i++) {
        if (peer->Slots[i].InUse) continue;
        slot = &peer->Slots[i];
        RtlZeroMemory(slot, sizeof(*slot));
        slot->InUse = TRUE;
        slot->Owner = peer;
        slot->NmrBindingHandle = NmrBindingHandle;
        break;
    }
    KeReleaseSpinLock(&peer->Lock, irql);
    return slot;
}

static VOID RtSlotFree(RT_SLOT *slot)
{
    RT_PEER *peer = slot->Owner;
    KIRQL irql;
    KeAcquireSpinLock(&peer->Lock, &irql);
    slot->InUse = FALSE;
    slot->Attached = FALSE;
    KeReleaseSpinLock(&peer->Lock, irql);
}

static NTSTATUS RtSlotDetach(RT_SLOT *slot)
{
    RT_PEER *peer = slot->Owner;
    NTSTATUS status = STATUS_SUCCESS;
    KIRQL irql;
    KeAcquireSpinLock(&peer->Lock, &irql);
    slot->Detaching = TRUE;
    slot->Held = (peer->Flags & RT_PEER_HOLD_DETACH) != 0;
    if (slot->InFlight != 0 || slot->Held) {
        slot->DetachPending = TRUE;
        status = STATUS_PENDING;
    }
    KeReleaseSpinLock(&peer->Lock, irql);
    return status;
}

static VOID RtComplete(RT_PEER *peer, HANDLE NmrBindingHandle)
{
    if (peer->IsClient)
        NmrClientDetachProviderComplete(NmrBindingHandle);
    else
        NmrProviderDetachClientComplete(NmrBindingHandle);
}

/* One call into every attached peer that is not detaching. */
static NTSTATUS RtCallPeers(RT_PEER *peer, ULONG Value)
{
    RT_SLOT *entered[RT_SLOTS];
    ULONG count = 0;
    KIRQL irql;
    KeAcquireSpinLock(&peer->Lock, &irql);
    for (ULONG i = 0; i < RT_SLOTS; i++) {
        RT_SLOT *slot = &peer->Slots[i];
        if (!slot->InUse || !slot->Attached || slot->Detaching) continue;
        slot->InFlight++;
        entered[count++] = slot;
    }
    KeReleaseSpinLock(&peer->Lock, irql);

    for (ULONG i = 0; i < count; i++) {
        RT_SLOT *slot = entered[i];
        BOOLEAN complete;
        HANDLE handle = slot->NmrBindingHandle;
        if (peer->IsClient)
            ((const RT_PROVIDER_DISPATCH *)slot->PeerDispatch)->Ping(slot->PeerContext, Value);
        else
            ((const RT_CLIENT_DISPATCH *)slot->PeerDispatch)->Notify(slot->PeerContext, Value);
        KeAcquireSpinLock(&peer->Lock, &irql);
        slot->InFlight--;
        complete = slot->InFlight == 0 && slot->DetachPending && !slot->Held;
        if (complete) slot->DetachPending = FALSE;
        KeReleaseSpinLock(&peer->Lock, irql);
        if (complete) RtComplete(peer, handle);
    }
    return count ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

/* RT_PEER_COMPLETE: release the held detaches. */
static NTSTATUS RtCompleteHeld(RT_PEER *peer)
{
    HANDLE handles[RT_SLOTS];
    ULONG count = 0;
    KIRQL irql;
    KeAcquireSpinLock(&peer->Lock, &irql);
    for (ULONG i = 0; i < RT_SLOTS; i++) {
        RT_SLOT *slot = &peer->Slots[i];
        if (!slot->InUse || !slot->Held) continue;
        slot->Held = FALSE;
        if (slot->InFlight == 0 && slot->DetachPending) {
            slot->DetachPending = FALSE;
            handles[count++] = slot->NmrBindingHandle;
        }
    }
    KeReleaseSpinLock(&peer->Lock, irql);
    for (ULONG i = 0; i < count; i++) RtComplete(peer, handles[i]);
    return STATUS_SUCCESS;
}

static NTSTATUS RtPeerCall(void *Instance, ULONG Value)
{
    RT_PEER *peer = Instance;
    return Value == RT_PEER_COMPLETE ? RtCompleteHeld(peer) : RtCallPeers(peer, Value);
}

static NTSTATUS RtPeerComplete(void *Instance) { return RtCompleteHeld(Instance); }

static VOID RtPeerUnload(void *Instance)
{
    RT_PEER *peer = Instance;
    if (peer->IsClient) {
        if (NmrDeregisterClient(peer->NmrHandle) == STATUS_PENDING) NmrWaitForClientDeregisterComplete(peer->NmrHandle);
    } else {
        if (NmrDeregisterProvider(peer->NmrHandle) == STATUS_PENDING)
            NmrWaitForProviderDeregisterComplete(peer->NmrHandle);
    }
}

/* ---- the counterpart provider ---- */

static RT_PING_FN RtProviderPing;
static const RT_PROVIDER_DISPATCH RtProviderDispatch = {RT_VERSION_1, sizeof(RT_PROVIDER_DISPATCH), RtProviderPing};

static NTSTATUS NTAPI RtProviderPing(PVOID ProviderBindingContext, ULONG Value)
{
    RT_SLOT *slot = ProviderBindingContext;
    UNREFERENCED_PARAMETER(Value);
    nmrh_oracle_check_peer_call(slot->NmrBindingHandle, TRUE, "Ping");
    InterlockedIncrement(&((RT_PEER *)slot->Owner)->Received);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI RtProviderAttachClient(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                             PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                             PVOID ClientBindingContext, const VOID *ClientDispatch,
                                             PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    RT_PEER *peer = ProviderContext;
    const RT_CLIENT_DISPATCH *dispatch = ClientDispatch;
    RT_SLOT *slot;
    KIRQL irql;
    if (!IsEqualGUID(ClientRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    if (peer->Flags & RT_PEER_DECLINE) return STATUS_NOINTERFACE;
    if (dispatch == NULL || ((peer->Flags & RT_PEER_V1_ONLY) && dispatch->Version > RT_VERSION_1))
        return STATUS_NOINTERFACE;
    slot = RtSlotAllocate(peer, NmrBindingHandle);
    if (slot == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    KeAcquireSpinLock(&peer->Lock, &irql);
    slot->PeerContext = ClientBindingContext;
    slot->PeerDispatch = dispatch;
    slot->Attached = TRUE;
    KeReleaseSpinLock(&peer->Lock, irql);
    *ProviderBindingContext = slot;
    *ProviderDispatch = &RtProviderDispatch;
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI RtProviderDetachClient(PVOID ProviderBindingContext) { return RtSlotDetach(ProviderBindingContext); }
static VOID NTAPI RtProviderCleanup(PVOID ProviderBindingContext) { RtSlotFree(ProviderBindingContext); }

static NTSTATUS RtProviderLoad(void *Instance, ULONG Param)
{
    RT_PEER *peer = Instance;
    RtlZeroMemory(peer, sizeof(*peer));
    peer->Flags = Param;
    KeInitializeSpinLock(&peer->Lock);
    RtInitProviderCharacteristics(&peer->Characteristics.Provider, &peer->ModuleId, 0x70, &NPI_RT_ID,
                                  RtProviderAttachClient, RtProviderDetachClient, RtProviderCleanup);
    return NmrRegisterProvider(&peer->Characteristics.Provider, peer, &peer->NmrHandle);
}

const nmrh_module_kind rt_provider_kind = {
    .name = "rt-provider",
    .summary = "correct counterpart provider of the rules NPI; checks every Ping against rule 9",
    .instance_size = sizeof(RT_PEER),
    .load = RtProviderLoad,
    .unload = RtPeerUnload,
    .call = RtPeerCall,
    .complete = RtPeerComplete,
};

/* ---- the counterpart client ---- */

static RT_NOTIFY_FN RtClientNotify;
static const RT_CLIENT_DISPATCH RtClientDispatchV2 = {RT_VERSION_2, sizeof(RT_CLIENT_DISPATCH), RtClientNotify};
static const RT_CLIENT_DISPATCH RtClientDispatchV1 = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), RtClientNotify};

static VOID NTAPI RtClientNotify(PVOID ClientBindingContext, ULONG Value)
{
    RT_SLOT *slot = ClientBindingContext;
    UNREFERENCED_PARAMETER(Value);
    nmrh_oracle_check_peer_call(slot->NmrBindingHandle, FALSE, "Notify");
    InterlockedIncrement(&((RT_PEER *)slot->Owner)->Received);
}

static NTSTATUS NTAPI RtClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                             PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    RT_PEER *peer = ClientContext;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    RT_SLOT *slot;
    NTSTATUS status;
    KIRQL irql;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    slot = RtSlotAllocate(peer, NmrBindingHandle);
    if (slot == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    status = NmrClientAttachProvider(NmrBindingHandle, slot, &RtClientDispatchV2, &providerContext, &providerDispatch);
    if (status == STATUS_NOINTERFACE)
        status = NmrClientAttachProvider(NmrBindingHandle, slot, &RtClientDispatchV1, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) {
        RtSlotFree(slot);
        return status;
    }
    KeAcquireSpinLock(&peer->Lock, &irql);
    slot->PeerContext = providerContext;
    slot->PeerDispatch = providerDispatch;
    slot->Attached = TRUE;
    KeReleaseSpinLock(&peer->Lock, irql);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI RtClientDetachProvider(PVOID ClientBindingContext) { return RtSlotDetach(ClientBindingContext); }
static VOID NTAPI RtClientCleanup(PVOID ClientBindingContext) { RtSlotFree(ClientBindingContext); }

static NTSTATUS RtClientLoad(void *Instance, ULONG Param)
{
    RT_PEER *peer = Instance;
    RtlZeroMemory(peer, sizeof(*peer));
    peer->Flags = Param;
    peer->IsClient = TRUE;
    KeInitializeSpinLock(&peer->Lock);
    RtInitClientCharacteristics(&peer->Characteristics.Client, &peer->ModuleId, 0x71, &NPI_RT_ID,
                                RtClientAttachProvider, RtClientDetachProvider, RtClientCleanup);
    return NmrRegisterClient(&peer->Characteristics.Client, peer, &peer->NmrHandle);
}

const nmrh_module_kind rt_client_kind = {
    .name = "rt-client",
    .summary = "correct counterpart client of the rules NPI; checks every Notify against rule 9",
    .instance_size = sizeof(RT_PEER),
    .load = RtClientLoad,
    .unload = RtPeerUnload,
    .call = RtPeerCall,
    .complete = RtPeerComplete,
};

/* ---- assertions ---- */

static void dump_run(nmrh_world *w)
{
    const nmrh_finding *f = nmrh_world_finding(w);
    if (f) {
        fprintf(stderr, "  finding: %s: %s\n", f->signature, f->message);
        if (f->details) fprintf(stderr, "  details:\n%s", f->details);
    } else {
        fprintf(stderr, "  no finding\n");
    }
    fprintf(stderr, "  trace:\n");
    nmrh_world_print_trace(w, stderr);
}

static int expect_needles(check_tally *t, const char *text, const char *what, va_list ap, const char *file, int line)
{
    int ok = 1;
    const char *needle;
    while ((needle = va_arg(ap, const char *)) != NULL) {
        int found = text && strstr(text, needle) != NULL;
        if (!found) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s contains \"%s\"", what, needle);
            check_record(t, 0, msg, file, line);
            ok = 0;
        } else {
            t->passed++;
        }
    }
    return ok;
}

void rs_expect_finding_at(const char *file, int line, check_tally *t, nmrh_world *w, nmrh_rule rule, ...)
{
    const nmrh_finding *f = nmrh_world_finding(w);
    int ok = 1;
    char what[200];
    check_record(t, f != NULL, "the run stopped on a finding", file, line);
    if (!f) {
        dump_run(w);
        return;
    }
    if (getenv("RS_VERBOSE")) {
        fprintf(stderr, "%s:%d: %s: %s\n", file, line, f->signature, f->message);
        if (f->details && atoi(getenv("RS_VERBOSE")) > 1) fprintf(stderr, "%s", f->details);
    }
    snprintf(what, sizeof what, "finding rule is %s (got %s)", nmrh_rule_id(rule), nmrh_rule_id(f->rule));
    check_record(t, f->rule == rule, what, file, line);
    ok &= f->rule == rule;
    int sig_ok = rule == NMRH_RULE_ASAN ? strncmp(f->signature, "ASAN-", 5) == 0
                                        : strcmp(f->signature, nmrh_rule_id(rule)) == 0;
    snprintf(what, sizeof what, "signature is \"%s\" (got \"%s\")", rule == NMRH_RULE_ASAN ? "ASAN-..." : nmrh_rule_id(rule),
             f->signature);
    check_record(t, sig_ok, what, file, line);
    ok &= sig_ok;
    va_list ap;
    va_start(ap, rule);
    ok &= expect_needles(t, f->message, "message", ap, file, line);
    va_end(ap);
    if (rule != NMRH_RULE_INTERNAL) {
        uint32_t broken = nmrh_world_check_model_invariants(w);
        check_record(t, broken == 0, "model invariants hold after the finding", file, line);
        ok &= broken == 0;
    }
    if (!ok) dump_run(w);
}

void rs_expect_details_at(const char *file, int line, check_tally *t, nmrh_world *w, ...)
{
    const nmrh_finding *f = nmrh_world_finding(w);
    check_record(t, f != NULL && f->details != NULL, "the finding has details", file, line);
    if (!f || !f->details) return;
    va_list ap;
    va_start(ap, w);
    int ok = expect_needles(t, f->details, "details", ap, file, line);
    va_end(ap);
    if (!ok) dump_run(w);
}

void rs_expect_clean_at(const char *file, int line, check_tally *t, nmrh_world *w)
{
    bool clean = nmrh_world_finish(w);
    check_record(t, clean, "the run ends without a finding", file, line);
    uint32_t broken = nmrh_world_check_model_invariants(w);
    check_record(t, broken == 0, "model invariants hold", file, line);
    if (!clean || broken) dump_run(w);
}

void rs_config_fixed(nmrh_config *cfg)
{
    nmrh_config_init(cfg);
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) cfg->knobs[k] = 0;
}

/* ---- sweeps ---- */

void rs_begin(rs_run *r, const nmrh_config *cfg, nmrh_chooser *chooser)
{
    nmrh_config fixed;
    memset(r, 0, sizeof *r);
    if (!cfg) {
        rs_config_fixed(&fixed);
        cfg = &fixed;
    }
    if (!chooser) {
        nmrh_chooser_zero_init(&r->zero);
        chooser = &r->zero.base;
    }
    r->w = nmrh_world_create(cfg, chooser);
    if (!r->w) abort();
}

test_instance *rs_add(rs_run *r, const nmrh_module_kind *kind, const char *name, ULONG param)
{
    if (r->ninst == RS_MAX_INSTANCES) abort();
    test_instance *i = &r->inst[r->ninst++];
    th_instance_init(r->w, i, kind, name, param);
    return i;
}

void rs_end(rs_run *r)
{
    nmrh_world_destroy(r->w);
    r->w = NULL;
    for (uint32_t i = 0; i < r->ninst; i++) th_instance_free(&r->inst[i]);
}

uint32_t rs_sweep(check_tally *t, const char *name, const nmrh_config *cfg, uint32_t seeds, rs_scenario_fn fn,
                  void *ctx)
{
    uint32_t clean_runs = 0;
    const char *scale = getenv("RS_SEED_SCALE"); /* longer sweeps on demand: RS_SEED_SCALE=20 */
    if (scale && atoi(scale) > 1) seeds *= (uint32_t)atoi(scale);
    for (uint32_t run = 0; run <= seeds; run++) {
        nmrh_chooser_zero zero;
        nmrh_chooser_random rnd;
        nmrh_chooser *chooser;
        if (run == 0) {
            nmrh_chooser_zero_init(&zero);
            chooser = &zero.base;
        } else {
            nmrh_chooser_random_init(&rnd, run);
            chooser = &rnd.base;
        }
        nmrh_config defaults;
        if (!cfg) nmrh_config_init(&defaults);
        rs_run r;
        rs_begin(&r, cfg ? cfg : &defaults, chooser);
        r.ctx = ctx;
        nmrh_world *w = r.w;
        fn(&r);
        nmrh_world_run(w);
        bool clean = nmrh_world_finish(w);
        uint32_t broken = nmrh_world_check_model_invariants(w);
        if (!clean || broken) {
            fprintf(stderr, "%s: sweep '%s': %s %u is not clean (%u broken invariants)\n", t->name ? t->name : "",
                    name, run == 0 ? "zero-chooser run" : "random seed", run, broken);
            dump_run(w);
            rs_end(&r);
            break;
        }
        clean_runs++;
        if (r.after) r.after(&r);
        rs_end(&r);
    }
    char what[200];
    snprintf(what, sizeof what, "sweep '%s': all %u runs clean (%u were)", name, seeds + 1, clean_runs);
    check_record(t, clean_runs == seeds + 1, what, __FILE__, __LINE__);
    return clean_runs;
}

char *rs_run_child(void (*fn)(void), int *status)
{
    int fds[2];
    *status = 0;
    if (pipe(fds) != 0) return NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        fn();
        _exit(3);
    }
    close(fds[1]);
    char *out = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 16384;
            char *n = realloc(out, cap);
            if (!n) break;
            out = n;
        }
        ssize_t k = read(fds[0], out + len, cap - len - 1);
        if (k <= 0) break;
        len += (size_t)k;
    }
    close(fds[0]);
    if (out) out[len] = '\0';
    waitpid(pid, status, 0);
    return out;
}

void rs_print_finding(nmrh_world *w, const nmrh_finding *f, void *user)
{
    (void)w;
    (void)user;
    fprintf(stderr, "RULE %s\nSIGNATURE %s\nMESSAGE %s\n", nmrh_rule_id(f->rule), f->signature, f->message);
    fflush(stderr);
}
