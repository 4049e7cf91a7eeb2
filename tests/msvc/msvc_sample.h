/* A header as MSVC driver code writes it: non-static inline functions, #pragma warning around an
   anonymous structure member, __declspec(selectany) data, __int64, _MSC_VER-gated code. */
#pragma once

#include <ntddk.h>

#pragma warning(push)
#pragma warning(disable : 4201) /* nameless struct/union */
typedef struct _MSVC_HEADER {
    union {
        struct {
            USHORT Low;
            USHORT High;
        };
        ULONG Value;
    };
} MSVC_HEADER;
#pragma warning(pop)

typedef struct _MSVC_OUTER {
    struct _MSVC_HEADER; /* an anonymous member of a tagged type: an MSVC extension */
    unsigned __int64 Big;
} MSVC_OUTER;

__declspec(selectany) const ULONG MsvcSelectAny = 42;

/* Defined in the header, not static: MSVC keeps one copy; here each file gets its own. */
inline ULONG MsvcMix(ULONG x)
{
    x ^= x >> 16;
    x *= 0x7feb352dUL;
    return x ^ (x >> 15);
}

__forceinline ULONG MsvcTwice(ULONG x) { return 2 * x; }

#ifdef _MSC_VER
#define MSVC_COMPILER_PATH 1
#else
#define MSVC_COMPILER_PATH 0
#endif

#if defined(_WIN64)
#define MSVC_POINTER_BITS 64
#else
#define MSVC_POINTER_BITS 32
#endif

ULONG MsvcSampleA(ULONG x);
ULONG MsvcSampleB(ULONG x);
LONG MsvcSampleCount(volatile LONG *counter);
ULONG MsvcSampleConst(ULONG *value); /* the definition says const ULONG *: see docs/wdk-surface.md */
