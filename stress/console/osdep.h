/*
 * What nmrstress needs from the operating system, behind plain C types so that the files that
 * include <windows.h> (os_win32.c, transport_win32.c) never meet the nmrh headers, whose
 * user-mode WDK stand-ins define the same type names differently.
 *
 *   os_win32.c / os_posix.c                 files, directories, time, durable writes
 *   transport_win32.c / transport_loopback.c the driver: DeviceIoControl on \\.\NmrhStress, or
 *                                           the driver's own code in-process (Linux tests)
 */
#ifndef NMRH_OSDEP_H
#define NMRH_OSDEP_H

#include <stddef.h>
#include <stdint.h>

/* Appends `line` to `path` and makes it durable (FlushFileBuffers / fsync) before returning, so
   that it survives a bugcheck that follows. 1 on success. */
int os_durable_append(const char *path, const char *line);
/* Names of the regular files directly in `dir` whose names end in one of the suffixes (sorted,
   "dir/name"); returns the count (>= 0), -1 when `dir` cannot be read. Free with os_free_list. */
int os_list_dir(const char *dir, const char *const *suffixes, char ***out);
void os_free_list(char **list, int n);
int os_is_dir(const char *path);
/* "2024-05-01T12:00:00Z" */
void os_utc_now(char *buf, size_t cap);
uint64_t os_now_ms(void);
void os_hostname(char *buf, size_t cap);

/* ---- the driver ---- */
typedef enum transport_result {
    TR_OK,
    TR_MORE_DATA,  /* the output buffer was too small; the header says how much is needed */
    TR_NOT_READY,  /* a run hung earlier: the driver refuses runs until the machine restarts */
    TR_BUSY,       /* another run is in progress */
    TR_REJECTED,   /* the driver rejected the request (invalid parameter, revision mismatch) */
    TR_FAILED,     /* anything else; err says what */
} transport_result;

typedef struct transport transport;
/* Opens the driver; NULL with a message in err when it is not there. */
transport *transport_open(char *err, size_t errcap);
transport_result transport_ioctl(transport *t, uint32_t code, const void *in, size_t in_len, void *out, size_t out_cap,
                                 size_t *out_len, char *err, size_t errcap);
void transport_close(transport *t);
/* What the transport talks to, for reports. */
const char *transport_name(void);

#endif
