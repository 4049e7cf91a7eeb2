/*
 * Serialising a schedule, for the minimiser: the same run written without decisions. A `run`
 * statement lets the chooser interleave threads as the queued `decide` values say, so the
 * decisions only mean something next to the threads that exist when they are consumed: drop a
 * thread and every later decision shifts. Serialising replays the sequence once (in a child
 * process, with every scheduling point traced) and writes each `run` as the explicit `step tN K` /
 * `run tN` statements it amounted to, each knob value the chooser gave as a `knob` statement, and
 * drops every `decide`; what follows the finding is dropped too. Where a `run` hands over to a
 * thread the sequence cannot name (an NMR worker, a work item), the rest of it stays a `run`,
 * preceded by the scheduling decisions it took, re-derived from the trace. The result is a
 * candidate like any other: the minimiser keeps it only if it still produces the same signature.
 */
#ifndef NMRH_TOOL_SERIALIZE_H
#define NMRH_TOOL_SERIALIZE_H

#include "nmrh/seq.h"

/* Writes the serialised form of `in` to `out`. Returns 1 when `out` is a rewriting of `in`, 0
   when `in` has no `decide` or `run`, or cannot be serialised: a knob took two values within one
   statement (or one step), the trace is not one this code reads, or the replay failed. */
int serialize_schedule(const nmrh_seq *in, unsigned timeout_seconds, nmrh_seq *out);

#endif
