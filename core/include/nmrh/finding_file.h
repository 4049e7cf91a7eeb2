/*
 * Findings on disk. A finding is stored under DIR/<signature>/ as the input that produced it
 * (<hash>.bin, the binary sequence) and its text form (<hash>.nmrseq, with a header saying
 * what was found and how to replay it); every hit appends one byte to DIR/<signature>/hits, so
 * the hit count survives parallel fuzzing jobs. Only the first few distinct inputs of a
 * signature are kept. Written before the process dies (from the finding hook).
 */
#ifndef NMRH_FINDING_FILE_H
#define NMRH_FINDING_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nmrh/seq.h"
#include "nmrh/world.h"

#define NMRH_FINDING_MAX_INPUTS 8

/* mkdir -p: creates `path` and its missing parents. Returns 0, or -1 with errno set. */
int nmrh_mkdir_p(const char *path);

/* Signature as a directory name: characters outside [A-Za-z0-9._@-] become '_'. */
void nmrh_signature_dirname(const char *signature, char *out, size_t size);

/* The header comment of a reproducer (each line starts with "# "). `replay_path` may be NULL. */
void nmrh_finding_header(FILE *out, const nmrh_finding *f, const char *target, const char *replay_path);

/* Records one hit of finding `f` produced by `data` (the binary input; may be NULL when the
   sequence came from text) and `seq`. Returns 0 on success, -1 on I/O error (errno set). */
int nmrh_finding_save(const char *dir, const char *target, const nmrh_finding *f, const nmrh_seq *seq,
                      const uint8_t *data, size_t size);

#endif
