/*
 * Divergences between what the NMR model predicts for a sequence (a .nmrobs file from
 * nmrh-kpredict) and what the real NMR did (the driver's observations).
 *
 * Events are matched by what they are (kind, function or callback, module, peer, binding, and
 * which occurrence of that), not by position, so one difference is reported once rather than
 * shifting everything after it. Reported:
 *   - an attribute of a matched event that differs: thread, IRQL, flags (handle written before
 *     attach, inside Complete, inside Deregister, ...), return status;
 *   - events only the model has ("missing") or only the kernel has ("extra");
 *   - events in a different order (neighbouring kernel events the model has the other way round).
 * Each divergence names the open choice of the NMR contract it bears on, where there is one
 * (docs/nmr-contract.md: K1 Deregister status, K3 handle write, K4 detach order/thread/IRQL, K5
 * cleanup inline or deferred, K7 pre-completion), which is how the model's knob settings are
 * confirmed or refuted on real Windows. Controller notes (BLOCKED) and the UNGATED flag are not
 * compared. When the model stopped on a finding, only what it saw is compared.
 */
#ifndef NMRH_COMPARE_H
#define NMRH_COMPARE_H

#include <stddef.h>

#include "obsfile.h"

typedef struct divergence {
    const char *knob; /* "K4 detach-order", ..., or "" */
    char text[400];
} divergence;

typedef struct compare_result {
    divergence *d;
    size_t n, cap;
    char knobs[256]; /* the distinct knobs named, comma separated */
} compare_result;

/* 1 on success (r->n divergences), 0 when out of memory. */
int compare_obs(const obsfile *model, const nmrh_obs *kernel, size_t nkernel, int kernel_hung, compare_result *r);
void compare_free(compare_result *r);

#endif
