/*
 * IOCTL handling of the replay driver, apart from the IRP plumbing (driver.c), so that the
 * user-mode tests drive exactly what the driver runs.
 */
#ifndef NMRH_KDISPATCH_H
#define NMRH_KDISPATCH_H

#include <ntddk.h>

/* Handles one METHOD_BUFFERED device control: `buffer` holds in_len bytes of input and receives
   up to out_len bytes of output (the same buffer, as the I/O manager provides it). Sets
   *information to the bytes of output. PASSIVE_LEVEL. */
NTSTATUS nmrk_dispatch(ULONG code, void *buffer, size_t in_len, size_t out_len, size_t *information);

#endif
