/*
 * The WDK's ws2ipdef.h, the part drivers use: IN6_ADDR (in6addr.h), SOCKADDR_IN6 and the
 * SOCKADDR_INET union of both families, with their Windows layouts (asserted for x64).
 */
#ifndef NMRH_UM_WS2IPDEF_H
#define NMRH_UM_WS2IPDEF_H

#include "in6addr.h"
#include "ws2def.h"

typedef struct sockaddr_in6_nmrh_windows {
    ADDRESS_FAMILY sin6_family;
    USHORT sin6_port;
    ULONG sin6_flowinfo;
    IN6_ADDR sin6_addr;
    union {
        ULONG sin6_scope_id;
        SCOPE_ID sin6_scope_struct;
    };
} SOCKADDR_IN6_LH, *PSOCKADDR_IN6_LH, SOCKADDR_IN6, *PSOCKADDR_IN6, *LPSOCKADDR_IN6;
C_ASSERT(sizeof(SOCKADDR_IN6) == 28);
C_ASSERT(FIELD_OFFSET(SOCKADDR_IN6, sin6_addr) == 8);
C_ASSERT(FIELD_OFFSET(SOCKADDR_IN6, sin6_scope_id) == 24);

typedef union _SOCKADDR_INET {
    SOCKADDR_IN Ipv4;
    SOCKADDR_IN6 Ipv6;
    ADDRESS_FAMILY si_family;
} SOCKADDR_INET, *PSOCKADDR_INET;
C_ASSERT(sizeof(SOCKADDR_INET) == 28);

#endif /* NMRH_UM_WS2IPDEF_H */
