/* Protocol coverage summed over many inputs (nmrh coverage, nmrh fuzz). */
#ifndef NMRH_TOOL_COVERAGE_TABLE_H
#define NMRH_TOOL_COVERAGE_TABLE_H

#include <stdint.h>
#include <stdio.h>

#include "nmrh/coverage.h"

typedef struct coverage_table {
    uint64_t inputs;
    uint64_t hits[NMRH_TRANSITION_COUNT];
    uint64_t inputs_reaching[NMRH_TRANSITION_COUNT];
} coverage_table;

void coverage_add(coverage_table *t, const uint32_t *transitions);
int coverage_reached(const coverage_table *t);
void coverage_print(const coverage_table *t, FILE *out);
/* Adds every sequence file under `path` (a file or a directory), each replayed in a child
   process, exactly as `nmrh coverage` counts them. Returns the number of unreadable files. */
struct nmrh_target;
int coverage_scan_path(coverage_table *t, const char *path, const struct nmrh_target *target);

#endif
