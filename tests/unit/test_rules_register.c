/*
 * Registration and binding objects:
 *   NMR-BAD-CHARACTERISTICS (NULL characteristics, NULL handle pointer, NULL NpiId, NULL
 *   ModuleId, no attach callback, no detach callback, NULL output pointer of
 *   NmrClientAttachProvider), NMR-STACK-OBJECT-BOUND (B16: client binding context, client
 *   dispatch table, provider binding context, provider dispatch table on the stack).
 *
 * The subject "reg-module" is a client (or with RG_PROVIDER a provider) of the rules NPI whose
 * characteristics and binding objects are set up as the flags say; no bug flag: correct, with
 * static const dispatch tables and pool binding contexts.
 */
#include "../support/rules_support.h"

#define RG_PROVIDER         0x0001u /* the subject is a provider (default: a client) */
#define RG_NULL_CHARS       0x0002u /* passes NULL characteristics (an allocation it did not check) */
#define RG_NULL_HANDLE_PTR  0x0004u /* passes NULL for the handle pointer */
#define RG_NO_NPI_ID        0x0008u /* forgot the NpiId */
#define RG_NO_MODULE_ID     0x0010u /* forgot the ModuleId */
#define RG_NO_ATTACH        0x0020u /* forgot the attach callback */
#define RG_NO_DETACH        0x0040u /* forgot the detach callback */
#define RG_NULL_OUT_PTR     0x0080u /* client: no place for the provider's dispatch table */
#define RG_STACK_CONTEXT    0x0100u /* B16: binding context on the attach callback's stack */
#define RG_STACK_DISPATCH   0x0200u /* B16: dispatch table built on the attach callback's stack */
#define RG_CLEAR_DETACH     0x0400u /* clears its detach callback between Deregister and Wait */
#define RG_CLEAR_CLEANUP    0x0800u /* clears its cleanup callback between Deregister and Wait */
#define RG_SWAP_NPI_ID      0x1000u /* points its NpiId elsewhere between Deregister and Wait */
#define RG_FREED_CHARS      0x2000u /* registers characteristics it has already freed */

#define RG_BINDING_TAG RT_TAG('R', 'g', 'B', 'd')

typedef struct _RG_MODULE RG_MODULE;

typedef struct _RG_BINDING {
    RG_MODULE *Module;
    HANDLE NmrBindingHandle;
    PVOID PeerContext;
    const VOID *PeerDispatch;
} RG_BINDING;

struct _RG_MODULE {
    NPI_MODULEID ModuleId;
    union {
        NPI_CLIENT_CHARACTERISTICS Client;
        NPI_PROVIDER_CHARACTERISTICS Provider;
    } Characteristics;
    HANDLE NmrHandle;
    ULONG Bugs;
    BOOLEAN IsProvider;
    LONG Pings;
};

static RT_PING_FN RgPing;
static RT_NOTIFY_FN RgNotify;
static const RT_PROVIDER_DISPATCH RgProviderDispatch = {RT_VERSION_1, sizeof(RT_PROVIDER_DISPATCH), RgPing};
static const RT_CLIENT_DISPATCH RgClientDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), RgNotify};

static NTSTATUS NTAPI RgPing(PVOID ProviderBindingContext, ULONG Value)
{
    RG_BINDING *b = ProviderBindingContext;
    UNREFERENCED_PARAMETER(Value);
    if (b) InterlockedIncrement(&b->Module->Pings);
    return STATUS_SUCCESS;
}

static VOID NTAPI RgNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

static RG_BINDING *RgNewBinding(RG_MODULE *m, HANDLE NmrBindingHandle)
{
    RG_BINDING *b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), RG_BINDING_TAG);
    if (b) {
        b->Module = m;
        b->NmrBindingHandle = NmrBindingHandle;
    }
    return b;
}

static NTSTATUS NTAPI RgClientAttach(HANDLE NmrBindingHandle, PVOID ClientContext,
                                     PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    RG_MODULE *m = ClientContext;
    RG_BINDING local;                  /* RG_STACK_CONTEXT */
    RT_CLIENT_DISPATCH localDispatch;  /* RG_STACK_DISPATCH */
    const RT_CLIENT_DISPATCH *dispatch = &RgClientDispatch;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    RG_BINDING *b;
    NTSTATUS status;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    if (m->Bugs & RG_STACK_CONTEXT) {
        b = &local;
        b->Module = m;
        b->NmrBindingHandle = NmrBindingHandle;
    } else {
        b = RgNewBinding(m, NmrBindingHandle);
        if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    }
    if (m->Bugs & RG_STACK_DISPATCH) {
        localDispatch = RgClientDispatch;
        localDispatch.Version = RT_VERSION_1;
        dispatch = &localDispatch;
    }
    status = NmrClientAttachProvider(NmrBindingHandle, b, dispatch, &providerContext,
                                     (m->Bugs & RG_NULL_OUT_PTR) ? NULL : &providerDispatch);
    if (!NT_SUCCESS(status)) {
        if (b != &local) ExFreePoolWithTag(b, RG_BINDING_TAG);
        return status;
    }
    b->PeerContext = providerContext;
    b->PeerDispatch = providerDispatch;
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI RgProviderAttach(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                       PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                       PVOID ClientBindingContext, const VOID *ClientDispatch,
                                       PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    RG_MODULE *m = ProviderContext;
    RG_BINDING local;
    RT_PROVIDER_DISPATCH localDispatch;
    RG_BINDING *b;
    if (!IsEqualGUID(ClientRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    if (m->Bugs & RG_STACK_CONTEXT) {
        b = &local;
        b->Module = m;
        b->NmrBindingHandle = NmrBindingHandle;
    } else {
        b = RgNewBinding(m, NmrBindingHandle);
        if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    }
    b->PeerContext = ClientBindingContext;
    b->PeerDispatch = ClientDispatch;
    *ProviderBindingContext = b;
    *ProviderDispatch = &RgProviderDispatch;
    if (m->Bugs & RG_STACK_DISPATCH) {
        localDispatch = RgProviderDispatch;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer" /* the bug under test */
#endif
        *ProviderDispatch = &localDispatch;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    }
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI RgDetach(PVOID BindingContext)
{
    UNREFERENCED_PARAMETER(BindingContext);
    return STATUS_SUCCESS; /* the subject makes no calls of its own */
}

static VOID NTAPI RgCleanup(PVOID BindingContext) { ExFreePoolWithTag(BindingContext, RG_BINDING_TAG); }

static NTSTATUS RgLoad(void *Instance, ULONG Param)
{
    RG_MODULE *m = Instance;
    NPI_REGISTRATION_INSTANCE *ri;
    PHANDLE handle;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    m->IsProvider = (Param & RG_PROVIDER) != 0;
    handle = (m->Bugs & RG_NULL_HANDLE_PTR) ? NULL : &m->NmrHandle;
    if (m->IsProvider) {
        RtInitProviderCharacteristics(&m->Characteristics.Provider, &m->ModuleId, 0x0a, &NPI_RT_ID, RgProviderAttach,
                                      RgDetach, RgCleanup);
        ri = &m->Characteristics.Provider.ProviderRegistrationInstance;
        if (m->Bugs & RG_NO_ATTACH) m->Characteristics.Provider.ProviderAttachClient = NULL;
        if (m->Bugs & RG_NO_DETACH) m->Characteristics.Provider.ProviderDetachClient = NULL;
    } else {
        RtInitClientCharacteristics(&m->Characteristics.Client, &m->ModuleId, 0x0a, &NPI_RT_ID, RgClientAttach, RgDetach,
                                    RgCleanup);
        ri = &m->Characteristics.Client.ClientRegistrationInstance;
        if (m->Bugs & RG_NO_ATTACH) m->Characteristics.Client.ClientAttachProvider = NULL;
        if (m->Bugs & RG_NO_DETACH) m->Characteristics.Client.ClientDetachProvider = NULL;
    }
    if (m->Bugs & RG_NO_NPI_ID) ri->NpiId = NULL;
    if (m->Bugs & RG_NO_MODULE_ID) ri->ModuleId = NULL;
    if (m->Bugs & RG_FREED_CHARS) {
        /* A heap copy, freed by an error path that forgot the registration still needs it. */
        PVOID copy = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(m->Characteristics), RG_BINDING_TAG);
        if (copy == NULL) return STATUS_INSUFFICIENT_RESOURCES;
        RtlCopyMemory(copy, &m->Characteristics, sizeof(m->Characteristics));
        ExFreePoolWithTag(copy, RG_BINDING_TAG);
        return m->IsProvider ? NmrRegisterProvider(copy, m, handle) : NmrRegisterClient(copy, m, handle);
    }
    if (m->IsProvider)
        return NmrRegisterProvider((m->Bugs & RG_NULL_CHARS) ? NULL : &m->Characteristics.Provider, m, handle);
    return NmrRegisterClient((m->Bugs & RG_NULL_CHARS) ? NULL : &m->Characteristics.Client, m, handle);
}

/* RG_CLEAR_*, RG_SWAP_NPI_ID: "the registration is going away anyway", so its callbacks are
   disarmed before the wait; but the NMR may still detach and clean up its bindings (on a worker,
   or when the peer pends) and reads the characteristics until the wait returns. */
static void RgDisarm(RG_MODULE *m)
{
    static const GUID other = {0x6e6d7268, 0x7275, 0x6c65, {0x80, 0, 0, 0, 0, 0, 0, 0x7f}};
    NPI_REGISTRATION_INSTANCE *ri = m->IsProvider ? &m->Characteristics.Provider.ProviderRegistrationInstance
                                                  : &m->Characteristics.Client.ClientRegistrationInstance;
    if (m->Bugs & RG_CLEAR_DETACH) {
        if (m->IsProvider)
            m->Characteristics.Provider.ProviderDetachClient = NULL;
        else
            m->Characteristics.Client.ClientDetachProvider = NULL;
    }
    if (m->Bugs & RG_CLEAR_CLEANUP) {
        if (m->IsProvider)
            m->Characteristics.Provider.ProviderCleanupBindingContext = NULL;
        else
            m->Characteristics.Client.ClientCleanupBindingContext = NULL;
    }
    if (m->Bugs & RG_SWAP_NPI_ID) ri->NpiId = &other;
}

static void RgUnload(void *Instance)
{
    RG_MODULE *m = Instance;
    if (m->IsProvider) {
        NTSTATUS status = NmrDeregisterProvider(m->NmrHandle);
        RgDisarm(m);
        if (status == STATUS_PENDING) NmrWaitForProviderDeregisterComplete(m->NmrHandle);
    } else {
        NTSTATUS status = NmrDeregisterClient(m->NmrHandle);
        RgDisarm(m);
        if (status == STATUS_PENDING) NmrWaitForClientDeregisterComplete(m->NmrHandle);
    }
}

static const nmrh_module_kind rg_kind = {
    .name = "reg-module",
    .summary = "rules-NPI client or provider with switchable registration and binding-object bugs",
    .instance_size = sizeof(RG_MODULE),
    .load = RgLoad,
    .unload = RgUnload,
};

/* ---- wrong modules ---- */

/* The counterpart of the other side loaded first, then the subject (attach inside its load). */
static void reg_run(rs_run *r, test_instance **peer, test_instance **s, ULONG bugs)
{
    int provider = (bugs & RG_PROVIDER) != 0;
    rs_begin(r, NULL, NULL);
    *peer = rs_add(r, provider ? &rt_client_kind : &rt_provider_kind, provider ? "rt-client" : "rt-provider", 0);
    *s = rs_add(r, &rg_kind, provider ? "reg-provider" : "reg-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *peer));
    nmrh_world_run_thread(r->w, th_load(r->w, *s));
}

static void test_bad_characteristics(check_tally *t)
{
    static const struct {
        ULONG bug;
        const char *what;
    } cases[] = {
        {RG_NULL_CHARS, "with NULL characteristics"},
        {RG_NULL_HANDLE_PTR, "with a NULL handle pointer"},
        {RG_NO_NPI_ID, "with a NULL NpiId"},
        {RG_NO_MODULE_ID, "with a NULL ModuleId"},
        {RG_NO_ATTACH, "with no attach callback"},
        {RG_NO_DETACH, "with no detach callback"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (ULONG side = 0; side <= RG_PROVIDER; side += RG_PROVIDER) {
            rs_run r;
            test_instance *peer, *s;
            reg_run(&r, &peer, &s, side | cases[i].bug);
            rs_expect_finding(t, r.w, NMRH_RULE_BAD_CHARACTERISTICS,
                              side ? "NmrRegisterProvider" : "NmrRegisterClient", cases[i].what,
                              side ? "reg-provider" : "reg-client");
            rs_end(&r);
        }
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    /* Freed characteristics: the model asks ASan before reading them (without ASan it cannot
       know, and the test would read freed memory). */
    for (ULONG side = 0; side <= RG_PROVIDER; side += RG_PROVIDER) {
        rs_run fr;
        test_instance *fpeer, *fs;
        reg_run(&fr, &fpeer, &fs, side | RG_FREED_CHARS);
        rs_expect_finding(t, fr.w, NMRH_RULE_BAD_CHARACTERISTICS, side ? "NmrRegisterProvider" : "NmrRegisterClient",
                          "with characteristics in freed or unallocated memory");
        rs_end(&fr);
    }
#endif
#endif
    rs_run r;
    test_instance *peer, *s;
    reg_run(&r, &peer, &s, RG_NULL_OUT_PTR);
    rs_expect_finding(t, r.w, NMRH_RULE_BAD_CHARACTERISTICS,
                      "NmrClientAttachProvider for binding b1 (client#2 reg-client <-> provider#1 rt-provider) got a "
                      "NULL output pointer",
                      "reg-client");
    rs_end(&r);
}

static void test_stack_objects(check_tally *t)
{
    static const struct {
        ULONG bug;
        const char *what;
    } cases[] = {
        {RG_STACK_CONTEXT, "the client binding context of binding b1"},
        {RG_STACK_DISPATCH, "the client dispatch table of binding b1"},
        {RG_PROVIDER | RG_STACK_CONTEXT, "the provider binding context of binding b1"},
        {RG_PROVIDER | RG_STACK_DISPATCH, "the provider dispatch table of binding b1"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_run r;
        test_instance *peer, *s;
        reg_run(&r, &peer, &s, cases[i].bug);
        rs_expect_finding(t, r.w, NMRH_RULE_STACK_OBJECT_BOUND, cases[i].what,
                          (cases[i].bug & RG_PROVIDER) ? "reg-provider" : "reg-client", "is a stack object");
        rs_end(&r);
    }
}

/* A module that changes its registration while registered: under every schedule (detach and
   cleanup inline, on workers, pending on the peer's call) one finding, NMR-REGISTRATION-CHANGED
   naming that module, and never a crash in the model (this test runs under ASan). */
typedef struct changed_case {
    ULONG bugs;
    const char *field;
} changed_case;

static void changed_scenario(rs_run *r)
{
    const changed_case *c = r->ctx;
    int provider = (c->bugs & RG_PROVIDER) != 0;
    /* The counterpart pends its detach until its `complete` call, so the subject's binding is
       still detaching when the subject waits. */
    test_instance *peer = rs_add(r, provider ? &rt_client_kind : &rt_provider_kind, "peer", RT_PEER_HOLD_DETACH);
    test_instance *s = rs_add(r, &rg_kind, provider ? "reg-provider" : "reg-client", c->bugs);
    th_load(r->w, peer);
    th_load(r->w, s);
    nmrh_world_run(r->w);
    th_unload(r->w, s);
    th_call(r->w, peer, RT_PEER_COMPLETE);
}

static void test_registration_changed(check_tally *t)
{
    static const changed_case cases[] = {
        {RG_CLEAR_DETACH, "ClientDetachProvider"},
        {RG_CLEAR_CLEANUP, "ClientCleanupBindingContext"},
        {RG_SWAP_NPI_ID, "RegistrationInstance.NpiId"},
        {RG_PROVIDER | RG_CLEAR_DETACH, "ProviderDetachClient"},
        {RG_PROVIDER | RG_CLEAR_CLEANUP, "ProviderCleanupBindingContext"},
        {RG_PROVIDER | RG_SWAP_NPI_ID, "RegistrationInstance.NpiId"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (uint32_t seed = 0; seed <= 60; seed++) {
            nmrh_chooser_random rnd;
            nmrh_chooser_random_init(&rnd, seed);
            nmrh_config cfg;
            nmrh_config_init(&cfg);
            rs_run r;
            rs_begin(&r, &cfg, seed ? &rnd.base : NULL);
            r.ctx = (void *)&cases[i];
            changed_scenario(&r);
            nmrh_world_run(r.w);
            nmrh_world_finish(r.w);
            int provider = (cases[i].bugs & RG_PROVIDER) != 0;
            rs_expect_finding(t, r.w, NMRH_RULE_REGISTRATION_CHANGED, provider ? "reg-provider changed the provider" : "reg-client changed the client",
                              cases[i].field, "while registered");
            rs_end(&r);
        }
}

/* ---- correct twins ---- */

typedef struct twin {
    ULONG side;
    LONG calls;
} twin;

static void twin_count(rs_run *r)
{
    twin *tw = r->ctx;
    if (tw->side && r->inst[1].instance) tw->calls += ((RG_MODULE *)r->inst[1].instance)->Pings;
}

static void twin_scenario(rs_run *r)
{
    twin *tw = r->ctx;
    test_instance *peer = rs_add(r, tw->side ? &rt_client_kind : &rt_provider_kind, "peer", 0);
    test_instance *s = rs_add(r, &rg_kind, "subject", tw->side);
    r->after = twin_count;
    th_load(r->w, peer);
    th_load(r->w, s);
    nmrh_world_run(r->w);
    th_call(r->w, peer, RT_PEER_CALL);
    th_unload(r->w, peer);
    th_unload(r->w, s);
}

static void test_twins(check_tally *t)
{
    twin client = {0, 0}, provider = {RG_PROVIDER, 0};
    rs_sweep(t, "register: client with static dispatch, pool contexts", NULL, 100, twin_scenario, &client);
    rs_sweep(t, "register: provider with static dispatch, pool contexts", NULL, 100, twin_scenario, &provider);
    CHECK(t, provider.calls > 0); /* the counterpart client pinged the subject provider */
    nmrh_config faults;
    nmrh_config_init(&faults);
    faults.fault_choices = true;
    rs_sweep(t, "register: client under injected faults", &faults, 100, twin_scenario, &client);
}

int main(void)
{
    check_tally t = {0, 0, "rules-register"};
    test_bad_characteristics(&t);
    test_stack_objects(&t);
    test_registration_changed(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_register");
}
