/*
 * The driver in-process (osdep.h): the Linux build of nmrstress links the driver's own code on
 * the kernel and NMR test doubles (nmrh_kdriver_um) and calls its IOCTL dispatch directly, with
 * the same METHOD_BUFFERED buffer handling as the I/O manager. For the console's tests; the NMR
 * behind it is the test double (its choices can be set with NMRH_LOOPBACK_NMR, e.g.
 * "provider-first,cleanup-deferred", to see divergences reported).
 *
 * NMRH_LOOPBACK_BUGCHECK=LABEL makes the "machine" go down (abort) while it runs the request
 * labelled LABEL (the sequence's file name), as a bugcheck would: for testing the crash journal.
 */
#include "osdep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/kproto.h"
#include "../kernel/dispatch.h"
#include "ktd_nmr.h"

struct transport {
    int unused;
};

const char *transport_name(void) { return "loopback (the driver's code on the kernel and NMR test doubles)"; }

transport *transport_open(char *err, size_t errcap)
{
    const char *cfg = getenv("NMRH_LOOPBACK_NMR");
    ktd_nmr_config c;
    memset(&c, 0, sizeof c);
    if (cfg) {
        c.handle_after_attach = strstr(cfg, "handle-after-attach") != NULL;
        c.provider_first = strstr(cfg, "provider-first") != NULL;
        c.detach_on_worker = strstr(cfg, "detach-on-worker") != NULL;
        c.detach_per_side = strstr(cfg, "detach-per-side") != NULL;
        c.detach_at_dispatch = strstr(cfg, "detach-at-dispatch") != NULL;
        c.cleanup_deferred = strstr(cfg, "cleanup-deferred") != NULL;
    }
    ktd_nmr_configure(&c);
    transport *t = calloc(1, sizeof *t);
    if (!t) snprintf(err, errcap, "out of memory");
    return t;
}

transport_result transport_ioctl(transport *t, uint32_t code, const void *in, size_t in_len, void *out, size_t out_cap,
                                 size_t *out_len, char *err, size_t errcap)
{
    (void)t;
    size_t cap = in_len > out_cap ? in_len : out_cap;
    void *system_buffer = calloc(1, cap ? cap : 1);
    if (!system_buffer) {
        snprintf(err, errcap, "out of memory");
        return TR_FAILED;
    }
    if (in_len) memcpy(system_buffer, in, in_len);
    const char *bugcheck = getenv("NMRH_LOOPBACK_BUGCHECK");
    if (bugcheck && code == NMRK_IOCTL_RUN && in_len >= sizeof(nmrk_request)) {
        nmrk_request r;
        memcpy(&r, in, sizeof r);
        r.label[sizeof r.label - 1] = '\0';
        if (strcmp(r.label, bugcheck) == 0) {
            fprintf(stderr, "loopback: simulated bugcheck while running %s\n", r.label);
            abort();
        }
    }
    size_t info = 0;
    NTSTATUS status = nmrk_dispatch(code, system_buffer, in_len, out_cap, &info);
    transport_result r;
    if (status == STATUS_SUCCESS || status == (NTSTATUS)0x80000005L /* STATUS_BUFFER_OVERFLOW */) {
        memcpy(out, system_buffer, info);
        *out_len = info;
        r = status == STATUS_SUCCESS ? TR_OK : TR_MORE_DATA;
    } else {
        *out_len = 0;
        r = status == STATUS_DEVICE_NOT_READY ? TR_NOT_READY
            : status == (NTSTATUS)0x80000011L ? TR_BUSY
            : status == STATUS_INVALID_PARAMETER || status == STATUS_REVISION_MISMATCH ||
                    status == (NTSTATUS)0xC0000004L || status == (NTSTATUS)0xC0000023L
                ? TR_REJECTED
                : TR_FAILED;
        snprintf(err, errcap, "the driver returned NTSTATUS 0x%08X", (unsigned)status);
    }
    free(system_buffer);
    return r;
}

void transport_close(transport *t) { free(t); }
