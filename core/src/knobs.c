#include "nmrh/knobs.h"


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

/* Portable (no libc): the sequence parser uses this in the kernel build too. */
static int same_name(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

nmrh_knob nmrh_knob_from_name(const char *name)
{
    for (int k = 0; k < NMRH_KNOB_COUNT; k++)
        if (same_name(knob_table[k].name, name)) return (nmrh_knob)k;
    return NMRH_KNOB_COUNT;
}
