/*
 * IPv4 address (the WDK's inaddr.h): IN_ADDR with the S_un union of byte, word and address
 * views, 4 bytes, network byte order. The s_addr/s_net/... accessor macros are not defined
 * (they would clash with the C library's struct in_addr field name s_addr).
 */
#ifndef NMRH_UM_INADDR_H
#define NMRH_UM_INADDR_H

#include "ntdef.h"

typedef struct in_addr_nmrh_windows {
    union {
        struct {
            UCHAR s_b1, s_b2, s_b3, s_b4;
        } S_un_b;
        struct {
            USHORT s_w1, s_w2;
        } S_un_w;
        ULONG S_addr;
    } S_un;
} IN_ADDR, *PIN_ADDR, *LPIN_ADDR;
C_ASSERT(sizeof(IN_ADDR) == 4);

#endif /* NMRH_UM_INADDR_H */
