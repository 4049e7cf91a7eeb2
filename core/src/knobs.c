#include "nmrh/knobs.h"

#include <string.h>

static const struct {
    const char *name;
    uint32_t count;
    const char *values[3];
} knob_table[NMRH_KNOB_COUNT] = {
    [NMRH_KNOB_HANDLE_WRITE] = {"handle-write", 2, {"before-attach", "after-attach"}},
    [NMRH_KNOB_DETACH_ORDER] = {"detach-order", 2, {"client-first", "provider-first"}},
    [NMRH_KNOB_DETACH_THREAD] = {"detach-thread", 3, {"deregistering", "worker", "worker-per-side"}},
    [NMRH_KNOB_DETACH_IRQL] = {"detach-irql", 2, {"passive", "dispatch"}},
    [NMRH_KNOB_CLEANUP] = {"cleanup", 2, {"inline", "deferred"}},
    [NMRH_KNOB_CLEANUP_IRQL] = {"cleanup-irql", 2, {"passive", "dispatch"}},
};

uint32_t nmrh_knob_values(nmrh_knob k) { return (unsigned)k < NMRH_KNOB_COUNT ? knob_table[k].count : 0; }

const char *nmrh_knob_name(nmrh_knob k) { return (unsigned)k < NMRH_KNOB_COUNT ? knob_table[k].name : "?"; }

const char *nmrh_knob_value_name(nmrh_knob k, uint32_t v)
{
    if ((unsigned)k >= NMRH_KNOB_COUNT || v >= knob_table[k].count) return "?";
    return knob_table[k].values[v];
}

nmrh_knob nmrh_knob_from_name(const char *name)
{
    for (int k = 0; k < NMRH_KNOB_COUNT; k++)
        if (strcmp(knob_table[k].name, name) == 0) return (nmrh_knob)k;
    return NMRH_KNOB_COUNT;
}
