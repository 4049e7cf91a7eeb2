#include "echo_call_guard.h"

VOID EchoGuardInit(ECHO_CALL_GUARD *Guard)
{
    KeInitializeSpinLock(&Guard->Lock);
    Guard->InFlight = 0;
    Guard->Detaching = FALSE;
    Guard->DetachPending = FALSE;
}

BOOLEAN EchoGuardEnterAtDpc(ECHO_CALL_GUARD *Guard)
{
    BOOLEAN entered = FALSE;
    KeAcquireSpinLockAtDpcLevel(&Guard->Lock);
    if (!Guard->Detaching) {
        Guard->InFlight++;
        entered = TRUE;
    }
    KeReleaseSpinLockFromDpcLevel(&Guard->Lock);
    return entered;
}

BOOLEAN EchoGuardLeave(ECHO_CALL_GUARD *Guard)
{
    KIRQL irql;
    BOOLEAN complete;
    KeAcquireSpinLock(&Guard->Lock, &irql);
    Guard->InFlight--;
    complete = (BOOLEAN)(Guard->InFlight == 0 && Guard->DetachPending);
    if (complete) Guard->DetachPending = FALSE;
    KeReleaseSpinLock(&Guard->Lock, irql);
    return complete;
}

NTSTATUS EchoGuardDetach(ECHO_CALL_GUARD *Guard)
{
    KIRQL irql;
    NTSTATUS status = STATUS_SUCCESS;
    KeAcquireSpinLock(&Guard->Lock, &irql);
    Guard->Detaching = TRUE;
    if (Guard->InFlight != 0) {
        Guard->DetachPending = TRUE;
        status = STATUS_PENDING;
    }
    KeReleaseSpinLock(&Guard->Lock, irql);
    return status;
}
