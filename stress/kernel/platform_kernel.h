/*
 * The kernel platform of the replay driver: the interpreter's platform table (nmrh/platform.h)
 * on kernel system threads, KEVENTs and a spin lock, wired to the interposer
 * (core/interpose/interpose.h) and the replay scheduler (stress/engine/replay_sched.h).
 *
 * It calls only the kernel APIs a WDM driver imports from ntoskrnl.exe and HAL.dll; the
 * user-mode tests build this same file against a pthread test double of those APIs
 * (stress/kernel/test_double/) and a test double of the NMR.
 */
#ifndef NMRH_PLATFORM_KERNEL_H
#define NMRH_PLATFORM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/kproto.h"

#define NMRK_POOL_TAG 0x6B486D4Eu /* 'NmHk' in memory order: what poolmon and !poolused show */

/* Runs a validated NMRK_IOCTL_RUN request (`req` is the validated copy) and writes the response
   and the observations into `out` (out_len bytes, at least sizeof(nmrk_response)). Returns the
   bytes written. One run at a time: the caller serialises. */
size_t nmrk_run(const nmrk_request *req, const nmrk_validated *v, void *out, size_t out_len);

/* True once a run ended with threads blocked forever: their memory and the NMR registrations of
   their modules can never be released, so the driver refuses further runs and cannot unload. */
int nmrk_wedged(void);

/* The crash breadcrumb: what the driver is running now, kept in a non-paged buffer that
   driver.c hands to KeRegisterBugCheckCallback, so that a crash dump names the sequence
   (!bugdump NmrhStress in WinDbg, or a search for "NMRH-BREADCRUMB"). */
#define NMRK_BREADCRUMB_SIZE 256u
extern char nmrk_breadcrumb[NMRK_BREADCRUMB_SIZE];
void nmrk_breadcrumb_update(const nmrk_request *req, const char *state, uint32_t findings);

#endif
