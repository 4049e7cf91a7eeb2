/*
 * Forced include for module sources in builds that interpose (the kernel replay driver, the
 * user-mode prediction of stress/predict and the driver's user-mode tests):
 *
 *     clang ... -include core/interpose/interpose_nmr.h modules/echo/echo_client.c
 *     cl ... /FI core\interpose\interpose_nmr.h ...
 *
 * It includes the WDK headers first, so that their declarations keep the real names (and their
 * dllimport attributes), and then renames the functions modules call to the interposer's
 * entry points (interpose.h). Modules need no source change. The ordinary user-mode build
 * (fuzzing, nmrh replay) does not use it: there modules call the NMR model directly.
 */
#ifndef NMRH_INTERPOSE_NMR_H
#define NMRH_INTERPOSE_NMR_H

#include <ntddk.h>
#include <netioddk.h>

#include "interpose.h"

#define NmrRegisterClient nmrh_ip_NmrRegisterClient
#define NmrDeregisterClient nmrh_ip_NmrDeregisterClient
#define NmrWaitForClientDeregisterComplete nmrh_ip_NmrWaitForClientDeregisterComplete
#define NmrClientAttachProvider nmrh_ip_NmrClientAttachProvider
#define NmrClientDetachProviderComplete nmrh_ip_NmrClientDetachProviderComplete
#define NmrRegisterProvider nmrh_ip_NmrRegisterProvider
#define NmrDeregisterProvider nmrh_ip_NmrDeregisterProvider
#define NmrWaitForProviderDeregisterComplete nmrh_ip_NmrWaitForProviderDeregisterComplete
#define NmrProviderDetachClientComplete nmrh_ip_NmrProviderDetachClientComplete
#define ExAllocatePool2 nmrh_ip_ExAllocatePool2
/* mingw-w64's wdm.h maps ExAllocatePoolWithTag to the untagged ExAllocatePool unless
   POOL_TAGGING is defined (the driver build defines it); either way modules reach the wrapper. */
#ifdef ExAllocatePoolWithTag
#undef ExAllocatePoolWithTag
#endif
#define ExAllocatePoolWithTag nmrh_ip_ExAllocatePoolWithTag

#endif
