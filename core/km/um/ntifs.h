/* User-mode stand-in for the WDK's ntifs.h: file-system declarations are not modelled; drivers
   that include it for the ntddk.h/wdm.h surface get that (docs/wdk-surface.md). */
#ifndef NMRH_UM_NTIFS_H
#define NMRH_UM_NTIFS_H
#include "ntddk.h"
#endif
