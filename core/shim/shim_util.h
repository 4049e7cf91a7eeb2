/* Helpers shared by the kernel-primitive shim files: finding the world and reporting misuse. */
#ifndef NMRH_SHIM_UTIL_H
#define NMRH_SHIM_UTIL_H

#include <wdm.h>

#include "../src/world_impl.h"

/* Report a misuse of a kernel primitive, naming the thread, module and IRQL it happened on. */
#define NMRH_SHIM_FAIL(w, rule, fmt, ...)                                                   \
    do {                                                                                    \
        char where_[160];                                                                   \
        nmrh_oracle_where((w), where_, sizeof where_);                                      \
        nmrh_oracle_fail((w), (rule), NULL, fmt " on %s", __VA_ARGS__, where_);              \
    } while (0)

/* Reports KRNL-PASSIVE-AT-DISPATCH when the running thread is above `max` (APC_LEVEL for the
   passive-only primitives). */
static inline void nmrh_shim_check_irql(nmrh_world *w, KIRQL max, const char *what)
{
    if (w->current && w->current->irql > max)
        NMRH_SHIM_FAIL(w, NMRH_RULE_PASSIVE_AT_DISPATCH, "%s at IRQL %u (allowed up to %u)", what,
                       (unsigned)w->current->irql, (unsigned)max);
}

/* The entry checks of a lock that needs normal kernel APCs disabled (push locks, executive
   resources): at most APC_LEVEL, and inside a critical region when below it. */
static inline void nmrh_shim_check_apcs_disabled(nmrh_world *w, const char *what)
{
    nmrh_thread *t = w->current;
    nmrh_shim_check_irql(w, APC_LEVEL, what);
    if (t->irql < APC_LEVEL && t->apc_disable <= 0)
        NMRH_SHIM_FAIL(w, NMRH_RULE_PRIMITIVE_MISUSE, "%s with normal kernel APCs enabled (call KeEnterCriticalRegion first)",
                       what);
}

#endif
