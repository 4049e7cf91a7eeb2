/*
 * The WDK's ntdef.h for the user-mode build: base types with their Windows x64 sizes (ULONG and
 * LONG are 32 bits, unlike Linux `long`), the common macros (EXTERN_C_START, DECLARE_HANDLE,
 * DECLSPEC_*, __forceinline, C_ASSERT, RTL_FIELD_SIZE, MAXULONG, UInt32x32To64, ...), strings,
 * lists, GUIDs and LUIDs. Layouts match the WDK where drivers rely on them (asserted for x64).
 * MSVC keywords the WDK takes for granted (__forceinline, __inline, __int64, ...) are mapped to
 * their GCC/clang equivalents. docs/wdk-surface.md lists what is covered and what is not.
 */
#ifndef NMRH_UM_NTDEF_H
#define NMRH_UM_NTDEF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "driverspecs.h"

/* ---- the WDK's target macros: nmrh's user-mode build is an x64-like 64-bit build ---- */
#if defined(__x86_64__) || defined(__aarch64__)
#ifndef _WIN64
#define _WIN64 1
#endif
#endif
#if defined(__x86_64__) && !defined(_AMD64_)
#define _AMD64_ 1
#endif
#if defined(__aarch64__) && !defined(_ARM64_)
#define _ARM64_ 1
#endif
#ifndef NTDDI_VERSION
#define NTDDI_VERSION 0x0A00000C /* NTDDI_WIN10_NI */
#endif
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00
#endif
#define NTDDI_WIN7 0x06010000
#define NTDDI_WIN8 0x06020000
#define NTDDI_WINBLUE 0x06030000
#define NTDDI_WIN10 0x0A000000
#define NTDDI_WIN10_VB 0x0A000008
#define NTDDI_WIN10_FE 0x0A00000A
#define NTDDI_WIN10_CO 0x0A00000B
#define NTDDI_WIN10_NI 0x0A00000C

/* ---- MSVC keywords and declaration specifiers ----
   Compilers that have them (MSVC, clang-cl, clang with -fms-extensions in the MSVC dialect, which
   defines _MSC_VER) keep their own; elsewhere they map to GCC/clang attributes or to nothing. */
#ifndef _MSC_VER
/* Each only if not defined yet: mingw-w64's C library headers define some of them too (the
   Windows console build of the stress tool sees both). */
#ifndef __forceinline
#define __forceinline inline __attribute__((always_inline))
#endif
#ifndef __int8
#define __int8 char
#endif
#ifndef __int16
#define __int16 short
#endif
#ifndef __int32
#define __int32 int
#endif
#ifndef __int64
#define __int64 long long
#endif
#ifndef __cdecl
#define __cdecl
#endif
#ifndef __stdcall
#define __stdcall
#endif
#ifndef __fastcall
#define __fastcall
#endif
#ifndef __ptr64
#define __ptr64
#endif
#ifndef __ptr32
#define __ptr32
#endif
#ifndef __unaligned
#define __unaligned
#endif
#ifndef __w64
#define __w64
#endif
#ifndef __declspec
#define __declspec(x) NMRH_DECLSPEC_##x
#endif
#define NMRH_DECLSPEC_noinline __attribute__((noinline))
#define NMRH_DECLSPEC_noreturn __attribute__((noreturn))
#define NMRH_DECLSPEC_selectany __attribute__((weak))
#define NMRH_DECLSPEC_nothrow
#define NMRH_DECLSPEC_novtable
#define NMRH_DECLSPEC_dllimport
#define NMRH_DECLSPEC_dllexport
#define NMRH_DECLSPEC_restrict
#define NMRH_DECLSPEC_noalias
#define NMRH_DECLSPEC_align(n) __attribute__((aligned(n)))
#define NMRH_DECLSPEC_deprecated __attribute__((deprecated))
#define NMRH_DECLSPEC_allocator
#define NMRH_DECLSPEC_thread __thread
#endif

#define NTAPI
#define NTAPI_INLINE
#define NTSYSAPI
#define NTSYSCALLAPI
#define NTKERNELAPI
#define NTHALAPI
#define FASTCALL
#define WINAPI
#define CALLBACK
#define APIENTRY
#define DECLSPEC_IMPORT
#define DECLSPEC_EXPORT
#define DECLSPEC_NOINLINE __attribute__((noinline))
#define DECLSPEC_NORETURN __attribute__((noreturn))
#define DECLSPEC_NOTHROW
#define DECLSPEC_NOVTABLE
#define DECLSPEC_ADDRSAFE
#define DECLSPEC_RESTRICT
#define DECLSPEC_ALLOCATOR
#define DECLSPEC_GUARDNOCF
#define DECLSPEC_GUARD_SUPPRESS
#define DECLSPEC_DEPRECATED __attribute__((deprecated))
#define DECLSPEC_DEPRECATED_DDK
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
/* A global defined in a header, once per program: MSVC's __declspec(selectany). Weak definitions
   do the same with GCC and clang (the linker keeps one). */
#define DECLSPEC_SELECTANY __attribute__((weak))
#define SYSTEM_CACHE_ALIGNMENT_SIZE 64
#define DECLSPEC_CACHEALIGN DECLSPEC_ALIGN(SYSTEM_CACHE_ALIGNMENT_SIZE)
/* static: every translation unit gets its own copy, which C11 needs for an inline function that
   is not also declared extern somewhere (docs/wdk-surface.md, "MSVC dialect"). */
#define FORCEINLINE static inline __attribute__((always_inline))
#define CFORCEINLINE FORCEINLINE
#define CONST const
#define VOID void
#define IN
#define OUT
#define OPTIONAL
#ifndef UNALIGNED
#define UNALIGNED
#endif
#define RESTRICTED_POINTER
#define POINTER_32
#define POINTER_64
#define FIRMWARE_PTR
#define ANYSIZE_ARRAY 1

#ifdef __cplusplus
#define EXTERN_C extern "C"
#define EXTERN_C_START extern "C" {
#define EXTERN_C_END }
#else
#define EXTERN_C extern
#define EXTERN_C_START
#define EXTERN_C_END
#endif

/* ---- scalar types, Windows x64 sizes ---- */
typedef void *PVOID, **PPVOID;
typedef void *PVOID64;
typedef const void *PCVOID;
typedef char CHAR, CCHAR, *PCHAR, *PSTR, *LPSTR;
typedef const char *PCSTR, *PCCH, *LPCSTR;
typedef unsigned char UCHAR, *PUCHAR, BYTE, *PBYTE;
typedef int16_t SHORT, CSHORT, *PSHORT;
typedef uint16_t USHORT, *PUSHORT, WORD, *PWORD;
typedef uint16_t WCHAR, *PWCHAR, *PWCH, *PWSTR, *LPWSTR;
typedef const uint16_t *PCWSTR, *PCWCH, *LPCWSTR;
typedef int32_t LONG, *PLONG;
typedef uint32_t ULONG, *PULONG, DWORD, *PDWORD;
typedef int32_t INT, *PINT;
typedef uint32_t UINT, *PUINT;
typedef int8_t INT8, *PINT8;
typedef int16_t INT16, *PINT16;
typedef int32_t INT32, *PINT32, LONG32, *PLONG32;
typedef int64_t INT64, *PINT64;
typedef uint8_t UINT8, *PUINT8;
typedef uint16_t UINT16, *PUINT16;
typedef uint32_t UINT32, *PUINT32, ULONG32, *PULONG32, DWORD32, *PDWORD32;
typedef uint64_t UINT64, *PUINT64, DWORD64, *PDWORD64;
typedef int64_t LONGLONG, *PLONGLONG, LONG64, *PLONG64;
typedef uint64_t ULONGLONG, *PULONGLONG, ULONG64, *PULONG64, DWORDLONG, *PDWORDLONG;
typedef int64_t LONG_PTR, *PLONG_PTR, INT_PTR, *PINT_PTR, SSIZE_T, *PSSIZE_T;
typedef uint64_t ULONG_PTR, *PULONG_PTR, UINT_PTR, *PUINT_PTR, DWORD_PTR, *PDWORD_PTR;
typedef size_t SIZE_T, *PSIZE_T;
typedef int32_t HALF_PTR, *PHALF_PTR;
typedef uint32_t UHALF_PTR, *PUHALF_PTR;
typedef uint8_t BOOLEAN, *PBOOLEAN;
typedef ULONG LOGICAL, *PLOGICAL;
typedef LONG NTSTATUS, *PNTSTATUS;
typedef void *HANDLE, **PHANDLE;
typedef UCHAR KIRQL, *PKIRQL;
typedef CHAR KPROCESSOR_MODE;
typedef LONG KPRIORITY;
typedef ULONG ACCESS_MASK, *PACCESS_MASK;
typedef ULONG_PTR KAFFINITY, *PKAFFINITY;
typedef LONGLONG USN;
typedef ULONG CLONG;
typedef USHORT RTL_ATOM;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif
#define NULL64 ((void *)0)

#define MINCHAR 0x80
#define MAXCHAR 0x7f
#define MINSHORT 0x8000
#define MAXSHORT 0x7fff
#define MINLONG 0x80000000
#define MAXLONG 0x7fffffff
#define MAXUCHAR 0xff
#define MAXUSHORT 0xffff
#define MAXULONG 0xffffffff
#define MAXUINT8 ((UINT8)~((UINT8)0))
#define MAXUINT16 ((UINT16)~((UINT16)0))
#define MAXUINT32 ((UINT32)~((UINT32)0))
#define MAXUINT64 ((UINT64)~((UINT64)0))
#define MAXINT8 ((INT8)(MAXUINT8 >> 1))
#define MAXINT16 ((INT16)(MAXUINT16 >> 1))
#define MAXINT32 ((INT32)(MAXUINT32 >> 1))
#define MAXINT64 ((INT64)(MAXUINT64 >> 1))
#define MININT8 ((INT8)~MAXINT8)
#define MININT16 ((INT16)~MAXINT16)
#define MININT32 ((INT32)~MAXINT32)
#define MININT64 ((INT64)~MAXINT64)
#define MAXULONG32 ((ULONG32)~((ULONG32)0))
#define MAXLONG32 ((LONG32)(MAXULONG32 >> 1))
#define MAXULONG64 ((ULONG64)~((ULONG64)0))
#define MAXLONG64 ((LONG64)(MAXULONG64 >> 1))
#define MINLONG64 ((LONG64)~MAXLONG64)
#define MAXULONGLONG ((ULONGLONG)~((ULONGLONG)0))
#define MINLONGLONG ((LONGLONG)~MAXLONGLONG)
#define MAXLONGLONG (0x7fffffffffffffffLL)
#define MAXSIZE_T ((SIZE_T)~((SIZE_T)0))
#define MAXSSIZE_T ((SSIZE_T)(MAXSIZE_T >> 1))
#define MINSSIZE_T ((SSIZE_T)~MAXSSIZE_T)
#define MAXUINT ((UINT)~((UINT)0))
#define MAXINT ((INT)(MAXUINT >> 1))
#define MININT ((INT)~MAXINT)
#define MAXULONG_PTR (~((ULONG_PTR)0))
#define MAXLONG_PTR ((LONG_PTR)(MAXULONG_PTR >> 1))
#define MINLONG_PTR (~MAXLONG_PTR)

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    struct {
        ULONG LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    struct {
        ULONG LowPart;
        ULONG HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _LUID {
    ULONG LowPart;
    LONG HighPart;
} LUID, *PLUID;

#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID, *LPGUID, *PGUID;
#endif
typedef const GUID *LPCGUID, *PCGUID, *REFGUID;
typedef GUID UUID;

/* A GUID's storage: one static definition per translation unit that uses it (the WDK's
   INITGUID dance is not needed: an unused static const is not a warning). */
#define DEFINE_GUID(name, l, w1, w2, b1, b2, b3, b4, b5, b6, b7, b8) \
    static const GUID name __attribute__((unused)) = {l, w1, w2, {b1, b2, b3, b4, b5, b6, b7, b8}}
FORCEINLINE int IsEqualGUID(const GUID *a, const GUID *b) { return memcmp(a, b, sizeof(GUID)) == 0; }
#define InlineIsEqualGUID IsEqualGUID

/* ---- counted strings ---- */
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;
typedef struct _STRING {
    USHORT Length;
    USHORT MaximumLength;
    PCHAR Buffer;
} STRING, *PSTRING, ANSI_STRING, *PANSI_STRING, OEM_STRING, *POEM_STRING;
typedef const STRING *PCSTRING, *PCANSI_STRING, *PCOEM_STRING;
#define UNICODE_NULL ((WCHAR)0)
#define ANSI_NULL ((CHAR)0)
#define RTL_CONSTANT_STRING(s) {sizeof(s) - sizeof((s)[0]), sizeof(s), (void *)(s)}

/* ---- lists ---- */
typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY, *PRLIST_ENTRY;
typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

/* ---- handles ---- */
#define DECLARE_HANDLE(name) \
    struct name##__ {        \
        int unused;          \
    };                       \
    typedef struct name##__ *name

/* ---- structure and arithmetic helpers ---- */
#define C_ASSERT(e) _Static_assert(e, #e)
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#define UFIELD_OFFSET(type, field) ((ULONG)offsetof(type, field))
#define RTL_FIELD_SIZE(type, field) (sizeof(((type *)0)->field))
#define RTL_SIZEOF_THROUGH_FIELD(type, field) (FIELD_OFFSET(type, field) + RTL_FIELD_SIZE(type, field))
#define RTL_CONTAINS_FIELD(Struct, Size, Field) \
    ((((PCHAR)(&(Struct)->Field)) + sizeof((Struct)->Field)) <= (((PCHAR)(Struct)) + (Size)))
#define RTL_FIELD_TYPE(type, field) (((type *)0)->field)
#define RTL_NUMBER_OF_V1(A) (sizeof(A) / sizeof((A)[0]))
#define RTL_NUMBER_OF_V2(A) RTL_NUMBER_OF_V1(A)
#define RTL_NUMBER_OF(A) RTL_NUMBER_OF_V1(A)
#define RTL_NUMBER_OF_FIELD(type, field) (RTL_NUMBER_OF(RTL_FIELD_TYPE(type, field)))
#define ARRAYSIZE(A) RTL_NUMBER_OF_V2(A)
#define _ARRAYSIZE(A) RTL_NUMBER_OF_V1(A)
#define RTL_PADDING_BETWEEN_FIELDS(T, F1, F2) \
    ((FIELD_OFFSET(T, F2) > FIELD_OFFSET(T, F1)) ? (FIELD_OFFSET(T, F2) - FIELD_OFFSET(T, F1) - RTL_FIELD_SIZE(T, F1)) \
                                                 : (FIELD_OFFSET(T, F1) - FIELD_OFFSET(T, F2) - RTL_FIELD_SIZE(T, F2)))
#define CONTAINING_RECORD(address, type, field) ((type *)((PCHAR)(address) - offsetof(type, field)))
#define TYPE_ALIGNMENT(t) _Alignof(t)
#define ALIGN_DOWN_BY(length, alignment) ((ULONG_PTR)(length) & ~((ULONG_PTR)(alignment) - 1))
#define ALIGN_UP_BY(length, alignment) (ALIGN_DOWN_BY(((ULONG_PTR)(length) + (alignment) - 1), alignment))
#define ALIGN_DOWN_POINTER_BY(address, alignment) ((PVOID)((ULONG_PTR)(address) & ~((ULONG_PTR)(alignment) - 1)))
#define ALIGN_UP_POINTER_BY(address, alignment) \
    (ALIGN_DOWN_POINTER_BY(((ULONG_PTR)(address) + (alignment) - 1), alignment))
#define ALIGN_DOWN(length, type) ALIGN_DOWN_BY(length, sizeof(type))
#define ALIGN_UP(length, type) ALIGN_UP_BY(length, sizeof(type))
#define Int32x32To64(a, b) ((LONGLONG)((LONG)(a)) * (LONGLONG)((LONG)(b)))
#define UInt32x32To64(a, b) ((ULONGLONG)((ULONG)(a)) * (ULONGLONG)((ULONG)(b)))
#define Int64ShllMod32(a, b) ((ULONGLONG)(a) << ((b) & 31))
#define Int64ShraMod32(a, b) ((LONGLONG)(a) >> ((b) & 31))
#define Int64ShrlMod32(a, b) ((ULONGLONG)(a) >> ((b) & 31))
#define UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_PARAMETER(P) ((void)(P))
#define DBG_UNREFERENCED_LOCAL_VARIABLE(V) ((void)(V))
#define UNUSED_PARAMETER(P) ((void)(P))
#define PAGE_SIZE 0x1000
#define PAGE_SHIFT 12L
/* In C the flag operators of an enum are the built-in integer ones: nothing to define. */
#define DEFINE_ENUM_FLAG_OPERATORS(ENUMTYPE)
#define FlagOn(_F, _SF) ((_F) & (_SF))
#define BooleanFlagOn(F, SF) ((BOOLEAN)(((F) & (SF)) != 0))
#define SetFlag(_F, _SF) ((_F) |= (_SF))
#define ClearFlag(_F, _SF) ((_F) &= ~(_SF))
#ifndef NOMINMAX
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#endif

C_ASSERT(sizeof(ULONG) == 4);
C_ASSERT(sizeof(LONG64) == 8);
C_ASSERT(sizeof(BOOLEAN) == 1);
C_ASSERT(sizeof(WCHAR) == 2);
C_ASSERT(sizeof(GUID) == 16);
C_ASSERT(sizeof(LUID) == 8);
C_ASSERT(sizeof(LARGE_INTEGER) == 8);
#if defined(_WIN64)
C_ASSERT(sizeof(ULONG_PTR) == 8);
C_ASSERT(sizeof(UNICODE_STRING) == 16);
C_ASSERT(sizeof(LIST_ENTRY) == 16);
#endif

#include "ntstatus.h"

#endif /* NMRH_UM_NTDEF_H */
