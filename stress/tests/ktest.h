/*
 * Helpers for the user-mode tests of the replay driver: build IOCTL requests from sequence text,
 * submit them to the driver's dispatch (stress/kernel/dispatch.c on the kernel test double), and
 * look at the observations that come back.
 */
#ifndef NMRH_KTEST_H
#define NMRH_KTEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../console/obsfile.h"
#include "../engine/kproto.h"

#define CHECK(cond)                                                                                 \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                \
            exit(1);                                                                                \
        }                                                                                           \
    } while (0)

typedef struct kt_result {
    int32_t status;       /* NTSTATUS of the IOCTL */
    nmrk_response resp;
    nmrh_obs *obs;
    uint32_t nobs;
} kt_result;

typedef struct kt_params {
    uint32_t mode, settle_ms, wait_settle_ms, threads, duration_ms, max_delay_us, seed;
    uint32_t obs_capacity;
} kt_params;

/* Binary form of a text sequence for `target` (exits on a parse error). Returns the bytes. */
uint8_t *kt_encode(const char *target, const char *text, size_t *n);
/* A request for the given sequences (binary), as nmrstress builds it. */
uint8_t *kt_request(const char *target, const kt_params *p, uint8_t *const *seqs, const size_t *sizes, uint32_t nseq,
                    size_t *len);
/* Submits a request through nmrk_dispatch. */
void kt_submit(const uint8_t *req, size_t len, uint32_t obs_capacity, kt_result *r);
/* Replays one text sequence with the default settle times (500 ms, 20 ms in a wait). */
void kt_replay(const char *target, const char *text, kt_result *r);
/* ... with these settle times (kproto.h: settle_ms, wait_settle_ms). */
void kt_replay_settle(const char *target, const char *text, uint32_t settle_ms, uint32_t wait_settle_ms, kt_result *r);
void kt_free(kt_result *r);
/* The observations as text, one a line, without the RECORD lines when skip_records. */
char *kt_text(const kt_result *r, int skip_records);
void kt_dump(const kt_result *r, FILE *out);

#endif
