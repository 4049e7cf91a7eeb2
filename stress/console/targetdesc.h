/*
 * The driver's module kinds, from its description (NMRK_IOCTL_QUERY, nmrk_describe_targets):
 * nmrstress parses sequences against exactly the kinds and options the driver has compiled in,
 * without linking any module code. The kinds it builds have names and options only.
 */
#ifndef NMRH_TARGETDESC_H
#define NMRH_TARGETDESC_H

#include <stddef.h>

#include "nmrh/module.h"

typedef struct targetdesc targetdesc;

/* NULL with a message in err when the text is malformed. */
targetdesc *targetdesc_parse(const char *text, char *err, size_t errcap);
void targetdesc_free(targetdesc *d);
const nmrh_target *targetdesc_find(const targetdesc *d, const char *name);
/* NULL-terminated. */
const nmrh_target *const *targetdesc_targets(const targetdesc *d);

#endif
