/* User-mode stand-in for the WDK's ntddk.h: everything lives in wdm.h (see there). */
#ifndef NMRH_UM_NTDDK_H
#define NMRH_UM_NTDDK_H
#include "wdm.h"
#endif
