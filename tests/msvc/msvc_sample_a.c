/* MSVC-style module code (compiled with nmrh_target_msvc_dialect): suffixes, pragmas, intrinsics. */
#include "msvc_sample.h"

#pragma prefast(suppress : 28175, "MSVC code-analysis pragma: ignored here")
#pragma code_seg("PAGE")

ULONG MsvcSampleA(ULONG x)
{
    unsigned char mask = 0xffui8;
    __int64 big = 10i64 * 1000000000i64;
    ULONG idx = 0;
    MSVC_OUTER outer;
    outer.Value = 0;
    outer.Low = 1;
    outer.Big = (unsigned __int64)big;
    __pragma(warning(suppress : 4127)) if (MSVC_POINTER_BITS == 64 && MSVC_COMPILER_PATH)
    {
        _BitScanForward(&idx, 0x10u);
    }
    return (MsvcMix(x) & mask) + (ULONG)idx + outer.Value + (ULONG)(outer.Big / 1000000000ui64) + MsvcSelectAny;
}

LONG MsvcSampleCount(volatile LONG *counter) { return _InterlockedIncrement(counter); }
#pragma code_seg()
