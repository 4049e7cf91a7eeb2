/* User-mode stand-in for the WDK's ntddk.h: wdm.h (see there) is the whole surface. */
#ifndef NMRH_UM_NTDDK_H
#define NMRH_UM_NTDDK_H
#include "wdm.h"
#endif
