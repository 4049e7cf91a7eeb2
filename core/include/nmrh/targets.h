/* The targets compiled into this build: named sets of module kinds (see nmrh_module.h). */
#ifndef NMRH_TARGETS_H
#define NMRH_TARGETS_H

#include "nmrh/module.h"

/* NULL-terminated list of targets; the first is the default. */
const nmrh_target *const *nmrh_targets(void);
/* Target by name, or NULL. */
const nmrh_target *nmrh_target_find(const char *name);

#endif
