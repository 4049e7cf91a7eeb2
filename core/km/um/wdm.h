/*
 * User-mode stand-in for the WDK's wdm.h/ntddk.h, so that NMR module code written for the WDK
 * compiles unchanged against nmrh's kernel-primitive shim (core/shim/).
 *
 * Contract: names, parameter lists and documented semantics follow the WDK; the layouts of
 * objects drivers must not look inside (KEVENT, EX_RUNDOWN_REF, ERESOURCE, ...) are nmrh's own,
 * with the WDK's size where drivers embed them. Base types, SAL and status codes come from
 * ntdef.h (Windows x64 sizes). Every primitive is a scheduling point of the controlled scheduler
 * and is checked for misuse (docs/wdk-surface.md lists what is covered and the rule each misuse
 * reports). This header is for user-mode builds only; the kernel build uses the real WDK/mingw
 * headers.
 */
#ifndef NMRH_UM_WDM_H
#define NMRH_UM_WDM_H

#include "ntdef.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IRQL ---- */
#define PASSIVE_LEVEL 0
#define LOW_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2
#define HIGH_LEVEL 15

NTKERNELAPI KIRQL KeGetCurrentIrql(void);
NTKERNELAPI void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
NTKERNELAPI void KeLowerIrql(KIRQL NewIrql);
NTKERNELAPI KIRQL KeRaiseIrqlToDpcLevel(void);

/* ---- memory helpers ---- */
#define RtlZeroMemory(d, n) memset((d), 0, (n))
#define RtlSecureZeroMemory(d, n) memset((d), 0, (n))
#define RtlFillMemory(d, n, f) memset((d), (f), (n))
#define RtlCopyMemory(d, s, n) memcpy((d), (s), (n))
#define RtlMoveMemory(d, s, n) memmove((d), (s), (n))
#define RtlEqualMemory(a, b, n) (memcmp((a), (b), (n)) == 0)
FORCEINLINE SIZE_T RtlCompareMemory(const void *a, const void *b, SIZE_T n)
{
    SIZE_T i = 0;
    while (i < n && ((const UCHAR *)a)[i] == ((const UCHAR *)b)[i]) i++;
    return i;
}

/* Assertion failures and bugchecks become findings (KRNL-ASSERT, KRNL-BUGCHECK), not aborts.
   As in a checked WDK build, the assertions are expressions yielding BOOLEAN (TRUE when the
   expression holds), so `if (!NT_VERIFY(p != NULL)) return;` works. */
NTKERNELAPI void nmrh_km_assert_failed(const char *expr, const char *file, int line);
/* A function, not ?:, so that `NT_ASSERT(x);` as a statement is not an unused-value warning. */
FORCEINLINE BOOLEAN nmrh_km_assert_check(int holds, const char *expr, const char *file, int line)
{
    if (!holds) nmrh_km_assert_failed(expr, file, line);
    return holds ? TRUE : FALSE;
}
/* Each macro stringizes its own argument, so the message shows the expression as written. */
#define NMRH_KM_ASSERT(e, text) nmrh_km_assert_check(!!(e), text, __FILE__, __LINE__)
#define NT_ASSERT_ACTION(e) NMRH_KM_ASSERT(e, #e)
#define NT_ASSERT(e) NMRH_KM_ASSERT(e, #e)
#define NT_ASSERTMSG(msg, e) NMRH_KM_ASSERT(e, #e)
#define NT_ASSERTMSGW(msg, e) NMRH_KM_ASSERT(e, #e)
#define NT_ASSERT_ASSUME(e) NMRH_KM_ASSERT(e, #e)
#define NT_ASSERTMSG_ASSUME(msg, e) NMRH_KM_ASSERT(e, #e)
#define NT_VERIFY(e) NMRH_KM_ASSERT(e, #e)
#define NT_VERIFYMSG(msg, e) NMRH_KM_ASSERT(e, #e)
#define NT_FRE_ASSERT(e) NMRH_KM_ASSERT(e, #e)
#define ASSERT(e) NMRH_KM_ASSERT(e, #e)
#define ASSERTMSG(msg, e) NMRH_KM_ASSERT(e, #e)
#define NT_ANALYSIS_ASSUME(e) ((void)0)
#define DbgBreakPoint() ((void)0)
NTKERNELAPI _Noreturn void KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                        ULONG_PTR P4);

NTSYSAPI ULONG DbgPrint(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));
NTSYSAPI ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
    __attribute__((format(printf, 3, 4)));
#define KdPrint(x) DbgPrint x
#define DPFLTR_IHVNETWORK_ID 0x5F
#define DPFLTR_ERROR_LEVEL 0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL 2
#define DPFLTR_INFO_LEVEL 3

/* ---- doubly linked lists (pure data structure code, as in the WDK) ---- */
FORCEINLINE void InitializeListHead(PLIST_ENTRY h) { h->Flink = h->Blink = h; }
FORCEINLINE BOOLEAN IsListEmpty(const LIST_ENTRY *h) { return (BOOLEAN)(h->Flink == h); }
FORCEINLINE BOOLEAN RemoveEntryList(PLIST_ENTRY e)
{
    PLIST_ENTRY f = e->Flink, b = e->Blink;
    b->Flink = f;
    f->Blink = b;
    return (BOOLEAN)(f == b);
}
FORCEINLINE PLIST_ENTRY RemoveHeadList(PLIST_ENTRY h)
{
    PLIST_ENTRY e = h->Flink;
    RemoveEntryList(e);
    return e;
}
FORCEINLINE void InsertTailList(PLIST_ENTRY h, PLIST_ENTRY e)
{
    PLIST_ENTRY b = h->Blink;
    e->Flink = h;
    e->Blink = b;
    b->Flink = e;
    h->Blink = e;
}
FORCEINLINE void InsertHeadList(PLIST_ENTRY h, PLIST_ENTRY e)
{
    PLIST_ENTRY f = h->Flink;
    e->Flink = f;
    e->Blink = h;
    f->Blink = e;
    h->Flink = e;
}
FORCEINLINE PLIST_ENTRY RemoveTailList(PLIST_ENTRY h)
{
    PLIST_ENTRY e = h->Blink;
    RemoveEntryList(e);
    return e;
}
FORCEINLINE void AppendTailList(PLIST_ENTRY h, PLIST_ENTRY l)
{
    PLIST_ENTRY t = h->Blink;
    h->Blink->Flink = l;
    h->Blink = l->Blink;
    l->Blink->Flink = h;
    l->Blink = t;
}
FORCEINLINE PSINGLE_LIST_ENTRY PopEntryList(PSINGLE_LIST_ENTRY h)
{
    PSINGLE_LIST_ENTRY e = h->Next;
    if (e) h->Next = e->Next;
    return e;
}
FORCEINLINE void PushEntryList(PSINGLE_LIST_ENTRY h, PSINGLE_LIST_ENTRY e)
{
    e->Next = h->Next;
    h->Next = e;
}

#include "wdm_interlocked.h"

/* ---- pool ---- */
typedef enum _POOL_TYPE {
    NonPagedPool = 0,
    NonPagedPoolExecute = 0,
    PagedPool = 1,
    NonPagedPoolMustSucceed = 2,
    NonPagedPoolCacheAligned = 4,
    PagedPoolCacheAligned = 5,
    NonPagedPoolNx = 512,
} POOL_TYPE;
typedef ULONG64 POOL_FLAGS;
#define POOL_FLAG_USE_QUOTA        0x0000000000000001ULL
#define POOL_FLAG_UNINITIALIZED    0x0000000000000002ULL
#define POOL_FLAG_SESSION          0x0000000000000004ULL
#define POOL_FLAG_CACHE_ALIGNED    0x0000000000000008ULL
#define POOL_FLAG_RAISE_ON_FAILURE 0x0000000000000020ULL
#define POOL_FLAG_NON_PAGED        0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE 0x0000000000000080ULL
#define POOL_FLAG_PAGED            0x0000000000000100ULL

NTKERNELAPI PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
NTKERNELAPI PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
NTKERNELAPI PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
NTKERNELAPI PVOID ExAllocatePoolQuotaZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);
NTKERNELAPI PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);
NTKERNELAPI void ExFreePoolWithTag(PVOID P, ULONG Tag);
NTKERNELAPI void ExFreePool(PVOID P);

/* ---- spin locks and fast mutexes ---- */
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;
NTKERNELAPI void KeInitializeSpinLock(PKSPIN_LOCK SpinLock);
NTKERNELAPI KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);
#define KeAcquireSpinLock(l, old) (*(old) = KeAcquireSpinLockRaiseToDpc(l))
NTKERNELAPI void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);
NTKERNELAPI void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
NTKERNELAPI void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);

typedef struct _FAST_MUTEX {
    LONG Count;
    PVOID Owner;
    KIRQL OldIrql;
} FAST_MUTEX, *PFAST_MUTEX;
NTKERNELAPI void ExInitializeFastMutex(PFAST_MUTEX FastMutex);
NTKERNELAPI void ExAcquireFastMutex(PFAST_MUTEX FastMutex);
NTKERNELAPI void ExReleaseFastMutex(PFAST_MUTEX FastMutex);

/* ---- events and waits ---- */
typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;
typedef enum _KWAIT_REASON { Executive = 0, UserRequest = 6 } KWAIT_REASON;
typedef enum _MODE { KernelMode = 0, UserMode = 1 } MODE;
typedef struct _KEVENT {
    LONG Type;
    LONG SignalState;
    ULONG_PTR Reserved[2];
} KEVENT, *PKEVENT, *PRKEVENT;
#define IO_NO_INCREMENT 0
#define IO_NETWORK_INCREMENT 2

NTKERNELAPI void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State);
NTKERNELAPI LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait);
NTKERNELAPI void KeClearEvent(PRKEVENT Event);
NTKERNELAPI LONG KeResetEvent(PRKEVENT Event);
NTKERNELAPI LONG KeReadStateEvent(PRKEVENT Event);
/* Object must be a KEVENT in user mode. A NULL or non-zero Timeout at DISPATCH_LEVEL is a finding;
   a finite timeout expires only when every other thread is blocked or finished (so it never hides
   a hang and never fires early in a way the schedule cannot reproduce). */
NTKERNELAPI NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                                           BOOLEAN Alertable, PLARGE_INTEGER Timeout);
NTKERNELAPI NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                            PLARGE_INTEGER Interval);
NTKERNELAPI void KeStallExecutionProcessor(ULONG MicroSeconds);

/* ---- rundown protection ---- */
typedef struct _EX_RUNDOWN_REF {
    ULONG_PTR Count;
} EX_RUNDOWN_REF, *PEX_RUNDOWN_REF;
NTKERNELAPI void ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef);
NTKERNELAPI void ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef);
NTKERNELAPI BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef);
NTKERNELAPI void ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef);
NTKERNELAPI void ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef);
NTKERNELAPI void ExRundownCompleted(PEX_RUNDOWN_REF RunRef);

/* ---- driver and device objects, work items ---- */
typedef struct _DEVICE_OBJECT *PDEVICE_OBJECT;
typedef struct _DRIVER_OBJECT *PDRIVER_OBJECT;
typedef void NTAPI DRIVER_UNLOAD(PDRIVER_OBJECT DriverObject);
typedef DRIVER_UNLOAD *PDRIVER_UNLOAD;
typedef NTSTATUS NTAPI DRIVER_INITIALIZE(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);
typedef struct _DRIVER_OBJECT {
    SHORT Type;
    SHORT Size;
    PDEVICE_OBJECT DeviceObject;
    PVOID DriverExtension;
    PDRIVER_UNLOAD DriverUnload;
} DRIVER_OBJECT;
typedef struct _DEVICE_OBJECT {
    SHORT Type;
    USHORT Size;
    PDRIVER_OBJECT DriverObject;
    PVOID DeviceExtension;
} DEVICE_OBJECT;

typedef struct _IO_WORKITEM *PIO_WORKITEM;
typedef void NTAPI IO_WORKITEM_ROUTINE(PDEVICE_OBJECT DeviceObject, PVOID Context);
typedef IO_WORKITEM_ROUTINE *PIO_WORKITEM_ROUTINE;
typedef enum _WORK_QUEUE_TYPE { CriticalWorkQueue, DelayedWorkQueue, HyperCriticalWorkQueue } WORK_QUEUE_TYPE;
NTKERNELAPI PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject);
/* The routine runs on a new logical kernel thread at PASSIVE_LEVEL, scheduled like any other. */
NTKERNELAPI void IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine,
                                 WORK_QUEUE_TYPE QueueType, PVOID Context);
NTKERNELAPI void IoFreeWorkItem(PIO_WORKITEM IoWorkItem);

/* ---- critical and guarded regions (per logical thread) ---- */
/* Leaving more often than entering, or a thread that ends or returns from a callback inside a
   region it entered, is KRNL-PRIMITIVE-MISUSE. */
NTKERNELAPI void KeEnterCriticalRegion(void);
NTKERNELAPI void KeLeaveCriticalRegion(void);
NTKERNELAPI void KeEnterGuardedRegion(void);
NTKERNELAPI void KeLeaveGuardedRegion(void);
NTKERNELAPI BOOLEAN KeAreApcsDisabled(void);
NTKERNELAPI BOOLEAN KeAreAllApcsDisabled(void);

/* ---- push locks ---- */
/* The WDK's EX_PUSH_LOCK is pointer-sized; nmrh keeps the owner and the shared count in it.
   Acquire at IRQL <= APC_LEVEL with normal kernel APCs disabled (KeEnterCriticalRegion); not
   recursive; released in the mode it was acquired in. A contended acquire blocks. */
typedef ULONG_PTR EX_PUSH_LOCK, *PEX_PUSH_LOCK;
#define EX_DEFAULT_PUSH_LOCK_FLAGS 0
NTKERNELAPI void ExInitializePushLock(PEX_PUSH_LOCK PushLock);
NTKERNELAPI void ExAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
NTKERNELAPI void ExAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
NTKERNELAPI void ExReleasePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
NTKERNELAPI void ExReleasePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
NTKERNELAPI BOOLEAN ExTryAcquirePushLockExclusiveEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
NTKERNELAPI BOOLEAN ExTryAcquirePushLockSharedEx(PEX_PUSH_LOCK PushLock, ULONG Flags);
#define ExAcquirePushLockExclusive(Lock) ExAcquirePushLockExclusiveEx(Lock, EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExTryAcquirePushLockExclusive(Lock) ExTryAcquirePushLockExclusiveEx(Lock, EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExTryAcquirePushLockShared(Lock) ExTryAcquirePushLockSharedEx(Lock, EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExAcquirePushLockShared(Lock) ExAcquirePushLockSharedEx(Lock, EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExReleasePushLockExclusive(Lock) ExReleasePushLockExclusiveEx(Lock, EX_DEFAULT_PUSH_LOCK_FLAGS)
#define ExReleasePushLockShared(Lock) ExReleasePushLockSharedEx(Lock, EX_DEFAULT_PUSH_LOCK_FLAGS)

/* ---- executive resources (ERESOURCE): recursive reader/writer locks ---- */
/* Same rules as push locks for IRQL and APCs; an owner may acquire again (exclusive or shared),
   and a shared owner asking for exclusive access deadlocks (a finding). Up to
   NMRH_ERESOURCE_OWNERS threads may hold one resource shared at a time. */
#define NMRH_ERESOURCE_OWNERS 10
typedef struct _ERESOURCE {
    ULONG_PTR ExclusiveOwner;      /* logical thread id + 1, 0 when not held exclusively */
    LONG ExclusiveCount;           /* recursion depth of the exclusive owner */
    LONG Initialized;
    struct {
        ULONG Owner;               /* logical thread id + 1 */
        LONG Count;
    } Shared[NMRH_ERESOURCE_OWNERS];
    ULONG_PTR Reserved;
} ERESOURCE, *PERESOURCE;
#if defined(_WIN64)
C_ASSERT(sizeof(ERESOURCE) == 0x68); /* the WDK's x64 size: drivers embed it in their structures */
#endif
typedef ULONG_PTR ERESOURCE_THREAD, *PERESOURCE_THREAD;
NTKERNELAPI NTSTATUS ExInitializeResourceLite(PERESOURCE Resource);
NTKERNELAPI NTSTATUS ExReinitializeResourceLite(PERESOURCE Resource);
NTKERNELAPI NTSTATUS ExDeleteResourceLite(PERESOURCE Resource);
NTKERNELAPI BOOLEAN ExAcquireResourceExclusiveLite(PERESOURCE Resource, BOOLEAN Wait);
NTKERNELAPI BOOLEAN ExAcquireResourceSharedLite(PERESOURCE Resource, BOOLEAN Wait);
NTKERNELAPI BOOLEAN ExTryToAcquireResourceExclusiveLite(PERESOURCE Resource);
NTKERNELAPI void ExReleaseResourceLite(PERESOURCE Resource);
NTKERNELAPI void ExReleaseResourceForThreadLite(PERESOURCE Resource, ERESOURCE_THREAD ResourceThreadId);
NTKERNELAPI BOOLEAN ExIsResourceAcquiredExclusiveLite(PERESOURCE Resource);
NTKERNELAPI ULONG ExIsResourceAcquiredSharedLite(PERESOURCE Resource);
NTKERNELAPI ERESOURCE_THREAD ExGetCurrentResourceThread(void);
NTKERNELAPI PVOID ExEnterCriticalRegionAndAcquireResourceExclusive(PERESOURCE Resource);
NTKERNELAPI PVOID ExEnterCriticalRegionAndAcquireResourceShared(PERESOURCE Resource);
NTKERNELAPI void ExReleaseResourceAndLeaveCriticalRegion(PERESOURCE Resource);
#define ExReleaseResource(R) ExReleaseResourceLite(R)
#define ExIsResourceAcquiredLite ExIsResourceAcquiredSharedLite

/* ---- time, processors, identifiers ---- */
/* Deterministic: the clocks advance by a fixed step at each call, so runs replay identically. */
NTKERNELAPI LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);
NTKERNELAPI void KeQuerySystemTime(PLARGE_INTEGER CurrentTime);
NTKERNELAPI void KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime);
NTKERNELAPI void KeQueryTickCount(PLARGE_INTEGER CurrentCount);
NTKERNELAPI ULONG KeQueryTimeIncrement(void);
NTKERNELAPI ULONGLONG KeQueryInterruptTime(void);
NTKERNELAPI ULONGLONG KeQueryInterruptTimePrecise(PULONG64 QpcTimeStamp);
NTKERNELAPI ULONGLONG KeQueryUnbiasedInterruptTime(void);
typedef struct _PROCESSOR_NUMBER {
    USHORT Group;
    UCHAR Number;
    UCHAR Reserved;
} PROCESSOR_NUMBER, *PPROCESSOR_NUMBER;
C_ASSERT(sizeof(PROCESSOR_NUMBER) == 4);
#define ALL_PROCESSOR_GROUPS 0xffff
/* nmrh models NMRH_KM_PROCESSORS processors in group 0; a logical thread runs on one chosen by
   its id, so per-processor data of a driver is shared the way it would be on a real machine. */
#define NMRH_KM_PROCESSORS 4
NTKERNELAPI ULONG KeGetCurrentProcessorNumber(void);
NTKERNELAPI ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber);
NTKERNELAPI ULONG KeGetCurrentProcessorIndex(void);
NTKERNELAPI ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors);
NTKERNELAPI ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber);
NTKERNELAPI ULONG KeQueryMaximumProcessorCount(void);
NTKERNELAPI ULONG KeQueryMaximumProcessorCountEx(USHORT GroupNumber);
NTKERNELAPI ULONG KeGetProcessorIndexFromNumber(PPROCESSOR_NUMBER ProcNumber);
NTKERNELAPI NTSTATUS KeGetProcessorNumberFromIndex(ULONG ProcIndex, PPROCESSOR_NUMBER ProcNumber);
/* Deterministic version-1-shaped UUIDs, distinct within a run. */
NTKERNELAPI NTSTATUS ExUuidCreate(UUID *Uuid);

/* ---- fail fast: a finding (KRNL-BUGCHECK, KERNEL_SECURITY_CHECK_FAILURE), never a return ---- */
#define FAST_FAIL_LEGACY_GS_VIOLATION 0
#define FAST_FAIL_VTGUARD_CHECK_FAILURE 1
#define FAST_FAIL_STACK_COOKIE_CHECK_FAILURE 2
#define FAST_FAIL_CORRUPT_LIST_ENTRY 3
#define FAST_FAIL_INCORRECT_STACK 4
#define FAST_FAIL_INVALID_ARG 5
#define FAST_FAIL_GS_COOKIE_INIT 6
#define FAST_FAIL_FATAL_APP_EXIT 7
#define FAST_FAIL_RANGE_CHECK_FAILURE 8
#define FAST_FAIL_INVALID_BUFFER_ACCESS 28
#define FAST_FAIL_INVALID_REFERENCE_COUNT 14
#define FAST_FAIL_INVALID_FAST_FAIL_CODE 0xFFFFFFFF
#define KERNEL_SECURITY_CHECK_FAILURE 0x139
/* A macro over nmrh's function, so that clang's MSVC-mode builtin of the same name (which would
   trap the process) is never the one called. */
NTKERNELAPI DECLSPEC_NORETURN void nmrh_km_fastfail(unsigned int Code);
#define __fastfail(Code) nmrh_km_fastfail(Code)
#define RtlFailFast(Code) nmrh_km_fastfail(Code)

#ifdef __cplusplus
}
#endif
#endif /* NMRH_UM_WDM_H */
