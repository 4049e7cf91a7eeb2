/*
 * The Network Module Registrar interface (netioddk.h) as documented in the WDK.
 *
 * Serves both builds: in user mode it is implemented by nmrh's NMR model (core/model/); in the
 * kernel build the nine Nmr* functions are imported from NETIO.SYS (mingw-w64's libnetio.a).
 * mingw-w64 ships no netioddk.h, hence this one. Include <wdm.h> or <ntddk.h> first, or let
 * this header include it. Struct sizes are asserted for x64.
 */
#ifndef NMRH_NETIODDK_H
#define NMRH_NETIODDK_H

#include <wdm.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef GUID NPIID;
typedef const NPIID *PNPIID;

typedef enum _NPI_MODULEID_TYPE {
    MIT_GUID = 1,
    MIT_IF_LUID,
} NPI_MODULEID_TYPE;

typedef struct _NPI_MODULEID {
    USHORT Length;
    NPI_MODULEID_TYPE Type;
    union {
        GUID Guid;
        LUID IfLuid;
    };
} NPI_MODULEID;
typedef const NPI_MODULEID *PNPI_MODULEID;

/* TRUE when both identify the same module: same kind, same GUID or interface LUID. (The unused
   attribute keeps GCC and clang quiet when this header is compiled on its own.) */
#if defined(__GNUC__) || defined(__clang__)
#define NMRH_NETIO_MAYBE_UNUSED __attribute__((unused))
#else
#define NMRH_NETIO_MAYBE_UNUSED
#endif
static __inline NMRH_NETIO_MAYBE_UNUSED BOOLEAN NmrIsEqualNpiModuleId(PNPI_MODULEID ModuleId1, PNPI_MODULEID ModuleId2)
{
    if (ModuleId1->Type != ModuleId2->Type) return FALSE;
    if (ModuleId1->Type == MIT_GUID) return RtlEqualMemory(&ModuleId1->Guid, &ModuleId2->Guid, sizeof(GUID)) ? TRUE : FALSE;
    if (ModuleId1->Type == MIT_IF_LUID)
        return RtlEqualMemory(&ModuleId1->IfLuid, &ModuleId2->IfLuid, sizeof(LUID)) ? TRUE : FALSE;
    return FALSE;
}

typedef struct _NPI_REGISTRATION_INSTANCE {
    USHORT Version;
    USHORT Size;
    PNPIID NpiId;
    PNPI_MODULEID ModuleId;
    ULONG Number;
    const VOID *NpiSpecificCharacteristics;
} NPI_REGISTRATION_INSTANCE;
typedef const NPI_REGISTRATION_INSTANCE *PNPI_REGISTRATION_INSTANCE;

typedef NTSTATUS NTAPI NPI_CLIENT_ATTACH_PROVIDER_FN(HANDLE NmrBindingHandle, PVOID ClientContext,
                                                     PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance);
typedef NPI_CLIENT_ATTACH_PROVIDER_FN *PNPI_CLIENT_ATTACH_PROVIDER_FN;
typedef NTSTATUS NTAPI NPI_CLIENT_DETACH_PROVIDER_FN(PVOID ClientBindingContext);
typedef NPI_CLIENT_DETACH_PROVIDER_FN *PNPI_CLIENT_DETACH_PROVIDER_FN;
typedef VOID NTAPI NPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN(PVOID ClientBindingContext);
typedef NPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN *PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN;

typedef NTSTATUS NTAPI NPI_PROVIDER_ATTACH_CLIENT_FN(HANDLE NmrBindingHandle, PVOID ProviderContext,
                                                     PNPI_REGISTRATION_INSTANCE ClientRegistrationInstance,
                                                     PVOID ClientBindingContext, const VOID *ClientDispatch,
                                                     PVOID *ProviderBindingContext,
                                                     const VOID **ProviderDispatch);
typedef NPI_PROVIDER_ATTACH_CLIENT_FN *PNPI_PROVIDER_ATTACH_CLIENT_FN;
typedef NTSTATUS NTAPI NPI_PROVIDER_DETACH_CLIENT_FN(PVOID ProviderBindingContext);
typedef NPI_PROVIDER_DETACH_CLIENT_FN *PNPI_PROVIDER_DETACH_CLIENT_FN;
typedef VOID NTAPI NPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN(PVOID ProviderBindingContext);
typedef NPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN *PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN;

typedef struct _NPI_CLIENT_CHARACTERISTICS {
    USHORT Version;
    USHORT Length;
    PNPI_CLIENT_ATTACH_PROVIDER_FN ClientAttachProvider;
    PNPI_CLIENT_DETACH_PROVIDER_FN ClientDetachProvider;
    PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN ClientCleanupBindingContext;
    NPI_REGISTRATION_INSTANCE ClientRegistrationInstance;
} NPI_CLIENT_CHARACTERISTICS;
typedef const NPI_CLIENT_CHARACTERISTICS *PNPI_CLIENT_CHARACTERISTICS;

typedef struct _NPI_PROVIDER_CHARACTERISTICS {
    USHORT Version;
    USHORT Length;
    PNPI_PROVIDER_ATTACH_CLIENT_FN ProviderAttachClient;
    PNPI_PROVIDER_DETACH_CLIENT_FN ProviderDetachClient;
    PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN ProviderCleanupBindingContext;
    NPI_REGISTRATION_INSTANCE ProviderRegistrationInstance;
} NPI_PROVIDER_CHARACTERISTICS;
typedef const NPI_PROVIDER_CHARACTERISTICS *PNPI_PROVIDER_CHARACTERISTICS;

#if defined(_WIN64) || defined(__x86_64__) || defined(__aarch64__)
_Static_assert(sizeof(NPI_MODULEID) == 24, "NPI_MODULEID is 24 bytes on x64");
_Static_assert(sizeof(NPI_REGISTRATION_INSTANCE) == 40, "NPI_REGISTRATION_INSTANCE is 40 bytes on x64");
_Static_assert(sizeof(NPI_CLIENT_CHARACTERISTICS) == 72, "NPI_CLIENT_CHARACTERISTICS is 72 bytes on x64");
_Static_assert(sizeof(NPI_PROVIDER_CHARACTERISTICS) == 72, "NPI_PROVIDER_CHARACTERISTICS is 72 bytes on x64");
#endif

NTSTATUS NTAPI NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS ClientCharacteristics, PVOID ClientContext,
                                 PHANDLE NmrClientHandle);
NTSTATUS NTAPI NmrDeregisterClient(HANDLE NmrClientHandle);
NTSTATUS NTAPI NmrWaitForClientDeregisterComplete(HANDLE NmrClientHandle);
NTSTATUS NTAPI NmrClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientBindingContext,
                                       const VOID *ClientDispatch, PVOID *ProviderBindingContext,
                                       const VOID **ProviderDispatch);
VOID NTAPI NmrClientDetachProviderComplete(HANDLE NmrBindingHandle);

NTSTATUS NTAPI NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS ProviderCharacteristics, PVOID ProviderContext,
                                   PHANDLE NmrProviderHandle);
NTSTATUS NTAPI NmrDeregisterProvider(HANDLE NmrProviderHandle);
NTSTATUS NTAPI NmrWaitForProviderDeregisterComplete(HANDLE NmrProviderHandle);
VOID NTAPI NmrProviderDetachClientComplete(HANDLE NmrBindingHandle);

#ifdef __cplusplus
}
#endif
#endif /* NMRH_NETIODDK_H */
