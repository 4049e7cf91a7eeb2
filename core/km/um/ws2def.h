/*
 * The WDK's ws2def.h, the part drivers use: ADDRESS_FAMILY and the AF_* values of Windows (note
 * AF_INET6 is 23 there, not Linux's 10), SOCKADDR and SOCKADDR_STORAGE with their Windows
 * layouts, and IN_ADDR (inaddr.h). The structure tags are nmrh's own and the AF_* macros replace
 * the C library's: do not include this header and <sys/socket.h> in one translation unit
 * (docs/wdk-surface.md).
 */
#ifndef NMRH_UM_WS2DEF_H
#define NMRH_UM_WS2DEF_H

#include "inaddr.h"

typedef USHORT ADDRESS_FAMILY;

#undef AF_UNSPEC
#undef AF_UNIX
#undef AF_INET
#undef AF_INET6
#undef AF_MAX
#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_IPX 6
#define AF_APPLETALK 16
#define AF_NETBIOS 17
#define AF_INET6 23
#define AF_IRDA 26
#define AF_BTH 32
#define AF_LINK 33
#define AF_HYPERV 34
#define AF_MAX 35

typedef struct sockaddr_nmrh_windows {
    ADDRESS_FAMILY sa_family;
    CHAR sa_data[14];
} SOCKADDR, *PSOCKADDR, *LPSOCKADDR;
C_ASSERT(sizeof(SOCKADDR) == 16);

#define _SS_MAXSIZE 128
#define _SS_ALIGNSIZE (sizeof(LONGLONG))
#define _SS_PAD1SIZE (_SS_ALIGNSIZE - sizeof(USHORT))
#define _SS_PAD2SIZE (_SS_MAXSIZE - (sizeof(USHORT) + _SS_PAD1SIZE + _SS_ALIGNSIZE))
typedef struct sockaddr_storage_nmrh_windows {
    ADDRESS_FAMILY ss_family;
    CHAR __ss_pad1[_SS_PAD1SIZE];
    LONGLONG __ss_align;
    CHAR __ss_pad2[_SS_PAD2SIZE];
} SOCKADDR_STORAGE, *PSOCKADDR_STORAGE, *LPSOCKADDR_STORAGE;
C_ASSERT(sizeof(SOCKADDR_STORAGE) == 128);

typedef struct sockaddr_in_nmrh_windows {
    ADDRESS_FAMILY sin_family;
    USHORT sin_port;
    IN_ADDR sin_addr;
    CHAR sin_zero[8];
} SOCKADDR_IN, *PSOCKADDR_IN;
C_ASSERT(sizeof(SOCKADDR_IN) == 16);
C_ASSERT(FIELD_OFFSET(SOCKADDR_IN, sin_addr) == 4);

typedef enum {
    ScopeLevelInterface = 1,
    ScopeLevelLink = 2,
    ScopeLevelSubnet = 3,
    ScopeLevelAdmin = 4,
    ScopeLevelSite = 5,
    ScopeLevelOrganization = 8,
    ScopeLevelGlobal = 14,
    ScopeLevelCount = 16
} SCOPE_LEVEL;

typedef struct {
    union {
        struct {
            ULONG Zone : 28;
            ULONG Level : 4;
        };
        ULONG Value;
    };
} SCOPE_ID, *PSCOPE_ID;
C_ASSERT(sizeof(SCOPE_ID) == 4);


#endif /* NMRH_UM_WS2DEF_H */
