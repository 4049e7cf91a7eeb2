/* Loading sequence files for the command-line tool: text (.nmrseq) or binary, with errors that
   name the file, line and column. */
#ifndef NMRH_TOOL_SEQFILE_H
#define NMRH_TOOL_SEQFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "nmrh/seq.h"

typedef struct seqfile {
    char *data;       /* file contents, NUL-terminated (kept for comments when text) */
    size_t size;
    bool is_text;
    nmrh_seq *seq;    /* heap: sequences are large */
} seqfile;

/* Reads and parses or decodes `path` ("-" = standard input). On failure prints
   "path:line:col: error: ..." (or the I/O error) to stderr and returns false. */
bool seqfile_load(seqfile *f, const char *path, const nmrh_target *target);
void seqfile_free(seqfile *f);

/* Writes canonical text (with the source's comments when it was text). */
void seqfile_print(const seqfile *f, FILE *out);

/* Whole file into memory; NULL with errno set on failure. */
char *read_file(const char *path, size_t *size);

#endif
