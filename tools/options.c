#include <stdio.h>
#include <string.h>

#include "commands.h"

bool tool_is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

const nmrh_target *tool_target(const char *name)
{
    const nmrh_target *t = nmrh_target_find(name);
    if (t) return t;
    fprintf(stderr, "nmrh: unknown target '%s'; targets in this build:", name);
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
