/*
 * Observation logs as text (.nmrobs): what nmrh-kpredict writes (the model's expected
 * observations for a sequence), what nmrstress --save-obs writes (what the real NMR did), and
 * what nmrstress compares. One observation a line, in a fixed field order, fields that do not
 * apply left out:
 *
 *   record 4
 *   call NmrRegisterClient t1 m1 irql=0
 *   callback ClientAttachProvider t1 m1 peer=m0 b1 irql=0 flags=in-register,handle-written
 *   callback-return ClientAttachProvider t1 m1 peer=m0 b1 irql=0 flags=in-register status=0x00000000
 *   return NmrDeregisterProvider t3 m0 irql=0 status=0x00000103
 *   end t3 m0 irql=0
 *   finding NMR-COMPLETE-TWICE in=NmrClientDetachProviderComplete t2 m1 b1 irql=0
 *
 * Threads: tN a sequence thread, wK the K-th thread of the NMR's own, - none. A file starts with
 * a header:
 *
 *   nmrobs 1
 *   target echo
 *   sequence 0123456789abcdef      the sequence id (nmrstress: FNV-1a 64 of target and bytes)
 *   verdict clean                  or "finding NMR-..." when the model stopped on a finding
 *
 * Hosted C (stdio); used on Linux and in the Windows console tool.
 */
#ifndef NMRH_OBSFILE_H
#define NMRH_OBSFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../core/interpose/obs.h"

typedef struct obsfile {
    char target[32];
    uint64_t seq_id;
    uint32_t model_rule; /* the rule the model stopped on (0: ran to the end) */
    nmrh_obs *obs;
    size_t n, cap;
} obsfile;

/* One observation as a line, without newline. */
void obs_format(const nmrh_obs *o, char *buf, size_t cap);
/* Parses one line: 1 an observation, 0 blank or comment, -1 malformed (err says why). */
int obs_parse(const char *line, nmrh_obs *o, char *err, size_t errcap);

int obsfile_append(obsfile *f, const nmrh_obs *o);
void obsfile_free(obsfile *f);
int obsfile_write(FILE *out, const obsfile *f);
/* Reads a .nmrobs file; on failure returns 0 with "path:line: message" in err. */
int obsfile_read(const char *path, obsfile *f, char *err, size_t errcap);

/* FNV-1a 64 over the target name and the binary sequence: the id of a sequence for a target. */
uint64_t nmrh_sequence_id(const char *target, const uint8_t *bytes, size_t n);

#endif
