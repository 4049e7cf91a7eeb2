/*
 * What the sanitizer knows about memory a module hands to the harness. The model reads module
 * memory (characteristics, NPI ids) on the module's behalf; it asks first, so that freed or
 * never-allocated memory becomes the module's finding instead of a sanitizer report in harness
 * code. Without ASan nothing is known and every region counts as usable. Internal to the core.
 */
#ifndef NMRH_SANITIZER_QUERY_H
#define NMRH_SANITIZER_QUERY_H

#include <stdbool.h>
#include <stddef.h>

/* True when ASan knows [p, p + size) is not addressable (freed, out of bounds, redzone). */
bool nmrh_memory_poisoned(const void *p, size_t size);

#endif
