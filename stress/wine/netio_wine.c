/*
 * The Wine-only NETIO.SYS: the NMR test double (stress/kernel/test_double/ktd_nmr.c, the same code
 * the driver's user-mode tests run against) as a kernel-style DLL that exports the nine Nmr*
 * functions, so that the real nmrhstress.sys binary runs end to end under Wine (Wine's own
 * netio.sys stubs them). Loaded instead of Wine's with WINEDLLOVERRIDES="netio.sys=n" from the
 * driver's directory (stress/wine/run_wine.sh). Never for a Windows machine.
 *
 * It also supplies, for the modules that import it (the driver), the few kernel routines the
 * driver imports that Wine 8 lacks (ExAllocatePool2) or stubs (KeRegisterBugCheckCallback,
 * KeDeregisterBugCheckCallback, hal.dll's KeStallExecutionProcessor: calling a Wine stub ends the
 * process): Wine resolves a missing
 * import to a stub and calls this DLL's entry point after the driver's imports are resolved and
 * before DriverEntry, so the entry point rewrites those import slots of the driver. The driver
 * itself stays the binary a lab machine gets. And it keeps an IRQL per thread (cr8_handler), so
 * that detach callbacks at DISPATCH_LEVEL are seen as such.
 */
#include <ntddk.h>
#include <netioddk.h>

#include "../kernel/test_double/ktd_nmr.h"

void ktd_nmr_os_init(void); /* ktd_nmr_os_kernel.c */

/* ---- the NMR double's open choices, from the registry ----
   HKLM\Software\nmrh, value WineNetioNmr (REG_SZ): words as nmrstress's loopback build takes in
   NMRH_LOOPBACK_NMR ("provider-first,cleanup-deferred", empty: the model's first knob values). Read
   whenever a registration starts with none alive, so that run_wine.sh can set it between
   nmrstress runs: each scenario is replayed with the double making the choices its knobs name. */

static int has_word(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, w, k) == 0) return 1;
    return 0;
}

static void read_config(void)
{
    UNICODE_STRING key_name, value_name;
    OBJECT_ATTRIBUTES oa;
    HANDLE key;
    union {
        KEY_VALUE_PARTIAL_INFORMATION info;
        UCHAR bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + 256];
    } buf;
    ULONG got = 0;
    char words[128];
    size_t n = 0;

    RtlInitUnicodeString(&key_name, L"\\Registry\\Machine\\Software\\nmrh");
    RtlInitUnicodeString(&value_name, L"WineNetioNmr");
    InitializeObjectAttributes(&oa, &key_name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    if (NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &oa))) {
        if (NT_SUCCESS(ZwQueryValueKey(key, &value_name, KeyValuePartialInformation, &buf, sizeof buf, &got)) &&
            buf.info.Type == REG_SZ) {
            const WCHAR *w = (const WCHAR *)buf.info.Data;
            for (ULONG i = 0; i < buf.info.DataLength / 2 && w[i] && n < sizeof words; i++) words[n++] = (char)w[i];
        }
        ZwClose(key);
    }
    ktd_nmr_config cfg = {0};
    cfg.handle_after_attach = has_word(words, n, "handle-after-attach");
    cfg.provider_first = has_word(words, n, "provider-first");
    cfg.detach_on_worker = has_word(words, n, "detach-on-worker");
    cfg.detach_at_dispatch = has_word(words, n, "detach-at-dispatch");
    cfg.cleanup_deferred = has_word(words, n, "cleanup-deferred");
    ktd_nmr_configure(&cfg);
}

static void refresh_config(void)
{
    if (ktd_nmr_live_registrations() == 0) read_config();
}

NTSTATUS NTAPI wine_NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS c, PVOID context, PHANDLE handle);
NTSTATUS NTAPI wine_NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS c, PVOID context, PHANDLE handle)
{
    refresh_config();
    return NmrRegisterClient(c, context, handle);
}

NTSTATUS NTAPI wine_NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS p, PVOID context, PHANDLE handle);
NTSTATUS NTAPI wine_NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS p, PVOID context, PHANDLE handle)
{
    refresh_config();
    return NmrRegisterProvider(p, context, handle);
}

/* ---- what Wine lacks ---- */

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

/* ---- IRQL, per thread ----
   Wine runs kernel code in user mode: KeRaiseIrql/KeLowerIrql and KeGetCurrentIrql are inlined
   by the headers as writes and reads of cr8, a privileged instruction that Wine's ntoskrnl
   emulates as a constant 0. So that the double can call detach callbacks at DISPATCH_LEVEL (K4
   detach-irql) and the driver sees it (and stops gating that thread, as on Windows), a vectored
   handler ahead of Wine's emulates cr8 with a value per thread. Nothing else changes: Wine's
   spin locks do not touch it, and nothing is enforced at DISPATCH_LEVEL. */

NTSYSAPI PVOID NTAPI RtlAddVectoredExceptionHandler(ULONG First, PVOID Handler);

#define IRQL_THREADS 256u
static struct {
    volatile PVOID tid;
    volatile LONG irql;
} g_irql[IRQL_THREADS];

/* The current thread's entry; NULL when it has none and create is 0 (or the table is full). */
static volatile LONG *irql_of(int create)
{
    PVOID me = (PVOID)PsGetCurrentThreadId();
    ULONG h = (ULONG)(((ULONG_PTR)me >> 2) * 2654435761u) % IRQL_THREADS;
    for (ULONG n = 0; n < IRQL_THREADS; n++, h = (h + 1) % IRQL_THREADS) {
        PVOID t = g_irql[h].tid;
        if (t == me) return &g_irql[h].irql;
        if (t == NULL) {
            if (!create) return NULL;
            if (InterlockedCompareExchangePointer(&g_irql[h].tid, me, NULL) == NULL) return &g_irql[h].irql;
            if (g_irql[h].tid == me) return &g_irql[h].irql;
        }
    }
    return NULL;
}

static LONG NTAPI cr8_handler(PEXCEPTION_POINTERS ep)
{
    NTSTATUS code = ep->ExceptionRecord->ExceptionCode;
    if (code != STATUS_PRIVILEGED_INSTRUCTION && code != STATUS_ACCESS_VIOLATION) return 0; /* continue search */
    PCONTEXT ctx = ep->ContextRecord;
    const UCHAR *ip = (const UCHAR *)ctx->Rip;
    /* mov %cr8,%reg is REX.R 0F 20 /r, mov %reg,%cr8 REX.R 0F 22 /r, with a register operand. */
    if ((ip[0] & 0xF4) != 0x44 || ip[1] != 0x0F || (ip[2] != 0x20 && ip[2] != 0x22) || (ip[3] & 0xF8) != 0xC0 ||
        (ip[3] & 0x38) != 0)
        return 0;
    DWORD64 *regs = &ctx->Rax; /* Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8..R15: the encoding's order */
    unsigned r = (ip[3] & 7u) | ((ip[0] & 1u) << 3);
    if (ip[2] == 0x20) {
        volatile LONG *irql = irql_of(0);
        regs[r] = irql ? (DWORD64)*irql : PASSIVE_LEVEL;
    } else {
        volatile LONG *irql = irql_of(regs[r] != PASSIVE_LEVEL);
        if (irql) *irql = (LONG)(regs[r] & 15);
    }
    ctx->Rip += 4;
    return -1; /* continue execution */
}

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

static void supply_importers(PVOID self)
{
    /* The loader's module list: TEB (gs) -> PEB (+0x60) -> PEB_LDR_DATA (+0x18) -> InLoadOrderModuleList (+0x10). */
    const UCHAR *peb = (const UCHAR *)__readgsqword(0x60);
    LIST_ENTRY *head = (LIST_ENTRY *)(*(UCHAR *const *)(peb + 0x18) + 0x10);
    for (LIST_ENTRY *e = head->Flink; e != head; e = e->Flink) {
        ldr_entry *m = CONTAINING_RECORD(e, ldr_entry, InLoadOrderLinks);
        if (m->DllBase != self && imports_dll(m->DllBase, "NETIO.SYS")) supply_imports(m->DllBase);
    }
}

/* The entry point Wine's loader calls (DllMain's signature; 1 is DLL_PROCESS_ATTACH). */
BOOLEAN NTAPI NetioWineEntry(PVOID Module, ULONG Reason, PVOID Reserved);
BOOLEAN NTAPI NetioWineEntry(PVOID Module, ULONG Reason, PVOID Reserved)
{
    UNREFERENCED_PARAMETER(Reserved);
    if (Reason == 1) {
        ktd_nmr_os_init();
        read_config();
        RtlAddVectoredExceptionHandler(1, (PVOID)cr8_handler);
        supply_importers(Module);
        DbgPrint("netio (nmrh test double): loaded\n");
    }
    return TRUE;
}
