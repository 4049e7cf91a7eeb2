/*
 * A session: one sequence replayed in one deterministic user-mode world. This is what the nmrh
 * tool, the fuzz targets and the tests run. Scheduling and knob decisions come from the
 * sequence's `decide` records, in order; once they are used up every decision takes its default
 * (keep running the current thread, knob value 0), so a replay is exactly reproducible.
 */
#ifndef NMRH_SESSION_H
#define NMRH_SESSION_H

#include "nmrh/interp.h"
#include "nmrh/world.h"

typedef struct nmrh_decision_queue {
    nmrh_chooser base;
    uint8_t *values;
    size_t count, capacity, next;
} nmrh_decision_queue;

typedef struct nmrh_session {
    nmrh_world *world;
    nmrh_decision_queue decisions;
    nmrh_platform platform;
    nmrh_interp interp;
    const nmrh_seq *seq;
} nmrh_session;

/* Runs `seq` to its end, drains the remaining threads and runs the end-of-run checks.
   cfg may be NULL (defaults). Returns 1 when the run ended without a finding, 0 on a finding
   (nmrh_world_finding(s->world)), -1 when out of memory. Always call nmrh_session_destroy. */
int nmrh_session_run(nmrh_session *s, const nmrh_seq *seq, const nmrh_config *cfg);
/* The same with another chooser for scheduling and knob decisions (the sequence's `decide`
   records are then ignored): a random one for stress runs (cfg->real_threads). */
int nmrh_session_run_with(nmrh_session *s, const nmrh_seq *seq, const nmrh_config *cfg, nmrh_chooser *chooser);
void nmrh_session_destroy(nmrh_session *s);

#endif
