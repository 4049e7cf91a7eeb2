/*
 * Push locks. The pointer-sized lock holds the state: 0 free, (owner id + 1) << 1 | 1 held
 * exclusive, count << 1 held shared by count threads. Each thread also lists the push locks it
 * holds (nmrh_thread.push_locks), because the WDK's rule is per thread: push locks are not
 * recursive in either mode (the thread hangs), and they need normal kernel APCs disabled
 * (KeEnterCriticalRegion) at IRQL <= APC_LEVEL. A contended acquire blocks; a shared acquire
 * waits only for an exclusive holder (writers waiting do not hold readers back: a documented
 * simplification, docs/wdk-surface.md).
 */
#include "shim_util.h"

#define EXCLUSIVE ((ULONG_PTR)1)

static ULONG_PTR exclusive_value(const nmrh_thread *t) { return (((ULONG_PTR)t->id + 1) << 1) | EXCLUSIVE; }

static int held_index(const nmrh_thread *t, const void *lock)
{
    for (int i = 0; i < (int)(sizeof t->push_locks / sizeof t->push_locks[0]); i++)
        if (t->push_locks[i] == lock) return i;
    return -1;
}

static void note_held(nmrh_thread *t, const void *lock)
{
    int free_slot = held_index(t, NULL);
    if (free_slot >= 0) t->push_locks[free_slot] = lock;
    t->locks_held++;
}

static void note_released(nmrh_thread *t, const void *lock)
{
    int i = held_index(t, lock);
    if (i >= 0) t->push_locks[i] = NULL;
    if (t->locks_held) t->locks_held--;
}

/* The checks every acquire makes, then its scheduling point. */
static void before_acquire(nmrh_world *w, PEX_PUSH_LOCK lock, const char *what)
{
    nmrh_thread *t = w->current;
    nmrh_shim_check_apcs_disabled(w, what);
    if (held_index(t, lock) >= 0)
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "%s of a push lock this thread already holds (%s): push locks are not recursive, the thread hangs",
                       what, (*lock & EXCLUSIVE) ? "exclusive" : "shared");
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}

void ExInitializePushLock(PEX_PUSH_LOCK PushLock) { *PushLock = 0; }

void ExAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        *PushLock = EXCLUSIVE;
        return;
    }
    before_acquire(w, PushLock, "ExAcquirePushLockExclusive");
    while (*PushLock != 0) nmrh_sched_block(w, PushLock, NMRH_WAIT_PUSH_LOCK, false);
    *PushLock = exclusive_value(w->current);
    note_held(w->current, PushLock);
}

void ExAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        *PushLock += 2;
        return;
    }
    before_acquire(w, PushLock, "ExAcquirePushLockShared");
    while (*PushLock & EXCLUSIVE) nmrh_sched_block(w, PushLock, NMRH_WAIT_PUSH_LOCK, false);
    *PushLock += 2;
    note_held(w->current, PushLock);
}

BOOLEAN ExTryAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        if (*PushLock != 0) return FALSE;
        *PushLock = EXCLUSIVE;
        return TRUE;
    }
    before_acquire(w, PushLock, "ExTryAcquirePushLockExclusive");
    if (*PushLock != 0) return FALSE;
    *PushLock = exclusive_value(w->current);
    note_held(w->current, PushLock);
    return TRUE;
}

BOOLEAN ExTryAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        if (*PushLock & EXCLUSIVE) return FALSE;
        *PushLock += 2;
        return TRUE;
    }
    before_acquire(w, PushLock, "ExTryAcquirePushLockShared");
    if (*PushLock & EXCLUSIVE) return FALSE;
    *PushLock += 2;
    note_held(w->current, PushLock);
    return TRUE;
}

void ExReleasePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        *PushLock = 0;
        return;
    }
    nmrh_thread *t = w->current;
    if (*PushLock != exclusive_value(t))
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "ExReleasePushLockExclusive of a push lock %s",
                       *PushLock == 0            ? "that is not held (released twice?)"
                       : !(*PushLock & EXCLUSIVE) ? "held shared (release it with ExReleasePushLockShared)"
                                                 : "held exclusive by another thread");
    *PushLock = 0;
    note_released(t, PushLock);
    nmrh_sched_wake(w, PushLock, true, 0);
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}

void ExReleasePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags)
{
    (void)Flags;
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        if (*PushLock >= 2) *PushLock -= 2;
        return;
    }
    nmrh_thread *t = w->current;
    if ((*PushLock & EXCLUSIVE) || *PushLock == 0 || held_index(t, PushLock) < 0)
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "ExReleasePushLockShared of a push lock %s",
                       *PushLock == 0          ? "that is not held (released twice?)"
                       : (*PushLock & EXCLUSIVE) ? "held exclusive (release it with ExReleasePushLockExclusive)"
                                               : "this thread does not hold");
    *PushLock -= 2;
    note_released(t, PushLock);
    if (*PushLock == 0) nmrh_sched_wake(w, PushLock, true, 0);
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}
