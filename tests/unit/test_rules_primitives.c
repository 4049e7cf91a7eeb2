/*
 * Contract rule 13 (misuse of kernel primitives) and module-side crashes:
 *   KRNL-SPINLOCK-MISUSE (released twice, released while another thread holds it, released at
 *   PASSIVE_LEVEL, acquired again by its holder, AtDpcLevel at PASSIVE_LEVEL, fast mutex acquired
 *   again by its owner, fast mutex released by a non-owner), KRNL-RUNDOWN-MISUSE,
 *   KRNL-ASSERT, KRNL-BUGCHECK.
 *
 * The subject "prim-client" is a client of the rules NPI that guards its calls with rundown
 * protection (the fix for B9): a call acquires the binding's rundown reference, the detach
 * callback returns STATUS_PENDING and a work item waits for the rundown to be released, then
 * completes. Its statistics live under a spin lock, its configuration under a fast mutex.
 * No bug flag: correct.
 */
#include "../support/rules_support.h"

#define PR_RELEASE_UNACQUIRED 0x0001u /* releases the rundown reference even when the acquire failed */
#define PR_DOUBLE_RELEASE     0x0002u /* releases the statistics lock twice (KeReleaseSpinLock) */
#define PR_DOUBLE_RELEASE_DPC 0x0004u /* ... twice at DISPATCH_LEVEL (KeReleaseSpinLockFromDpcLevel) */
#define PR_WRONG_LOCK         0x0008u /* acquires the binding lock, releases the statistics lock */
#define PR_RECURSIVE_LOCK     0x0010u /* a helper takes the statistics lock its caller holds */
#define PR_DPC_AT_PASSIVE     0x0020u /* KeAcquireSpinLockAtDpcLevel without raising first */
#define PR_RECURSIVE_MUTEX    0x0040u /* a helper takes the configuration mutex its caller holds */
#define PR_MUTEX_NOT_OWNED    0x0080u /* releases the configuration mutex it never acquired */
#define PR_ASSERT_PASSIVE     0x0100u /* NT_ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL) in the detach callback */
#define PR_BUGCHECK_ON_VALUE  0x0200u /* bugchecks on an unexpected request value */

#define PR_BAD_VALUE 0xBADu
#define PR_BINDING_TAG RT_TAG('P', 'r', 'B', 'd')

typedef struct _PR_MODULE PR_MODULE;

typedef struct _PR_BINDING {
    PR_MODULE *Module;
    HANDLE NmrBindingHandle;
    PVOID ProviderBindingContext;
    const RT_PROVIDER_DISPATCH *ProviderDispatch;
    EX_RUNDOWN_REF Rundown;   /* one reference per call into the provider */
    BOOLEAN Detaching;
    PIO_WORKITEM Work;        /* preallocated: waits for the rundown, then completes */
} PR_BINDING;

struct _PR_MODULE {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrClientHandle;
    ULONG Bugs;
    KSPIN_LOCK Lock;          /* protects Binding */
    PR_BINDING *Binding;
    KSPIN_LOCK StatsLock;
    LONG Calls, Notifies;
    FAST_MUTEX ConfigMutex;
    ULONG ConfigVersion;
};

static RT_NOTIFY_FN PrNotify;
static const RT_CLIENT_DISPATCH PrDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), PrNotify};

static VOID NTAPI PrNotify(PVOID ClientBindingContext, ULONG Value)
{
    PR_BINDING *b = ClientBindingContext;
    UNREFERENCED_PARAMETER(Value);
    InterlockedIncrement(&b->Module->Notifies);
}

static NTSTATUS NTAPI PrAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                       PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    PR_MODULE *m = ClientContext;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    PR_BINDING *b;
    NTSTATUS status;
    KIRQL irql;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), PR_BINDING_TAG);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    b->Module = m;
    b->NmrBindingHandle = NmrBindingHandle;
    ExInitializeRundownProtection(&b->Rundown);
    b->Work = IoAllocateWorkItem(NULL);
    if (b->Work == NULL) {
        ExFreePoolWithTag(b, PR_BINDING_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    status = NmrClientAttachProvider(NmrBindingHandle, b, &PrDispatch, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) {
        IoFreeWorkItem(b->Work);
        ExFreePoolWithTag(b, PR_BINDING_TAG);
        return status;
    }
    b->ProviderBindingContext = providerContext;
    b->ProviderDispatch = providerDispatch;
    KeAcquireSpinLock(&m->Lock, &irql);
    m->Binding = b;
    KeReleaseSpinLock(&m->Lock, irql);
    return STATUS_SUCCESS;
}

static VOID NTAPI PrRundownThenComplete(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    PR_BINDING *b = Context;
    PIO_WORKITEM item = b->Work;
    HANDLE handle = b->NmrBindingHandle;
    UNREFERENCED_PARAMETER(DeviceObject);
    ExWaitForRundownProtectionRelease(&b->Rundown);
    b->Work = NULL;
    NmrClientDetachProviderComplete(handle); /* may clean up b inline */
    IoFreeWorkItem(item);
}

static NTSTATUS NTAPI PrDetachProvider(PVOID ClientBindingContext)
{
    PR_BINDING *b = ClientBindingContext;
    PR_MODULE *m = b->Module;
    KIRQL irql;
    if (m->Bugs & PR_ASSERT_PASSIVE) NT_ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    KeAcquireSpinLock(&m->Lock, &irql);
    b->Detaching = TRUE;
    KeReleaseSpinLock(&m->Lock, irql);
    IoQueueWorkItem(b->Work, PrRundownThenComplete, DelayedWorkQueue, b);
    return STATUS_PENDING;
}

static VOID NTAPI PrCleanup(PVOID ClientBindingContext)
{
    PR_BINDING *b = ClientBindingContext;
    PR_MODULE *m = b->Module;
    KIRQL irql;
    KeAcquireSpinLock(&m->Lock, &irql);
    if (m->Binding == b) m->Binding = NULL;
    KeReleaseSpinLock(&m->Lock, irql);
    if (b->Work) IoFreeWorkItem(b->Work);
    ExFreePoolWithTag(b, PR_BINDING_TAG);
}

static NTSTATUS PrLoad(void *Instance, ULONG Param)
{
    PR_MODULE *m = Instance;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    KeInitializeSpinLock(&m->Lock);
    KeInitializeSpinLock(&m->StatsLock);
    ExInitializeFastMutex(&m->ConfigMutex);
    RtInitClientCharacteristics(&m->Characteristics, &m->ModuleId, 0x07, &NPI_RT_ID, PrAttachProvider,
                                PrDetachProvider, PrCleanup);
    return NmrRegisterClient(&m->Characteristics, m, &m->NmrClientHandle);
}

static void PrUnload(void *Instance)
{
    PR_MODULE *m = Instance;
    if (NmrDeregisterClient(m->NmrClientHandle) == STATUS_PENDING)
        NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
}

static VOID PrCountCallLocked(PR_MODULE *m)
{
    KIRQL irql;
    if (m->Bugs & PR_RECURSIVE_LOCK) {
        KeAcquireSpinLock(&m->StatsLock, &irql); /* the caller holds it already */
        KeReleaseSpinLock(&m->StatsLock, irql);
    }
    m->Calls++;
}

/* Statistics and configuration bookkeeping of a call. */
static VOID PrBookkeeping(PR_MODULE *m)
{
    KIRQL irql;
    KeAcquireSpinLock(&m->StatsLock, &irql);
    InterlockedIncrement(&m->Notifies); /* a scheduling point with the lock held */
    PrCountCallLocked(m);
    KeReleaseSpinLock(&m->StatsLock, irql);
    if (m->Bugs & PR_DOUBLE_RELEASE) KeReleaseSpinLock(&m->StatsLock, irql);
    if (m->Bugs & PR_DOUBLE_RELEASE_DPC) {
        KeRaiseIrql(DISPATCH_LEVEL, &irql);
        KeAcquireSpinLockAtDpcLevel(&m->StatsLock);
        KeReleaseSpinLockFromDpcLevel(&m->StatsLock);
        KeReleaseSpinLockFromDpcLevel(&m->StatsLock);
        KeLowerIrql(irql);
    }
    if (m->Bugs & PR_DPC_AT_PASSIVE) {
        KeAcquireSpinLockAtDpcLevel(&m->StatsLock);
        KeReleaseSpinLockFromDpcLevel(&m->StatsLock);
    }
    if (!(m->Bugs & PR_MUTEX_NOT_OWNED)) ExAcquireFastMutex(&m->ConfigMutex);
    if (m->Bugs & PR_RECURSIVE_MUTEX) ExAcquireFastMutex(&m->ConfigMutex);
    m->ConfigVersion++;
    ExReleaseFastMutex(&m->ConfigMutex);
}

static NTSTATUS PrCall(void *Instance, ULONG Value)
{
    PR_MODULE *m = Instance;
    PR_BINDING *b;
    BOOLEAN acquired;
    KIRQL irql;
    if ((m->Bugs & PR_BUGCHECK_ON_VALUE) && Value == PR_BAD_VALUE) KeBugCheckEx(0xDEAD0001u, Value, 0, 0, 0);
    /* The reference is taken under the lock that cleanup takes to unpublish the binding: once
       held, the binding stays allocated (cleanup follows Complete, which follows the rundown
       wait); without it, the binding may be freed as soon as the lock is released. */
    KeAcquireSpinLock(&m->Lock, &irql);
    b = m->Binding;
    acquired = b != NULL && ExAcquireRundownProtection(&b->Rundown);
    KeReleaseSpinLock((m->Bugs & PR_WRONG_LOCK) ? &m->StatsLock : &m->Lock, irql);
    if (b != NULL) {
        if (acquired && !b->Detaching) b->ProviderDispatch->Ping(b->ProviderBindingContext, Value);
        if (acquired || (m->Bugs & PR_RELEASE_UNACQUIRED)) ExReleaseRundownProtection(&b->Rundown);
    }
    PrBookkeeping(m);
    return b ? STATUS_SUCCESS : STATUS_DEVICE_NOT_READY;
}

static const nmrh_module_kind pr_kind = {
    .name = "prim-client",
    .summary = "rules-NPI client with switchable kernel-primitive misuse",
    .instance_size = sizeof(PR_MODULE),
    .load = PrLoad,
    .unload = PrUnload,
    .call = PrCall,
};

/* ---- wrong modules ---- */

static void prim_run(rs_run *r, test_instance **p, test_instance **c, ULONG pflags, ULONG bugs)
{
    rs_begin(r, NULL, NULL);
    *p = rs_add(r, &rt_provider_kind, "rt-provider", pflags);
    *c = rs_add(r, &pr_kind, "prim-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, *p));
    nmrh_world_run_thread(r->w, th_load(r->w, *c));
}

static void test_spinlock_misuse_in_call(check_tally *t)
{
    static const struct {
        ULONG bug;
        const char *what;
    } cases[] = {
        {PR_DOUBLE_RELEASE, "KeReleaseSpinLock at IRQL 0, not DISPATCH_LEVEL"},
        {PR_DOUBLE_RELEASE_DPC, "spin lock released while not held (released twice?)"},
        {PR_WRONG_LOCK, "spin lock released while not held"},
        {PR_RECURSIVE_LOCK, "spin lock acquired again by the thread that holds it (deadlock)"},
        {PR_DPC_AT_PASSIVE, "KeAcquireSpinLockAtDpcLevel at IRQL 0"},
        {PR_RECURSIVE_MUTEX, "fast mutex acquired again by its owner (deadlock)"},
        {PR_MUTEX_NOT_OWNED, "fast mutex released by a thread that does not own it"},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rs_run r;
        test_instance *p, *c;
        prim_run(&r, &p, &c, 0, cases[i].bug);
        nmrh_world_run_thread(r.w, th_call(r.w, c, 0));
        rs_expect_finding(t, r.w, NMRH_RULE_SPINLOCK_MISUSE, cases[i].what, "prim-client", "call-prim-client");
        rs_end(&r);
    }
}

/* The wrongly released lock is held by another call, stopped at a scheduling point inside its
   locked region. */
static void test_spinlock_released_by_other_thread(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    prim_run(&r, &p, &c, 0, 0);
    PR_MODULE *m = c->instance;
    nmrh_thread *holder = th_call(r.w, c, 0);
    while (m->StatsLock == 0 && nmrh_world_step(r.w, holder) == NMRH_THREAD_RUNNABLE) {
    }
    CHECK(t, m->StatsLock != 0 && nmrh_thread_get_state(holder) == NMRH_THREAD_RUNNABLE);
    m->Bugs = PR_WRONG_LOCK; /* only the second call has the bug */
    nmrh_world_run_thread(r.w, th_call(r.w, c, 0));
    rs_expect_finding(t, r.w, NMRH_RULE_SPINLOCK_MISUSE, "spin lock released by a thread that does not hold it",
                      "prim-client", "t3 'call-prim-client'");
    rs_end(&r);
}

static void test_rundown_misuse(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    /* The provider holds its detach, so the binding outlives the client's completed rundown. */
    prim_run(&r, &p, &c, RT_PEER_HOLD_DETACH, PR_RELEASE_UNACQUIRED);
    nmrh_world_run_thread(r.w, th_call(r.w, c, 0));
    CHECK(t, RtPeerCallsReceived(p->instance) == 1 && !nmrh_world_stopped(r.w));
    nmrh_thread *unload = th_unload(r.w, p);
    CHECK(t, nmrh_world_run_thread(r.w, unload) == NMRH_THREAD_BLOCKED);
    nmrh_thread *work = nmrh_world_thread(r.w, nmrh_thread_id(unload) + 1);
    if (work) nmrh_world_run_thread(r.w, work); /* rundown completes, the client side completes */
    CHECK(t, !nmrh_world_stopped(r.w));
    nmrh_world_run_thread(r.w, th_call(r.w, c, 0));
    rs_expect_finding(t, r.w, NMRH_RULE_RUNDOWN_MISUSE, "ExReleaseRundownProtection without a matching acquire",
                      "prim-client", "call-prim-client");
    rs_end(&r);
}

static void test_assert(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    prim_run(&r, &p, &c, 0, PR_ASSERT_PASSIVE);
    nmrh_world_run_thread(r.w, th_unload(r.w, p)); /* detach at PASSIVE_LEVEL: the assertion holds */
    CHECK(t, !nmrh_world_stopped(r.w));
    rs_expect_clean(t, r.w);
    rs_end(&r);

    prim_run(&r, &p, &c, 0, PR_ASSERT_PASSIVE);
    nmrh_world_set_knob(r.w, NMRH_KNOB_DETACH_IRQL, 1);
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    rs_expect_finding(t, r.w, NMRH_RULE_ASSERT, "NT_ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL) failed at test_rules_primitives.c:",
                      "prim-client", "IRQL 2");
    rs_end(&r);
}

static void test_bugcheck(check_tally *t)
{
    rs_run r;
    test_instance *p, *c;
    prim_run(&r, &p, &c, 0, PR_BUGCHECK_ON_VALUE);
    nmrh_world_run_thread(r.w, th_call(r.w, c, 7));
    CHECK(t, !nmrh_world_stopped(r.w) && RtPeerCallsReceived(p->instance) == 1);
    nmrh_world_run_thread(r.w, th_call(r.w, c, PR_BAD_VALUE));
    rs_expect_finding(t, r.w, NMRH_RULE_BUGCHECK, "KeBugCheckEx(0xDEAD0001, 0xBAD, 0x0, 0x0, 0x0)", "prim-client",
                      "call-prim-client");
    rs_end(&r);
}

/* ---- correct twins ---- */

typedef struct twin {
    LONG pings;
} twin;

static void twin_count(rs_run *r)
{
    twin *tw = r->ctx;
    if (r->inst[0].instance) tw->pings += RtPeerCallsReceived(r->inst[0].instance);
}

static void twin_scenario(rs_run *r)
{
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(r, &pr_kind, "prim-client", 0);
    r->after = twin_count;
    th_load(r->w, p);
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_call(r->w, c, 1);
    th_call(r->w, c, 2);
    th_call(r->w, p, 3);
    th_unload(r->w, p);
    th_call(r->w, c, 4);
    nmrh_world_run(r->w);
    th_unload(r->w, c);
}

static void test_twins(check_tally *t)
{
    twin tw = {0};
    rs_sweep(t, "primitives: rundown-guarded calls racing detach", NULL, 200, twin_scenario, &tw);
    CHECK(t, tw.pings > 0);
}

int main(void)
{
    check_tally t = {0, 0, "rules-primitives"};
    test_spinlock_misuse_in_call(&t);
    test_spinlock_released_by_other_thread(&t);
    test_rundown_misuse(&t);
    test_assert(&t);
    test_bugcheck(&t);
    test_twins(&t);
    return check_summary(&t, "test_rules_primitives");
}
