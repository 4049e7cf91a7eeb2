/*
 * Executive resources (ERESOURCE): recursive reader/writer locks. The exclusive owner may
 * acquire again in either mode (counted); a shared owner may acquire shared again, and asking
 * for exclusive access while holding it shared deadlocks (a finding). Acquiring needs IRQL <=
 * APC_LEVEL with normal kernel APCs disabled, as for push locks; releasing a resource one does
 * not hold, or deleting one that is held, is a finding.
 */
#include "shim_util.h"

#define OWNERS NMRH_ERESOURCE_OWNERS

static ULONG self_of(const nmrh_thread *t) { return t->id + 1; }

static int shared_slot(PERESOURCE r, ULONG owner)
{
    for (int i = 0; i < OWNERS; i++)
        if (r->Shared[i].Owner == owner) return i;
    return -1;
}

static BOOLEAN shared_held(PERESOURCE r)
{
    for (int i = 0; i < OWNERS; i++)
        if (r->Shared[i].Owner) return TRUE;
    return FALSE;
}

static void before_acquire(nmrh_world *w, PERESOURCE r, const char *what)
{
    nmrh_shim_check_apcs_disabled(w, what);
    if (!r->Initialized)
        NMRH_SHIM_FAIL(w, NMRH_RULE_PRIMITIVE_MISUSE, "%s of a resource that is not initialized (or was deleted)", what);
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}

NTSTATUS ExInitializeResourceLite(PERESOURCE Resource)
{
    memset(Resource, 0, sizeof *Resource);
    Resource->Initialized = 1;
    return STATUS_SUCCESS;
}

NTSTATUS ExReinitializeResourceLite(PERESOURCE Resource) { return ExInitializeResourceLite(Resource); }

NTSTATUS ExDeleteResourceLite(PERESOURCE Resource)
{
    NMRH_HARNESS(w);
    if (w && w->current && (Resource->ExclusiveOwner || shared_held(Resource)))
        NMRH_SHIM_FAIL(w, NMRH_RULE_PRIMITIVE_MISUSE, "%s", "ExDeleteResourceLite of a resource that is still held");
    Resource->Initialized = 0;
    return STATUS_SUCCESS;
}

static BOOLEAN acquire_exclusive(PERESOURCE r, BOOLEAN wait, const char *what)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        r->ExclusiveOwner = (ULONG_PTR)-1;
        r->ExclusiveCount++;
        return TRUE;
    }
    nmrh_thread *t = w->current;
    before_acquire(w, r, what);
    for (;;) {
        if (r->ExclusiveOwner == self_of(t)) break;
        if (shared_slot(r, self_of(t)) >= 0)
            NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "%s by a thread that holds the resource shared (deadlock)", what);
        if (r->ExclusiveOwner == 0 && !shared_held(r)) {
            r->ExclusiveOwner = self_of(t);
            break;
        }
        if (!wait) return FALSE;
        nmrh_sched_block(w, r, NMRH_WAIT_RESOURCE, false);
    }
    r->ExclusiveCount++;
    t->locks_held++;
    return TRUE;
}

BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait)
{
    return acquire_exclusive(Resource, Wait, "ExAcquireResourceExclusiveLite");
}

BOOLEAN ExTryToAcquireResourceExclusiveLite(PERESOURCE Resource)
{
    return acquire_exclusive(Resource, FALSE, "ExTryToAcquireResourceExclusiveLite");
}

BOOLEAN ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        Resource->Shared[0].Owner = (ULONG)-1;
        Resource->Shared[0].Count++;
        return TRUE;
    }
    nmrh_thread *t = w->current;
    before_acquire(w, Resource, "ExAcquireResourceSharedLite");
    for (;;) {
        if (Resource->ExclusiveOwner == self_of(t)) { /* the exclusive owner gets it as exclusive */
            Resource->ExclusiveCount++;
            break;
        }
        int slot = shared_slot(Resource, self_of(t));
        if (slot >= 0) {
            Resource->Shared[slot].Count++;
            break;
        }
        if (Resource->ExclusiveOwner == 0) {
            slot = shared_slot(Resource, 0);
            if (slot < 0) {
                nmrh_oracle_fail(w, NMRH_RULE_INTERNAL, NULL, "more than %d threads hold one resource shared (nmrh's limit)",
                                 OWNERS);
                return FALSE;
            }
            Resource->Shared[slot].Owner = self_of(t);
            Resource->Shared[slot].Count = 1;
            break;
        }
        if (!Wait) return FALSE;
        nmrh_sched_block(w, Resource, NMRH_WAIT_RESOURCE, false);
    }
    t->locks_held++;
    return TRUE;
}

/* Releases one acquisition by `owner`; the current thread pays the checks. */
static void release_for(PERESOURCE r, ULONG owner, const char *what)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        if (r->ExclusiveCount && --r->ExclusiveCount == 0) r->ExclusiveOwner = 0;
        else if (r->Shared[0].Count && --r->Shared[0].Count == 0) r->Shared[0].Owner = 0;
        return;
    }
    nmrh_thread *t = w->current;
    if (t->irql > DISPATCH_LEVEL)
        NMRH_SHIM_FAIL(w, NMRH_RULE_IRQL_MISUSE, "%s at IRQL %u", what, (unsigned)t->irql);
    int slot = shared_slot(r, owner);
    if (r->ExclusiveOwner == owner && r->ExclusiveCount > 0) {
        if (--r->ExclusiveCount == 0) r->ExclusiveOwner = 0;
    } else if (slot >= 0) {
        if (--r->Shared[slot].Count == 0) r->Shared[slot].Owner = 0;
    } else {
        NMRH_SHIM_FAIL(w, NMRH_RULE_SPINLOCK_MISUSE, "%s of a resource %s", what,
                       (r->ExclusiveOwner || shared_held(r)) ? "held by other threads only" : "that is not held (released twice?)");
    }
    if (owner == self_of(t) && t->locks_held) t->locks_held--;
    if (r->ExclusiveOwner == 0) nmrh_sched_wake(w, r, true, 0);
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}

void ExReleaseResourceLite(PERESOURCE Resource)
{
    NMRH_HARNESS(w);
    ULONG self = (w && w->current) ? self_of(w->current) : (ULONG)-1;
    release_for(Resource, self, "ExReleaseResourceLite");
}

void ExReleaseResourceForThreadLite(PERESOURCE Resource, ERESOURCE_THREAD ResourceThreadId)
{
    release_for(Resource, (ULONG)ResourceThreadId, "ExReleaseResourceForThreadLite");
}

BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) return (BOOLEAN)(Resource->ExclusiveOwner != 0);
    return (BOOLEAN)(Resource->ExclusiveOwner == self_of(w->current));
}

ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource)
{
    NMRH_HARNESS(w);
    ULONG self = (w && w->current) ? self_of(w->current) : (ULONG)-1;
    if (Resource->ExclusiveOwner == self) return (ULONG)Resource->ExclusiveCount;
    int slot = shared_slot(Resource, self);
    return slot >= 0 ? (ULONG)Resource->Shared[slot].Count : 0;
}

ERESOURCE_THREAD ExGetCurrentResourceThread(void)
{
    NMRH_HARNESS(w);
    return (w && w->current) ? self_of(w->current) : (ERESOURCE_THREAD)(ULONG)-1;
}

PVOID ExEnterCriticalRegionAndAcquireResourceExclusive(PERESOURCE Resource)
{
    KeEnterCriticalRegion();
    acquire_exclusive(Resource, TRUE, "ExEnterCriticalRegionAndAcquireResourceExclusive");
    return NULL;
}

PVOID ExEnterCriticalRegionAndAcquireResourceShared(PERESOURCE Resource)
{
    KeEnterCriticalRegion();
    ExAcquireResourceSharedLite(Resource, TRUE);
    return NULL;
}

void ExReleaseResourceAndLeaveCriticalRegion(PERESOURCE Resource)
{
    ExReleaseResourceLite(Resource);
    KeLeaveCriticalRegion();
}
