/*
 * Knobs: the freedoms the NMR documentation leaves (docs/nmr-contract.md, section 3).
 *
 * Each knob is either fixed to one value or left to the run's chooser, which then decides
 * afresh every time the model reaches that freedom. K1 (Deregister returns STATUS_PENDING) and
 * K2 (attach runs synchronously inside Nmr*Register*) are fixed facts of the model; K6-K9 are
 * module behaviours the model accepts or reports, so none of those is a knob here.
 */
#ifndef NMRH_KNOBS_H
#define NMRH_KNOBS_H

#include <stdint.h>

typedef enum nmrh_knob {
    NMRH_KNOB_HANDLE_WRITE,   /* K3: 0 = *Handle written before the attach callbacks, 1 = after */
    NMRH_KNOB_DETACH_ORDER,   /* K4: 0 = client's detach callback first, 1 = provider's first */
    NMRH_KNOB_DETACH_THREAD,  /* K4: 0 = on the deregistering thread, 1 = one NMR worker thread,
                                 2 = one worker thread per side (the two callbacks run concurrently) */
    NMRH_KNOB_DETACH_IRQL,    /* K4: 0 = PASSIVE_LEVEL, 1 = DISPATCH_LEVEL */
    NMRH_KNOB_CLEANUP,        /* K5: 0 = inline, in the call that completed the binding's detach,
                                 1 = deferred to an NMR worker thread */
    NMRH_KNOB_CLEANUP_IRQL,   /* K5: deferred cleanup runs at 0 = PASSIVE_LEVEL, 1 = DISPATCH_LEVEL */
    NMRH_KNOB_COUNT
} nmrh_knob;

#define NMRH_KNOB_CHOOSE 0xFFu

/* Number of values the knob can take. */
uint32_t nmrh_knob_values(nmrh_knob k);
/* Stable name used in sequences and traces, e.g. "detach-order". */
const char *nmrh_knob_name(nmrh_knob k);
/* Name of one value, e.g. "provider-first". */
const char *nmrh_knob_value_name(nmrh_knob k, uint32_t v);
/* Knob with that name, or NMRH_KNOB_COUNT. */
nmrh_knob nmrh_knob_from_name(const char *name);

#endif
