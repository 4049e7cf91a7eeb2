/*
 * An IRQL per thread for the Wine-only NETIO.SYS (wine_glue.h).
 */
#include <ntddk.h>

#include "wine_glue.h"

/* Wine runs kernel code in user mode: KeRaiseIrql/KeLowerIrql and KeGetCurrentIrql are inlined
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

void wine_irql_install(void) { RtlAddVectoredExceptionHandler(1, (PVOID)cr8_handler); }
