/*
 * Running a sequence in a child process, so that nothing a module under test does (an
 * AddressSanitizer abort, a segfault, an endless loop) can take the tool down. The child
 * replays the sequence in a fresh world and reports back through a pipe.
 */
#ifndef NMRH_TOOL_PROBE_H
#define NMRH_TOOL_PROBE_H

#include <stdint.h>

#include "nmrh/coverage.h"
#include "nmrh/seq.h"

typedef enum { PROBE_CLEAN, PROBE_FINDING, PROBE_CRASH, PROBE_ERROR } probe_status;

typedef struct probe_result {
    probe_status status;
    char signature[160];       /* PROBE_FINDING: the signature */
    char message[384];         /* PROBE_FINDING: its message; PROBE_CRASH: how the child died */
    uint32_t transitions[NMRH_TRANSITION_COUNT];
    uint64_t events;
} probe_result;

/* Replays `seq` in a child process (killed after `timeout_seconds`). */
void probe_run(const nmrh_seq *seq, unsigned timeout_seconds, probe_result *out);
/* The same with a world configuration (NULL = defaults); its finding hook is replaced. */
void probe_run_config(const nmrh_seq *seq, const nmrh_config *cfg, unsigned timeout_seconds, probe_result *out);

#endif
