/*
 * Kernel events and waits. A wait parks the logical thread; a finite timeout expires only when no
 * other thread can run (see KeWaitForSingleObject in wdm.h), which keeps runs reproducible.
 */
#include "shim_util.h"

void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    Event->Type = (LONG)Type;
    Event->SignalState = State ? 1 : 0;
    Event->Reserved[0] = Event->Reserved[1] = 0;
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    (void)Increment;
    (void)Wait;
    NMRH_HARNESS(w);
    LONG previous = Event->SignalState;
    if (!w) {
        Event->SignalState = 1;
        return previous;
    }
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    previous = Event->SignalState;
    if (Event->Type == NotificationEvent) {
        Event->SignalState = 1;
        nmrh_sched_wake(w, Event, true, STATUS_SUCCESS);
    } else if (nmrh_sched_wake(w, Event, false, STATUS_SUCCESS) == 0) {
        Event->SignalState = 1; /* nobody waited: stays signalled for the next waiter */
    }
    return previous;
}

/* These three take the harness lock only for real-thread mode, where KeSetEvent changes the
   state under it. */
void KeClearEvent(PRKEVENT Event)
{
    NMRH_HARNESS(w);
    (void)w;
    Event->SignalState = 0;
}

LONG KeResetEvent(PRKEVENT Event)
{
    NMRH_HARNESS(w);
    (void)w;
    LONG previous = Event->SignalState;
    Event->SignalState = 0;
    return previous;
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    NMRH_HARNESS(w);
    (void)w;
    return Event->SignalState;
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    (void)WaitReason;
    (void)WaitMode;
    (void)Alertable;
    PRKEVENT event = Object;
    bool poll = Timeout && Timeout->QuadPart == 0;
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        if (event->SignalState) {
            if (event->Type == SynchronizationEvent) event->SignalState = 0;
            return STATUS_SUCCESS;
        }
        return STATUS_TIMEOUT;
    }
    if (!poll)
        nmrh_shim_check_irql(w, APC_LEVEL, Timeout ? "KeWaitForSingleObject with a non-zero timeout"
                                                     : "KeWaitForSingleObject without a timeout");
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    if (event->SignalState) {
        if (event->Type == SynchronizationEvent) event->SignalState = 0;
        return STATUS_SUCCESS;
    }
    if (poll) return STATUS_TIMEOUT;
    return nmrh_sched_block(w, event, NMRH_WAIT_EVENT, Timeout != NULL);
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    (void)WaitMode;
    (void)Alertable;
    (void)Interval;
    NMRH_HARNESS(w);
    if (!w) return STATUS_SUCCESS;
    nmrh_shim_check_irql(w, APC_LEVEL, "KeDelayExecutionThread");
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    return STATUS_SUCCESS;
}

void KeStallExecutionProcessor(ULONG MicroSeconds)
{
    (void)MicroSeconds;
    NMRH_HARNESS(w);
    if (w) nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}
