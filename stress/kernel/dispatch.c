/*
 * The two IOCTLs (stress/engine/kproto.h). The input is copied out of the system buffer before it
 * is validated, because METHOD_BUFFERED returns the output in that same buffer; nothing from it
 * is used before nmrk_validate_request has accepted all of it. One run at a time.
 */
#include "dispatch.h"

#include "nmrh/targets.h"
#include "platform_kernel.h"

#ifndef STATUS_INVALID_DEVICE_REQUEST
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#endif
#ifndef STATUS_INFO_LENGTH_MISMATCH
#define STATUS_INFO_LENGTH_MISMATCH ((NTSTATUS)0xC0000004L)
#endif
#ifndef STATUS_BUFFER_TOO_SMALL
#define STATUS_BUFFER_TOO_SMALL ((NTSTATUS)0xC0000023L)
#endif
#ifndef STATUS_BUFFER_OVERFLOW
#define STATUS_BUFFER_OVERFLOW ((NTSTATUS)0x80000005L)
#endif
#ifndef STATUS_DEVICE_BUSY
#define STATUS_DEVICE_BUSY ((NTSTATUS)0x80000011L)
#endif

#define BUILD_TEXT "nmrhstress 0.1.0"

static volatile LONG g_busy;

/* The targets this driver knows: the project's (modules/targets.c), after a user's own one when
   the driver is built with -DNMRK_EXTRA_TARGET=symbol (build_kernel.sh: NMRH_KERNEL_EXTRA_TARGET). */
#ifdef NMRK_EXTRA_TARGET
extern const nmrh_target NMRK_EXTRA_TARGET;
#define MAX_DRIVER_TARGETS 128
static const nmrh_target *g_targets[MAX_DRIVER_TARGETS + 1];
static const nmrh_target *const *driver_targets(void)
{
    if (g_targets[0] == NULL) { /* idempotent: concurrent first calls write the same values */
        size_t n = 1;
        for (const nmrh_target *const *t = nmrh_targets(); *t && n < MAX_DRIVER_TARGETS; t++) g_targets[n++] = *t;
        g_targets[0] = &NMRK_EXTRA_TARGET;
    }
    return g_targets;
}
#else
static const nmrh_target *const *driver_targets(void) { return nmrh_targets(); }
#endif

static NTSTATUS query(void *buffer, size_t out_len, size_t *information)
{
    nmrk_info info;
    size_t text = nmrk_describe_targets(driver_targets(), NULL, 0);
    if (out_len < sizeof info) return STATUS_BUFFER_TOO_SMALL;
    memset(&info, 0, sizeof info);
    info.magic = NMRK_INFO_MAGIC;
    info.version = NMRK_PROTOCOL_VERSION;
    info.header_size = sizeof info;
    info.total_size = (uint32_t)(sizeof info + text);
    info.text_size = (uint32_t)text;
    info.max_workers = NMRK_MAX_WORKERS;
    info.max_sequences = NMRK_MAX_SEQUENCES;
    info.max_sequence_bytes = NMRK_MAX_SEQUENCE_BYTES;
    info.max_obs = NMRK_MAX_OBS;
    memcpy(info.build, BUILD_TEXT, sizeof BUILD_TEXT);
    memcpy(buffer, &info, sizeof info);
    if (out_len < sizeof info + text) {
        *information = sizeof info; /* the caller retries with info.total_size bytes */
        return STATUS_BUFFER_OVERFLOW;
    }
    nmrk_describe_targets(driver_targets(), (char *)buffer + sizeof info, text);
    *information = sizeof info + text;
    return STATUS_SUCCESS;
}

static NTSTATUS status_of(nmrk_error e)
{
    switch (e) {
    case NMRK_OK: return STATUS_SUCCESS;
    case NMRK_E_SHORT:
    case NMRK_E_SIZE: return STATUS_INFO_LENGTH_MISMATCH;
    case NMRK_E_MAGIC:
    case NMRK_E_VERSION: return STATUS_REVISION_MISMATCH;
    case NMRK_E_OUTPUT: return STATUS_BUFFER_TOO_SMALL;
    default: return STATUS_INVALID_PARAMETER;
    }
}

/* The validated request and the copy it points into, kept together in one allocation. */
typedef struct run_input {
    nmrk_validated v;
    uint64_t align;
    uint8_t bytes[1];
} run_input;

static NTSTATUS run(void *buffer, size_t in_len, size_t out_len, size_t *information)
{
    if (in_len < sizeof(nmrk_request) || in_len > NMRK_MAX_REQUEST) return STATUS_INFO_LENGTH_MISMATCH;
    if (out_len < sizeof(nmrk_response)) return STATUS_BUFFER_TOO_SMALL;
    if (nmrk_wedged()) return STATUS_DEVICE_NOT_READY;
    if (InterlockedCompareExchange(&g_busy, 1, 0) != 0) return STATUS_DEVICE_BUSY;

    NTSTATUS status;
    run_input *in = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(run_input) + in_len, NMRK_POOL_TAG);
    if (in == NULL) {
        status = STATUS_INSUFFICIENT_RESOURCES;
    } else {
        memcpy(in->bytes, buffer, in_len);
        nmrk_error e = nmrk_validate_request(in->bytes, in_len, out_len, driver_targets(), &in->v);
        status = status_of(e);
        if (e == NMRK_OK) {
            *information = nmrk_run((const nmrk_request *)in->bytes, &in->v, buffer, out_len);
            status = STATUS_SUCCESS;
        }
        /* A wedged run keeps using its request: it is never freed. */
        if (!nmrk_wedged()) ExFreePoolWithTag(in, NMRK_POOL_TAG);
    }
    if (!nmrk_wedged()) InterlockedExchange(&g_busy, 0);
    return status;
}

NTSTATUS nmrk_dispatch(ULONG code, void *buffer, size_t in_len, size_t out_len, size_t *information)
{
    *information = 0;
    if (buffer == NULL && (in_len || out_len)) return STATUS_INVALID_PARAMETER;
    switch (code) {
    case NMRK_IOCTL_QUERY: return buffer ? query(buffer, out_len, information) : STATUS_BUFFER_TOO_SMALL;
    case NMRK_IOCTL_RUN: return buffer ? run(buffer, in_len, out_len, information) : STATUS_INFO_LENGTH_MISMATCH;
    default: return STATUS_INVALID_DEVICE_REQUEST;
    }
}
