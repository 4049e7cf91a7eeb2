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

/* Header-only, so each seeded-bug build of the pair gets its own copy without symbol clashes. */
#if defined(__GNUC__) || defined(__clang__)
#define ECHO_INLINE static inline __attribute__((unused))
#else
#define ECHO_INLINE static __inline
#endif

typedef struct _ECHO_CALL_GUARD {
    KSPIN_LOCK Lock;
    LONG InFlight;
    BOOLEAN Detaching;
    BOOLEAN DetachPending;
} ECHO_CALL_GUARD;

ECHO_INLINE VOID EchoGuardInit(ECHO_CALL_GUARD *Guard)
{
    KeInitializeSpinLock(&Guard->Lock);
    Guard->InFlight = 0;
    Guard->Detaching = FALSE;
    Guard->DetachPending = FALSE;
}

/* TRUE: a call may start (leave the guard afterwards). FALSE: the binding is detaching. Called at
   DISPATCH_LEVEL, with the owner's list lock held. */
ECHO_INLINE BOOLEAN EchoGuardEnterAtDpc(ECHO_CALL_GUARD *Guard)
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

/* TRUE: this was the last call of a pending detach, and the caller must complete the detach
   (after which the binding context may already be freed). */
#if defined(ECHO_BUG) && ECHO_BUG == 6 && ECHO_BUG_VARIANT == 2
ECHO_INLINE BOOLEAN EchoGuardLeave(ECHO_CALL_GUARD *Guard)
{
    /* Seeded bug B6 (variant b, bench/bugs.md): the leave was made lock-free, reading
       InterlockedDecrement's result as the count before the decrement (what
       InterlockedExchangeAdd returns). The last call out (result 0) never completes a pending
       detach: the unload hangs. With two calls in flight the first one out (result 1) completes
       it, the NMR may clean up and free the binding, and the second call leaves a freed guard. */
    BOOLEAN complete = (BOOLEAN)(InterlockedDecrement(&Guard->InFlight) == 1 && Guard->DetachPending);
    if (complete) Guard->DetachPending = FALSE;
    return complete;
}
#else
ECHO_INLINE BOOLEAN EchoGuardLeave(ECHO_CALL_GUARD *Guard)
{
    KIRQL irql;
    BOOLEAN complete;
#if defined(ECHO_BUG) && ECHO_BUG == 7 && ECHO_BUG_VARIANT == 3
    /* Seeded bug B7 (variant c, bench/bugs.md): the count is dropped before the lock is taken
       ("the lock is only for the flags"), with a plain decrement that races the increment of a
       call entering on another processor. No scheduling point falls inside a decrement, so only
       real threads show it: `nmrh stress` under ThreadSanitizer. */
    Guard->InFlight--;
    KeAcquireSpinLock(&Guard->Lock, &irql);
#else
    KeAcquireSpinLock(&Guard->Lock, &irql);
    Guard->InFlight--;
#endif
    complete = (BOOLEAN)(Guard->InFlight == 0 && Guard->DetachPending);
    if (complete) Guard->DetachPending = FALSE;
    KeReleaseSpinLock(&Guard->Lock, irql);
    return complete;
}
#endif

/* From the detach callback: STATUS_SUCCESS when no call is in flight, else STATUS_PENDING. */
ECHO_INLINE NTSTATUS EchoGuardDetach(ECHO_CALL_GUARD *Guard)
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

#endif
