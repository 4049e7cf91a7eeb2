/*
 * Critical and guarded regions: a per-thread depth of "normal kernel APCs disabled". Push locks
 * and executive resources require it; leaving a region one did not enter, or a thread ending
 * inside one, is a finding. Also the end-of-thread checks of the shim's per-thread state.
 */
#include "shim_util.h"

static void enter(const char *what)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) return;
    nmrh_shim_check_irql(w, APC_LEVEL, what);
    w->current->apc_disable++;
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}

static void leave(const char *what)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) return;
    if (w->current->apc_disable <= 0)
        NMRH_SHIM_FAIL(w, NMRH_RULE_PRIMITIVE_MISUSE, "%s without a matching enter", what);
    w->current->apc_disable--;
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}

void KeEnterCriticalRegion(void) { enter("KeEnterCriticalRegion"); }
void KeLeaveCriticalRegion(void) { leave("KeLeaveCriticalRegion"); }
void KeEnterGuardedRegion(void) { enter("KeEnterGuardedRegion"); }
void KeLeaveGuardedRegion(void) { leave("KeLeaveGuardedRegion"); }

BOOLEAN KeAreApcsDisabled(void)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) return FALSE;
    return (BOOLEAN)(w->current->apc_disable > 0 || w->current->irql >= APC_LEVEL);
}

BOOLEAN KeAreAllApcsDisabled(void)
{
    NMRH_HARNESS(w);
    return (BOOLEAN)(w && w->current && w->current->irql >= APC_LEVEL);
}

void nmrh_shim_thread_ended(nmrh_world *w, nmrh_thread *t)
{
    if (t->apc_disable != 0)
        NMRH_SHIM_FAIL(w, NMRH_RULE_PRIMITIVE_MISUSE, "thread ended inside %d critical or guarded region(s)",
                       (int)t->apc_disable);
    if (t->locks_held != 0)
        NMRH_SHIM_FAIL(w, NMRH_RULE_PRIMITIVE_MISUSE, "thread ended holding %u push lock or resource acquisition(s)",
                       t->locks_held);
}
