/*
 * The oracle's rule catalogue: every finding the harness can report has one of these stable
 * identifiers (its signature, unless it comes from a sanitizer). docs/rules.md explains each.
 * Identifiers never change meaning; new rules are appended.
 */
#ifndef NMRH_RULES_H
#define NMRH_RULES_H

typedef enum nmrh_rule {
    NMRH_RULE_NONE = 0,
    /* contract rule 1 */
    NMRH_RULE_ATTACH_STATUS_MISMATCH,
    NMRH_RULE_ATTACH_SUCCESS_WITHOUT_BIND,
    /* 2 */
    NMRH_RULE_ATTACH_OUTSIDE_CALLBACK,
    NMRH_RULE_ATTACH_AFTER_SUCCESS,
    /* 3, 4 */
    NMRH_RULE_COMPLETE_AFTER_SUCCESS,
    NMRH_RULE_COMPLETE_TWICE,
    /* 5 */
    NMRH_RULE_BAD_HANDLE,
    NMRH_RULE_WRONG_HANDLE_KIND,
    /* 6 */
    NMRH_RULE_DEREGISTER_TWICE,
    NMRH_RULE_WAIT_WITHOUT_DEREGISTER,
    NMRH_RULE_WAIT_TWICE,
    /* 7 */
    NMRH_RULE_UNLOAD_BEFORE_WAIT,
    NMRH_RULE_WAIT_SKIPPED,
    NMRH_RULE_FREED_WHILE_REGISTERED,
    /* 8 */
    NMRH_RULE_IRQL_TOO_HIGH,
    NMRH_RULE_PASSIVE_AT_DISPATCH,
    /* 9 */
    NMRH_RULE_CALL_AFTER_DETACH,
    /* 10 */
    NMRH_RULE_POOL_LEAK,
    /* 11, 12 */
    NMRH_RULE_HANG,
    NMRH_RULE_STEP_BUDGET,
    /* 13 */
    NMRH_RULE_SPINLOCK_MISUSE,
    NMRH_RULE_RUNDOWN_MISUSE,
    NMRH_RULE_IRQL_MISUSE,
    NMRH_RULE_POOL_BAD_FREE,
    /* further module-side checks */
    NMRH_RULE_DETACH_BAD_STATUS,
    NMRH_RULE_BAD_CHARACTERISTICS,
    NMRH_RULE_CONTEXT_FREED_BEFORE_CLEANUP,
    NMRH_RULE_STACK_OBJECT_BOUND,
    NMRH_RULE_ASSERT,
    NMRH_RULE_BUGCHECK,
    NMRH_RULE_ASAN,
    NMRH_RULE_UBSAN,
    NMRH_RULE_TSAN,
    /* the harness broke its own contract towards modules: a bug in nmrh, never in the module */
    NMRH_RULE_INTERNAL,
    /* appended later */
    NMRH_RULE_REGISTRATION_CHANGED,
    /* kernel primitives beyond locks and IRQL (core/shim/, and primitives added through nmrh/shim.h) */
    NMRH_RULE_PRIMITIVE_MISUSE,
    NMRH_RULE_COUNT
} nmrh_rule;

/* Stable identifier, e.g. "NMR-COMPLETE-AFTER-SUCCESS". */
const char *nmrh_rule_id(nmrh_rule r);
/* One-sentence description for catalogues and --help. */
const char *nmrh_rule_summary(nmrh_rule r);
/* Rule with that identifier, or NMRH_RULE_NONE. */
nmrh_rule nmrh_rule_from_id(const char *id);

#endif
