/*
 * What the NMR test double (ktd_nmr.c) needs of its host, so that one NMR implementation serves
 * two hosts: the user-mode tests of the driver (ktd_nmr_os_posix.c, pthreads) and the Wine-only
 * NETIO.SYS that the real driver binary runs against under Wine (ktd_nmr_os_kernel.c, kernel APIs;
 * stress/wine/). One lock, one condition on it, detached threads, zeroed memory.
 */
#ifndef NMRH_KTD_NMR_OS_H
#define NMRH_KTD_NMR_OS_H

#include <stddef.h>

void ktd_os_lock(void);
void ktd_os_unlock(void);
/* With the lock: releases it, sleeps until a ktd_os_broadcast (or spuriously: callers loop on
   their condition), takes it again. */
void ktd_os_wait(void);
/* With the lock: wakes every ktd_os_wait. */
void ktd_os_broadcast(void);
/* Runs fn(arg) on a new detached thread; a failure to create it is fatal. */
void ktd_os_start_thread(void (*fn)(void *), void *arg);
/* Zeroed memory, NULL when there is none. */
void *ktd_os_zalloc(size_t n);
void ktd_os_free(void *p);
_Noreturn void ktd_os_fatal(const char *what);

#endif
