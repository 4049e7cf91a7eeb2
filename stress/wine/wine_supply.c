/*
 * The kernel routines the driver imports that Wine 8 lacks (ExAllocatePool2) or stubs
 * (KeRegisterBugCheckCallback, KeDeregisterBugCheckCallback, hal.dll's KeStallExecutionProcessor:
 * calling a Wine stub ends the process), supplied by the Wine-only NETIO.SYS. Wine resolves a
 * missing import to a stub, and calls NETIO.SYS's entry point after the driver's imports are
 * resolved and before DriverEntry: the entry point rewrites those import slots of every module
 * that imports NETIO.SYS. The driver itself stays the binary a lab machine gets.
 */
#include <ntddk.h>

#include "wine_glue.h"

#ifndef POOL_FLAG_UNINITIALIZED
#define POOL_FLAG_UNINITIALIZED 0x0000000000000002ULL
#define POOL_FLAG_PAGED 0x0000000000000100ULL
#endif

static PVOID NTAPI wine_ExAllocatePool2(ULONG64 Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    PVOID p = ExAllocatePoolWithTag(Flags & POOL_FLAG_PAGED ? PagedPool : NonPagedPool, NumberOfBytes, Tag);
    if (p && !(Flags & POOL_FLAG_UNINITIALIZED)) memset(p, 0, NumberOfBytes);
    return p;
}

/* There are no bugchecks under Wine: registering succeeds and the callback never runs. */
static BOOLEAN NTAPI wine_KeRegisterBugCheckCallback(PKBUGCHECK_CALLBACK_RECORD CallbackRecord,
                                                     PKBUGCHECK_CALLBACK_ROUTINE CallbackRoutine, PVOID Buffer,
                                                     ULONG Length, PUCHAR Component)
{
    CallbackRecord->CallbackRoutine = CallbackRoutine;
    CallbackRecord->Buffer = Buffer;
    CallbackRecord->Length = Length;
    CallbackRecord->Component = Component;
    CallbackRecord->State = BufferInserted;
    return TRUE;
}

static BOOLEAN NTAPI wine_KeDeregisterBugCheckCallback(PKBUGCHECK_CALLBACK_RECORD CallbackRecord)
{
    if (CallbackRecord->State != BufferInserted) return FALSE;
    CallbackRecord->State = BufferEmpty;
    return TRUE;
}

/* A busy wait, as on Windows (Wine 8's hal.dll stubs it). */
static VOID NTAPI wine_KeStallExecutionProcessor(ULONG MicroSeconds)
{
    LARGE_INTEGER freq, now, start = KeQueryPerformanceCounter(&freq);
    LONGLONG ticks = freq.QuadPart / 1000000 * MicroSeconds + freq.QuadPart % 1000000 * MicroSeconds / 1000000;
    do {
        YieldProcessor();
        now = KeQueryPerformanceCounter(NULL);
    } while (now.QuadPart - start.QuadPart < ticks);
}

typedef struct supplied {
    const char *dll, *name;
    void *fn;
} supplied;

static const supplied g_supplied[] = {
    {"ntoskrnl.exe", "ExAllocatePool2", (void *)wine_ExAllocatePool2},
    {"ntoskrnl.exe", "KeRegisterBugCheckCallback", (void *)wine_KeRegisterBugCheckCallback},
    {"ntoskrnl.exe", "KeDeregisterBugCheckCallback", (void *)wine_KeDeregisterBugCheckCallback},
    {"hal.dll", "KeStallExecutionProcessor", (void *)wine_KeStallExecutionProcessor},
};

/* ---- rewriting the import slots of the modules that import this DLL ---- */

/* ntdll.dll (Wine's, user mode: everything under Wine is). */
NTSYSAPI NTSTATUS NTAPI NtProtectVirtualMemory(HANDLE ProcessHandle, PVOID *BaseAddress, PSIZE_T RegionSize,
                                               ULONG NewProtect, PULONG OldProtect);

typedef struct ldr_entry { /* the start of LDR_DATA_TABLE_ENTRY (x64) */
    LIST_ENTRY InLoadOrderLinks, InMemoryOrderLinks, InInitializationOrderLinks;
    PVOID DllBase, EntryPoint;
    ULONG SizeOfImage;
    UNICODE_STRING FullDllName, BaseDllName;
} ldr_entry;

static int same_name(const char *a, const char *b) /* ASCII, case-insensitive */
{
    for (;; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a, y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y) return 0;
        if (!x) return 1;
    }
}

static int equal(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* The import descriptors of an x64 image (IMAGE_IMPORT_DESCRIPTOR, 20 bytes each), or NULL. */
static const ULONG *import_descriptors(const UCHAR *base)
{
    if (base[0] != 'M' || base[1] != 'Z') return NULL;
    const UCHAR *nt = base + *(const ULONG *)(base + 0x3C);
    if (*(const ULONG *)nt != 0x00004550 || *(const USHORT *)(nt + 24) != 0x20B) return NULL; /* PE32+ */
    ULONG rva = *(const ULONG *)(nt + 24 + 112 + 8);                                        /* DataDirectory[1] */
    return rva ? (const ULONG *)(base + rva) : NULL;
}

static int imports_dll(const UCHAR *base, const char *dll)
{
    const ULONG *d = import_descriptors(base);
    for (; d && d[3]; d += 5)
        if (same_name((const char *)(base + d[3]), dll)) return 1;
    return 0;
}

static void write_slot(ULONG_PTR *slot, void *fn)
{
    PVOID addr = slot;
    SIZE_T size = sizeof *slot;
    ULONG old;
    if (!NT_SUCCESS(NtProtectVirtualMemory((HANDLE)-1, &addr, &size, PAGE_READWRITE, &old))) return;
    *slot = (ULONG_PTR)fn;
    addr = slot, size = sizeof *slot;
    NtProtectVirtualMemory((HANDLE)-1, &addr, &size, old, &old);
}

static void supply_imports(UCHAR *base)
{
    for (const ULONG *d = import_descriptors(base); d && d[3]; d += 5) {
        const char *dll = (const char *)(base + d[3]);
        if (!d[0]) continue;
        const ULONG64 *names = (const ULONG64 *)(base + d[0]); /* OriginalFirstThunk */
        ULONG_PTR *slots = (ULONG_PTR *)(base + d[4]);          /* FirstThunk */
        for (size_t i = 0; names[i]; i++) {
            if (names[i] >> 63) continue; /* by ordinal */
            const char *name = (const char *)(base + (ULONG)names[i] + 2);
            for (size_t k = 0; k < sizeof g_supplied / sizeof g_supplied[0]; k++)
                if (same_name(dll, g_supplied[k].dll) && equal(name, g_supplied[k].name)) {
                    write_slot(&slots[i], g_supplied[k].fn);
                    DbgPrint("netio (nmrh test double): supplied %s!%s\n", g_supplied[k].dll, name);
                }
        }
    }
}

void wine_supply_importers(PVOID self)
{
    /* The loader's module list: TEB (gs) -> PEB (+0x60) -> PEB_LDR_DATA (+0x18) -> InLoadOrderModuleList (+0x10). */
    const UCHAR *peb = (const UCHAR *)__readgsqword(0x60);
    LIST_ENTRY *head = (LIST_ENTRY *)(*(UCHAR *const *)(peb + 0x18) + 0x10);
    for (LIST_ENTRY *e = head->Flink; e != head; e = e->Flink) {
        ldr_entry *m = CONTAINING_RECORD(e, ldr_entry, InLoadOrderLinks);
        if (m->DllBase != self && imports_dll(m->DllBase, "NETIO.SYS")) supply_imports(m->DllBase);
    }
}

