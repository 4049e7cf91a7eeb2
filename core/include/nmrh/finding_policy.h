/*
 * What a fuzzing process does with a finding, so that the first symptom of a bug does not hide
 * the rest of it:
 *
 *  - NMRH_FINDING_STOP: a new signature. Saved (finding_file.h) and handled as a crash, so that
 *    libFuzzer keeps its own record of it.
 *  - NMRH_FINDING_CONTINUE: a known signature, saved `continue_after` times already. This hit is
 *    saved too (counted), but the input counts as a normal run: libFuzzer may keep it in the
 *    corpus and mutate it further, so bugs behind a hang or a rule finding are reached.
 *  - NMRH_FINDING_SUPPRESSED: a signature of the suppression file (accepted by design). Counted
 *    under the suppressed directory, not a finding; the input is a normal run.
 *
 * Sanitizer reports (ASan, UBSan) end the process whatever the action: they are counted as
 * suppressed or saved as findings, but the run cannot go on past them.
 *
 * Suppression file: one signature a line, then whitespace, then the reason (required). A
 * signature ending in '*' matches every signature with that prefix. '#' starts a comment line;
 * blank lines are ignored.
 */
#ifndef NMRH_FINDING_POLICY_H
#define NMRH_FINDING_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "nmrh/seq.h"
#include "nmrh/world.h"

typedef struct nmrh_suppression {
    char signature[160];
    char reason[240];
} nmrh_suppression;

typedef enum { NMRH_FINDING_STOP, NMRH_FINDING_CONTINUE, NMRH_FINDING_SUPPRESSED } nmrh_finding_action;

typedef struct nmrh_finding_policy {
    char findings_dir[1024];   /* $NMRH_FINDINGS_DIR, default nmrh-findings */
    char suppressed_dir[1024]; /* $NMRH_SUPPRESSED_DIR, default nmrh-suppressed */
    char target[64];
    long continue_after;       /* $NMRH_CONTINUE_AFTER: saved hits before a signature continues; <0 never */
    nmrh_suppression *suppressions; /* from the file named by $NMRH_SUPPRESS */
    size_t nsuppressions;
} nmrh_finding_policy;

/* Reads a suppression file. Returns 0, or -1 with a "FILE:LINE:COL: message" in err. */
int nmrh_suppressions_load(const char *path, nmrh_suppression **items, size_t *count, char *err, size_t err_size);
/* The suppression matching `signature`, or NULL. */
const nmrh_suppression *nmrh_suppressions_match(const nmrh_suppression *items, size_t count, const char *signature);

/* Sets up the policy of a fuzzing process from the environment (see the fields). Returns 0, or
   -1 with err set when the suppression file is unreadable or malformed. */
int nmrh_finding_policy_init(nmrh_finding_policy *p, const char *target, char *err, size_t err_size);
void nmrh_finding_policy_free(nmrh_finding_policy *p);

/* Records one finding (data: the binary input, or NULL) and says what the process does next. */
nmrh_finding_action nmrh_finding_policy_record(const nmrh_finding_policy *p, const nmrh_finding *f, const nmrh_seq *seq,
                                               const uint8_t *data, size_t size);

#endif
