#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

bool tool_is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

/* A tool built with nmrh_add_tool() for a user's own target knows that one too. */
#ifdef NMRH_EXTRA_TARGET
extern const nmrh_target NMRH_EXTRA_TARGET;
const nmrh_target *tool_extra_target(void) { return &NMRH_EXTRA_TARGET; }
#else
const nmrh_target *tool_extra_target(void) { return NULL; }
#endif

const nmrh_target *tool_target(const char *name)
{
    const nmrh_target *extra = tool_extra_target();
    if (extra && strcmp(extra->name, name) == 0) return extra;
    const nmrh_target *t = nmrh_target_find(name);
    if (t) return t;
    fprintf(stderr, "nmrh: unknown target '%s'; targets in this build:", name);
    if (extra) fprintf(stderr, " %s", extra->name);
    for (const nmrh_target *const *p = nmrh_targets(); *p; p++) fprintf(stderr, " %s", (*p)->name);
    fprintf(stderr, "\n");
    return NULL;
}

bool tool_option_value(int argc, char **argv, int *i, const char *name, const char **value, bool *bad)
{
    size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0) return false;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return true;
    }
    if (arg[n] != '\0') return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "nmrh: option %s needs a value\n", name);
        *bad = true;
        return true;
    }
    *value = argv[++*i];
    return true;
}

bool tool_parse_long(const char *s, long min, long *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!end || end == s || *end || v < min) return false;
    *out = v;
    return true;
}
