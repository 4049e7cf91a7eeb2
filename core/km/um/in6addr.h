/* IPv6 address (the WDK's in6addr.h): IN6_ADDR with its u.Byte and u.Word views, 16 bytes. */
#ifndef NMRH_UM_IN6ADDR_H
#define NMRH_UM_IN6ADDR_H

#include "ntdef.h"

typedef struct in6_addr_nmrh_windows {
    union {
        UCHAR Byte[16];
        USHORT Word[8];
    } u;
} IN6_ADDR, *PIN6_ADDR, *LPIN6_ADDR;
C_ASSERT(sizeof(IN6_ADDR) == 16);

#endif /* NMRH_UM_IN6ADDR_H */
