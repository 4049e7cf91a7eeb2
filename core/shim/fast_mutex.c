/* Fast mutexes: passive-only, raise to APC_LEVEL while held, block when owned by another thread. */
#include "shim_util.h"

void ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    FastMutex->Count = 0;
    FastMutex->Owner = NULL;
    FastMutex->OldIrql = PASSIVE_LEVEL;
}

void ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        FastMutex->Count = 1;
        return;
    }
    nmrh_thread *t = w->current;
    nmrh_shim_check_irql(w, APC_LEVEL, "ExAcquireFastMutex");
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    while (FastMutex->Count != 0) {
        if (FastMutex->Owner == (PVOID)t)
            NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "%s", "fast mutex acquired again by its owner (deadlock)");
        nmrh_sched_block(w, FastMutex, NMRH_WAIT_FAST_MUTEX, false);
    }
    FastMutex->Count = 1;
    FastMutex->Owner = (PVOID)t;
    FastMutex->OldIrql = t->irql;
    t->irql = APC_LEVEL;
}

void ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        FastMutex->Count = 0;
        return;
    }
    nmrh_thread *t = w->current;
    if (FastMutex->Count == 0 || FastMutex->Owner != (PVOID)t)
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "%s", "fast mutex released by a thread that does not own it");
    FastMutex->Count = 0;
    FastMutex->Owner = NULL;
    t->irql = FastMutex->OldIrql;
    nmrh_sched_wake(w, FastMutex, false, 0);
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}
