/*
 * The NMR test double's host as a kernel-style DLL (ktd_nmr_os.h): the Wine-only NETIO.SYS
 * (stress/wine/) built by stress/kernel/build_kernel.sh. A fast mutex for the lock; the condition
 * is a notification event cleared under the lock by a waiter before it sleeps, so that a broadcast
 * after the waiter's check always wakes it (the wait has a short timeout as well: callers loop);
 * threads are system threads; memory is tagged non-paged pool.
 */
#include <ntddk.h>

#include "ktd_nmr_os.h"

#define KTD_TAG 0x64524D4Eu /* 'NMRd' in a pool dump */

static FAST_MUTEX g_mx;
static KEVENT g_cv;

void ktd_nmr_os_init(void); /* netio_wine.c, before any Nmr* call */
void ktd_nmr_os_init(void)
{
    ExInitializeFastMutex(&g_mx);
    KeInitializeEvent(&g_cv, NotificationEvent, FALSE);
}

void ktd_os_lock(void) { ExAcquireFastMutex(&g_mx); }
void ktd_os_unlock(void) { ExReleaseFastMutex(&g_mx); }

void ktd_os_wait(void)
{
    LARGE_INTEGER timeout;
    timeout.QuadPart = -10 * 1000 * 10; /* 10 ms, relative */
    KeClearEvent(&g_cv);
    ExReleaseFastMutex(&g_mx);
    KeWaitForSingleObject(&g_cv, Executive, KernelMode, FALSE, &timeout);
    ExAcquireFastMutex(&g_mx);
}

void ktd_os_broadcast(void) { KeSetEvent(&g_cv, IO_NO_INCREMENT, FALSE); }

typedef struct start {
    void (*fn)(void *);
    void *arg;
} start;

static VOID NTAPI thread_main(PVOID p)
{
    start s = *(start *)p;
    ExFreePoolWithTag(p, KTD_TAG);
    s.fn(s.arg);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

void ktd_os_start_thread(void (*fn)(void *), void *arg)
{
    start *s = ExAllocatePoolWithTag(NonPagedPool, sizeof *s, KTD_TAG);
    if (!s) ktd_os_fatal("no memory for a thread");
    s->fn = fn, s->arg = arg;
    OBJECT_ATTRIBUTES oa;
    HANDLE h;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    if (!NT_SUCCESS(PsCreateSystemThread(&h, THREAD_ALL_ACCESS, &oa, NULL, NULL, thread_main, s)))
        ktd_os_fatal("PsCreateSystemThread failed");
    ZwClose(h);
}

void *ktd_os_zalloc(size_t n)
{
    void *p = ExAllocatePoolWithTag(NonPagedPool, n ? n : 1, KTD_TAG);
    if (p) memset(p, 0, n);
    return p;
}

void ktd_os_free(void *p)
{
    if (p) ExFreePoolWithTag(p, KTD_TAG);
}

_Noreturn void ktd_os_fatal(const char *what)
{
    DbgPrint("netio (nmrh test double): %s\n", what);
    KeBugCheckEx(0x4E4D5248 /* 'NMRH' */, 0, 0, 0, 0);
}
