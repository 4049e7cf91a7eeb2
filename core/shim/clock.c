/*
 * Clocks, processors and UUIDs, deterministic: every clock read advances one world clock by a
 * fixed step, so time moves forward, differences are positive, and the same sequence gives the
 * same values on every replay. A logical thread runs on processor id % NMRH_KM_PROCESSORS.
 * Outside any world (a driver's static initialisation) the clocks read their starting values.
 */
#include "shim_util.h"

#define TICKS_PER_CALL 10ULL                 /* 1 microsecond in 100 ns units */
#define SYSTEM_TIME_START 133485408000000000ULL /* 2024-01-01 00:00 UTC, 100 ns units since 1601 */
#define INTERRUPT_TIME_START 100000000ULL    /* 10 s after boot */
#define TIME_INCREMENT 156250UL              /* the usual 15.625 ms clock tick */
#define PERFORMANCE_FREQUENCY 10000000LL     /* 10 MHz, as on current Windows */

/* 100 ns units since boot; advances by one step per call (and is a scheduling point). */
static ULONGLONG advance(void)
{
    NMRH_HARNESS(w);
    if (!w) return INTERRUPT_TIME_START;
    w->shim_clock++;
    if (w->current) nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    return INTERRUPT_TIME_START + w->shim_clock * TICKS_PER_CALL;
}

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER now;
    now.QuadPart = (LONGLONG)advance(); /* 10 MHz: one count per 100 ns */
    if (PerformanceFrequency) PerformanceFrequency->QuadPart = PERFORMANCE_FREQUENCY;
    return now;
}

void KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = (LONGLONG)(SYSTEM_TIME_START + advance() - INTERRUPT_TIME_START);
}

void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime) { KeQuerySystemTime(CurrentTime); }

void KeQueryTickCount(PLARGE_INTEGER CurrentCount) { CurrentCount->QuadPart = (LONGLONG)(advance() / TIME_INCREMENT); }

ULONG KeQueryTimeIncrement(void) { return TIME_INCREMENT; }

ULONGLONG KeQueryInterruptTime(void) { return advance(); }

ULONGLONG KeQueryInterruptTimePrecise(PULONG64 QpcTimeStamp)
{
    ULONGLONG now = advance();
    if (QpcTimeStamp) *QpcTimeStamp = now;
    return now;
}

ULONGLONG KeQueryUnbiasedInterruptTime(void) { return advance(); }

/* ---- processors ---- */

ULONG KeGetCurrentProcessorNumber(void)
{
    NMRH_HARNESS(w);
    return (w && w->current) ? w->current->id % NMRH_KM_PROCESSORS : 0;
}

ULONG KeGetCurrentProcessorIndex(void) { return KeGetCurrentProcessorNumber(); }

ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber)
{
    ULONG index = KeGetCurrentProcessorNumber();
    if (ProcNumber) {
        ProcNumber->Group = 0;
        ProcNumber->Number = (UCHAR)index;
        ProcNumber->Reserved = 0;
    }
    return index;
}

ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors)
{
    if (ActiveProcessors) *ActiveProcessors = ((KAFFINITY)1 << NMRH_KM_PROCESSORS) - 1;
    return NMRH_KM_PROCESSORS;
}

ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber)
{
    return (GroupNumber == 0 || GroupNumber == ALL_PROCESSOR_GROUPS) ? NMRH_KM_PROCESSORS : 0;
}

ULONG KeQueryMaximumProcessorCount(void) { return NMRH_KM_PROCESSORS; }

ULONG KeQueryMaximumProcessorCountEx(USHORT GroupNumber) { return KeQueryActiveProcessorCountEx(GroupNumber); }

ULONG KeGetProcessorIndexFromNumber(PPROCESSOR_NUMBER ProcNumber)
{
    if (ProcNumber->Group != 0 || ProcNumber->Number >= NMRH_KM_PROCESSORS) return (ULONG)-1; /* INVALID_PROCESSOR_INDEX */
    return ProcNumber->Number;
}

NTSTATUS KeGetProcessorNumberFromIndex(ULONG ProcIndex, PPROCESSOR_NUMBER ProcNumber)
{
    if (ProcIndex >= NMRH_KM_PROCESSORS) return STATUS_INVALID_PARAMETER;
    ProcNumber->Group = 0;
    ProcNumber->Number = (UCHAR)ProcIndex;
    ProcNumber->Reserved = 0;
    return STATUS_SUCCESS;
}

/* ---- UUIDs: time-based (version 1) layout, made of the world's UUID sequence number ---- */

NTSTATUS ExUuidCreate(UUID *Uuid)
{
    NMRH_HARNESS(w);
    uint64_t seq = 1;
    if (w) {
        nmrh_shim_check_irql(w, PASSIVE_LEVEL, "ExUuidCreate");
        seq = ++w->shim_uuid_seq;
        if (w->current) nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    }
    uint64_t t = SYSTEM_TIME_START + seq;
    Uuid->Data1 = (ULONG)t;
    Uuid->Data2 = (USHORT)(t >> 32);
    Uuid->Data3 = (USHORT)(((t >> 48) & 0x0FFF) | 0x1000); /* version 1 */
    Uuid->Data4[0] = 0x80 | (UCHAR)((seq >> 8) & 0x3F);     /* RFC 4122 variant */
    Uuid->Data4[1] = (UCHAR)seq;
    static const UCHAR node[6] = {0x02, 'n', 'm', 'r', 'h', 0x01}; /* locally administered */
    memcpy(&Uuid->Data4[2], node, sizeof node);
    return STATUS_SUCCESS;
}
