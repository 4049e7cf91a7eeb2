/*
 * Kernel cross-compile check only (tests/build/kernel_cross_compile.sh): mingw-w64's DDK
 * headers lag the WDK. This wrapper sits first on the -isystem path, includes mingw's real
 * <wdm.h> and adds the WDK declarations the portable code uses that the installed mingw-w64
 * lacks, each under a guard so a newer mingw-w64 that has them wins. The matching ntoskrnl.exe
 * imports are in ntoskrnl-extra.def (turned into an import library by the script).
 *
 * Never used by the user-mode build (that one uses core/km/um) nor by a real WDK build.
 */
/* mingw-w64 10's wdm.h redefines InterlockedBitTestAndSet/Reset as static inline after
   <intrin.h> declared them extern, and clang then emits a global copy in every object (duplicate
   symbols at link). Keep intrin.h's copy out; wdm.h maps the names to the _interlockedbittest*
   intrinsics anyway. */
#ifndef __INTRINSIC_DEFINED_InterlockedBitTestAndSet
#define __INTRINSIC_DEFINED_InterlockedBitTestAndSet
#endif
#ifndef __INTRINSIC_DEFINED_InterlockedBitTestAndReset
#define __INTRINSIC_DEFINED_InterlockedBitTestAndReset
#endif

#include_next <wdm.h>

#ifndef NMRH_MINGW_DDK_COMPAT_WDM_H
#define NMRH_MINGW_DDK_COMPAT_WDM_H

/* ExAllocatePool2 (WDK for Windows 10 2004, NTDDI_WIN10_VB): mingw-w64 10 lacks it. */
#ifndef POOL_FLAG_NON_PAGED
typedef ULONG64 POOL_FLAGS;
#define POOL_FLAG_REQUIRED_START          0x0000000000000001ULL
#define POOL_FLAG_USE_QUOTA               0x0000000000000001ULL
#define POOL_FLAG_UNINITIALIZED           0x0000000000000002ULL
#define POOL_FLAG_SESSION                 0x0000000000000004ULL
#define POOL_FLAG_CACHE_ALIGNED           0x0000000000000008ULL
#define POOL_FLAG_RESERVED1               0x0000000000000010ULL
#define POOL_FLAG_RAISE_ON_FAILURE        0x0000000000000020ULL
#define POOL_FLAG_NON_PAGED               0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE       0x0000000000000080ULL
#define POOL_FLAG_PAGED                   0x0000000000000100ULL
#define POOL_FLAG_RESERVED2               0x0000000000000200ULL
#define POOL_FLAG_RESERVED3               0x0000000000000400ULL
#define POOL_FLAG_REQUIRED_END            0x0000000080000000ULL

NTKERNELAPI PVOID NTAPI ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);
#endif

#endif
