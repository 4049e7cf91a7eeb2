/*
 * The "echo" NPI shared by the example client and provider: the client calls Echo on the
 * provider, the provider calls Notify on the client. Version 2 of the client dispatch adds a
 * field, so a version-1 provider declines it and the client falls back to version 1.
 */
#ifndef ECHO_NPI_H
#define ECHO_NPI_H

#include <ntddk.h>
#include <netioddk.h>

/* {6e6d7268-6563-686f-8000-000000000001} */
DEFINE_GUID(NPI_ECHO_ID, 0x6e6d7268, 0x6563, 0x686f, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01);

#define ECHO_VERSION_1 1
#define ECHO_VERSION_2 2

typedef NTSTATUS NTAPI ECHO_FN(PVOID ProviderBindingContext, ULONG Value, PULONG Result);
typedef VOID NTAPI ECHO_NOTIFY_FN(PVOID ClientBindingContext, ULONG Value);

typedef struct _ECHO_PROVIDER_DISPATCH {
    USHORT Version;
    USHORT Length;
    ECHO_FN *Echo;
} ECHO_PROVIDER_DISPATCH;

typedef struct _ECHO_CLIENT_DISPATCH {
    USHORT Version;
    USHORT Length;
    ECHO_NOTIFY_FN *Notify;
    ULONG Flags; /* version 2 only */
} ECHO_CLIENT_DISPATCH;

#define ECHO_CLIENT_DISPATCH_V1_SIZE ((USHORT)FIELD_OFFSET(ECHO_CLIENT_DISPATCH, Flags))

/* Pool tags in memory order (what poolmon shows); built without multi-character constants,
   which gcc warns about. */
#define ECHO_POOL_TAG(a, b, c, d) ((ULONG)(a) | ((ULONG)(b) << 8) | ((ULONG)(c) << 16) | ((ULONG)(d) << 24))
#define ECHO_CLIENT_TAG ECHO_POOL_TAG('E', 'h', 'o', 'C')
#define ECHO_CLIENT_BINDING_TAG ECHO_POOL_TAG('E', 'h', 'o', 'B')
#define ECHO_PROVIDER_TAG ECHO_POOL_TAG('E', 'h', 'o', 'P')
#define ECHO_PROVIDER_BINDING_TAG ECHO_POOL_TAG('E', 'h', 'o', 'b')

#endif
