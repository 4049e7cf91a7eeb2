#include "nmrh/targets.h"

#include "counterparts/counterparts.h"
#include "echo/echo_modules.h"

#ifdef NMRH_ECHO_WITHOUT_VARIANTS /* nmrh inside another project: no seeded-bug builds */
#undef ECHO_SEEDED_BUGS
#define ECHO_SEEDED_BUGS(X)
#endif

/* The echo target and one echo-bN (echo-bN-b for a second variant) target per seeded bug: the
   same kind names, so a reproducer found on echo-bN replays unchanged against echo (where it must
   be clean). */
#define DECLARE_VARIANT(n, sub, v, name) extern const nmrh_module_kind v##_client_kind, v##_provider_kind;
ECHO_SEEDED_BUGS(DECLARE_VARIANT)

#define KINDS(v) {&v##_client_kind, &v##_provider_kind, &generic_client_kind, &generic_provider_kind}
#define NKINDS 4

static const nmrh_module_kind *const echo_kinds[NKINDS] = KINDS(echo);
static const nmrh_target echo_target = {
    "echo", "the example echo client and provider, with the generic counterparts", echo_kinds, NKINDS,
};

#define DEFINE_VARIANT(n, sub, v, name)                                                          \
    static const nmrh_module_kind *const v##_kinds[NKINDS] = KINDS(v);                           \
    static const nmrh_target v##_target = {"echo-" name, "the echo pair with seeded bug B" #n      \
                                           ", variant " #sub " (bench/bugs.md)", v##_kinds, NKINDS};
ECHO_SEEDED_BUGS(DEFINE_VARIANT)

#define LIST_VARIANT(n, sub, v, name) &v##_target,
static const nmrh_target *const all_targets[] = {&echo_target, ECHO_SEEDED_BUGS(LIST_VARIANT) NULL};

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
