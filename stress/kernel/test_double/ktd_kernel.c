/*
 * User-mode test double of the kernel APIs the replay driver and the example modules call, on
 * pthreads, so that stress/kernel/platform_kernel.c and dispatch.c run unchanged in the tests:
 * system threads are pthreads (thread objects are waitable and reference counted), KEVENTs are a
 * flag under one process-wide mutex and condition variable, spin locks spin for real and raise a
 * per-thread IRQL, pool is the C heap (counted, for leak checks), the performance counter is
 * CLOCK_MONOTONIC. Misuse that the kernel would bugcheck on (waiting at DISPATCH_LEVEL, a spin
 * lock released at the wrong IRQL, freeing untracked pool) aborts the test.
 */
#include <ntddk.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t g_mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static LONG g_pool, g_threads;

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "kernel test double: %s\n", what);
    abort();
}

/* ---- IRQL ---- */

static __thread KIRQL t_irql;

KIRQL KeGetCurrentIrql(void) { return t_irql; }

void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    if (NewIrql < t_irql) die("KeRaiseIrql below the current IRQL");
    *OldIrql = t_irql;
    t_irql = NewIrql;
}

void KeLowerIrql(KIRQL NewIrql)
{
    if (NewIrql > t_irql) die("KeLowerIrql above the current IRQL");
    t_irql = NewIrql;
}

KIRQL KeRaiseIrqlToDpcLevel(void)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    return old;
}

/* ---- spin locks and fast mutexes ---- */

void KeInitializeSpinLock(PKSPIN_LOCK SpinLock) { *SpinLock = 0; }

static void spin(volatile ULONG_PTR *lock)
{
    while (__atomic_exchange_n(lock, (ULONG_PTR)1, __ATOMIC_ACQUIRE)) sched_yield();
}

static void unspin(volatile ULONG_PTR *lock)
{
    if (__atomic_exchange_n(lock, (ULONG_PTR)0, __ATOMIC_RELEASE) == 0) die("spin lock released while not held");
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    if (t_irql > DISPATCH_LEVEL) die("KeAcquireSpinLock above DISPATCH_LEVEL");
    KIRQL old = t_irql;
    t_irql = DISPATCH_LEVEL;
    spin(SpinLock);
    return old;
}

void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    if (t_irql != DISPATCH_LEVEL) die("KeReleaseSpinLock not at DISPATCH_LEVEL");
    unspin(SpinLock);
    t_irql = NewIrql;
}

void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    if (t_irql < DISPATCH_LEVEL) die("KeAcquireSpinLockAtDpcLevel below DISPATCH_LEVEL");
    spin(SpinLock);
}

void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    if (t_irql < DISPATCH_LEVEL) die("KeReleaseSpinLockFromDpcLevel below DISPATCH_LEVEL");
    unspin(SpinLock);
}

void ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    FastMutex->Count = 0;
    FastMutex->Owner = NULL;
}

void ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    if (t_irql > APC_LEVEL) die("ExAcquireFastMutex above APC_LEVEL");
    KIRQL old = t_irql;
    t_irql = APC_LEVEL;
    while (__atomic_exchange_n(&FastMutex->Count, 1, __ATOMIC_ACQUIRE)) sched_yield();
    FastMutex->OldIrql = old;
}

void ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old = FastMutex->OldIrql;
    __atomic_store_n(&FastMutex->Count, 0, __ATOMIC_RELEASE);
    t_irql = old;
}

/* ---- events and waits ---- */

void KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    Event->Type = (LONG)Type;
    Event->SignalState = State ? 1 : 0;
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    (void)Increment, (void)Wait;
    if (t_irql > DISPATCH_LEVEL) die("KeSetEvent above DISPATCH_LEVEL");
    pthread_mutex_lock(&g_mx);
    LONG prev = Event->SignalState;
    Event->SignalState = 1;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mx);
    return prev;
}

void KeClearEvent(PRKEVENT Event)
{
    pthread_mutex_lock(&g_mx);
    Event->SignalState = 0;
    pthread_mutex_unlock(&g_mx);
}

LONG KeResetEvent(PRKEVENT Event)
{
    pthread_mutex_lock(&g_mx);
    LONG prev = Event->SignalState;
    Event->SignalState = 0;
    pthread_mutex_unlock(&g_mx);
    return prev;
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    pthread_mutex_lock(&g_mx);
    LONG s = Event->SignalState;
    pthread_mutex_unlock(&g_mx);
    return s;
}

static struct timespec after_100ns(LONGLONG units)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long ns = (long long)ts.tv_nsec + (units % 10000000) * 100;
    ts.tv_sec += (time_t)(units / 10000000) + (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

/* Timed waits on the monotonic clock, as the kernel's relative timeouts are; set up before main. */
__attribute__((constructor)) static void init_clock(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_destroy(&g_cv);
    pthread_cond_init(&g_cv, &attr);
    pthread_condattr_destroy(&attr);
}

/* Object: a KEVENT, or a thread object (which starts with one). Relative timeouts only. */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    (void)WaitReason, (void)WaitMode, (void)Alertable;
    PRKEVENT e = Object;
    if (t_irql > DISPATCH_LEVEL || (t_irql == DISPATCH_LEVEL && (!Timeout || Timeout->QuadPart != 0)))
        die("KeWaitForSingleObject that can block at DISPATCH_LEVEL");
    if (Timeout && Timeout->QuadPart > 0) die("absolute timeouts are not supported by the test double");
    struct timespec deadline = {0, 0};
    if (Timeout) deadline = after_100ns(-Timeout->QuadPart);
    pthread_mutex_lock(&g_mx);
    while (!e->SignalState) {
        int r = Timeout ? pthread_cond_timedwait(&g_cv, &g_mx, &deadline) : pthread_cond_wait(&g_cv, &g_mx);
        if (r == ETIMEDOUT && !e->SignalState) {
            pthread_mutex_unlock(&g_mx);
            return STATUS_TIMEOUT;
        }
    }
    if (e->Type == SynchronizationEvent) e->SignalState = 0;
    pthread_mutex_unlock(&g_mx);
    return STATUS_SUCCESS;
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    (void)WaitMode, (void)Alertable;
    if (t_irql > APC_LEVEL) die("KeDelayExecutionThread above APC_LEVEL");
    LONGLONG units = Interval->QuadPart < 0 ? -Interval->QuadPart : Interval->QuadPart;
    struct timespec ts = {(time_t)(units / 10000000), (long)(units % 10000000) * 100};
    nanosleep(&ts, NULL);
    return STATUS_SUCCESS;
}

void KeStallExecutionProcessor(ULONG MicroSeconds)
{
    struct timespec ts = {(time_t)(MicroSeconds / 1000000), (long)(MicroSeconds % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    struct timespec ts;
    LARGE_INTEGER c;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    c.QuadPart = (LONGLONG)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    if (PerformanceFrequency) PerformanceFrequency->QuadPart = 1000000000LL;
    return c;
}

/* ---- system threads and thread objects ---- */

typedef struct ktd_thread {
    KEVENT done; /* first: a thread object is waitable as an event */
    PKSTART_ROUTINE routine;
    PVOID context;
    LONG refs;   /* the handle, references, and the running thread itself */
} ktd_thread;

static __thread ktd_thread *t_self;
static __thread ktd_thread t_other; /* KeGetCurrentThread of threads the double did not create */
static LONG g_thread_type;
static POBJECT_TYPE g_thread_type_ptr = (POBJECT_TYPE)&g_thread_type;
POBJECT_TYPE *PsThreadType = &g_thread_type_ptr;

static void deref(ktd_thread *t)
{
    if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) free(t);
}

static _Noreturn void thread_exit(void)
{
    ktd_thread *t = t_self;
    if (t_irql != PASSIVE_LEVEL) die("system thread ended above PASSIVE_LEVEL");
    __atomic_sub_fetch(&g_threads, 1, __ATOMIC_ACQ_REL);
    KeSetEvent(&t->done, IO_NO_INCREMENT, FALSE);
    deref(t);
    pthread_exit(NULL);
}

static void *thread_start(void *arg)
{
    t_self = arg;
    t_irql = PASSIVE_LEVEL;
    t_self->routine(t_self->context);
    thread_exit();
}

NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                              HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine, PVOID StartContext)
{
    (void)DesiredAccess, (void)ObjectAttributes, (void)ProcessHandle, (void)ClientId;
    if (t_irql != PASSIVE_LEVEL) die("PsCreateSystemThread above PASSIVE_LEVEL");
    ktd_thread *t = calloc(1, sizeof *t);
    if (!t) return STATUS_INSUFFICIENT_RESOURCES;
    KeInitializeEvent(&t->done, NotificationEvent, FALSE);
    t->routine = StartRoutine;
    t->context = StartContext;
    t->refs = 2;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t pt;
    __atomic_add_fetch(&g_threads, 1, __ATOMIC_ACQ_REL);
    int r = pthread_create(&pt, &attr, thread_start, t);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        __atomic_sub_fetch(&g_threads, 1, __ATOMIC_ACQ_REL);
        free(t);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *ThreadHandle = t;
    return STATUS_SUCCESS;
}

NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    (void)ExitStatus;
    if (!t_self) die("PsTerminateSystemThread outside a system thread");
    thread_exit();
}

NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                   KPROCESSOR_MODE AccessMode, PVOID *Object, PVOID HandleInformation)
{
    (void)DesiredAccess, (void)AccessMode, (void)HandleInformation;
    if (ObjectType != NULL && ObjectType != *PsThreadType) return STATUS_OBJECT_TYPE_MISMATCH;
    ktd_thread *t = Handle;
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
    *Object = t;
    return STATUS_SUCCESS;
}

LONG_PTR ObfDereferenceObject(PVOID Object)
{
    deref(Object);
    return 0;
}

NTSTATUS ZwClose(HANDLE Handle)
{
    deref(Handle);
    return STATUS_SUCCESS;
}

PKTHREAD KeGetCurrentThread(void) { return (PKTHREAD)(t_self ? t_self : &t_other); }

/* Distinct for every live thread and never 0, as on Windows. */
HANDLE PsGetCurrentThreadId(void) { return (HANDLE)KeGetCurrentThread(); }

LONG ktd_threads_running(void) { return __atomic_load_n(&g_threads, __ATOMIC_ACQUIRE); }

/* ---- pool ---- */

static PVOID pool_alloc(SIZE_T n, ULONG tag)
{
    if (tag == 0) return NULL;
    PVOID p = calloc(1, n ? n : 1);
    if (p) __atomic_add_fetch(&g_pool, 1, __ATOMIC_ACQ_REL);
    return p;
}

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    if ((Flags & POOL_FLAG_PAGED) && t_irql > APC_LEVEL) die("paged pool at DISPATCH_LEVEL");
    return pool_alloc(NumberOfBytes, Tag);
}

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    if ((PoolType & 1) && t_irql > APC_LEVEL) die("paged pool at DISPATCH_LEVEL");
    return pool_alloc(NumberOfBytes, Tag);
}

PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return ExAllocatePoolWithTag(PoolType, NumberOfBytes, Tag);
}

void ExFreePoolWithTag(PVOID P, ULONG Tag)
{
    (void)Tag;
    if (!P) die("ExFreePool(NULL)");
    __atomic_sub_fetch(&g_pool, 1, __ATOMIC_ACQ_REL);
    free(P);
}

void ExFreePool(PVOID P) { ExFreePoolWithTag(P, 0); }

LONG ktd_pool_outstanding(void) { return __atomic_load_n(&g_pool, __ATOMIC_ACQUIRE); }

/* ---- debugging ---- */

ULONG DbgPrint(PCSTR Format, ...)
{
    if (getenv("NMRH_KTD_VERBOSE")) {
        va_list ap;
        va_start(ap, Format);
        vfprintf(stderr, Format, ap);
        va_end(ap);
    }
    return 0;
}

ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    (void)ComponentId, (void)Level;
    if (getenv("NMRH_KTD_VERBOSE")) {
        va_list ap;
        va_start(ap, Format);
        vfprintf(stderr, Format, ap);
        va_end(ap);
    }
    return 0;
}

void nmrh_km_primitive_point(void) {}

void nmrh_km_assert_failed(const char *expr, const char *file, int line)
{
    fprintf(stderr, "kernel test double: NT_ASSERT(%s) failed at %s:%d\n", expr, file, line);
    abort();
}

void KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4)
{
    fprintf(stderr, "kernel test double: KeBugCheckEx(0x%x, %#lx, %#lx, %#lx, %#lx)\n", (unsigned)BugCheckCode,
            (unsigned long)P1, (unsigned long)P2, (unsigned long)P3, (unsigned long)P4);
    abort();
}

/* ---- work items: each runs on a thread of its own, at PASSIVE_LEVEL ---- */

struct _IO_WORKITEM {
    PDEVICE_OBJECT device;
    PIO_WORKITEM_ROUTINE routine;
    PVOID context;
};

PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    PIO_WORKITEM w = calloc(1, sizeof *w);
    if (w) w->device = DeviceObject;
    return w;
}

static void *work_item_thread(void *arg)
{
    PIO_WORKITEM w = arg;
    t_irql = PASSIVE_LEVEL;
    w->routine(w->device, w->context); /* may free the work item (IoFreeWorkItem) */
    return NULL;
}

void IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine, WORK_QUEUE_TYPE QueueType, PVOID Context)
{
    (void)QueueType;
    IoWorkItem->routine = WorkerRoutine;
    IoWorkItem->context = Context;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, work_item_thread, IoWorkItem) != 0) die("IoQueueWorkItem: no thread");
    pthread_attr_destroy(&attr);
}

void IoFreeWorkItem(PIO_WORKITEM IoWorkItem) { free(IoWorkItem); }
