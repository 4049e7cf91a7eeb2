/* DbgPrint goes to the trace; assertion failures and bugchecks in module code become findings. */
#include <stdarg.h>
#include <stdlib.h>

#include "shim_util.h"

void nmrh_km_primitive_point(void)
{
    NMRH_HARNESS(w);
    if (w) nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}

static ULONG note(const char *fmt, va_list ap)
{
    char text[256];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = '\0';
    NMRH_HARNESS(w);
    if (w) nmrh_trace(w, NMRH_EV_NOTE, nmrh_trace_string(w, text), 0);
    return STATUS_SUCCESS;
}

ULONG DbgPrint(PCSTR Format, ...)
{
    va_list ap;
    va_start(ap, Format);
    ULONG r = note(Format, ap);
    va_end(ap);
    return r;
}

ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...)
{
    (void)ComponentId;
    (void)Level;
    va_list ap;
    va_start(ap, Format);
    ULONG r = note(Format, ap);
    va_end(ap);
    return r;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void nmrh_km_assert_failed(const char *expr, const char *file, int line)
{
    NMRH_HARNESS(w);
    if (!w) {
        fprintf(stderr, "nmrh: assertion failed outside any world: %s (%s:%d)\n", expr, base_name(file), line);
        abort();
    }
    NMRH_SHIM_FAIL(w, NMRH_RULE_ASSERT, "NT_ASSERT(%s) failed at %s:%d", expr, base_name(file), line);
}

void KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4)
{
    NMRH_HARNESS(w);
    if (w)
        NMRH_SHIM_FAIL(w, NMRH_RULE_BUGCHECK, "KeBugCheckEx(0x%X, 0x%llX, 0x%llX, 0x%llX, 0x%llX)", (unsigned)BugCheckCode,
                       (unsigned long long)P1, (unsigned long long)P2, (unsigned long long)P3, (unsigned long long)P4);
    abort();
}

/* An interlocked or ordered access to an operand not aligned to its size (wdm_interlocked.h). */
void nmrh_km_misaligned(const volatile void *Address, SIZE_T Size, const char *Operation)
{
    NMRH_HARNESS(w);
    if (w && w->current)
        NMRH_SHIM_FAIL(w, NMRH_RULE_PRIMITIVE_MISUSE, "%s on an operand at %p not aligned to its %zu bytes", Operation,
                       (const void *)Address, (size_t)Size);
}

/* __fastfail/RtlFailFast: on Windows, bug check KERNEL_SECURITY_CHECK_FAILURE with the code. */
void nmrh_km_fastfail(unsigned int Code)
{
    NMRH_HARNESS(w);
    if (w)
        NMRH_SHIM_FAIL(w, NMRH_RULE_BUGCHECK, "__fastfail(%u): bug check 0x%X KERNEL_SECURITY_CHECK_FAILURE", Code,
                       (unsigned)KERNEL_SECURITY_CHECK_FAILURE);
    fprintf(stderr, "nmrh: __fastfail(%u) outside any world\n", Code);
    abort();
}
