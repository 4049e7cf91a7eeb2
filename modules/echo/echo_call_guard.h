/*
 * In-flight call tracking for one binding, the reference-counting pattern of the NMR docs
 * ("Programming Considerations"): calls into the peer enter and leave the guard; the detach
 * callback marks the binding as detaching and returns STATUS_PENDING while calls are in flight;
 * the last call to leave tells its caller to complete the detach. No lock is held across a call
 * into the peer or into the NMR.
 */
#ifndef ECHO_CALL_GUARD_H
#define ECHO_CALL_GUARD_H

#include <ntddk.h>

typedef struct _ECHO_CALL_GUARD {
    KSPIN_LOCK Lock;
    LONG InFlight;
    BOOLEAN Detaching;
    BOOLEAN DetachPending;
} ECHO_CALL_GUARD;

VOID EchoGuardInit(ECHO_CALL_GUARD *Guard);
/* TRUE: a call may start (leave the guard afterwards). FALSE: the binding is detaching. Must be
   called at or below DISPATCH_LEVEL; callable with another spin lock held. */
BOOLEAN EchoGuardEnterAtDpc(ECHO_CALL_GUARD *Guard);
/* TRUE: this was the last call of a pending detach, and the caller must complete the detach
   (after which the binding context may already be freed). */
BOOLEAN EchoGuardLeave(ECHO_CALL_GUARD *Guard);
/* From the detach callback: STATUS_SUCCESS when no call is in flight, else STATUS_PENDING. */
NTSTATUS EchoGuardDetach(ECHO_CALL_GUARD *Guard);

#endif
