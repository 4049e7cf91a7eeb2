#include "nmrh/targets.h"

#include "counterparts/counterparts.h"
#include "echo/echo_modules.h"

static const nmrh_module_kind *const echo_kinds[] = {
    &echo_client_kind,
    &echo_provider_kind,
    &generic_client_kind,
    &generic_provider_kind,
};

static const nmrh_target echo_target = {
    "echo", "the example echo client and provider, with the generic counterparts", echo_kinds,
    sizeof(echo_kinds) / sizeof(echo_kinds[0]),
};

static const nmrh_target *const all_targets[] = {&echo_target, NULL};

const nmrh_target *const *nmrh_targets(void) { return all_targets; }

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

const nmrh_target *nmrh_target_find(const char *name)
{
    for (const nmrh_target *const *t = all_targets; *t; t++)
        if (same((*t)->name, name)) return *t;
    return NULL;
}
