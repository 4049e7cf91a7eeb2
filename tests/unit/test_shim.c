/*
 * The kernel-primitive shim as module code sees it: pool (tags, leak summary per tag, zeroing,
 * invalid flags, injected failures), injected NMR failures, events, spin locks and IRQL, fast
 * mutexes, rundown protection, work items, DbgPrint and NT_ASSERT.
 */
#include "../support/check.h"
#include "../support/shim_test.h"
#include "nmrh/world.h"

#include <ntddk.h>
#include <netioddk.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG(a, b, c, d) ((ULONG)(a) | ((ULONG)(b) << 8) | ((ULONG)(c) << 16) | ((ULONG)(d) << 24))
#define TAG_ABCD TAG('A', 'b', 'c', 'D')
#define TAG_XYZ1 TAG('X', 'y', 'z', '1')
#define TAG_CTX TAG('S', 'h', 'C', 'x')

/* {6e6d7268-7368-696d-8000-000000000001} */
DEFINE_GUID(SHIM_NPI_ID, 0x6e6d7268, 0x7368, 0x696d, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01);

static nmrh_world *zero_world(nmrh_chooser_zero *z)
{
    nmrh_chooser_zero_init(z);
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) cfg.knobs[k] = 0;
    return nmrh_world_create(&cfg, &z->base);
}

static int count_substr(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static int trace_count(const nmrh_world *w, const char *needle)
{
    char *t = shim_test_trace(w);
    int n = count_substr(t, needle);
    free(t);
    return n;
}

static bool finish_clean(check_tally *t, nmrh_world *w)
{
    bool clean = nmrh_world_finish(w);
    CHECK(t, clean);
    if (!clean) {
        const nmrh_finding *f = nmrh_world_finding(w);
        fprintf(stderr, "unexpected finding %s: %s\n", f->signature, f->message);
        nmrh_world_print_trace(w, stderr);
        return false;
    }
    CHECK(t, nmrh_world_check_model_invariants(w) == 0);
    return true;
}

static uint32_t cur_tid(void) { return nmrh_thread_id(nmrh_world_current_thread(nmrh_world_current())); }

/* ---- pool ---- */

typedef struct pool_job {
    uint32_t module;
    void *p[8];
    bool unload;
    int zero_ok;
} pool_job;

static void t_pool_tags(void *arg)
{
    pool_job *j = arg;
    j->p[2] = ExAllocatePoolWithTag(NonPagedPoolNx, 7, TAG_XYZ1);
    j->p[0] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 10, TAG_ABCD);
    j->p[1] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 20, TAG_ABCD);
    j->p[3] = ExAllocatePoolZero(NonPagedPoolNx, 30, TAG_ABCD);
    j->p[4] = ExAllocatePool2(POOL_FLAG_PAGED, 5, TAG_ABCD);
    ExFreePoolWithTag(j->p[0], TAG_ABCD);
    ExFreePool(j->p[4]);
    if (j->unload) nmrh_world_module_unloaded(nmrh_world_current(), j->module);
}

static void t_pool_all_freed(void *arg)
{
    pool_job *j = arg;
    for (int i = 0; i < 8; i++) j->p[i] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16u * (unsigned)(i + 1), TAG_XYZ1);
    for (int i = 7; i >= 0; i--) ExFreePoolWithTag(j->p[i], TAG_XYZ1);
    nmrh_world_module_unloaded(nmrh_world_current(), j->module);
}

static void test_pool_tags(check_tally *t)
{
    /* Leaks of an unloaded module are reported per tag, in allocation order, with byte counts. */
    for (int round = 0; round < 2; round++) {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        pool_job j = {.unload = true};
        j.module = nmrh_world_add_module(w, "leaky");
        nmrh_world_spawn(w, "pool", j.module, t_pool_tags, &j);
        CHECK(t, nmrh_world_run(w));
        CHECK(t, j.p[1] && j.p[2] && j.p[3]);
        shim_test_finding(t, w, "KRNL-POOL-LEAK", NULL);
        const nmrh_finding *f = nmrh_world_finding(w);
        CHECK_STR(t, f ? f->message : "",
                  "module leaky unloaded with 3 pool block(s) not freed: 1 x tag 'Xyz1' (7 bytes), 2 x tag 'AbcD' (50 bytes)");
        nmrh_world_destroy(w); /* releases the leaked blocks (LeakSanitizer stays quiet) */
    }

    /* A module that is still loaded at the end is not leaking; a module that freed everything is clean. */
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    pool_job loaded = {.unload = false}, clean = {0};
    loaded.module = nmrh_world_add_module(w, "still-loaded");
    clean.module = nmrh_world_add_module(w, "clean");
    nmrh_world_spawn(w, "pool-a", loaded.module, t_pool_tags, &loaded);
    nmrh_world_spawn(w, "pool-b", clean.module, t_pool_all_freed, &clean);
    CHECK(t, nmrh_world_run(w));
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

static void t_pool_zero(void *arg)
{
    pool_job *j = arg;
    /* Dirty some blocks, free them, allocate again: ExAllocatePool2 zeroes unless told not to. */
    for (int round = 0; round < 4; round++) {
        unsigned char *d = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 4096, TAG_ABCD);
        if (!d) return;
        memset(d, 0xA5, 4096);
        ExFreePoolWithTag(d, TAG_ABCD);
        unsigned char *z1 = ExAllocatePool2(POOL_FLAG_NON_PAGED, 4096, TAG_ABCD);
        unsigned char *z2 = ExAllocatePool2(POOL_FLAG_PAGED, 333, TAG_ABCD);
        unsigned char *z3 = ExAllocatePoolZero(NonPagedPoolNx, 777, TAG_ABCD);
        bool ok = z1 && z2 && z3;
        for (int i = 0; ok && i < 4096; i++) ok = z1[i] == 0;
        for (int i = 0; ok && i < 333; i++) ok = z2[i] == 0;
        for (int i = 0; ok && i < 777; i++) ok = z3[i] == 0;
        j->zero_ok += ok;
        ExFreePoolWithTag(z1, TAG_ABCD);
        ExFreePoolWithTag(z2, TAG_ABCD);
        ExFreePoolWithTag(z3, TAG_ABCD);
    }
    /* Invalid requests fail without allocating (and without using up an injected failure). */
    nmrh_world_fail_allocs(nmrh_world_current(), j->module, 1);
    j->p[0] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 0);                                  /* tag 0 */
    j->p[1] = ExAllocatePool2(0, 16, TAG_ABCD);                                              /* no pool kind */
    j->p[2] = ExAllocatePool2(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 16, TAG_ABCD);          /* two kinds */
    j->p[3] = ExAllocatePool2(POOL_FLAG_PAGED | POOL_FLAG_NON_PAGED_EXECUTE, 16, TAG_ABCD);  /* two kinds */
    j->p[4] = ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, TAG_ABCD);                            /* injected */
    j->p[5] = ExAllocatePool2(POOL_FLAG_NON_PAGED_EXECUTE, 16, TAG_ABCD);                    /* fine */
    if (j->p[5]) ExFreePoolWithTag(j->p[5], TAG_ABCD);
    nmrh_world_module_unloaded(nmrh_world_current(), j->module);
}

static void test_pool_zero_and_flags(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    pool_job j = {0};
    j.module = nmrh_world_add_module(w, "zero");
    nmrh_world_spawn(w, "pool", j.module, t_pool_zero, &j);
    CHECK(t, nmrh_world_run(w));
    CHECK(t, j.zero_ok == 4);
    CHECK(t, !j.p[0] && !j.p[1] && !j.p[2] && !j.p[3]);
    CHECK(t, !j.p[4] && j.p[5]);
    CHECK(t, trace_count(w, "fault injected: pool allocation fails") == 1);
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

/* Pool misuse the shim reports. */
static void t_free_wrong_tag(void *arg)
{
    (void)arg;
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG_ABCD);
    ExFreePoolWithTag(p, TAG_XYZ1);
}
static void t_double_free(void *arg)
{
    (void)arg;
    void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, TAG_ABCD);
    ExFreePoolWithTag(p, TAG_ABCD);
    ExFreePoolWithTag(p, TAG_ABCD);
}
static void t_paged_at_dispatch(void *arg)
{
    KSPIN_LOCK *l = arg;
    KIRQL irql;
    KeAcquireSpinLock(l, &irql);
    void *p = ExAllocatePool2(POOL_FLAG_PAGED, 8, TAG_ABCD);
    ExFreePoolWithTag(p, TAG_ABCD);
    KeReleaseSpinLock(l, irql);
}

static void test_pool_misuse(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    nmrh_world_spawn(w, "wrong-tag", nmrh_world_add_module(w, "m"), t_free_wrong_tag, NULL);
    shim_test_finding(t, w, "KRNL-POOL-BAD-FREE", "tag 'Xyz1' of a block allocated with tag 'AbcD'");
    nmrh_world_destroy(w);

    w = zero_world(&z);
    nmrh_world_spawn(w, "double-free", nmrh_world_add_module(w, "m"), t_double_free, NULL);
    shim_test_finding(t, w, "KRNL-POOL-BAD-FREE", "double free");
    nmrh_world_destroy(w);

    KSPIN_LOCK l;
    KeInitializeSpinLock(&l);
    w = zero_world(&z);
    nmrh_world_spawn(w, "paged", nmrh_world_add_module(w, "m"), t_paged_at_dispatch, &l);
    shim_test_finding(t, w, "KRNL-PASSIVE-AT-DISPATCH", "paged pool allocation at IRQL 2");
    nmrh_world_destroy(w);
}

/* ---- fault injection: allocations of one module ---- */

typedef struct alloc_job {
    uint32_t module;
    int n;
    bool got[8];
} alloc_job;

static void t_allocs(void *arg)
{
    alloc_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        void *p = ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, TAG_ABCD);
        j->got[i] = p != NULL;
        if (p) ExFreePoolWithTag(p, TAG_ABCD);
    }
}

static void test_fail_allocs(check_tally *t)
{
    for (uint32_t n = 0; n <= 4; n++) {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        alloc_job a = {.n = 6}, b = {.n = 6}, nmr = {.n = 2};
        a.module = nmrh_world_add_module(w, "victim");
        b.module = nmrh_world_add_module(w, "bystander");
        nmrh_world_fail_allocs(w, a.module, n);
        /* The bystander and code running as the NMR (module 0) allocate first and in between. */
        nmrh_world_spawn(w, "b1", b.module, t_allocs, &b);
        nmrh_world_spawn(w, "nmr", 0, t_allocs, &nmr);
        nmrh_world_spawn(w, "a", a.module, t_allocs, &a);
        CHECK(t, nmrh_world_run(w));
        for (int i = 0; i < 6; i++) {
            CHECK(t, a.got[i] == ((uint32_t)i >= n)); /* exactly the next n fail */
            CHECK(t, b.got[i]);
        }
        CHECK(t, nmr.got[0] && nmr.got[1]);
        CHECK(t, trace_count(w, "fault injected: pool allocation fails") == (int)n);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }
    /* Resetting the count to 0 cancels what is left. */
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    alloc_job a = {.n = 3};
    a.module = nmrh_world_add_module(w, "victim");
    nmrh_world_fail_allocs(w, a.module, 5);
    nmrh_world_fail_allocs(w, a.module, 0);
    nmrh_world_spawn(w, "a", a.module, t_allocs, &a);
    CHECK(t, nmrh_world_run(w) && a.got[0] && a.got[1] && a.got[2]);
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

/* ---- a small client/provider pair that allocates its binding contexts ---- */

typedef struct pair {
    nmrh_world *w;
    uint32_t cmod, pmod;
    NPI_MODULEID mid;
    NPI_CLIENT_CHARACTERISTICS cchars;
    NPI_PROVIDER_CHARACTERISTICS pchars;
    HANDLE client, provider[2];
    NTSTATUS creg, preg[2], attach_status[4];
    int nattach, provider_attach_calls, cleanups;
    int which; /* provider instance a registration thread registers */
} pair;

static NTSTATUS NTAPI pair_client_attach(HANDLE b, PVOID ctx, PNPI_REGISTRATION_INSTANCE pri)
{
    pair *p = ctx;
    PVOID pc;
    const VOID *pd;
    (void)pri;
    void *mine = ExAllocatePool2(POOL_FLAG_NON_PAGED, 24, TAG_CTX);
    if (!mine) return STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS s = NmrClientAttachProvider(b, mine, &p->cchars, &pc, &pd);
    if (!NT_SUCCESS(s)) ExFreePoolWithTag(mine, TAG_CTX);
    if (p->nattach < 4) p->attach_status[p->nattach++] = s;
    return s;
}
static NTSTATUS NTAPI pair_provider_attach(HANDLE b, PVOID ctx, PNPI_REGISTRATION_INSTANCE cri, PVOID cbc,
                                           const VOID *cd, PVOID *pbc, const VOID **pd)
{
    pair *p = ctx;
    (void)b, (void)cri, (void)cbc, (void)cd;
    p->provider_attach_calls++;
    void *mine = ExAllocatePool2(POOL_FLAG_NON_PAGED, 24, TAG_CTX);
    if (!mine) return STATUS_INSUFFICIENT_RESOURCES;
    *pbc = mine;
    *pd = &p->pchars;
    return STATUS_SUCCESS;
}
static NTSTATUS NTAPI pair_detach(PVOID ctx)
{
    (void)ctx;
    return STATUS_SUCCESS;
}
static VOID NTAPI pair_cleanup(PVOID ctx) { ExFreePoolWithTag(ctx, TAG_CTX); }

static void pair_init(pair *p, nmrh_world *w)
{
    memset(p, 0, sizeof *p);
    p->w = w;
    p->cmod = nmrh_world_add_module(w, "shim-client");
    p->pmod = nmrh_world_add_module(w, "shim-provider");
    p->mid.Length = sizeof p->mid;
    p->mid.Type = MIT_GUID;
    p->mid.Guid = SHIM_NPI_ID;
    p->cchars.Length = sizeof p->cchars;
    p->cchars.ClientAttachProvider = pair_client_attach;
    p->cchars.ClientDetachProvider = pair_detach;
    p->cchars.ClientCleanupBindingContext = pair_cleanup;
    p->cchars.ClientRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    p->cchars.ClientRegistrationInstance.NpiId = &SHIM_NPI_ID;
    p->cchars.ClientRegistrationInstance.ModuleId = &p->mid;
    p->pchars.Length = sizeof p->pchars;
    p->pchars.ProviderAttachClient = pair_provider_attach;
    p->pchars.ProviderDetachClient = pair_detach;
    p->pchars.ProviderCleanupBindingContext = pair_cleanup;
    p->pchars.ProviderRegistrationInstance.Size = sizeof(NPI_REGISTRATION_INSTANCE);
    p->pchars.ProviderRegistrationInstance.NpiId = &SHIM_NPI_ID;
    p->pchars.ProviderRegistrationInstance.ModuleId = &p->mid;
}

static void t_reg_client(void *arg)
{
    pair *p = arg;
    p->creg = NmrRegisterClient(&p->cchars, p, &p->client);
}
static void t_reg_provider(void *arg)
{
    pair *p = arg;
    int i = p->which;
    p->preg[i] = NmrRegisterProvider(&p->pchars, p, &p->provider[i]);
}
static void t_unload_all(void *arg)
{
    pair *p = arg;
    if (NT_SUCCESS(p->creg) && p->client) {
        NmrDeregisterClient(p->client);
        NmrWaitForClientDeregisterComplete(p->client);
    }
    for (int i = 0; i < 2; i++)
        if (NT_SUCCESS(p->preg[i]) && p->provider[i]) {
            NmrDeregisterProvider(p->provider[i]);
            NmrWaitForProviderDeregisterComplete(p->provider[i]);
        }
    nmrh_world_module_unloaded(p->w, p->cmod);
    nmrh_world_module_unloaded(p->w, p->pmod);
}

static void run_thread(nmrh_world *w, const char *name, uint32_t module, nmrh_thread_fn fn, void *arg)
{
    nmrh_world_run_thread(w, nmrh_world_spawn(w, name, module, fn, arg));
}

/* Allocation failures are charged to the module whose code runs (a callback's owner), not to
   the thread that happens to run it. */
static void test_fail_allocs_in_callbacks(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    pair p;
    pair_init(&p, w);
    run_thread(w, "reg-p", p.pmod, t_reg_provider, &p);
    nmrh_world_fail_allocs(w, p.pmod, 1);
    run_thread(w, "reg-c", p.cmod, t_reg_client, &p); /* provider's attach runs on the client's thread */
    CHECK(t, p.creg == STATUS_SUCCESS && p.provider_attach_calls == 1);
    CHECK(t, p.nattach == 1 && p.attach_status[0] == STATUS_INSUFFICIENT_RESOURCES);
    /* A second provider instance binds: the failure was used up. */
    p.which = 1;
    run_thread(w, "reg-p2", p.pmod, t_reg_provider, &p);
    CHECK(t, p.nattach == 2 && p.attach_status[1] == STATUS_SUCCESS);
    run_thread(w, "unload", p.cmod, t_unload_all, &p);
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

/* ---- fault injection: Nmr*Register* and NmrClientAttachProvider ---- */

static void test_fail_nmr(check_tally *t)
{
    /* Register fails for exactly the next `n` registrations; a failed one writes no handle, binds
       nothing, and needs no deregistration. */
    for (uint32_t n = 1; n <= 2; n++) {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        pair p;
        pair_init(&p, w);
        nmrh_world_fail_nmr(w, NMRH_FAULT_REGISTER, n);
        run_thread(w, "reg-p", p.pmod, t_reg_provider, &p);
        run_thread(w, "reg-c", p.cmod, t_reg_client, &p);
        CHECK(t, p.preg[0] == STATUS_INSUFFICIENT_RESOURCES && p.provider[0] == NULL);
        CHECK(t, n == 1 ? p.creg == STATUS_SUCCESS && p.client != NULL : p.creg == STATUS_INSUFFICIENT_RESOURCES && !p.client);
        CHECK(t, p.nattach == 0 && p.provider_attach_calls == 0);
        p.which = 1;
        run_thread(w, "reg-p2", p.pmod, t_reg_provider, &p);
        CHECK(t, p.preg[1] == STATUS_SUCCESS && p.provider[1] != NULL);
        CHECK(t, p.nattach == (n == 1 ? 1 : 0));
        CHECK(t, trace_count(w, "fault injected: Nmr*Register* fails") == (int)n);
        run_thread(w, "unload", p.cmod, t_unload_all, &p);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }

    /* A registration that is going to fail is never visible to a peer registering concurrently,
       even when the failing thread is switched out inside its NmrRegister* call. */
    for (int stop = 1; stop <= 2; stop++) {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        pair p;
        pair_init(&p, w);
        nmrh_world_fail_nmr(w, NMRH_FAULT_REGISTER, 1);
        nmrh_thread *tp = nmrh_world_spawn(w, "reg-p", p.pmod, t_reg_provider, &p);
        for (int i = 0; i < stop; i++) CHECK(t, nmrh_world_step(w, tp) == NMRH_THREAD_RUNNABLE);
        run_thread(w, "reg-c", p.cmod, t_reg_client, &p);
        CHECK(t, p.creg == STATUS_SUCCESS && p.nattach == 0 && p.provider_attach_calls == 0);
        CHECK(t, nmrh_world_run_thread(w, tp) == NMRH_THREAD_FINISHED);
        CHECK(t, p.preg[0] == STATUS_INSUFFICIENT_RESOURCES && p.provider[0] == NULL);
        CHECK(t, trace_count(w, "callback ") == 0);
        run_thread(w, "unload", p.cmod, t_unload_all, &p);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }

    /* NmrClientAttachProvider fails: the provider's attach is never called, the client returns the
       same status and frees its context; the next attach works. */
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    pair p;
    pair_init(&p, w);
    nmrh_world_fail_nmr(w, NMRH_FAULT_CLIENT_ATTACH, 1);
    run_thread(w, "reg-p", p.pmod, t_reg_provider, &p);
    run_thread(w, "reg-c", p.cmod, t_reg_client, &p);
    CHECK(t, p.creg == STATUS_SUCCESS && p.preg[0] == STATUS_SUCCESS);
    CHECK(t, p.nattach == 1 && p.attach_status[0] == STATUS_INSUFFICIENT_RESOURCES && p.provider_attach_calls == 0);
    p.which = 1;
    run_thread(w, "reg-p2", p.pmod, t_reg_provider, &p);
    CHECK(t, p.nattach == 2 && p.attach_status[1] == STATUS_SUCCESS && p.provider_attach_calls == 1);
    CHECK(t, trace_count(w, "fault injected: NmrClientAttachProvider fails") == 1);
    CHECK(t, trace_count(w, "ProviderCleanupBindingContext(") == 0);
    run_thread(w, "unload", p.cmod, t_unload_all, &p);
    CHECK(t, trace_count(w, "ProviderCleanupBindingContext(") == 1); /* only the binding that attached */
    CHECK(t, trace_count(w, "ClientCleanupBindingContext(") == 1);
    finish_clean(t, w);
    nmrh_world_destroy(w);

    /* fault_choices: the chooser decides every fallible call (registrations here); correct
       modules stay clean whichever way it falls. */
    nmrh_chooser_random rnd;
    int failed_regs = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        nmrh_chooser_random_init(&rnd, seed);
        nmrh_config cfg;
        nmrh_config_init(&cfg);
        cfg.fault_choices = true;
        w = nmrh_world_create(&cfg, &rnd.base);
        pair_init(&p, w);
        nmrh_world_spawn(w, "reg-p", p.pmod, t_reg_provider, &p);
        nmrh_world_spawn(w, "reg-c", p.cmod, t_reg_client, &p);
        nmrh_world_run(w);
        failed_regs += (p.preg[0] == STATUS_INSUFFICIENT_RESOURCES) + (p.creg == STATUS_INSUFFICIENT_RESOURCES);
        nmrh_world_spawn(w, "unload", p.cmod, t_unload_all, &p);
        nmrh_world_run(w);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }
    CHECK(t, failed_regs > 0 && failed_regs < 40);
}

/* ---- events ---- */

typedef struct ev_job {
    KEVENT *ev;
    NTSTATUS status;
    bool woke;
    uint32_t order;
    uint32_t *next_order;
} ev_job;

static void t_wait(void *arg)
{
    ev_job *j = arg;
    j->status = KeWaitForSingleObject(j->ev, Executive, KernelMode, FALSE, NULL);
    j->woke = true;
    j->order = (*j->next_order)++;
}

typedef struct setter {
    KEVENT *ev;
    LONG prev[3];
    int n;
} setter;
static void t_set(void *arg)
{
    setter *s = arg;
    s->prev[s->n++] = KeSetEvent(s->ev, IO_NO_INCREMENT, FALSE);
}

static void test_events(check_tally *t)
{
    /* Notification event: one KeSetEvent wakes every waiter and the event stays signalled. */
    {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        KEVENT ev;
        KeInitializeEvent(&ev, NotificationEvent, FALSE);
        uint32_t order = 0;
        ev_job j[4];
        nmrh_thread *th[4];
        for (int i = 0; i < 4; i++) j[i] = (ev_job){&ev, -1, false, 0, &order};
        for (int i = 0; i < 3; i++) th[i] = nmrh_world_spawn(w, "waiter", 0, t_wait, &j[i]);
        CHECK(t, nmrh_world_run(w));
        for (int i = 0; i < 3; i++) CHECK(t, nmrh_thread_get_state(th[i]) == NMRH_THREAD_BLOCKED && !j[i].woke);
        setter s = {&ev, {0}, 0};
        run_thread(w, "set", 0, t_set, &s);
        CHECK(t, s.prev[0] == 0 && KeReadStateEvent(&ev) == 1);
        CHECK(t, nmrh_world_run(w));
        for (int i = 0; i < 3; i++) CHECK(t, j[i].woke && j[i].status == STATUS_SUCCESS);
        CHECK(t, trace_count(w, "wakes t") == 3);
        /* Still signalled: a later wait does not block; a second set reports the previous state. */
        th[3] = nmrh_world_spawn(w, "late", 0, t_wait, &j[3]);
        CHECK(t, nmrh_world_run_thread(w, th[3]) == NMRH_THREAD_FINISHED && j[3].woke);
        run_thread(w, "set", 0, t_set, &s);
        CHECK(t, s.prev[1] == 1);
        CHECK(t, KeResetEvent(&ev) == 1 && KeReadStateEvent(&ev) == 0 && KeResetEvent(&ev) == 0);
        CHECK(t, trace_count(w, "blocks on event") == 3);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }
    /* Synchronization event: each KeSetEvent releases exactly one waiter (lowest id first) and the
       event resets itself; with nobody waiting it stays signalled for the next waiter. */
    {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        KEVENT ev;
        KeInitializeEvent(&ev, SynchronizationEvent, FALSE);
        uint32_t order = 0;
        ev_job j[3];
        for (int i = 0; i < 3; i++) j[i] = (ev_job){&ev, -1, false, 0, &order};
        nmrh_thread *a = nmrh_world_spawn(w, "waiter-a", 0, t_wait, &j[0]);
        nmrh_thread *b = nmrh_world_spawn(w, "waiter-b", 0, t_wait, &j[1]);
        CHECK(t, nmrh_world_run(w));
        setter s = {&ev, {0}, 0};
        run_thread(w, "set", 0, t_set, &s);
        CHECK(t, s.prev[0] == 0 && KeReadStateEvent(&ev) == 0);
        CHECK(t, nmrh_world_run(w));
        CHECK(t, j[0].woke && !j[1].woke);
        CHECK(t, nmrh_thread_get_state(a) == NMRH_THREAD_FINISHED && nmrh_thread_get_state(b) == NMRH_THREAD_BLOCKED);
        run_thread(w, "set", 0, t_set, &s);
        CHECK(t, nmrh_world_run(w) && j[1].woke && j[1].status == STATUS_SUCCESS && KeReadStateEvent(&ev) == 0);
        run_thread(w, "set", 0, t_set, &s); /* nobody waits: stays signalled */
        CHECK(t, s.prev[2] == 0 && KeReadStateEvent(&ev) == 1);
        nmrh_thread *c = nmrh_world_spawn(w, "waiter-c", 0, t_wait, &j[2]);
        CHECK(t, nmrh_world_run_thread(w, c) == NMRH_THREAD_FINISHED && j[2].woke);
        CHECK(t, KeReadStateEvent(&ev) == 0); /* consumed */
        CHECK(t, trace_count(w, "blocks on event") == 2);
        KeSetEvent(&ev, IO_NO_INCREMENT, FALSE); /* outside any world: plain state change */
        CHECK(t, KeReadStateEvent(&ev) == 1);
        KeClearEvent(&ev);
        CHECK(t, KeReadStateEvent(&ev) == 0);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }
    /* Initially signalled events. */
    {
        KEVENT n, s;
        KeInitializeEvent(&n, NotificationEvent, TRUE);
        KeInitializeEvent(&s, SynchronizationEvent, TRUE);
        CHECK(t, KeReadStateEvent(&n) == 1 && KeReadStateEvent(&s) == 1);
    }
}

/* ---- spin locks and IRQL ---- */

typedef struct lock_job {
    KSPIN_LOCK *lock;
    KSPIN_LOCK *inner;
    bool holds, acquired, released;
    KIRQL old, inside, inside_inner, after_inner, after;
    int *log;
    int *nlog;
    int id;
} lock_job;

static void t_lock(void *arg)
{
    lock_job *j = arg;
    KIRQL irql;
    KeAcquireSpinLock(j->lock, &irql);
    j->old = irql;
    j->holds = j->acquired = true;
    j->log[(*j->nlog)++] = j->id;
    j->inside = KeGetCurrentIrql();
    if (j->inner) {
        KeAcquireSpinLockAtDpcLevel(j->inner);
        j->inside_inner = KeGetCurrentIrql();
        KeReleaseSpinLockFromDpcLevel(j->inner);
        j->after_inner = KeGetCurrentIrql();
    }
    LONG x = 0;
    InterlockedIncrement(&x); /* a scheduling point while holding the lock */
    j->log[(*j->nlog)++] = j->id;
    j->holds = false;
    KeReleaseSpinLock(j->lock, irql);
    j->released = true;
    j->after = KeGetCurrentIrql();
}

static void t_lock_at_dispatch(void *arg)
{
    lock_job *j = arg;
    KIRQL before;
    KeRaiseIrql(DISPATCH_LEVEL, &before);
    KIRQL irql;
    KeAcquireSpinLock(j->lock, &irql);
    j->old = irql;
    j->inside = KeGetCurrentIrql();
    KeReleaseSpinLock(j->lock, irql);
    j->after_inner = KeGetCurrentIrql();
    KeLowerIrql(before);
    j->after = KeGetCurrentIrql();
    j->released = true;
}

static void t_release_twice(void *arg)
{
    KSPIN_LOCK *l = arg;
    KIRQL irql;
    KeAcquireSpinLock(l, &irql);
    KeReleaseSpinLock(l, irql);
    KeRaiseIrql(DISPATCH_LEVEL, &irql);
    KeReleaseSpinLock(l, PASSIVE_LEVEL);
}
static void t_end_holding(void *arg)
{
    KSPIN_LOCK *l = arg;
    KIRQL irql;
    KeAcquireSpinLock(l, &irql);
}
static void t_at_dpc_from_passive(void *arg) { KeAcquireSpinLockAtDpcLevel(arg); }
static void t_lower_up(void *arg)
{
    (void)arg;
    KeLowerIrql(DISPATCH_LEVEL);
}

static void test_spinlocks(check_tally *t)
{
    /* Contention: while A holds the lock, B blocks; A's release lets B in. */
    for (int inner = 0; inner < 2; inner++) {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        KSPIN_LOCK lock, in;
        KeInitializeSpinLock(&lock);
        KeInitializeSpinLock(&in);
        int log[8], nlog = 0;
        lock_job a = {.lock = &lock, .inner = inner ? &in : NULL, .log = log, .nlog = &nlog, .id = 1};
        lock_job b = {.lock = &lock, .log = log, .nlog = &nlog, .id = 2};
        nmrh_thread *ta = nmrh_world_spawn(w, "a", 0, t_lock, &a);
        nmrh_thread *tb = nmrh_world_spawn(w, "b", 0, t_lock, &b);
        while (!a.holds) nmrh_world_step(w, ta);
        CHECK(t, nmrh_world_run_thread(w, tb) == NMRH_THREAD_BLOCKED && !b.acquired);
        CHECK(t, nmrh_world_step(w, tb) == NMRH_THREAD_BLOCKED); /* blocked threads do not move */
        CHECK(t, nmrh_world_run_thread(w, ta) == NMRH_THREAD_FINISHED);
        CHECK(t, nmrh_thread_get_state(tb) == NMRH_THREAD_RUNNABLE && !b.acquired);
        CHECK(t, nmrh_world_run(w) && b.released);
        CHECK(t, nlog == 4 && log[0] == 1 && log[1] == 1 && log[2] == 2 && log[3] == 2);
        /* IRQL raised to DISPATCH_LEVEL while held, restored afterwards. */
        CHECK(t, a.old == PASSIVE_LEVEL && a.inside == DISPATCH_LEVEL && a.after == PASSIVE_LEVEL);
        CHECK(t, b.old == PASSIVE_LEVEL && b.inside == DISPATCH_LEVEL && b.after == PASSIVE_LEVEL);
        if (inner) CHECK(t, a.inside_inner == DISPATCH_LEVEL && a.after_inner == DISPATCH_LEVEL);
        CHECK(t, trace_count(w, "blocks on spin lock") == 1);
        CHECK(t, lock == 0 && in == 0);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }
    /* Acquired at DISPATCH_LEVEL: the old IRQL returned is DISPATCH_LEVEL and is restored. */
    {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        KSPIN_LOCK lock;
        KeInitializeSpinLock(&lock);
        int log[4], nlog = 0;
        lock_job j = {.lock = &lock, .log = log, .nlog = &nlog};
        run_thread(w, "dpc", 0, t_lock_at_dispatch, &j);
        CHECK(t, j.released && j.old == DISPATCH_LEVEL && j.inside == DISPATCH_LEVEL);
        CHECK(t, j.after_inner == DISPATCH_LEVEL && j.after == PASSIVE_LEVEL);
        finish_clean(t, w);
        nmrh_world_destroy(w);
    }
    /* Misuse. */
    struct {
        nmrh_thread_fn fn;
        const char *sig, *needle;
    } misuse[] = {
        {t_release_twice, "KRNL-SPINLOCK-MISUSE", "released twice"},
        {t_end_holding, "KRNL-IRQL-MISUSE", "holding 1 spin lock"},
        {t_at_dpc_from_passive, "KRNL-SPINLOCK-MISUSE", "KeAcquireSpinLockAtDpcLevel at IRQL 0"},
        {t_lower_up, "KRNL-IRQL-MISUSE", "KeLowerIrql to 2 above the current IRQL 0"},
    };
    for (size_t i = 0; i < sizeof misuse / sizeof misuse[0]; i++) {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        KSPIN_LOCK lock;
        KeInitializeSpinLock(&lock);
        nmrh_world_spawn(w, "misuse", nmrh_world_add_module(w, "m"), misuse[i].fn, &lock);
        shim_test_finding(t, w, misuse[i].sig, misuse[i].needle);
        nmrh_world_destroy(w);
    }
    /* Outside a world, KeGetCurrentIrql is PASSIVE_LEVEL. */
    CHECK(t, KeGetCurrentIrql() == PASSIVE_LEVEL);
}

/* ---- fast mutexes ---- */

typedef struct mutex_job {
    FAST_MUTEX *m;
    bool holds, acquired, done;
    KIRQL inside, after;
} mutex_job;

static void t_mutex(void *arg)
{
    mutex_job *j = arg;
    ExAcquireFastMutex(j->m);
    j->holds = j->acquired = true;
    j->inside = KeGetCurrentIrql();
    LONG x = 0;
    InterlockedIncrement(&x);
    j->holds = false;
    ExReleaseFastMutex(j->m);
    j->after = KeGetCurrentIrql();
    j->done = true;
}
static void t_mutex_at_dispatch(void *arg)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExAcquireFastMutex(arg);
}
static void t_mutex_twice(void *arg)
{
    ExAcquireFastMutex(arg);
    ExAcquireFastMutex(arg);
}
static void t_mutex_release_unowned(void *arg) { ExReleaseFastMutex(arg); }

static void test_fast_mutex(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    FAST_MUTEX m;
    ExInitializeFastMutex(&m);
    mutex_job a = {.m = &m}, b = {.m = &m};
    nmrh_thread *ta = nmrh_world_spawn(w, "a", 0, t_mutex, &a);
    nmrh_thread *tb = nmrh_world_spawn(w, "b", 0, t_mutex, &b);
    while (!a.holds) nmrh_world_step(w, ta);
    CHECK(t, nmrh_world_run_thread(w, tb) == NMRH_THREAD_BLOCKED && !b.acquired);
    CHECK(t, nmrh_world_run(w) && a.done && b.done);
    CHECK(t, a.inside == APC_LEVEL && a.after == PASSIVE_LEVEL && b.inside == APC_LEVEL && b.after == PASSIVE_LEVEL);
    CHECK(t, trace_count(w, "blocks on fast mutex") == 1);
    finish_clean(t, w);
    nmrh_world_destroy(w);

    struct {
        nmrh_thread_fn fn;
        const char *sig, *needle;
    } misuse[] = {
        {t_mutex_at_dispatch, "KRNL-PASSIVE-AT-DISPATCH", "ExAcquireFastMutex at IRQL 2"},
        {t_mutex_twice, "KRNL-SPINLOCK-MISUSE", "acquired again by its owner"},
        {t_mutex_release_unowned, "KRNL-SPINLOCK-MISUSE", "does not own it"},
    };
    for (size_t i = 0; i < sizeof misuse / sizeof misuse[0]; i++) {
        w = zero_world(&z);
        ExInitializeFastMutex(&m);
        nmrh_world_spawn(w, "misuse", nmrh_world_add_module(w, "m"), misuse[i].fn, &m);
        shim_test_finding(t, w, misuse[i].sig, misuse[i].needle);
        nmrh_world_destroy(w);
    }
}

/* ---- rundown protection ---- */

typedef struct rundown_job {
    EX_RUNDOWN_REF *ref;
    BOOLEAN got;
    bool waited, done;
} rundown_job;

static void t_rd_acquire(void *arg)
{
    rundown_job *j = arg;
    j->got = ExAcquireRundownProtection(j->ref);
    j->done = true;
}
static void t_rd_release(void *arg)
{
    rundown_job *j = arg;
    ExReleaseRundownProtection(j->ref);
    j->done = true;
}
static void t_rd_wait(void *arg)
{
    rundown_job *j = arg;
    ExWaitForRundownProtectionRelease(j->ref);
    j->waited = true;
}
static void t_rd_release_unacquired(void *arg) { ExReleaseRundownProtection(arg); }
static void t_rd_wait_at_dispatch(void *arg)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExWaitForRundownProtectionRelease(arg);
}

static void test_rundown(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    EX_RUNDOWN_REF ref;
    ExInitializeRundownProtection(&ref);
    rundown_job a1 = {.ref = &ref}, a2 = {.ref = &ref}, waiter = {.ref = &ref}, late = {.ref = &ref}, r1 = {.ref = &ref}, r2 = {.ref = &ref};
    run_thread(w, "acq1", 0, t_rd_acquire, &a1);
    run_thread(w, "acq2", 0, t_rd_acquire, &a2);
    CHECK(t, a1.got && a2.got);
    nmrh_thread *tw = nmrh_world_spawn(w, "wait", 0, t_rd_wait, &waiter);
    CHECK(t, nmrh_world_run_thread(w, tw) == NMRH_THREAD_BLOCKED && !waiter.waited);
    /* Once the wait started, new acquisitions fail. */
    run_thread(w, "late", 0, t_rd_acquire, &late);
    CHECK(t, late.done && !late.got);
    /* The wait blocks until the last reference is released. */
    run_thread(w, "rel1", 0, t_rd_release, &r1);
    CHECK(t, nmrh_thread_get_state(tw) == NMRH_THREAD_BLOCKED);
    run_thread(w, "rel2", 0, t_rd_release, &r2);
    CHECK(t, nmrh_thread_get_state(tw) == NMRH_THREAD_RUNNABLE);
    CHECK(t, nmrh_world_run(w) && waiter.waited);
    CHECK(t, trace_count(w, "blocks on rundown") == 1);
    /* A wait with no references outstanding returns at once; re-initialising allows acquires again. */
    ExReInitializeRundownProtection(&ref);
    rundown_job w2 = {.ref = &ref}, again = {.ref = &ref};
    run_thread(w, "wait2", 0, t_rd_wait, &w2);
    CHECK(t, w2.waited && trace_count(w, "blocks on rundown") == 1);
    ExReInitializeRundownProtection(&ref);
    run_thread(w, "again", 0, t_rd_acquire, &again);
    CHECK(t, again.got);
    ExRundownCompleted(&ref);
    finish_clean(t, w);
    nmrh_world_destroy(w);

    w = zero_world(&z);
    ExInitializeRundownProtection(&ref);
    nmrh_world_spawn(w, "misuse", nmrh_world_add_module(w, "m"), t_rd_release_unacquired, &ref);
    shim_test_finding(t, w, "KRNL-RUNDOWN-MISUSE", "without a matching acquire");
    nmrh_world_destroy(w);

    w = zero_world(&z);
    ExInitializeRundownProtection(&ref);
    nmrh_world_spawn(w, "misuse", nmrh_world_add_module(w, "m"), t_rd_wait_at_dispatch, &ref);
    shim_test_finding(t, w, "KRNL-PASSIVE-AT-DISPATCH", "ExWaitForRundownProtectionRelease at IRQL 2");
    nmrh_world_destroy(w);
}

/* ---- work items ---- */

typedef struct work_job {
    nmrh_world *w;
    uint32_t module;
    PIO_WORKITEM item;
    bool free_item;
    uint32_t queuer, runner;
    KIRQL queue_irql, run_irql;
    bool queuer_done_before_run;
    bool queuer_done;
    PDEVICE_OBJECT device_seen;
    DEVICE_OBJECT device;
    void *alloc;
} work_job;

static void NTAPI work_routine(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    work_job *j = Context;
    j->runner = cur_tid();
    j->run_irql = KeGetCurrentIrql();
    j->device_seen = DeviceObject;
    j->queuer_done_before_run = j->queuer_done;
    j->alloc = ExAllocatePool2(POOL_FLAG_PAGED, 64, TAG_XYZ1); /* paged: legal at PASSIVE_LEVEL */
    if (j->alloc) ExFreePoolWithTag(j->alloc, TAG_XYZ1);
    if (j->free_item) IoFreeWorkItem(j->item);
}

static void t_queue(void *arg)
{
    work_job *j = arg;
    KSPIN_LOCK lock;
    KIRQL irql;
    KeInitializeSpinLock(&lock);
    j->queuer = cur_tid();
    j->item = IoAllocateWorkItem(&j->device);
    if (!j->item) return;
    KeAcquireSpinLock(&lock, &irql); /* queued at DISPATCH_LEVEL */
    j->queue_irql = KeGetCurrentIrql();
    IoQueueWorkItem(j->item, work_routine, DelayedWorkQueue, j);
    KeReleaseSpinLock(&lock, irql);
    j->queuer_done = true;
}

static void t_unload_module(void *arg)
{
    work_job *j = arg;
    nmrh_world_module_unloaded(nmrh_world_current(), j->module);
}

static void test_work_items(check_tally *t)
{
    for (int free_item = 1; free_item >= 0; free_item--) {
        nmrh_chooser_zero z;
        nmrh_world *w = zero_world(&z);
        work_job j;
        memset(&j, 0, sizeof j);
        j.free_item = free_item;
        j.module = nmrh_world_add_module(w, "queuer");
        nmrh_thread *q = nmrh_world_spawn(w, "queue", j.module, t_queue, &j);
        CHECK(t, nmrh_world_run_thread(w, q) == NMRH_THREAD_FINISHED);
        CHECK(t, j.runner == 0 && j.queue_irql == DISPATCH_LEVEL); /* not run yet: its own thread */
        CHECK(t, nmrh_world_thread_count(w) == 2);
        nmrh_thread *wt = nmrh_world_thread(w, 1);
        CHECK_STR(t, wt ? nmrh_thread_name(wt) : "", "workitem-1");
        CHECK(t, nmrh_world_run(w));
        /* On its own thread, at PASSIVE_LEVEL, as code of the queuing module, with its device. */
        CHECK(t, j.runner == 1 && j.runner != j.queuer && j.run_irql == PASSIVE_LEVEL);
        CHECK(t, j.queuer_done_before_run && j.device_seen == &j.device && j.alloc != NULL);
        char *tr = shim_test_trace(w);
        CHECK(t, strstr(tr, "spawn w1 'workitem-1'") != NULL);
        free(tr);
        nmrh_world_spawn(w, "unload", j.module, t_unload_module, &j);
        CHECK(t, nmrh_world_run(w));
        if (free_item) {
            finish_clean(t, w);
        } else {
            /* The item itself is pool of the queuing module: not freeing it is a leak. */
            CHECK(t, !nmrh_world_finish(w));
            const nmrh_finding *f = nmrh_world_finding(w);
            CHECK_STR(t, f ? f->signature : "", "KRNL-POOL-LEAK");
            CHECK(t, f && strstr(f->message, "module queuer") && strstr(f->message, "1 x tag 'IoWk'"));
        }
        nmrh_world_destroy(w);
    }
    /* The work item thread runs as the module: an injected allocation failure for that module hits
       the routine's allocation. */
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    work_job j;
    memset(&j, 0, sizeof j);
    j.free_item = true;
    j.module = nmrh_world_add_module(w, "queuer");
    run_thread(w, "queue", j.module, t_queue, &j);
    nmrh_world_fail_allocs(w, j.module, 1);
    j.alloc = (void *)1;
    CHECK(t, nmrh_world_run(w) && j.runner == 1 && j.alloc == NULL);
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

/* ---- DbgPrint, NT_ASSERT, KeBugCheckEx ---- */

static void t_print(void *arg)
{
    (void)arg;
    DbgPrint("hello %d from %s\n", 42, "module code");
    DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_ERROR_LEVEL, "level %u\r\n", 3u);
    KdPrint(("kd %s", "print"));
}
static void t_assert(void *arg)
{
    int *after = arg;
    int value = 5;
    NT_ASSERT(value == 5);
    ASSERT(value > 1);
    NT_ASSERT(value == 6);
    *after = 1;
}
static void t_bugcheck(void *arg)
{
    (void)arg;
    KeBugCheckEx(0xD1, 1, 2, 3, 4);
}

static void test_debug(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    run_thread(w, "print", nmrh_world_add_module(w, "m"), t_print, NULL);
    char *tr = shim_test_trace(w);
    CHECK(t, strstr(tr, "DbgPrint: hello 42 from module code\n") != NULL);
    CHECK(t, strstr(tr, "DbgPrint: level 3\n") != NULL);
    CHECK(t, strstr(tr, "DbgPrint: kd print\n") != NULL);
    CHECK(t, strstr(tr, "t0  print") != NULL);
    free(tr);
    finish_clean(t, w);
    nmrh_world_destroy(w);
    CHECK(t, DbgPrint("outside any world %d", 1) == STATUS_SUCCESS); /* no world: harmless */

    int after = 0;
    w = zero_world(&z);
    nmrh_thread *th = nmrh_world_spawn(w, "asserts", nmrh_world_add_module(w, "m"), t_assert, &after);
    shim_test_finding(t, w, "KRNL-ASSERT", "NT_ASSERT(value == 6) failed at test_shim.c:");
    CHECK(t, after == 0 && nmrh_thread_get_state(th) == NMRH_THREAD_ABANDONED);
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK(t, f && strstr(f->message, "'asserts'") && strstr(f->message, "running m code"));
    nmrh_world_destroy(w);

    w = zero_world(&z);
    nmrh_world_spawn(w, "bugcheck", nmrh_world_add_module(w, "m"), t_bugcheck, NULL);
    shim_test_finding(t, w, "KRNL-BUGCHECK", "KeBugCheckEx(0xD1, 0x1, 0x2, 0x3, 0x4)");
    nmrh_world_destroy(w);
}

/* ---- interlocked operations: correct results, one scheduling point each ---- */

static void t_interlocked(void *arg)
{
    LONG *r = arg;
    LONG v = 5;
    r[0] = InterlockedIncrement(&v);                  /* 6 */
    r[1] = InterlockedDecrement(&v);                  /* 5 */
    r[2] = InterlockedExchange(&v, 9);                /* 5, v = 9 */
    r[3] = InterlockedCompareExchange(&v, 1, 8);      /* 9, unchanged */
    r[4] = InterlockedCompareExchange(&v, 1, 9);      /* 9, v = 1 */
    r[5] = InterlockedExchangeAdd(&v, 10);            /* 1, v = 11 */
    r[6] = InterlockedAdd(&v, 4);                     /* 15 */
    r[7] = InterlockedOr(&v, 0x10);                   /* 15, v = 31 */
    r[8] = InterlockedAnd(&v, 0x3);                   /* 31, v = 3 */
    r[9] = v;
}

static void test_interlocked(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = zero_world(&z);
    LONG r[10];
    nmrh_thread *th = nmrh_world_spawn(w, "il", 0, t_interlocked, r);
    int steps = 0;
    while (nmrh_world_step(w, th) == NMRH_THREAD_RUNNABLE) steps++;
    CHECK(t, steps == 9);
    static const LONG want[10] = {6, 5, 5, 9, 9, 1, 15, 15, 31, 3};
    for (int i = 0; i < 10; i++) CHECK(t, r[i] == want[i]);
    finish_clean(t, w);
    nmrh_world_destroy(w);
}

int main(void)
{
    check_tally t = {0, 0, "shim"};
    test_pool_tags(&t);
    test_pool_zero_and_flags(&t);
    test_pool_misuse(&t);
    test_fail_allocs(&t);
    test_fail_allocs_in_callbacks(&t);
    test_fail_nmr(&t);
    test_events(&t);
    test_spinlocks(&t);
    test_fast_mutex(&t);
    test_rundown(&t);
    test_work_items(&t);
    test_debug(&t);
    test_interlocked(&t);
    return check_summary(&t, "test_shim");
}
