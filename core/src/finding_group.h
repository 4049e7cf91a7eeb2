/*
 * Grouping findings into bugs (nmrh_finding.group): one mistake shows up under several
 * signatures (a use after free in each function that touches the freed object, a rule finding
 * when the oracle sees it first), so each finding also names its cause: the object whose life
 * cycle broke, by allocation site when AddressSanitizer knows it. Internal to the core.
 */
#ifndef NMRH_FINDING_GROUP_H
#define NMRH_FINDING_GROUP_H

#include <stddef.h>

#include "world_impl.h"

/* "object allocated in <first module frame>" for a live or freed heap object under ASan;
   otherwise `fallback`. */
void nmrh_object_group(const void *object, const char *fallback, char *out, size_t size);

/* nmrh_oracle_fail with the finding's group set to `group` (NULL: the rule id). */
void nmrh_oracle_fail_grouped(nmrh_world *w, nmrh_rule rule, const char *group, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
