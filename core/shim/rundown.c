/*
 * Rundown protection, with the WDK's encoding: bit 0 of Count says rundown has started, the rest
 * counts references in steps of 2. Release without a matching acquire is a finding.
 */
#include "shim_util.h"

#define RUNDOWN_ACTIVE ((ULONG_PTR)1)
#define RUNDOWN_REF ((ULONG_PTR)2)

void ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef) { RunRef->Count = 0; }
void ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef) { RunRef->Count = 0; }
void ExRundownCompleted(PEX_RUNDOWN_REF RunRef) { RunRef->Count = RUNDOWN_ACTIVE; }

BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    NMRH_HARNESS(w);
    if (w) nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    if (RunRef->Count & RUNDOWN_ACTIVE) return FALSE;
    RunRef->Count += RUNDOWN_REF;
    return TRUE;
}

void ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef)
{
    NMRH_HARNESS(w);
    if (w) nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    if (RunRef->Count < RUNDOWN_REF) {
        if (w) NMRH_SHIM_FAIL(w, NMRH_RULE_RUNDOWN_MISUSE, "%s", "ExReleaseRundownProtection without a matching acquire");
        return;
    }
    RunRef->Count -= RUNDOWN_REF;
    if (w && RunRef->Count == RUNDOWN_ACTIVE) nmrh_sched_wake(w, RunRef, true, STATUS_SUCCESS);
}

void ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
    NMRH_HARNESS(w);
    RunRef->Count |= RUNDOWN_ACTIVE;
    if (!w || !w->current) return;
    nmrh_shim_check_irql(w, APC_LEVEL, "ExWaitForRundownProtectionRelease");
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    while (RunRef->Count != RUNDOWN_ACTIVE) nmrh_sched_block(w, RunRef, NMRH_WAIT_RUNDOWN, false);
}
