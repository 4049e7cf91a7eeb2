/* nmrh rules and nmrh targets: what the harness checks and what it can run. */
#include <stdio.h>

#include "commands.h"
#include "nmrh/knobs.h"
#include "nmrh/rules.h"

int cmd_rules(int argc, char **argv)
{
    if (argc > 1 && tool_is_help(argv[1])) {
        puts("usage: nmrh rules\n\nLists every rule of the oracle: its stable identifier and what it means.\nSee docs/rules.md for triggers and the bug classes each rule catches.");
        return EXIT_CLEAN;
    }
    for (int r = 1; r < NMRH_RULE_COUNT; r++) printf("%-34s %s\n", nmrh_rule_id((nmrh_rule)r), nmrh_rule_summary((nmrh_rule)r));
    return EXIT_CLEAN;
}

int cmd_targets(int argc, char **argv)
{
    if (argc > 1 && tool_is_help(argv[1])) {
        puts("usage: nmrh targets\n\nLists the targets compiled into this build, their module kinds and each kind's\noptions (KEY=VALUE in a sequence's module declaration; the first value is the default),\nand the knobs a sequence can fix.");
        return EXIT_CLEAN;
    }
    for (const nmrh_target *const *t = nmrh_targets(); *t; t++) {
        printf("target %s: %s\n", (*t)->name, (*t)->summary);
        for (unsigned k = 0; k < (*t)->nkinds; k++) {
            const nmrh_module_kind *kind = (*t)->kinds[k];
            printf("  %-18s %s\n", kind->name, kind->summary);
            for (unsigned p = 0; p < kind->nparams; p++) {
                printf("  %-18s   %s=", "", kind->params[p].key);
                for (unsigned v = 0; v < kind->params[p].nvalues; v++)
                    printf("%s%s", v ? "|" : "", kind->params[p].values[v]);
                printf("\n");
            }
        }
    }
    printf("knobs (knob NAME VALUE|choose; default choose):\n");
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) {
        printf("  %-14s", nmrh_knob_name((nmrh_knob)k));
        for (uint32_t v = 0; v < nmrh_knob_values((nmrh_knob)k); v++)
            printf("%s%s", v ? "|" : " ", nmrh_knob_value_name((nmrh_knob)k, v));
        printf("\n");
    }
    return EXIT_CLEAN;
}
