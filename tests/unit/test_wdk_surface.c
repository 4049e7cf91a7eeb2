/*
 * The WDK header surface in plain WDK style: every user-mode stand-in header included the way a
 * driver includes them, SAL on every declaration (SAL 2, SAL 1 and driver annotations), the
 * WDK's macros and types used as drivers use them, and the layouts drivers rely on checked. The
 * file must compile warning-free under clang and gcc (tests/build/gcc_warnings.sh compiles it),
 * and the run checks the values.
 */
#include <ntddk.h>
#include <wdm.h>
#include <ntifs.h>
#include <ntdef.h>
#include <ntstatus.h>
#include <sal.h>
#include <specstrings.h>
#include <driverspecs.h>
#include <ndis/types.h>
#include <ws2def.h>
#include <ws2ipdef.h>
#include <in6addr.h>
#include <inaddr.h>
#include <netioddk.h>

#include "../support/check.h"

EXTERN_C_START

/* ---- types and layouts ---- */
C_ASSERT(sizeof(INT8) == 1 && sizeof(UINT8) == 1 && sizeof(INT16) == 2 && sizeof(UINT16) == 2);
C_ASSERT(sizeof(INT32) == 4 && sizeof(UINT32) == 4 && sizeof(INT64) == 8 && sizeof(UINT64) == 8);
C_ASSERT(sizeof(LONG) == 4 && sizeof(ULONG) == 4 && sizeof(ULONG_PTR) == sizeof(PVOID));
C_ASSERT(sizeof(IN_ADDR) == 4 && sizeof(IN6_ADDR) == 16);
C_ASSERT(sizeof(SOCKADDR) == 16 && sizeof(SOCKADDR_IN) == 16 && sizeof(SOCKADDR_IN6) == 28);
C_ASSERT(sizeof(SOCKADDR_INET) == 28 && sizeof(SOCKADDR_STORAGE) == 128);
C_ASSERT(FIELD_OFFSET(SOCKADDR_IN6, sin6_scope_id) == 24 && FIELD_OFFSET(SOCKADDR_IN, sin_zero) == 8);
C_ASSERT(sizeof(NET_LUID) == 8 && sizeof(NPI_MODULEID) == 24 && sizeof(ERESOURCE) == 0x68);
C_ASSERT(sizeof(EX_PUSH_LOCK) == sizeof(PVOID) && sizeof(PROCESSOR_NUMBER) == 4);
C_ASSERT(SYSTEM_CACHE_ALIGNMENT_SIZE == 64);
C_ASSERT(MAXUINT8 == 0xFF && MAXUINT16 == 0xFFFF && MAXUINT32 == 0xFFFFFFFFu && MAXULONG == 0xFFFFFFFFu);
C_ASSERT(MAXUINT64 == 0xFFFFFFFFFFFFFFFFull && MAXLONG == 0x7FFFFFFF);

/* ---- a driver's declarations, annotated as WDK code is ---- */
DECLARE_HANDLE(SURFACE_HANDLE);

typedef enum _SURFACE_FLAGS {
    SurfaceFlagNone = 0,
    SurfaceFlagA = 0x1,
    SurfaceFlagB = 0x2,
} SURFACE_FLAGS;
DEFINE_ENUM_FLAG_OPERATORS(SURFACE_FLAGS)

typedef struct DECLSPEC_CACHEALIGN _SURFACE_CONTEXT {
    _Field_range_(0, 16) ULONG Count;
    _Field_size_(Count) PULONG Values;
    _Field_size_bytes_(Length) PUCHAR Bytes;
    ULONG Length;
    __field_ecount(Count) PULONG Legacy;
    _Guarded_by_(Lock) LONG Shared;
    EX_PUSH_LOCK Lock;
    _Interlocked_ volatile LONG RefCount;
    SURFACE_HANDLE Handle;
} SURFACE_CONTEXT, *PSURFACE_CONTEXT;
C_ASSERT(TYPE_ALIGNMENT(SURFACE_CONTEXT) == SYSTEM_CACHE_ALIGNMENT_SIZE);

typedef struct _SURFACE_VERSIONED {
    _Struct_size_bytes_(Size) ULONG Size;
    USHORT Version;
    USHORT Flags;
    ULONG64 Extra;
} SURFACE_VERSIONED;

DECLSPEC_SELECTANY const ULONG SurfaceSelectAny = 7;

_IRQL_requires_max_(DISPATCH_LEVEL)
_Must_inspect_result_
_Success_(return >= 0)
_At_(Context->RefCount, _Interlocked_operand_)
_When_(Add != 0, _Post_satisfies_(return > 0))
static __forceinline LONG SurfaceReference(_Inout_ PSURFACE_CONTEXT Context, _In_range_(0, 1) BOOLEAN Add)
{
    return Add ? InterlockedIncrement(&Context->RefCount) : ReadNoFence(&Context->RefCount);
}

_IRQL_requires_(PASSIVE_LEVEL)
_IRQL_requires_same_
_Pre_defensive_
_Function_class_(SURFACE_COPY)
_Requires_lock_not_held_(Context->Lock)
__drv_maxIRQL(PASSIVE_LEVEL)
static NTSTATUS SurfaceCopy(_In_ PSURFACE_CONTEXT Context, _Out_writes_bytes_to_(Capacity, *Written) PUCHAR Buffer,
                            _In_ ULONG Capacity, _Out_ _Deref_out_range_(0, Capacity) PULONG Written,
                            _In_reads_opt_(Count) const ULONG *Extra, _In_ ULONG Count, _In_z_ PCSTR Name,
                            _Reserved_ PVOID Reserved, __in_opt PVOID Legacy, __out_ecount_opt(1) PULONG LegacyOut)
{
    UNREFERENCED_PARAMETER(Extra);
    UNREFERENCED_PARAMETER(Count);
    UNREFERENCED_PARAMETER(Name);
    UNREFERENCED_PARAMETER(Reserved);
    UNREFERENCED_PARAMETER(Legacy);
    if (LegacyOut) *LegacyOut = 0;
    ULONG n = min(Capacity, Context->Length);
    RtlCopyMemory(Buffer, Context->Bytes, n);
    *Written = n;
    return n == Context->Length ? STATUS_SUCCESS : STATUS_BUFFER_OVERFLOW;
}

_Requires_exclusive_lock_held_(Context->Lock)
_Acquires_shared_lock_(Other)
_Releases_exclusive_lock_(Context->Lock)
_Kernel_requires_resource_held_(Resource)
static VOID SurfaceAnnotatedNoop(_In_ PSURFACE_CONTEXT Context, _In_opt_ PVOID Other)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Other);
}

EXTERN_C_END

/* ---- checks ---- */

static void test_macros(check_tally *t)
{
    CHECK(t, RTL_FIELD_SIZE(SURFACE_VERSIONED, Flags) == 2);
    CHECK(t, RTL_SIZEOF_THROUGH_FIELD(SURFACE_VERSIONED, Flags) == 8);
    CHECK(t, RTL_SIZEOF_THROUGH_FIELD(SURFACE_VERSIONED, Extra) == 16);
    CHECK(t, UInt32x32To64(0xFFFFFFFFu, 0xFFFFFFFFu) == 0xFFFFFFFE00000001ull); /* no 32-bit overflow */
    CHECK(t, Int32x32To64(-2, 0x7FFFFFFF) == -0xFFFFFFFEll);
    CHECK(t, ALIGN_UP_BY(13, 8) == 16 && ALIGN_DOWN_BY(13, 8) == 8);
    SURFACE_FLAGS f = SurfaceFlagA | SurfaceFlagB;
    CHECK(t, (f & SurfaceFlagB) && SurfaceSelectAny == 7);
    CHECK(t, NT_SUCCESS(STATUS_SUCCESS) && NT_SUCCESS(STATUS_PENDING) && !NT_SUCCESS(STATUS_UNSUCCESSFUL));
    CHECK(t, NT_WARNING(STATUS_BUFFER_OVERFLOW) && NT_ERROR(STATUS_INSUFFICIENT_RESOURCES) &&
                 NT_INFORMATION(STATUS_OBJECT_NAME_EXISTS));
    CHECK(t, STATUS_NOT_FOUND == (NTSTATUS)0xC0000225L && STATUS_INVALID_PARAMETER == (NTSTATUS)0xC000000DL);
    CHECK(t, NDIS_STATUS_SUCCESS == 0 && NDIS_STATUS_PENDING == STATUS_PENDING);
    CHECK(t, AF_INET == 2 && AF_INET6 == 23 && AF_UNSPEC == 0);
    /* Assertions are BOOLEAN expressions (checked-build semantics). */
    BOOLEAN ok = NT_VERIFY(f != 0);
    CHECK(t, ok == TRUE && NT_ASSERT(1 + 1 == 2) == TRUE && NT_ASSERT_ASSUME(TRUE) == TRUE);
    if (!NT_VERIFY(ok)) CHECK(t, FALSE);
    NT_ASSERT(ok); /* as a statement: no unused-value warning */
    ASSERT(ok);
}

static void test_addresses(check_tally *t)
{
    IN_ADDR a;
    a.S_un.S_addr = 0;
    a.S_un.S_un_b.s_b1 = 192;
    a.S_un.S_un_b.s_b2 = 168;
    a.S_un.S_un_b.s_b3 = 1;
    a.S_un.S_un_b.s_b4 = 7;
    CHECK(t, a.S_un.S_addr == 0x0701A8C0u); /* network order in memory, little-endian view */
    CHECK(t, a.S_un.S_un_w.s_w1 == 0xA8C0);
    SOCKADDR_INET inet;
    RtlZeroMemory(&inet, sizeof inet);
    inet.Ipv6.sin6_family = AF_INET6;
    inet.Ipv6.sin6_addr.u.Byte[15] = 1;
    inet.Ipv6.sin6_scope_struct.Level = ScopeLevelLink;
    inet.Ipv6.sin6_scope_struct.Zone = 3;
    CHECK(t, inet.si_family == AF_INET6 && inet.Ipv6.sin6_addr.u.Word[7] == 0x0100);
    CHECK(t, inet.Ipv6.sin6_scope_id == ((ULONG)ScopeLevelLink << 28 | 3));
    NET_LUID luid;
    luid.Value = 0;
    luid.Info.IfType = 6;
    luid.Info.NetLuidIndex = 1;
    CHECK(t, luid.Value == ((ULONG64)6 << 48 | (ULONG64)1 << 24));
}

static void test_module_ids(check_tally *t)
{
    NPI_MODULEID a, b, c;
    RtlZeroMemory(&a, sizeof a);
    a.Length = sizeof a;
    a.Type = MIT_GUID;
    a.Guid.Data1 = 0x1234;
    b = a;
    c = a;
    c.Guid.Data4[7] = 1;
    CHECK(t, NmrIsEqualNpiModuleId(&a, &b) && !NmrIsEqualNpiModuleId(&a, &c));
    c = a;
    c.Type = MIT_IF_LUID;
    CHECK(t, !NmrIsEqualNpiModuleId(&a, &c));
    a.Type = b.Type = MIT_IF_LUID;
    RtlZeroMemory(&a.IfLuid, sizeof a.IfLuid);
    RtlZeroMemory(&b.IfLuid, sizeof b.IfLuid);
    a.IfLuid.LowPart = b.IfLuid.LowPart = 5;
    CHECK(t, NmrIsEqualNpiModuleId(&a, &b));
    b.IfLuid.HighPart = 1;
    CHECK(t, !NmrIsEqualNpiModuleId(&a, &b));
}

static void test_driver_code(check_tally *t)
{
    ULONG values[4] = {1, 2, 3, 4};
    UCHAR bytes[6] = {1, 2, 3, 4, 5, 6};
    SURFACE_CONTEXT ctx;
    RtlZeroMemory(&ctx, sizeof ctx);
    CHECK(t, ((ULONG_PTR)&ctx % SYSTEM_CACHE_ALIGNMENT_SIZE) == 0);
    ctx.Count = 4;
    ctx.Values = values;
    ctx.Bytes = bytes;
    ctx.Length = sizeof bytes;
    ExInitializePushLock(&ctx.Lock);
    CHECK(t, SurfaceReference(&ctx, TRUE) == 1 && SurfaceReference(&ctx, FALSE) == 1);
    UCHAR out[4];
    ULONG written = 0, legacy = 9;
    CHECK(t, SurfaceCopy(&ctx, out, sizeof out, &written, NULL, 0, "name", NULL, NULL, &legacy) == STATUS_BUFFER_OVERFLOW);
    CHECK(t, written == 4 && out[3] == 4 && legacy == 0);
    SurfaceAnnotatedNoop(&ctx, NULL);
    LIST_ENTRY head, e1, e2;
    InitializeListHead(&head);
    InsertTailList(&head, &e1);
    InsertHeadList(&head, &e2);
    CHECK(t, head.Flink == &e2 && head.Blink == &e1 && RemoveTailList(&head) == &e1 && !IsListEmpty(&head));
    SINGLE_LIST_ENTRY s, s1;
    s.Next = NULL;
    PushEntryList(&s, &s1);
    CHECK(t, PopEntryList(&s) == &s1 && PopEntryList(&s) == NULL);
    CHECK(t, CONTAINING_RECORD(&ctx.Lock, SURFACE_CONTEXT, Lock) == &ctx);
}

int main(void)
{
    check_tally t = {0, 0, "wdk-surface"};
    test_macros(&t);
    test_addresses(&t);
    test_module_ids(&t);
    test_driver_code(&t);
    return check_summary(&t, "test_wdk_surface");
}
