/*
 * Test double of the WDK's ntddk.h for the user-mode tests of the replay driver
 * (stress/kernel/test_double/ktd_kernel.c implements it with pthreads): the user-mode wdm.h of
 * core/km/um, plus the few thread, object and timer APIs that stress/kernel/platform_kernel.c
 * uses and that the model's shim does not need. Names and signatures are the WDK's.
 *
 * Include order in the test build: this directory, then core/km/um, so that <ntddk.h> is this
 * file everywhere (modules included) and <wdm.h> is core/km/um/wdm.h.
 */
#ifndef NMRH_KTD_NTDDK_H
#define NMRH_KTD_NTDDK_H

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef ULONG ACCESS_MASK;
#define SYNCHRONIZE 0x00100000L
#define THREAD_ALL_ACCESS 0x001FFFFFL
#define OBJ_KERNEL_HANDLE 0x00000200L
#ifndef STATUS_OBJECT_TYPE_MISMATCH
#define STATUS_OBJECT_TYPE_MISMATCH ((NTSTATUS)0xC0000024L)
#endif

typedef struct _OBJECT_ATTRIBUTES {
    ULONG Length;
    HANDLE RootDirectory;
    PUNICODE_STRING ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor;
    PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;

#define InitializeObjectAttributes(p, n, a, r, s)                                                  \
    do {                                                                                           \
        (p)->Length = sizeof(OBJECT_ATTRIBUTES);                                                   \
        (p)->RootDirectory = (r);                                                                  \
        (p)->Attributes = (a);                                                                     \
        (p)->ObjectName = (n);                                                                     \
        (p)->SecurityDescriptor = (s);                                                             \
        (p)->SecurityQualityOfService = NULL;                                                      \
    } while (0)

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

typedef VOID NTAPI KSTART_ROUTINE(PVOID StartContext);
typedef KSTART_ROUTINE *PKSTART_ROUTINE;

typedef struct _OBJECT_TYPE *POBJECT_TYPE;
extern POBJECT_TYPE *PsThreadType;
typedef struct _KTHREAD *PKTHREAD, *PRKTHREAD;

NTKERNELAPI NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                                          HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                                          PVOID StartContext);
NTKERNELAPI _Noreturn NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus);
NTKERNELAPI NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                               KPROCESSOR_MODE AccessMode, PVOID *Object, PVOID HandleInformation);
NTKERNELAPI LONG_PTR ObfDereferenceObject(PVOID Object);
#define ObDereferenceObject ObfDereferenceObject
NTSYSAPI NTSTATUS ZwClose(HANDLE Handle);
NTKERNELAPI PKTHREAD KeGetCurrentThread(void);
NTKERNELAPI HANDLE PsGetCurrentThreadId(void);
NTKERNELAPI LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);

/* ---- test-only controls of the double (not WDK) ---- */
/* Pool blocks allocated and not yet freed, over the whole process. */
LONG ktd_pool_outstanding(void);
/* System threads created and not yet ended. */
LONG ktd_threads_running(void);

#ifdef __cplusplus
}
#endif
#endif
