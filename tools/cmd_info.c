/* nmrh rules and nmrh targets: what the harness checks and what it can run. */
#include <stdio.h>

#include "commands.h"
#include "nmrh/knobs.h"
#include "nmrh/rules.h"
#include "nmrh/seq.h"

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
    const nmrh_target *list[64];
    unsigned n = 0;
    if (tool_extra_target()) list[n++] = tool_extra_target();
    for (const nmrh_target *const *t = nmrh_targets(); *t && n < 64; t++) list[n++] = *t;
    for (const nmrh_target *const *t = list; t < list + n; t++) {
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

/* One dictionary entry: a record as libFuzzer's escaped string. */
static void entry(uint8_t op, uint8_t a, uint8_t b, uint8_t c)
{
    printf("\"\\x%02X\\x%02X\\x%02X\\x%02X\"\n", op, a, b, c);
}

int cmd_dict(int argc, char **argv)
{
    const char *target_name = "echo";
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        if (tool_is_help(argv[i])) {
            puts("usage: nmrh dict [--target NAME]\n\nPrints a libFuzzer dictionary (-dict=FILE) of valid binary records for the target:\nmodule declarations of every kind, actions, steps, runs, decisions, knobs and faults.");
            return EXIT_CLEAN;
        }
        if (tool_option_value(argc, argv, &i, "--target", &target_name, &bad)) continue;
        fprintf(stderr, "nmrh dict: unexpected argument '%s'\n", argv[i]);
        bad = true;
    }
    const nmrh_target *t = bad ? NULL : tool_target(target_name);
    if (!t) return EXIT_USAGE;
    printf("# nmrh dictionary for target %s: one 4-byte record a line (docs/sequence-format.md)\n", t->name);
    for (unsigned k = 0; k < t->nkinds; k++) entry(NMRH_OP_MODULE, (uint8_t)k, 0, 0);
    for (uint8_t act = 0; act < NMRH_ACT_COUNT; act++)
        for (uint8_t m = 0; m < 4; m++) {
            entry(NMRH_OP_DO, act, m, act == NMRH_ACT_CALL ? 1 : 0);
            entry(NMRH_OP_START, act, m, act == NMRH_ACT_CALL ? 1 : 0);
        }
    for (uint8_t th = 0; th < 6; th++) {
        entry(NMRH_OP_STEP, th, 0, 0);
        entry(NMRH_OP_STEP, th, 3, 0);
        entry(NMRH_OP_RUN, th, 0, 0);
    }
    entry(NMRH_OP_RUN_ALL, 0, 0, 0);
    for (uint8_t d = 0; d < 4; d++) entry(NMRH_OP_DECIDE, d, 0, 0);
    for (uint8_t k = 0; k < NMRH_KNOB_COUNT; k++)
        for (uint8_t v = 0; v <= nmrh_knob_values((nmrh_knob)k); v++) entry(NMRH_OP_KNOB, k, v, 0);
    for (uint8_t m = 0; m < 4; m++) {
        entry(NMRH_OP_FAIL_ALLOCS, m, 1, 0);
        entry(NMRH_OP_FAIL_ALLOCS, m, 1, 1);
    }
    entry(NMRH_OP_FAIL_NMR, 0, 1, 0);
    entry(NMRH_OP_FAIL_NMR, 1, 1, 0);
    return EXIT_CLEAN;
}
