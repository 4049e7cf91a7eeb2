/*
 * Forced include for module sources written for MSVC (the MSVC_DIALECT build option, see
 * msvc_dialect.cmake and docs/wdk-surface.md, "MSVC dialect"). Included before every line of
 * such a source, together with clang's -fms-extensions, it makes these MSVC-isms compile:
 *
 *   - `inline` functions defined in headers without `static`: MSVC links them once; in C11 a
 *     plain `inline` definition provides no symbol, so a call that is not inlined fails to link.
 *     Here `inline` means `static inline`: each translation unit gets its own copy (the only
 *     observable difference: a function-local static variable, or the function's address, is per
 *     translation unit). `extern inline` is then an error (rare in MSVC C code).
 *   - _MSC_VER / _MSC_FULL_VER are defined (MSVC 2019, 19.29), so `#ifdef _MSC_VER` code takes
 *     the MSVC path; _WIN64 and _AMD64_ come from ntdef.h.
 *   - the common MSVC intrinsics are declared (clang knows them as builtins under
 *     -fms-extensions); the _Interlocked* intrinsics map to the WDK names, which are nmrh's
 *     scheduling points, and __debugbreak is a KRNL-BUGCHECK finding (a driver hitting a
 *     breakpoint in the field crashes the machine).
 */
#ifndef NMRH_MSVC_DIALECT_H
#define NMRH_MSVC_DIALECT_H

#ifndef _MSC_VER
#define _MSC_VER 1929
#define _MSC_FULL_VER 192930153
#define _MSC_BUILD 0
#define _MSC_EXTENSIONS 1
#endif
#define _NMRH_MSVC_DIALECT 1

#define inline static inline

/* Intrinsics: clang's -fms-extensions builtins, declared with the types clang gives them on this
   LP64 target (an MSVC `unsigned __int64` is `unsigned long` here, a ULONG is `unsigned int`). */
unsigned char _BitScanForward(unsigned int *Index, unsigned int Mask);
unsigned char _BitScanReverse(unsigned int *Index, unsigned int Mask);
unsigned char _BitScanForward64(unsigned int *Index, unsigned long long Mask);
unsigned char _BitScanReverse64(unsigned int *Index, unsigned long long Mask);
unsigned char _rotl8(unsigned char Value, unsigned char Shift);
unsigned short _rotl16(unsigned short Value, unsigned char Shift);
unsigned int _rotl(unsigned int Value, int Shift);
unsigned long _rotl64(unsigned long Value, int Shift);
unsigned char _rotr8(unsigned char Value, unsigned char Shift);
unsigned short _rotr16(unsigned short Value, unsigned char Shift);
unsigned int _rotr(unsigned int Value, int Shift);
unsigned long _rotr64(unsigned long Value, int Shift);
unsigned short __popcnt16(unsigned short Value);
unsigned int __popcnt(unsigned int Value);
unsigned long __popcnt64(unsigned long Value);
void *_ReturnAddress(void);
void *_AddressOfReturnAddress(void);

#define __debugbreak() KeBugCheckEx(0x80000003u /* STATUS_BREAKPOINT */, 0, 0, 0, 0)
/* The MSVC C library provides these; here the compiler's byte swaps do. */
#define _byteswap_ushort(x) __builtin_bswap16(x)
#define _byteswap_ulong(x) __builtin_bswap32(x)
#define _byteswap_uint64(x) __builtin_bswap64(x)
#define _countof(a) (sizeof(a) / sizeof((a)[0]))
#define __annotation(...) ((void)0)
#define _alloca(n) __builtin_alloca(n)
#define _mm_pause() YieldProcessor()

/* The interlocked intrinsics are the WDK's functions (scheduling points), not raw atomics. */
#define _InterlockedIncrement InterlockedIncrement
#define _InterlockedDecrement InterlockedDecrement
#define _InterlockedExchange InterlockedExchange
#define _InterlockedExchangeAdd InterlockedExchangeAdd
#define _InterlockedCompareExchange InterlockedCompareExchange
#define _InterlockedOr InterlockedOr
#define _InterlockedAnd InterlockedAnd
#define _InterlockedXor InterlockedXor
#define _InterlockedIncrement16 InterlockedIncrement16
#define _InterlockedDecrement16 InterlockedDecrement16
#define _InterlockedCompareExchange16 InterlockedCompareExchange16
#define _InterlockedIncrement64 InterlockedIncrement64
#define _InterlockedDecrement64 InterlockedDecrement64
#define _InterlockedExchange64 InterlockedExchange64
#define _InterlockedExchangeAdd64 InterlockedExchangeAdd64
#define _InterlockedCompareExchange64 InterlockedCompareExchange64
#define _InterlockedOr64 InterlockedOr64
#define _InterlockedAnd64 InterlockedAnd64
#define _InterlockedXor64 InterlockedXor64
#define _InterlockedExchangePointer InterlockedExchangePointer
#define _InterlockedCompareExchangePointer InterlockedCompareExchangePointer
#define _interlockedbittestandset InterlockedBitTestAndSet
#define _interlockedbittestandreset InterlockedBitTestAndReset

#endif /* NMRH_MSVC_DIALECT_H */
