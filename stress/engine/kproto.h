/*
 * The kernel replay driver's IOCTL protocol (METHOD_BUFFERED), shared by the driver
 * (stress/kernel) and the console tool (stress/console). Every byte from user mode is untrusted:
 * nmrk_validate_request checks a request completely before the driver uses any of it, and the
 * sequence bytes go to the same total decoder the fuzzers use (nmrh_seq_decode).
 *
 *   NMRK_IOCTL_QUERY  in: nothing            out: nmrk_info + the compiled-in targets as text
 *   NMRK_IOCTL_RUN    in: nmrk_request + payload
 *                     out: nmrk_response + response.nobs observations (core/interpose/obs.h)
 *
 * Payload: replay (mode 1) carries one binary sequence (docs/sequence-format.md, 4 bytes a
 * record); stress (mode 2) carries nsequences entries [u32 size][size bytes]. All integers are
 * little-endian; structures have no implicit padding.
 *
 * Portable: C11, no libc beyond mem*; compiles for the kernel and for user mode.
 */
#ifndef NMRH_KPROTO_H
#define NMRH_KPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../core/interpose/obs.h"
#include "nmrh/module.h"

#define NMRK_PROTOCOL_VERSION 1u
#define NMRK_REQUEST_MAGIC 0x71524D4Eu  /* "NMRq" */
#define NMRK_RESPONSE_MAGIC 0x72524D4Eu /* "NMRr" */
#define NMRK_INFO_MAGIC 0x69524D4Eu     /* "NMRi" */

/* Device names: the kernel's, the DOS link the driver creates, and what user mode opens. */
#define NMRK_NT_DEVICE_NAME L"\\Device\\NmrhStress"
#define NMRK_DOS_DEVICE_NAME L"\\DosDevices\\NmrhStress"
#define NMRK_USER_DEVICE_PATH "\\\\.\\NmrhStress"

/* CTL_CODE(0x8A4E, function, METHOD_BUFFERED, access), without winioctl.h. */
#define NMRK_DEVICE_TYPE 0x8A4Eu
#define NMRK_CTL(function, access) ((NMRK_DEVICE_TYPE << 16) | ((uint32_t)(access) << 14) | ((uint32_t)(function) << 2))
#define NMRK_IOCTL_QUERY NMRK_CTL(0x800, 1) /* FILE_READ_ACCESS */
#define NMRK_IOCTL_RUN NMRK_CTL(0x801, 3)   /* FILE_READ_ACCESS | FILE_WRITE_ACCESS */

enum { NMRK_MODE_REPLAY = 1, NMRK_MODE_STRESS = 2 };

/* Stress: let the modules of different workers bind each other (by default each worker's modules
   bind only among themselves, as in the sequence they come from). More contention, but a
   counterpart that pends its detach (detach=pending) may then wait for a `complete` that
   another worker's sequence never makes: use with sequences without such counterparts. */
#define NMRK_FLAG_CROSS_BIND 0x1u

#define NMRK_MAX_SEQUENCE_BYTES 4096u /* NMRH_SEQ_MAX_RECORDS * NMRH_SEQ_RECORD_SIZE */
#define NMRK_MAX_SEQUENCES 64u
#define NMRK_MAX_WORKERS 16u
#define NMRK_MAX_DURATION_MS 3600000u /* one request; nmrstress runs longer stress as several */
#define NMRK_MAX_DELAY_US 100000u
#define NMRK_MAX_SETTLE_MS 600000u
#define NMRK_MAX_PAYLOAD (NMRK_MAX_SEQUENCES * (4u + NMRK_MAX_SEQUENCE_BYTES))
#define NMRK_MAX_REQUEST (sizeof(nmrk_request) + NMRK_MAX_PAYLOAD)
#define NMRK_MAX_OBS 65536u
#define NMRK_TARGET_NAME_SIZE 32u
#define NMRK_LABEL_SIZE 40u

typedef struct nmrk_request {
    uint32_t magic;        /* NMRK_REQUEST_MAGIC */
    uint16_t version;      /* NMRK_PROTOCOL_VERSION */
    uint16_t header_size;  /* sizeof(nmrk_request) */
    uint32_t total_size;   /* header_size + payload_size: the input buffer's length */
    uint32_t mode;         /* NMRK_MODE_* */
    uint32_t flags;        /* NMRK_FLAG_*; others 0 */
    uint32_t payload_size;
    uint64_t seq_id;       /* the console's id of the sequence (replay) or batch (stress) */
    char target[NMRK_TARGET_NAME_SIZE]; /* NUL-terminated */
    char label[NMRK_LABEL_SIZE];        /* NUL-terminated printable ASCII, for the crash breadcrumb */
    uint32_t settle_ms;      /* replay: no progress for this long = blocked; stress: hang timeout */
    uint32_t wait_settle_ms; /* replay: the same inside NmrWaitFor*DeregisterComplete; stress: 0 */
    uint32_t threads;        /* stress: worker threads (1..NMRK_MAX_WORKERS); replay: 0 */
    uint32_t duration_ms;    /* stress: 1..NMRK_MAX_DURATION_MS; replay: 0 */
    uint32_t max_delay_us;   /* stress: random delay at each boundary event, 0..NMRK_MAX_DELAY_US */
    uint32_t seed;           /* stress: random seed; replay: 0 */
    uint32_t nsequences;     /* replay: 1; stress: 1..NMRK_MAX_SEQUENCES */
    uint32_t reserved[3];    /* 0 */
} nmrk_request;

_Static_assert(sizeof(nmrk_request) == 144, "nmrk_request layout");

enum {
    NMRK_VERDICT_PASS = 0,    /* no finding, every thread ended */
    NMRK_VERDICT_FINDING = 1, /* a module-side rule was broken (the observations say which) */
    NMRK_VERDICT_HANG = 2,    /* threads still blocked at the end (the driver cannot be unloaded) */
    NMRK_VERDICT_ERROR = 3,   /* the driver ran out of resources; nothing to judge */
};

typedef struct nmrk_response {
    uint32_t magic;        /* NMRK_RESPONSE_MAGIC */
    uint16_t version;
    uint16_t header_size;  /* sizeof(nmrk_response) */
    uint32_t total_size;   /* header_size + nobs * sizeof(nmrh_obs) */
    uint32_t verdict;      /* NMRK_VERDICT_* */
    uint64_t seq_id;       /* the request's */
    uint32_t nobs;         /* observations that follow */
    uint32_t obs_dropped;  /* observations that did not fit */
    uint32_t findings;
    uint32_t first_rule;   /* nmrh_rule of the first finding */
    uint32_t hung_threads;
    uint32_t elapsed_ms;
    uint64_t iterations;   /* sequences run (stress), 1 (replay) */
    uint64_t events;       /* boundary events seen */
    uint32_t foreign_declined, out_of_records;
    uint32_t nsequences;
    uint32_t reserved;
    uint32_t seq_runs[NMRK_MAX_SEQUENCES];     /* stress: runs of each sequence */
    uint32_t seq_findings[NMRK_MAX_SEQUENCES]; /* stress: runs of each that had a finding */
    uint32_t seq_hangs[NMRK_MAX_SEQUENCES];    /* stress: runs of each that hung */
} nmrk_response;

_Static_assert(sizeof(nmrk_response) == 80 + 3 * 4 * NMRK_MAX_SEQUENCES, "nmrk_response layout");

typedef struct nmrk_info {
    uint32_t magic;       /* NMRK_INFO_MAGIC */
    uint16_t version;
    uint16_t header_size; /* sizeof(nmrk_info) */
    uint32_t total_size;  /* header_size + text_size */
    uint32_t text_size;   /* the target description that follows, NUL-terminated */
    uint32_t max_workers, max_sequences, max_sequence_bytes, max_obs;
    char build[32];       /* e.g. "nmrhstress 0.1.0 free" */
} nmrk_info;

_Static_assert(sizeof(nmrk_info) == 64, "nmrk_info layout");

typedef enum nmrk_error {
    NMRK_OK,
    NMRK_E_SHORT,        /* input shorter than the header */
    NMRK_E_MAGIC,
    NMRK_E_VERSION,      /* version or header_size of another protocol revision */
    NMRK_E_SIZE,         /* total_size or payload_size disagree with the buffer */
    NMRK_E_FLAGS,        /* unknown flags or non-zero reserved fields */
    NMRK_E_MODE,
    NMRK_E_TARGET,       /* not NUL-terminated, or no such target in this driver */
    NMRK_E_LABEL,        /* not NUL-terminated or not printable */
    NMRK_E_PARAM,        /* a parameter out of range, or set where the mode does not use it */
    NMRK_E_PAYLOAD,      /* the sequences do not exactly fill the payload, or one is too long */
    NMRK_E_OUTPUT,       /* output buffer smaller than a response */
    NMRK_E_COUNT
} nmrk_error;

const char *nmrk_error_name(nmrk_error e);

typedef struct nmrk_validated {
    uint32_t mode;
    const nmrh_target *target;
    uint32_t nsequences;
    const uint8_t *seq[NMRK_MAX_SEQUENCES]; /* into the validated buffer */
    uint32_t seq_size[NMRK_MAX_SEQUENCES];
    uint32_t obs_capacity;                  /* observations that fit in the output buffer */
} nmrk_validated;

/* Checks a request in `in` (in_len bytes; the caller's own copy, since METHOD_BUFFERED writes the
   response over the request) against this driver's targets, for an output buffer of out_len
   bytes. On NMRK_OK fills *v with pointers into `in`. */
nmrk_error nmrk_validate_request(const void *in, size_t in_len, size_t out_len, const nmrh_target *const *targets,
                                 nmrk_validated *v);

/* A request header for `payload` bytes of sequences in `mode`: magic, version and sizes set,
   everything else zero (target, label, seq_id, timing left to the caller). Inline: the console,
   the tests and the fuzz tools build it without linking the driver's protocol code. */
#if defined(__GNUC__) || defined(__clang__)
#define NMRK_INLINE static inline __attribute__((unused))
#else
#define NMRK_INLINE static __inline
#endif
NMRK_INLINE void nmrk_request_init(nmrk_request *r, uint32_t mode, size_t payload)
{
    memset(r, 0, sizeof *r);
    r->magic = NMRK_REQUEST_MAGIC;
    r->version = NMRK_PROTOCOL_VERSION;
    r->header_size = sizeof *r;
    r->total_size = (uint32_t)(sizeof *r + payload);
    r->mode = mode;
    r->payload_size = (uint32_t)payload;
}

/* The target table as text (target / kind / param lines, NUL-terminated), for NMRK_IOCTL_QUERY.
   Returns the bytes needed including the NUL; writes only when they fit in cap. */
size_t nmrk_describe_targets(const nmrh_target *const *targets, char *out, size_t cap);

/* Little-endian helpers for building and reading payloads. */
#if defined(__GNUC__) || defined(__clang__)
#define NMRK_INLINE static inline __attribute__((unused))
#else
#define NMRK_INLINE static __inline
#endif
NMRK_INLINE uint32_t nmrk_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
NMRK_INLINE void nmrk_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

#endif
