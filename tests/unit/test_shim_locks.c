/*
 * Kernel-shim primitives added for real drivers: critical regions, push locks, executive
 * resources (behaviour under contention and every misuse finding), the interlocked family and
 * the ordered Read/Write accesses (results, one scheduling point each, misaligned operands),
 * fail fast, clocks, processor numbers, UUIDs and uninitialised pool.
 */
#include "../support/shim_test.h"

#include <ntddk.h>

#include <stdbool.h>
#include <stdint.h>

#define TAG_TEST ((ULONG)0x4C547374) /* 'tsTL' */

static void run_alone(nmrh_world *w, const char *name, nmrh_thread_fn fn, void *arg)
{
    nmrh_world_run_thread(w, nmrh_world_spawn(w, name, 0, fn, arg));
}

/* ---- critical regions ---- */

typedef struct region_job {
    BOOLEAN before, inside, nested, after;
} region_job;

static void t_regions(void *arg)
{
    region_job *j = arg;
    j->before = KeAreApcsDisabled();
    KeEnterCriticalRegion();
    j->inside = KeAreApcsDisabled();
    KeEnterGuardedRegion();
    j->nested = KeAreApcsDisabled();
    KeLeaveGuardedRegion();
    KeLeaveCriticalRegion();
    j->after = KeAreApcsDisabled();
}
static void t_leave_unentered(void *arg)
{
    (void)arg;
    KeLeaveCriticalRegion();
}
static void t_end_in_region(void *arg)
{
    (void)arg;
    KeEnterCriticalRegion();
}
static void t_region_at_dispatch(void *arg)
{
    (void)arg;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeEnterCriticalRegion();
}

static void test_regions(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    region_job j = {0};
    run_alone(w, "regions", t_regions, &j);
    CHECK(t, !j.before && j.inside && j.nested && !j.after);
    shim_test_clean(t, w);
    nmrh_world_destroy(w);

    struct {
        nmrh_thread_fn fn;
        const char *sig, *needle;
    } misuse[] = {
        {t_leave_unentered, "KRNL-PRIMITIVE-MISUSE", "KeLeaveCriticalRegion without a matching enter"},
        {t_end_in_region, "KRNL-PRIMITIVE-MISUSE", "thread ended inside 1 critical or guarded region(s)"},
        {t_region_at_dispatch, "KRNL-PASSIVE-AT-DISPATCH", "KeEnterCriticalRegion at IRQL 2"},
    };
    for (size_t i = 0; i < sizeof misuse / sizeof misuse[0]; i++) {
        w = shim_test_world(&z);
        nmrh_world_spawn(w, "misuse", nmrh_world_add_module(w, "m"), misuse[i].fn, NULL);
        shim_test_finding(t, w, misuse[i].sig, misuse[i].needle);
        nmrh_world_destroy(w);
    }
}

/* ---- push locks ---- */

typedef struct push_job {
    EX_PUSH_LOCK *lock;
    bool exclusive, holds, done;
    int *log, *nlog;
    int mark;
} push_job;

static void t_push(void *arg)
{
    push_job *j = arg;
    KeEnterCriticalRegion();
    if (j->exclusive)
        ExAcquirePushLockExclusive(j->lock);
    else
        ExAcquirePushLockShared(j->lock);
    j->holds = true;
    j->log[(*j->nlog)++] = j->mark;
    LONG x = 0;
    InterlockedIncrement(&x); /* a scheduling point while holding the lock */
    j->log[(*j->nlog)++] = j->mark;
    j->holds = false;
    if (j->exclusive)
        ExReleasePushLockExclusive(j->lock);
    else
        ExReleasePushLockShared(j->lock);
    KeLeaveCriticalRegion();
    j->done = true;
}

static void test_push_lock_contention(check_tally *t)
{
    /* Exclusive holder: an exclusive and a shared acquirer both block until it releases. */
    for (int second_exclusive = 0; second_exclusive < 2; second_exclusive++) {
        nmrh_chooser_zero z;
        nmrh_world *w = shim_test_world(&z);
        EX_PUSH_LOCK lock;
        ExInitializePushLock(&lock);
        int log[8], nlog = 0;
        push_job a = {&lock, true, false, false, log, &nlog, 1};
        push_job b = {&lock, second_exclusive != 0, false, false, log, &nlog, 2};
        nmrh_thread *ta = nmrh_world_spawn(w, "a", 0, t_push, &a);
        nmrh_thread *tb = nmrh_world_spawn(w, "b", 0, t_push, &b);
        while (!a.holds) nmrh_world_step(w, ta);
        CHECK(t, nmrh_world_run_thread(w, tb) == NMRH_THREAD_BLOCKED && !b.holds);
        CHECK(t, nmrh_world_run(w) && a.done && b.done);
        CHECK(t, nlog == 4 && log[0] == 1 && log[1] == 1 && log[2] == 2 && log[3] == 2);
        char *tr = shim_test_trace(w);
        CHECK(t, strstr(tr, "blocks on push lock") != NULL);
        free(tr);
        CHECK(t, lock == 0);
        shim_test_clean(t, w);
        nmrh_world_destroy(w);
    }
    /* Shared holders share; an exclusive acquirer waits for the last of them. */
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    EX_PUSH_LOCK lock;
    ExInitializePushLock(&lock);
    int log[12], nlog = 0;
    push_job r1 = {&lock, false, false, false, log, &nlog, 1};
    push_job r2 = {&lock, false, false, false, log, &nlog, 2};
    push_job wr = {&lock, true, false, false, log, &nlog, 3};
    nmrh_thread *t1 = nmrh_world_spawn(w, "r1", 0, t_push, &r1);
    nmrh_thread *t2 = nmrh_world_spawn(w, "r2", 0, t_push, &r2);
    nmrh_thread *t3 = nmrh_world_spawn(w, "w", 0, t_push, &wr);
    while (!r1.holds) nmrh_world_step(w, t1);
    while (!r2.holds) nmrh_world_step(w, t2);
    CHECK(t, r1.holds && r2.holds); /* both inside at once */
    CHECK(t, nmrh_world_run_thread(w, t3) == NMRH_THREAD_BLOCKED);
    CHECK(t, nmrh_world_run_thread(w, t1) == NMRH_THREAD_FINISHED);
    CHECK(t, nmrh_thread_get_state(t3) == NMRH_THREAD_BLOCKED); /* r2 still holds it */
    CHECK(t, nmrh_world_run_thread(w, t2) == NMRH_THREAD_FINISHED);
    CHECK(t, nmrh_thread_get_state(t3) == NMRH_THREAD_RUNNABLE);
    CHECK(t, nmrh_world_run(w) && wr.done && nlog == 6 && log[4] == 3 && log[5] == 3);
    shim_test_clean(t, w);
    nmrh_world_destroy(w);
}

static void t_try(void *arg)
{
    BOOLEAN *got = arg;
    EX_PUSH_LOCK lock;
    ExInitializePushLock(&lock);
    KeEnterCriticalRegion();
    got[0] = ExTryAcquirePushLockShared(&lock);
    got[1] = ExTryAcquirePushLockExclusive((EX_PUSH_LOCK *)&got[8]); /* a second, free lock */
    ExReleasePushLockExclusive((EX_PUSH_LOCK *)&got[8]);
    ExReleasePushLockShared(&lock);
    got[2] = ExTryAcquirePushLockExclusive(&lock);
    ExReleasePushLockExclusive(&lock);
    KeLeaveCriticalRegion();
}

static void t_push_no_region(void *arg) { ExAcquirePushLockExclusive((EX_PUSH_LOCK *)arg); }
static void t_push_recursive_exclusive(void *arg)
{
    KeEnterCriticalRegion();
    ExAcquirePushLockExclusive((EX_PUSH_LOCK *)arg);
    ExAcquirePushLockExclusive((EX_PUSH_LOCK *)arg);
}
static void t_push_recursive_shared(void *arg)
{
    KeEnterCriticalRegion();
    ExAcquirePushLockShared((EX_PUSH_LOCK *)arg);
    ExAcquirePushLockShared((EX_PUSH_LOCK *)arg);
}
static void t_push_release_free(void *arg)
{
    KeEnterCriticalRegion();
    ExReleasePushLockExclusive((EX_PUSH_LOCK *)arg);
}
static void t_push_wrong_mode(void *arg)
{
    KeEnterCriticalRegion();
    ExAcquirePushLockShared((EX_PUSH_LOCK *)arg);
    ExReleasePushLockExclusive((EX_PUSH_LOCK *)arg);
}
static void t_push_end_holding(void *arg)
{
    KeEnterCriticalRegion();
    ExAcquirePushLockShared((EX_PUSH_LOCK *)arg);
    KeLeaveCriticalRegion();
}
static void t_push_at_dispatch(void *arg)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExAcquirePushLockShared((EX_PUSH_LOCK *)arg);
}

static void test_push_lock_misuse(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    BOOLEAN got[16] = {0};
    run_alone(w, "try", t_try, got);
    CHECK(t, got[0] && got[1] && got[2]);
    shim_test_clean(t, w);
    nmrh_world_destroy(w);

    struct {
        nmrh_thread_fn fn;
        const char *sig, *needle;
    } misuse[] = {
        {t_push_no_region, "KRNL-PRIMITIVE-MISUSE", "ExAcquirePushLockExclusive with normal kernel APCs enabled"},
        {t_push_recursive_exclusive, "KRNL-SPINLOCK-MISUSE", "already holds (exclusive): push locks are not recursive"},
        {t_push_recursive_shared, "KRNL-SPINLOCK-MISUSE", "already holds (shared)"},
        {t_push_release_free, "KRNL-SPINLOCK-MISUSE", "ExReleasePushLockExclusive of a push lock that is not held"},
        {t_push_wrong_mode, "KRNL-SPINLOCK-MISUSE", "held shared (release it with ExReleasePushLockShared)"},
        {t_push_end_holding, "KRNL-PRIMITIVE-MISUSE", "thread ended holding 1 push lock"},
        {t_push_at_dispatch, "KRNL-PASSIVE-AT-DISPATCH", "ExAcquirePushLockShared at IRQL 2"},
    };
    for (size_t i = 0; i < sizeof misuse / sizeof misuse[0]; i++) {
        EX_PUSH_LOCK lock;
        ExInitializePushLock(&lock);
        w = shim_test_world(&z);
        nmrh_world_spawn(w, "misuse", nmrh_world_add_module(w, "m"), misuse[i].fn, &lock);
        shim_test_finding(t, w, misuse[i].sig, misuse[i].needle);
        nmrh_world_destroy(w);
    }
}

/* A push lock released by another thread than the one that holds it exclusive. */
static void t_push_hold(void *arg)
{
    KeEnterCriticalRegion();
    ExAcquirePushLockExclusive((EX_PUSH_LOCK *)arg);
    LONG x = 0;
    InterlockedIncrement(&x);
    ExReleasePushLockExclusive((EX_PUSH_LOCK *)arg);
    KeLeaveCriticalRegion();
}

static void test_push_lock_released_by_other(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    EX_PUSH_LOCK lock;
    ExInitializePushLock(&lock);
    nmrh_thread *holder = nmrh_world_spawn(w, "holder", 0, t_push_hold, &lock);
    while (lock == 0) nmrh_world_step(w, holder);
    nmrh_world_spawn(w, "other", nmrh_world_add_module(w, "m"), t_push_release_free, &lock);
    nmrh_world_run_thread(w, nmrh_world_thread(w, 1));
    CHECK(t, nmrh_world_stopped(w));
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK_STR(t, f ? f->signature : "", "KRNL-SPINLOCK-MISUSE");
    CHECK(t, f && strstr(f->message, "held exclusive by another thread"));
    nmrh_world_destroy(w);
}

/* ---- executive resources ---- */

typedef struct res_job {
    ERESOURCE *r;
    BOOLEAN got[8];
    ULONG shared_count, shared_after;
    BOOLEAN excl_inside;
    bool holds, done;
} res_job;

static void t_res_recursive(void *arg)
{
    res_job *j = arg;
    KeEnterCriticalRegion();
    j->got[0] = ExAcquireResourceExclusiveLite(j->r, TRUE);
    j->got[1] = ExAcquireResourceExclusiveLite(j->r, TRUE); /* recursion is allowed */
    j->got[2] = ExAcquireResourceSharedLite(j->r, TRUE);    /* granted as exclusive */
    j->excl_inside = ExIsResourceAcquiredExclusiveLite(j->r);
    j->shared_count = ExIsResourceAcquiredSharedLite(j->r);
    j->holds = true;
    LONG x = 0;
    InterlockedIncrement(&x);
    j->holds = false;
    ExReleaseResourceLite(j->r);
    ExReleaseResourceLite(j->r);
    ExReleaseResourceLite(j->r);
    j->shared_after = ExIsResourceAcquiredSharedLite(j->r);
    KeLeaveCriticalRegion();
    j->done = true;
}

static void t_res_shared(void *arg)
{
    res_job *j = arg;
    ExEnterCriticalRegionAndAcquireResourceShared(j->r);
    j->got[0] = TRUE;
    j->got[1] = ExAcquireResourceSharedLite(j->r, TRUE); /* shared recursion */
    j->shared_count = ExIsResourceAcquiredSharedLite(j->r);
    j->holds = true;
    LONG x = 0;
    InterlockedIncrement(&x);
    ExReleaseResourceLite(j->r);
    j->holds = false;
    ExReleaseResourceAndLeaveCriticalRegion(j->r);
    j->done = true;
}

static void t_res_try(void *arg)
{
    res_job *j = arg;
    KeEnterCriticalRegion();
    j->got[0] = ExAcquireResourceExclusiveLite(j->r, FALSE);
    j->got[1] = ExTryToAcquireResourceExclusiveLite(j->r);
    j->got[2] = ExAcquireResourceSharedLite(j->r, FALSE);
    KeLeaveCriticalRegion();
    j->done = true;
}

static void test_resources(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    ERESOURCE r;
    CHECK(t, ExInitializeResourceLite(&r) == STATUS_SUCCESS);
    res_job a = {.r = &r}, s1 = {.r = &r}, s2 = {.r = &r}, tr = {.r = &r};
    nmrh_thread *ta = nmrh_world_spawn(w, "exclusive", 0, t_res_recursive, &a);
    while (!a.holds) nmrh_world_step(w, ta);
    CHECK(t, a.got[0] && a.got[1] && a.got[2] && a.excl_inside && a.shared_count == 3);
    /* While held exclusive: a non-waiting acquire fails at once, a waiting one blocks. */
    nmrh_thread *tt = nmrh_world_spawn(w, "try", 0, t_res_try, &tr);
    CHECK(t, nmrh_world_run_thread(w, tt) == NMRH_THREAD_FINISHED);
    CHECK(t, !tr.got[0] && !tr.got[1] && !tr.got[2]);
    nmrh_thread *t1 = nmrh_world_spawn(w, "shared1", 0, t_res_shared, &s1);
    CHECK(t, nmrh_world_run_thread(w, t1) == NMRH_THREAD_BLOCKED && !s1.got[0]);
    CHECK(t, nmrh_world_run_thread(w, ta) == NMRH_THREAD_FINISHED && a.shared_after == 0);
    /* Two shared holders at once, each recursively. */
    nmrh_thread *t2 = nmrh_world_spawn(w, "shared2", 0, t_res_shared, &s2);
    while (!s1.holds) nmrh_world_step(w, t1);
    while (!s2.holds) nmrh_world_step(w, t2);
    CHECK(t, s1.holds && s2.holds && s1.got[1] && s2.got[1] && s1.shared_count == 2 && s2.shared_count == 2);
    CHECK(t, nmrh_world_run(w) && s1.done && s2.done);
    char *text = shim_test_trace(w);
    CHECK(t, strstr(text, "blocks on executive resource") != NULL);
    free(text);
    CHECK(t, ExDeleteResourceLite(&r) == STATUS_SUCCESS);
    shim_test_clean(t, w);
    nmrh_world_destroy(w);
}

static void t_res_no_region(void *arg) { ExAcquireResourceSharedLite((ERESOURCE *)arg, TRUE); }
static void t_res_upgrade(void *arg)
{
    KeEnterCriticalRegion();
    ExAcquireResourceSharedLite((ERESOURCE *)arg, TRUE);
    ExAcquireResourceExclusiveLite((ERESOURCE *)arg, TRUE);
}
static void t_res_release_free(void *arg) { ExReleaseResourceLite((ERESOURCE *)arg); }
static void t_res_delete_held(void *arg)
{
    KeEnterCriticalRegion();
    ExAcquireResourceExclusiveLite((ERESOURCE *)arg, TRUE);
    ExDeleteResourceLite((ERESOURCE *)arg);
}
static void t_res_uninitialized(void *arg)
{
    memset(arg, 0, sizeof(ERESOURCE));
    ExEnterCriticalRegionAndAcquireResourceExclusive((ERESOURCE *)arg);
}

static void test_resource_misuse(check_tally *t)
{
    struct {
        nmrh_thread_fn fn;
        const char *sig, *needle;
    } misuse[] = {
        {t_res_no_region, "KRNL-PRIMITIVE-MISUSE", "ExAcquireResourceSharedLite with normal kernel APCs enabled"},
        {t_res_upgrade, "KRNL-SPINLOCK-MISUSE", "by a thread that holds the resource shared (deadlock)"},
        {t_res_release_free, "KRNL-SPINLOCK-MISUSE", "ExReleaseResourceLite of a resource that is not held"},
        {t_res_delete_held, "KRNL-PRIMITIVE-MISUSE", "ExDeleteResourceLite of a resource that is still held"},
        {t_res_uninitialized, "KRNL-PRIMITIVE-MISUSE", "of a resource that is not initialized"},
    };
    for (size_t i = 0; i < sizeof misuse / sizeof misuse[0]; i++) {
        nmrh_chooser_zero z;
        ERESOURCE r;
        ExInitializeResourceLite(&r);
        nmrh_world *w = shim_test_world(&z);
        nmrh_world_spawn(w, "misuse", nmrh_world_add_module(w, "m"), misuse[i].fn, &r);
        shim_test_finding(t, w, misuse[i].sig, misuse[i].needle);
        nmrh_world_destroy(w);
    }
}

/* ---- the interlocked family: values, one scheduling point each, alignment ---- */

typedef struct il_job {
    int64_t r[40];
    int n;
    PVOID ptrs[4];
} il_job;

#define REC(j, e) ((j)->r[(j)->n++] = (int64_t)(e))

static void t_interlocked_family(void *arg)
{
    il_job *j = arg;
    CHAR c = 0x0F;
    SHORT s = 100;
    LONG l = 5;
    LONG64 q = (LONG64)1 << 40;
    PVOID p = NULL;
    SIZE_T z = 7;
    LONG bits = 0;
    REC(j, InterlockedOr8(&c, 0x30));                    /* 0x0F, c = 0x3F */
    REC(j, InterlockedAnd8(&c, 0x11));                   /* 0x3F, c = 0x11 */
    REC(j, InterlockedXor8(&c, 0x01));                   /* 0x11, c = 0x10 */
    REC(j, InterlockedCompareExchange8(&c, 9, 0x10));     /* 0x10, c = 9 */
    REC(j, InterlockedIncrement16(&s));                  /* 101 */
    REC(j, InterlockedDecrementAcquire16(&s));           /* 100 */
    REC(j, InterlockedCompareExchange16(&s, 7, 99));     /* 100, unchanged */
    REC(j, InterlockedXor(&l, 3));                       /* 5, l = 6 */
    REC(j, InterlockedIncrementNoFence(&l));             /* 7 */
    REC(j, InterlockedCompareExchangeRelease(&l, 1, 7)); /* 7, l = 1 */
    REC(j, InterlockedExchangeAddAcquire(&l, 2));        /* 1, l = 3 */
    REC(j, InterlockedAdd64(&q, 1));                     /* 2^40 + 1 */
    REC(j, InterlockedExchange64(&q, -1));               /* 2^40 + 1, q = -1 */
    REC(j, InterlockedAndNoFence64(&q, 0xFF));           /* -1, q = 255 */
    REC(j, InterlockedDecrement64(&q));                  /* 254 */
    j->ptrs[0] = InterlockedCompareExchangePointer(&p, &l, NULL); /* NULL, p = &l */
    j->ptrs[1] = InterlockedExchangePointerAcquire(&p, &q);       /* &l, p = &q */
    j->ptrs[2] = p;
    REC(j, InterlockedIncrementSizeT(&z));               /* 8 */
    REC(j, InterlockedExchangeAddSizeT(&z, 2));          /* 8, z = 10 */
    REC(j, InterlockedBitTestAndSet(&bits, 4));          /* 0, bits = 16 */
    REC(j, InterlockedBitTestAndSet(&bits, 4));          /* 1 */
    REC(j, InterlockedBitTestAndReset(&bits, 4));        /* 1, bits = 0 */
    REC(j, bits);                                        /* 0 */
    REC(j, c);                                           /* 9 */
    REC(j, ReadNoFence(&l));                             /* 3 */
    WriteRelease(&l, 11);
    REC(j, ReadAcquire(&l));                             /* 11 */
    WriteNoFence64(&q, 42);
    REC(j, ReadNoFence64(&q));                           /* 42 */
    BOOLEAN flag = FALSE;
    WriteBooleanRelease(&flag, TRUE);
    REC(j, ReadBooleanAcquire(&flag));                   /* 1 */
    ULONG u = 0;
    WriteULongNoFence(&u, 0xFFFFFFFFu);
    REC(j, ReadULongNoFence(&u));                        /* 0xFFFFFFFF */
    j->ptrs[3] = ReadPointerAcquire(&p);                 /* &q */
}

static void test_interlocked_family(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    il_job j;
    memset(&j, 0, sizeof j);
    nmrh_thread *th = nmrh_world_spawn(w, "il", 0, t_interlocked_family, &j);
    int steps = 0;
    while (nmrh_world_step(w, th) == NMRH_THREAD_RUNNABLE) steps++;
    /* One scheduling point for each of the 32 operations (REC of a plain value is none). */
    CHECK(t, steps == 32);
    static const int64_t want[] = {0x0F, 0x3F, 0x11, 0x10, 101, 100, 100, 5, 7, 7, 1, ((int64_t)1 << 40) + 1,
                                   ((int64_t)1 << 40) + 1, -1, 254, 8, 8, 0, 1, 1, 0, 9, 3, 11, 42, 1, 0xFFFFFFFF};
    CHECK(t, j.n == (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < j.n && i < (int)(sizeof want / sizeof want[0]); i++) {
        if (j.r[i] != want[i]) fprintf(stderr, "interlocked result %d: got %lld, want %lld\n", i, (long long)j.r[i], (long long)want[i]);
        CHECK(t, j.r[i] == want[i]);
    }
    CHECK(t, j.ptrs[0] == NULL && j.ptrs[1] != NULL && j.ptrs[2] != j.ptrs[1] && j.ptrs[3] == j.ptrs[2]);
    shim_test_clean(t, w);
    nmrh_world_destroy(w);
}

static void t_misaligned(void *arg)
{
    LONG64 storage[2] = {0, 0};
    LONG volatile *odd = (LONG volatile *)((char *)storage + 2);
    (void)arg;
    InterlockedIncrement(odd);
}

static void test_interlocked_misaligned(check_tally *t)
{
    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    nmrh_world_spawn(w, "misaligned", nmrh_world_add_module(w, "m"), t_misaligned, NULL);
    shim_test_finding(t, w, "KRNL-PRIMITIVE-MISUSE", "InterlockedIncrement on an operand at");
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK(t, f && strstr(f->message, "not aligned to its 4 bytes"));
    nmrh_world_destroy(w);
}

/* ---- fail fast ---- */

static void t_fail_fast(void *arg)
{
    int *after = arg;
    RtlFailFast(FAST_FAIL_INVALID_ARG);
    *after = 1;
}
static void t_fastfail_intrinsic(void *arg)
{
    (void)arg;
    __fastfail(FAST_FAIL_CORRUPT_LIST_ENTRY);
}

static void test_fail_fast(check_tally *t)
{
    nmrh_chooser_zero z;
    int after = 0;
    nmrh_world *w = shim_test_world(&z);
    nmrh_world_spawn(w, "ff", nmrh_world_add_module(w, "m"), t_fail_fast, &after);
    shim_test_finding(t, w, "KRNL-BUGCHECK", "__fastfail(5): bug check 0x139 KERNEL_SECURITY_CHECK_FAILURE");
    CHECK(t, after == 0);
    nmrh_world_destroy(w);
    w = shim_test_world(&z);
    nmrh_world_spawn(w, "ff", nmrh_world_add_module(w, "m"), t_fastfail_intrinsic, NULL);
    shim_test_finding(t, w, "KRNL-BUGCHECK", "__fastfail(3)");
    nmrh_world_destroy(w);
}

/* ---- clocks, processors, UUIDs, uninitialised pool ---- */

typedef struct misc_job {
    LARGE_INTEGER qpc[2], freq, sys[2], tick;
    ULONGLONG it[2];
    ULONG cpu, cpu_ex, count;
    PROCESSOR_NUMBER pn;
    UUID u[2];
    NTSTATUS us[2];
    void *uninit, *zero;
    int zero_ok;
} misc_job;

static void t_misc(void *arg)
{
    misc_job *j = arg;
    j->qpc[0] = KeQueryPerformanceCounter(&j->freq);
    j->qpc[1] = KeQueryPerformanceCounter(NULL);
    KeQuerySystemTime(&j->sys[0]);
    KeQuerySystemTimePrecise(&j->sys[1]);
    KeQueryTickCount(&j->tick);
    j->it[0] = KeQueryInterruptTime();
    j->it[1] = KeQueryInterruptTime();
    j->cpu = KeGetCurrentProcessorNumber();
    j->cpu_ex = KeGetCurrentProcessorNumberEx(&j->pn);
    j->count = KeQueryActiveProcessorCountEx(ALL_PROCESSOR_GROUPS);
    j->us[0] = ExUuidCreate(&j->u[0]);
    j->us[1] = ExUuidCreate(&j->u[1]);
    j->uninit = ExAllocatePoolUninitialized(NonPagedPoolNx, 64, TAG_TEST);
    j->zero = ExAllocatePoolZero(NonPagedPoolNx, 64, TAG_TEST);
    j->zero_ok = j->zero != NULL;
    for (int i = 0; j->zero && i < 64; i++) j->zero_ok &= ((UCHAR *)j->zero)[i] == 0;
    if (j->uninit) ExFreePoolWithTag(j->uninit, TAG_TEST);
    if (j->zero) ExFreePoolWithTag(j->zero, TAG_TEST);
}

static void test_clocks_and_ids(check_tally *t)
{
    misc_job runs[2];
    for (int round = 0; round < 2; round++) {
        nmrh_chooser_zero z;
        nmrh_world *w = shim_test_world(&z);
        memset(&runs[round], 0, sizeof runs[round]);
        nmrh_world_spawn(w, "first", 0, t_misc, &runs[round]); /* thread 0 */
        nmrh_world_spawn(w, "second", 0, t_misc, &runs[round]); /* thread 1 overwrites: the last one counts */
        nmrh_world_run_thread(w, nmrh_world_thread(w, 0));
        misc_job first = runs[round];
        nmrh_world_run_thread(w, nmrh_world_thread(w, 1));
        misc_job *j = &runs[round];
        CHECK(t, first.freq.QuadPart == 10000000 && first.qpc[1].QuadPart > first.qpc[0].QuadPart);
        CHECK(t, j->qpc[0].QuadPart > first.qpc[1].QuadPart); /* time goes on across threads */
        CHECK(t, j->sys[1].QuadPart > j->sys[0].QuadPart && j->sys[0].QuadPart > 130000000000000000LL);
        CHECK(t, j->it[1] > j->it[0]);
        CHECK(t, first.cpu == 0 && j->cpu == 1 && j->cpu_ex == 1 && j->pn.Group == 0 && j->pn.Number == 1);
        CHECK(t, j->count == NMRH_KM_PROCESSORS);
        CHECK(t, j->us[0] == STATUS_SUCCESS && !IsEqualGUID(&j->u[0], &j->u[1]) && !IsEqualGUID(&first.u[0], &j->u[0]));
        CHECK(t, (j->u[0].Data3 >> 12) == 1 && (j->u[0].Data4[0] & 0xC0) == 0x80); /* version 1, RFC 4122 variant */
        CHECK(t, j->uninit != NULL && j->zero_ok);
        shim_test_clean(t, w);
        nmrh_world_destroy(w);
    }
    /* Deterministic: the same run gives the same clocks and UUIDs. */
    CHECK(t, runs[0].qpc[0].QuadPart == runs[1].qpc[0].QuadPart && runs[0].sys[1].QuadPart == runs[1].sys[1].QuadPart);
    CHECK(t, IsEqualGUID(&runs[0].u[1], &runs[1].u[1]));
}

int main(void)
{
    check_tally t = {0, 0, "shim-locks"};
    test_regions(&t);
    test_push_lock_contention(&t);
    test_push_lock_misuse(&t);
    test_push_lock_released_by_other(&t);
    test_resources(&t);
    test_resource_misuse(&t);
    test_interlocked_family(&t);
    test_interlocked_misaligned(&t);
    test_fail_fast(&t);
    test_clocks_and_ids(&t);
    return check_summary(&t, "test_shim_locks");
}
