/*
 * Event-level minimisation of a finding, as long as its signature stays the same: remove records
 * (a removed thread or module takes the records that refer to it along, and later references are
 * renumbered); rewrite the chooser-driven schedule as explicit steps (serialize.h), so that
 * threads can go without shifting decisions; merge statements that say the same in fewer records;
 * simplify the parameters that remain; number modules in order of first use. The result is
 * 1-minimal: no single record can be removed without losing the signature. Lengths are records
 * (docs/fuzzing.md).
 */
#ifndef NMRH_TOOL_MINIMIZE_H
#define NMRH_TOOL_MINIMIZE_H

#include <stdint.h>

#include "nmrh/seq.h"

typedef struct minimize_stats {
    uint32_t records_before, records_after;
    uint32_t runs;
    int timed_out; /* stopped at the time limit: smaller than the input, maybe not 1-minimal */
} minimize_stats;

/* Minimises `seq` in place for `signature`; every candidate runs in a child process (see
   probe.h). Returns 0, or -1 when `seq` does not produce `signature` to begin with. */
int minimize_sequence(nmrh_seq *seq, const char *signature, unsigned time_limit_seconds, minimize_stats *stats);

#endif
