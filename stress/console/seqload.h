/* Loading sequence files (text .nmrseq, or binary) for nmrstress and nmrh-kpredict. Hosted C. */
#ifndef NMRH_SEQLOAD_H
#define NMRH_SEQLOAD_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "nmrh/seq.h"

typedef struct seqload {
    char *data;  /* the file, NUL-terminated */
    size_t size;
    int is_text;
    nmrh_seq *seq;
    uint8_t *bytes; /* the binary form (what is sent to the driver) */
    size_t nbytes;
} seqload;

/* Reads, parses (text) or decodes (binary) `path` for `target`. On failure returns 0 with
   "path:line:col: error: ..." in err. */
int seqload_file(seqload *s, const char *path, const nmrh_target *target, char *err, size_t errcap);
void seqload_free(seqload *s);
/* Whole file; NULL on failure. */
char *seqload_read(const char *path, size_t *size);
/* The rest of an open stream, NUL-terminated; NULL on a read error or out of memory. */
char *seqload_read_stream(FILE *in, size_t *size);
/* Does the name end in .nmrseq (or .nmrbin)? */
int seqload_is_sequence_name(const char *name);

#endif
