/*
 * IRQL tracking per logical thread, and spin locks. A spin lock held by another thread makes the
 * acquirer wait at a scheduling point (it spins on another processor), so lock order problems
 * show up as hangs; releasing a lock one does not hold, or at the wrong IRQL, is a finding.
 */
#include "shim_util.h"

KIRQL KeGetCurrentIrql(void)
{
    NMRH_HARNESS(w);
    return (w && w->current) ? w->current->irql : PASSIVE_LEVEL;
}

void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        *OldIrql = PASSIVE_LEVEL;
        return;
    }
    nmrh_thread *t = w->current;
    if (NewIrql < t->irql)
        NMRH_SHIM_FAIL(w, NMRH_RULE_IRQL_MISUSE, "KeRaiseIrql to %u below the current IRQL %u", (unsigned)NewIrql,
                       (unsigned)t->irql);
    *OldIrql = t->irql;
    t->irql = NewIrql;
}

KIRQL KeRaiseIrqlToDpcLevel(void)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    return old;
}

void KeLowerIrql(KIRQL NewIrql)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) return;
    nmrh_thread *t = w->current;
    if (NewIrql > t->irql)
        NMRH_SHIM_FAIL(w, NMRH_RULE_IRQL_MISUSE, "KeLowerIrql to %u above the current IRQL %u", (unsigned)NewIrql,
                       (unsigned)t->irql);
    if (t->spinlocks_held && NewIrql < DISPATCH_LEVEL)
        NMRH_SHIM_FAIL(w, NMRH_RULE_IRQL_MISUSE, "KeLowerIrql to %u while holding %u spin lock(s)", (unsigned)NewIrql,
                       t->spinlocks_held);
    t->irql = NewIrql;
}

void KeInitializeSpinLock(PKSPIN_LOCK SpinLock) { *SpinLock = 0; }

static void acquire(nmrh_world *w, PKSPIN_LOCK lock)
{
    nmrh_thread *t = w->current;
    ULONG_PTR self = (ULONG_PTR)t->id + 1;
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    while (*lock != 0) {
        if (*lock == self)
            NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "%s", "spin lock acquired again by the thread that holds it (deadlock)");
        nmrh_sched_block(w, lock, NMRH_WAIT_SPINLOCK, false);
    }
    *lock = self;
    t->spinlocks_held++;
}

static void release(nmrh_world *w, PKSPIN_LOCK lock)
{
    nmrh_thread *t = w->current;
    if (*lock != (ULONG_PTR)t->id + 1)
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "spin lock released %s",
                       *lock == 0 ? "while not held (released twice?)" : "by a thread that does not hold it");
    *lock = 0;
    t->spinlocks_held--;
    nmrh_sched_wake(w, lock, true, 0);
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        *SpinLock = 1;
        return PASSIVE_LEVEL;
    }
    nmrh_thread *t = w->current;
    if (t->irql > DISPATCH_LEVEL)
        NMRH_SHIM_FAIL(w, NMRH_RULE_IRQL_MISUSE, "KeAcquireSpinLock at IRQL %u", (unsigned)t->irql);
    KIRQL old = t->irql;
    t->irql = DISPATCH_LEVEL;
    acquire(w, SpinLock);
    return old;
}

void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        *SpinLock = 0;
        return;
    }
    nmrh_thread *t = w->current;
    if (t->irql != DISPATCH_LEVEL)
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "KeReleaseSpinLock at IRQL %u, not DISPATCH_LEVEL",
                       (unsigned)t->irql);
    release(w, SpinLock);
    if (NewIrql > DISPATCH_LEVEL)
        NMRH_SHIM_FAIL(w, NMRH_RULE_IRQL_MISUSE, "KeReleaseSpinLock restores IRQL %u above DISPATCH_LEVEL",
                       (unsigned)NewIrql);
    t->irql = NewIrql;
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}

void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        *SpinLock = 1;
        return;
    }
    if (w->current->irql < DISPATCH_LEVEL)
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "KeAcquireSpinLockAtDpcLevel at IRQL %u",
                       (unsigned)w->current->irql);
    acquire(w, SpinLock);
}

void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        *SpinLock = 0;
        return;
    }
    if (w->current->irql < DISPATCH_LEVEL)
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "KeReleaseSpinLockFromDpcLevel at IRQL %u",
                       (unsigned)w->current->irql);
    release(w, SpinLock);
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}
