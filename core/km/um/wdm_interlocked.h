/*
 * The WDK's interlocked family and its ordered plain accesses (Read... and Write... with Acquire, Release,
 * NoFence, Raw), for the user-mode build; included by wdm.h. Every operation is a scheduling
 * point (so the fuzzer can interleave other threads between a driver's accesses to shared
 * state) and then the atomic operation with the WDK's ordering: no suffix is a full barrier,
 * Acquire/Release are one-sided, NoFence and Raw are relaxed. An operand not aligned to its size
 * is a finding (KRNL-PRIMITIVE-MISUSE): the WDK requires natural alignment, and ARM64 faults.
 */
#ifndef NMRH_UM_WDM_INTERLOCKED_H
#define NMRH_UM_WDM_INTERLOCKED_H

NTKERNELAPI void nmrh_km_primitive_point(void);
/* Weak: builds that link the modules against something other than nmrh's shim (the kernel
   driver's user-mode test double) need not define it; the check is then skipped. */
NTKERNELAPI void nmrh_km_misaligned(const volatile void *Address, SIZE_T Size, const char *Operation)
    __attribute__((weak));

FORCEINLINE void nmrh_km_atomic_point(const volatile void *Address, SIZE_T Size, const char *Operation)
{
    if (((ULONG_PTR)Address & (Size - 1)) != 0 && nmrh_km_misaligned != NULL)
        nmrh_km_misaligned(Address, Size, Operation);
    nmrh_km_primitive_point();
}
#define NMRH_KM_ATOMIC(p, name) nmrh_km_atomic_point((p), sizeof *(p), name)


/* ---- arithmetic and logic, 8/16/32/64 bits ---- */
FORCEINLINE CHAR InterlockedExchange8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchange8");
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE CHAR InterlockedExchangeAdd8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAdd8");
    return __atomic_fetch_add(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE CHAR InterlockedCompareExchange8(CHAR volatile *Target, CHAR Exchange, CHAR Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchange8");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
FORCEINLINE CHAR InterlockedOr8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOr8");
    return __atomic_fetch_or(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE CHAR InterlockedAnd8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAnd8");
    return __atomic_fetch_and(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE CHAR InterlockedXor8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXor8");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE CHAR InterlockedExchangeAcquire8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAcquire8");
    return __atomic_exchange_n(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE CHAR InterlockedExchangeAddAcquire8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddAcquire8");
    return __atomic_fetch_add(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE CHAR InterlockedCompareExchangeAcquire8(CHAR volatile *Target, CHAR Exchange, CHAR Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeAcquire8");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
    return Comparand;
}
FORCEINLINE CHAR InterlockedOrAcquire8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrAcquire8");
    return __atomic_fetch_or(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE CHAR InterlockedAndAcquire8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndAcquire8");
    return __atomic_fetch_and(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE CHAR InterlockedXorAcquire8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorAcquire8");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE CHAR InterlockedExchangeRelease8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeRelease8");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE CHAR InterlockedExchangeAddRelease8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddRelease8");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE CHAR InterlockedCompareExchangeRelease8(CHAR volatile *Target, CHAR Exchange, CHAR Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeRelease8");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE CHAR InterlockedOrRelease8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrRelease8");
    return __atomic_fetch_or(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE CHAR InterlockedAndRelease8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndRelease8");
    return __atomic_fetch_and(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE CHAR InterlockedXorRelease8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorRelease8");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE CHAR InterlockedExchangeNoFence8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeNoFence8");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE CHAR InterlockedExchangeAddNoFence8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddNoFence8");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE CHAR InterlockedCompareExchangeNoFence8(CHAR volatile *Target, CHAR Exchange, CHAR Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeNoFence8");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE CHAR InterlockedOrNoFence8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrNoFence8");
    return __atomic_fetch_or(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE CHAR InterlockedAndNoFence8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndNoFence8");
    return __atomic_fetch_and(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE CHAR InterlockedXorNoFence8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorNoFence8");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT InterlockedIncrement16(SHORT volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrement16");
    return __atomic_add_fetch(Target, 1, __ATOMIC_SEQ_CST);
}
FORCEINLINE SHORT InterlockedDecrement16(SHORT volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrement16");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_SEQ_CST);
}
FORCEINLINE SHORT InterlockedExchange16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchange16");
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE SHORT InterlockedExchangeAdd16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAdd16");
    return __atomic_fetch_add(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE SHORT InterlockedCompareExchange16(SHORT volatile *Target, SHORT Exchange, SHORT Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchange16");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
FORCEINLINE SHORT InterlockedOr16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOr16");
    return __atomic_fetch_or(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE SHORT InterlockedAnd16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAnd16");
    return __atomic_fetch_and(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE SHORT InterlockedXor16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXor16");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE SHORT InterlockedIncrementAcquire16(SHORT volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementAcquire16");
    return __atomic_add_fetch(Target, 1, __ATOMIC_ACQUIRE);
}
FORCEINLINE SHORT InterlockedDecrementAcquire16(SHORT volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementAcquire16");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_ACQUIRE);
}
FORCEINLINE SHORT InterlockedExchangeAcquire16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAcquire16");
    return __atomic_exchange_n(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE SHORT InterlockedExchangeAddAcquire16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddAcquire16");
    return __atomic_fetch_add(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE SHORT InterlockedCompareExchangeAcquire16(SHORT volatile *Target, SHORT Exchange, SHORT Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeAcquire16");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
    return Comparand;
}
FORCEINLINE SHORT InterlockedOrAcquire16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrAcquire16");
    return __atomic_fetch_or(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE SHORT InterlockedAndAcquire16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndAcquire16");
    return __atomic_fetch_and(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE SHORT InterlockedXorAcquire16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorAcquire16");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE SHORT InterlockedIncrementRelease16(SHORT volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementRelease16");
    return __atomic_add_fetch(Target, 1, __ATOMIC_RELEASE);
}
FORCEINLINE SHORT InterlockedDecrementRelease16(SHORT volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementRelease16");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_RELEASE);
}
FORCEINLINE SHORT InterlockedExchangeRelease16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeRelease16");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE SHORT InterlockedExchangeAddRelease16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddRelease16");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE SHORT InterlockedCompareExchangeRelease16(SHORT volatile *Target, SHORT Exchange, SHORT Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeRelease16");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE SHORT InterlockedOrRelease16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrRelease16");
    return __atomic_fetch_or(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE SHORT InterlockedAndRelease16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndRelease16");
    return __atomic_fetch_and(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE SHORT InterlockedXorRelease16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorRelease16");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE SHORT InterlockedIncrementNoFence16(SHORT volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementNoFence16");
    return __atomic_add_fetch(Target, 1, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT InterlockedDecrementNoFence16(SHORT volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementNoFence16");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT InterlockedExchangeNoFence16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeNoFence16");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT InterlockedExchangeAddNoFence16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddNoFence16");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT InterlockedCompareExchangeNoFence16(SHORT volatile *Target, SHORT Exchange, SHORT Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeNoFence16");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE SHORT InterlockedOrNoFence16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrNoFence16");
    return __atomic_fetch_or(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT InterlockedAndNoFence16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndNoFence16");
    return __atomic_fetch_and(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT InterlockedXorNoFence16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorNoFence16");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG InterlockedIncrement(LONG volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrement");
    return __atomic_add_fetch(Target, 1, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG InterlockedDecrement(LONG volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrement");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG InterlockedAdd(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAdd");
    return __atomic_add_fetch(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG InterlockedExchange(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchange");
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG InterlockedExchangeAdd(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAdd");
    return __atomic_fetch_add(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG InterlockedCompareExchange(LONG volatile *Target, LONG Exchange, LONG Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchange");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
FORCEINLINE LONG InterlockedOr(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOr");
    return __atomic_fetch_or(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG InterlockedAnd(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAnd");
    return __atomic_fetch_and(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG InterlockedXor(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXor");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG InterlockedIncrementAcquire(LONG volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementAcquire");
    return __atomic_add_fetch(Target, 1, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG InterlockedDecrementAcquire(LONG volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementAcquire");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG InterlockedAddAcquire(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddAcquire");
    return __atomic_add_fetch(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG InterlockedExchangeAcquire(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAcquire");
    return __atomic_exchange_n(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG InterlockedExchangeAddAcquire(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddAcquire");
    return __atomic_fetch_add(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG InterlockedCompareExchangeAcquire(LONG volatile *Target, LONG Exchange, LONG Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeAcquire");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
    return Comparand;
}
FORCEINLINE LONG InterlockedOrAcquire(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrAcquire");
    return __atomic_fetch_or(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG InterlockedAndAcquire(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndAcquire");
    return __atomic_fetch_and(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG InterlockedXorAcquire(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorAcquire");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG InterlockedIncrementRelease(LONG volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementRelease");
    return __atomic_add_fetch(Target, 1, __ATOMIC_RELEASE);
}
FORCEINLINE LONG InterlockedDecrementRelease(LONG volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementRelease");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_RELEASE);
}
FORCEINLINE LONG InterlockedAddRelease(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddRelease");
    return __atomic_add_fetch(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG InterlockedExchangeRelease(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeRelease");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG InterlockedExchangeAddRelease(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddRelease");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG InterlockedCompareExchangeRelease(LONG volatile *Target, LONG Exchange, LONG Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeRelease");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE LONG InterlockedOrRelease(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrRelease");
    return __atomic_fetch_or(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG InterlockedAndRelease(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndRelease");
    return __atomic_fetch_and(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG InterlockedXorRelease(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorRelease");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG InterlockedIncrementNoFence(LONG volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementNoFence");
    return __atomic_add_fetch(Target, 1, __ATOMIC_RELAXED);
}
FORCEINLINE LONG InterlockedDecrementNoFence(LONG volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementNoFence");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_RELAXED);
}
FORCEINLINE LONG InterlockedAddNoFence(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddNoFence");
    return __atomic_add_fetch(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG InterlockedExchangeNoFence(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeNoFence");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG InterlockedExchangeAddNoFence(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddNoFence");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG InterlockedCompareExchangeNoFence(LONG volatile *Target, LONG Exchange, LONG Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeNoFence");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE LONG InterlockedOrNoFence(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrNoFence");
    return __atomic_fetch_or(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG InterlockedAndNoFence(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndNoFence");
    return __atomic_fetch_and(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG InterlockedXorNoFence(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorNoFence");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 InterlockedIncrement64(LONG64 volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrement64");
    return __atomic_add_fetch(Target, 1, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG64 InterlockedDecrement64(LONG64 volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrement64");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG64 InterlockedAdd64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAdd64");
    return __atomic_add_fetch(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG64 InterlockedExchange64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchange64");
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG64 InterlockedExchangeAdd64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAdd64");
    return __atomic_fetch_add(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG64 InterlockedCompareExchange64(LONG64 volatile *Target, LONG64 Exchange, LONG64 Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchange64");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
FORCEINLINE LONG64 InterlockedOr64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOr64");
    return __atomic_fetch_or(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG64 InterlockedAnd64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAnd64");
    return __atomic_fetch_and(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG64 InterlockedXor64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXor64");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE LONG64 InterlockedIncrementAcquire64(LONG64 volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementAcquire64");
    return __atomic_add_fetch(Target, 1, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 InterlockedDecrementAcquire64(LONG64 volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementAcquire64");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 InterlockedAddAcquire64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddAcquire64");
    return __atomic_add_fetch(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 InterlockedExchangeAcquire64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAcquire64");
    return __atomic_exchange_n(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 InterlockedExchangeAddAcquire64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddAcquire64");
    return __atomic_fetch_add(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 InterlockedCompareExchangeAcquire64(LONG64 volatile *Target, LONG64 Exchange, LONG64 Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeAcquire64");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
    return Comparand;
}
FORCEINLINE LONG64 InterlockedOrAcquire64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrAcquire64");
    return __atomic_fetch_or(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 InterlockedAndAcquire64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndAcquire64");
    return __atomic_fetch_and(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 InterlockedXorAcquire64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorAcquire64");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 InterlockedIncrementRelease64(LONG64 volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementRelease64");
    return __atomic_add_fetch(Target, 1, __ATOMIC_RELEASE);
}
FORCEINLINE LONG64 InterlockedDecrementRelease64(LONG64 volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementRelease64");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_RELEASE);
}
FORCEINLINE LONG64 InterlockedAddRelease64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddRelease64");
    return __atomic_add_fetch(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG64 InterlockedExchangeRelease64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeRelease64");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG64 InterlockedExchangeAddRelease64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddRelease64");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG64 InterlockedCompareExchangeRelease64(LONG64 volatile *Target, LONG64 Exchange, LONG64 Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeRelease64");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE LONG64 InterlockedOrRelease64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrRelease64");
    return __atomic_fetch_or(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG64 InterlockedAndRelease64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndRelease64");
    return __atomic_fetch_and(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG64 InterlockedXorRelease64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorRelease64");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE LONG64 InterlockedIncrementNoFence64(LONG64 volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementNoFence64");
    return __atomic_add_fetch(Target, 1, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 InterlockedDecrementNoFence64(LONG64 volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementNoFence64");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 InterlockedAddNoFence64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddNoFence64");
    return __atomic_add_fetch(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 InterlockedExchangeNoFence64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeNoFence64");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 InterlockedExchangeAddNoFence64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddNoFence64");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 InterlockedCompareExchangeNoFence64(LONG64 volatile *Target, LONG64 Exchange, LONG64 Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangeNoFence64");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE LONG64 InterlockedOrNoFence64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedOrNoFence64");
    return __atomic_fetch_or(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 InterlockedAndNoFence64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAndNoFence64");
    return __atomic_fetch_and(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 InterlockedXorNoFence64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedXorNoFence64");
    return __atomic_fetch_xor(Target, Value, __ATOMIC_RELAXED);
}

/* ---- pointers and SIZE_T ---- */
FORCEINLINE PVOID InterlockedExchangePointer(PVOID volatile *Target, PVOID Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangePointer");
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE PVOID InterlockedCompareExchangePointer(PVOID volatile *Target, PVOID Exchange, PVOID Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangePointer");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
FORCEINLINE SIZE_T InterlockedIncrementSizeT(SIZE_T volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementSizeT");
    return __atomic_add_fetch(Target, 1, __ATOMIC_SEQ_CST);
}
FORCEINLINE SIZE_T InterlockedDecrementSizeT(SIZE_T volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementSizeT");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_SEQ_CST);
}
FORCEINLINE SIZE_T InterlockedExchangeAddSizeT(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddSizeT");
    return __atomic_fetch_add(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE SIZE_T InterlockedAddSizeT(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddSizeT");
    return __atomic_add_fetch(Target, Value, __ATOMIC_SEQ_CST);
}
FORCEINLINE PVOID InterlockedExchangePointerAcquire(PVOID volatile *Target, PVOID Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangePointerAcquire");
    return __atomic_exchange_n(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE PVOID InterlockedCompareExchangePointerAcquire(PVOID volatile *Target, PVOID Exchange, PVOID Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangePointerAcquire");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
    return Comparand;
}
FORCEINLINE SIZE_T InterlockedIncrementSizeTAcquire(SIZE_T volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementSizeTAcquire");
    return __atomic_add_fetch(Target, 1, __ATOMIC_ACQUIRE);
}
FORCEINLINE SIZE_T InterlockedDecrementSizeTAcquire(SIZE_T volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementSizeTAcquire");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_ACQUIRE);
}
FORCEINLINE SIZE_T InterlockedExchangeAddSizeTAcquire(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddSizeTAcquire");
    return __atomic_fetch_add(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE SIZE_T InterlockedAddSizeTAcquire(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddSizeTAcquire");
    return __atomic_add_fetch(Target, Value, __ATOMIC_ACQUIRE);
}
FORCEINLINE PVOID InterlockedExchangePointerRelease(PVOID volatile *Target, PVOID Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangePointerRelease");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE PVOID InterlockedCompareExchangePointerRelease(PVOID volatile *Target, PVOID Exchange, PVOID Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangePointerRelease");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE SIZE_T InterlockedIncrementSizeTRelease(SIZE_T volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementSizeTRelease");
    return __atomic_add_fetch(Target, 1, __ATOMIC_RELEASE);
}
FORCEINLINE SIZE_T InterlockedDecrementSizeTRelease(SIZE_T volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementSizeTRelease");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_RELEASE);
}
FORCEINLINE SIZE_T InterlockedExchangeAddSizeTRelease(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddSizeTRelease");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE SIZE_T InterlockedAddSizeTRelease(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddSizeTRelease");
    return __atomic_add_fetch(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE PVOID InterlockedExchangePointerNoFence(PVOID volatile *Target, PVOID Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangePointerNoFence");
    return __atomic_exchange_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE PVOID InterlockedCompareExchangePointerNoFence(PVOID volatile *Target, PVOID Exchange, PVOID Comparand)
{
    NMRH_KM_ATOMIC(Target, "InterlockedCompareExchangePointerNoFence");
    __atomic_compare_exchange_n(Target, &Comparand, Exchange, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return Comparand;
}
FORCEINLINE SIZE_T InterlockedIncrementSizeTNoFence(SIZE_T volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedIncrementSizeTNoFence");
    return __atomic_add_fetch(Target, 1, __ATOMIC_RELAXED);
}
FORCEINLINE SIZE_T InterlockedDecrementSizeTNoFence(SIZE_T volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "InterlockedDecrementSizeTNoFence");
    return __atomic_sub_fetch(Target, 1, __ATOMIC_RELAXED);
}
FORCEINLINE SIZE_T InterlockedExchangeAddSizeTNoFence(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedExchangeAddSizeTNoFence");
    return __atomic_fetch_add(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE SIZE_T InterlockedAddSizeTNoFence(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "InterlockedAddSizeTNoFence");
    return __atomic_add_fetch(Target, Value, __ATOMIC_RELAXED);
}

/* ---- single bits: the old value of the bit ---- */
FORCEINLINE BOOLEAN InterlockedBitTestAndSet(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndSet");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_or(Target, Bit, __ATOMIC_SEQ_CST) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndReset(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndReset");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_and(Target, ~Bit, __ATOMIC_SEQ_CST) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndComplement(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndComplement");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_xor(Target, Bit, __ATOMIC_SEQ_CST) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndSetAcquire(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndSetAcquire");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_or(Target, Bit, __ATOMIC_ACQUIRE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndResetAcquire(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndResetAcquire");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_and(Target, ~Bit, __ATOMIC_ACQUIRE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndComplementAcquire(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndComplementAcquire");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_xor(Target, Bit, __ATOMIC_ACQUIRE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndSetRelease(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndSetRelease");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_or(Target, Bit, __ATOMIC_RELEASE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndResetRelease(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndResetRelease");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_and(Target, ~Bit, __ATOMIC_RELEASE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndComplementRelease(LONG volatile *Target, LONG Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndComplementRelease");
    LONG Bit = (LONG)((ULONG)1 << (Offset & (sizeof(LONG) * 8 - 1)));
    return (__atomic_fetch_xor(Target, Bit, __ATOMIC_RELEASE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndSet64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndSet64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_or(Target, Bit, __ATOMIC_SEQ_CST) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndReset64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndReset64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_and(Target, ~Bit, __ATOMIC_SEQ_CST) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndComplement64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndComplement64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_xor(Target, Bit, __ATOMIC_SEQ_CST) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndSetAcquire64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndSetAcquire64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_or(Target, Bit, __ATOMIC_ACQUIRE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndResetAcquire64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndResetAcquire64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_and(Target, ~Bit, __ATOMIC_ACQUIRE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndComplementAcquire64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndComplementAcquire64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_xor(Target, Bit, __ATOMIC_ACQUIRE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndSetRelease64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndSetRelease64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_or(Target, Bit, __ATOMIC_RELEASE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndResetRelease64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndResetRelease64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_and(Target, ~Bit, __ATOMIC_RELEASE) & Bit) != 0;
}
FORCEINLINE BOOLEAN InterlockedBitTestAndComplementRelease64(LONG64 volatile *Target, LONG64 Offset)
{
    NMRH_KM_ATOMIC(Target, "InterlockedBitTestAndComplementRelease64");
    LONG64 Bit = (LONG64)((ULONG64)1 << (Offset & (sizeof(LONG64) * 8 - 1)));
    return (__atomic_fetch_xor(Target, Bit, __ATOMIC_RELEASE) & Bit) != 0;
}

/* ---- plain accesses with the WDK's ordering (wdm.h: ReadAcquire, WriteRelease, ...) ---- */
FORCEINLINE CHAR ReadAcquire8(CHAR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadAcquire8");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE CHAR ReadNoFence8(CHAR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadNoFence8");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE CHAR ReadRaw8(CHAR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadRaw8");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteRelease8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteRelease8");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteNoFence8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteNoFence8");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteRaw8(CHAR volatile *Target, CHAR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteRaw8");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT ReadAcquire16(SHORT const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadAcquire16");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE SHORT ReadNoFence16(SHORT const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadNoFence16");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE SHORT ReadRaw16(SHORT const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadRaw16");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteRelease16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "WriteRelease16");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteNoFence16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "WriteNoFence16");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteRaw16(SHORT volatile *Target, SHORT Value)
{
    NMRH_KM_ATOMIC(Target, "WriteRaw16");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG ReadAcquire(LONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG ReadNoFence(LONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE LONG ReadRaw(LONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteRelease(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteNoFence(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteRaw(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 ReadAcquire64(LONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadAcquire64");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 ReadNoFence64(LONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadNoFence64");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 ReadRaw64(LONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadRaw64");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteRelease64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteRelease64");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteNoFence64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteNoFence64");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteRaw64(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteRaw64");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE PVOID ReadPointerAcquire(PVOID const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadPointerAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE PVOID ReadPointerNoFence(PVOID const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadPointerNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE PVOID ReadPointerRaw(PVOID const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadPointerRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WritePointerRelease(PVOID volatile *Target, PVOID Value)
{
    NMRH_KM_ATOMIC(Target, "WritePointerRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WritePointerNoFence(PVOID volatile *Target, PVOID Value)
{
    NMRH_KM_ATOMIC(Target, "WritePointerNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WritePointerRaw(PVOID volatile *Target, PVOID Value)
{
    NMRH_KM_ATOMIC(Target, "WritePointerRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE BOOLEAN ReadBooleanAcquire(BOOLEAN const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadBooleanAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE BOOLEAN ReadBooleanNoFence(BOOLEAN const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadBooleanNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE BOOLEAN ReadBooleanRaw(BOOLEAN const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadBooleanRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteBooleanRelease(BOOLEAN volatile *Target, BOOLEAN Value)
{
    NMRH_KM_ATOMIC(Target, "WriteBooleanRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteBooleanNoFence(BOOLEAN volatile *Target, BOOLEAN Value)
{
    NMRH_KM_ATOMIC(Target, "WriteBooleanNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteBooleanRaw(BOOLEAN volatile *Target, BOOLEAN Value)
{
    NMRH_KM_ATOMIC(Target, "WriteBooleanRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE UCHAR ReadUCharAcquire(UCHAR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUCharAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE UCHAR ReadUCharNoFence(UCHAR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUCharNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE UCHAR ReadUCharRaw(UCHAR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUCharRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteUCharRelease(UCHAR volatile *Target, UCHAR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUCharRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteUCharNoFence(UCHAR volatile *Target, UCHAR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUCharNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteUCharRaw(UCHAR volatile *Target, UCHAR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUCharRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE USHORT ReadUShortAcquire(USHORT const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUShortAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE USHORT ReadUShortNoFence(USHORT const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUShortNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE USHORT ReadUShortRaw(USHORT const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUShortRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteUShortRelease(USHORT volatile *Target, USHORT Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUShortRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteUShortNoFence(USHORT volatile *Target, USHORT Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUShortNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteUShortRaw(USHORT volatile *Target, USHORT Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUShortRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE ULONG ReadULongAcquire(ULONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULongAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE ULONG ReadULongNoFence(ULONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULongNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE ULONG ReadULongRaw(ULONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULongRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteULongRelease(ULONG volatile *Target, ULONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULongRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteULongNoFence(ULONG volatile *Target, ULONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULongNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteULongRaw(ULONG volatile *Target, ULONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULongRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG ReadLongAcquire(LONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLongAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG ReadLongNoFence(LONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLongNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE LONG ReadLongRaw(LONG const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLongRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteLongRelease(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLongRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteLongNoFence(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLongNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteLongRaw(LONG volatile *Target, LONG Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLongRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE ULONG64 ReadULong64Acquire(ULONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULong64Acquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE ULONG64 ReadULong64NoFence(ULONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULong64NoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE ULONG64 ReadULong64Raw(ULONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULong64Raw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteULong64Release(ULONG64 volatile *Target, ULONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULong64Release");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteULong64NoFence(ULONG64 volatile *Target, ULONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULong64NoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteULong64Raw(ULONG64 volatile *Target, ULONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULong64Raw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 ReadLong64Acquire(LONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLong64Acquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG64 ReadLong64NoFence(LONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLong64NoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE LONG64 ReadLong64Raw(LONG64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLong64Raw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteLong64Release(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLong64Release");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteLong64NoFence(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLong64NoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteLong64Raw(LONG64 volatile *Target, LONG64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLong64Raw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE ULONG_PTR ReadULongPtrAcquire(ULONG_PTR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULongPtrAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE ULONG_PTR ReadULongPtrNoFence(ULONG_PTR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULongPtrNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE ULONG_PTR ReadULongPtrRaw(ULONG_PTR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadULongPtrRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteULongPtrRelease(ULONG_PTR volatile *Target, ULONG_PTR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULongPtrRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteULongPtrNoFence(ULONG_PTR volatile *Target, ULONG_PTR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULongPtrNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteULongPtrRaw(ULONG_PTR volatile *Target, ULONG_PTR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteULongPtrRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE LONG_PTR ReadLongPtrAcquire(LONG_PTR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLongPtrAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE LONG_PTR ReadLongPtrNoFence(LONG_PTR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLongPtrNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE LONG_PTR ReadLongPtrRaw(LONG_PTR const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadLongPtrRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteLongPtrRelease(LONG_PTR volatile *Target, LONG_PTR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLongPtrRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteLongPtrNoFence(LONG_PTR volatile *Target, LONG_PTR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLongPtrNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteLongPtrRaw(LONG_PTR volatile *Target, LONG_PTR Value)
{
    NMRH_KM_ATOMIC(Target, "WriteLongPtrRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE SIZE_T ReadSizeTAcquire(SIZE_T const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadSizeTAcquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE SIZE_T ReadSizeTNoFence(SIZE_T const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadSizeTNoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE SIZE_T ReadSizeTRaw(SIZE_T const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadSizeTRaw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteSizeTRelease(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "WriteSizeTRelease");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteSizeTNoFence(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "WriteSizeTNoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteSizeTRaw(SIZE_T volatile *Target, SIZE_T Value)
{
    NMRH_KM_ATOMIC(Target, "WriteSizeTRaw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE INT32 ReadInt32Acquire(INT32 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadInt32Acquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE INT32 ReadInt32NoFence(INT32 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadInt32NoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE INT32 ReadInt32Raw(INT32 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadInt32Raw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteInt32Release(INT32 volatile *Target, INT32 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteInt32Release");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteInt32NoFence(INT32 volatile *Target, INT32 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteInt32NoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteInt32Raw(INT32 volatile *Target, INT32 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteInt32Raw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE UINT32 ReadUInt32Acquire(UINT32 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUInt32Acquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE UINT32 ReadUInt32NoFence(UINT32 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUInt32NoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE UINT32 ReadUInt32Raw(UINT32 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUInt32Raw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteUInt32Release(UINT32 volatile *Target, UINT32 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUInt32Release");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteUInt32NoFence(UINT32 volatile *Target, UINT32 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUInt32NoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteUInt32Raw(UINT32 volatile *Target, UINT32 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUInt32Raw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE INT64 ReadInt64Acquire(INT64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadInt64Acquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE INT64 ReadInt64NoFence(INT64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadInt64NoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE INT64 ReadInt64Raw(INT64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadInt64Raw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteInt64Release(INT64 volatile *Target, INT64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteInt64Release");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteInt64NoFence(INT64 volatile *Target, INT64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteInt64NoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteInt64Raw(INT64 volatile *Target, INT64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteInt64Raw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE UINT64 ReadUInt64Acquire(UINT64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUInt64Acquire");
    return __atomic_load_n(Target, __ATOMIC_ACQUIRE);
}
FORCEINLINE UINT64 ReadUInt64NoFence(UINT64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUInt64NoFence");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE UINT64 ReadUInt64Raw(UINT64 const volatile *Target)
{
    NMRH_KM_ATOMIC(Target, "ReadUInt64Raw");
    return __atomic_load_n(Target, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteUInt64Release(UINT64 volatile *Target, UINT64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUInt64Release");
    __atomic_store_n(Target, Value, __ATOMIC_RELEASE);
}
FORCEINLINE void WriteUInt64NoFence(UINT64 volatile *Target, UINT64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUInt64NoFence");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}
FORCEINLINE void WriteUInt64Raw(UINT64 volatile *Target, UINT64 Value)
{
    NMRH_KM_ATOMIC(Target, "WriteUInt64Raw");
    __atomic_store_n(Target, Value, __ATOMIC_RELAXED);
}

/* ---- barriers and spin-wait hints ---- */
#define KeMemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define KeMemoryBarrierWithoutFence() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define MemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define _ReadWriteBarrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define _ReadBarrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define _WriteBarrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define PreFetchCacheLine(l, a) ((void)(a))
/* A spin-wait iteration: a scheduling point, so that the thread being waited for gets to run. */
#define YieldProcessor() nmrh_km_primitive_point()
#define KeYieldProcessor() nmrh_km_primitive_point()
#define KeYieldProcessorEx(s) nmrh_km_primitive_point()

#endif /* NMRH_UM_WDM_INTERLOCKED_H */
