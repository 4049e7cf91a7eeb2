/*
 * Undefined behaviour in module code: NMRH_RULE_UBSAN, signature "UBSAN-<check>@<first module
 * frame>". The subject reads a field of the binding it looked up without checking that the
 * lookup found one (a member access through NULL, the first symptom of B5 and B10 when a
 * dispatch or binding pointer is cleared under a caller). UBSan's report hook turns the report
 * into a finding before UBSan ends the process, so the run is in a forked child whose stderr
 * the parent reads. Without the sanitizers it is skipped (it would be undefined behaviour).
 */
#include "../support/rules_support.h"

#include <stdlib.h>
#include <sys/wait.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_HAVE_SANITIZERS 1 /* the asan preset builds with ASan and UBSan together */
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RT_HAVE_SANITIZERS)
#define RT_HAVE_SANITIZERS 1
#endif

typedef struct _UB_BINDING {
    LONG Notifications;
} UB_BINDING;

typedef struct _UB_LOOKUP {
    UB_BINDING *Found; /* NULL: the binding was already removed from the module's list */
    LONG Seen;
} UB_LOOKUP;

static void UbCountNotificationChecked(void *arg)
{
    UB_LOOKUP *lookup = arg;
    UB_BINDING *binding = lookup->Found;
    lookup->Seen = binding != NULL ? binding->Notifications : -1;
}

static bool run(nmrh_thread_fn fn, UB_LOOKUP *lookup, void (*on_finding)(nmrh_world *, const nmrh_finding *, void *))
{
    nmrh_config cfg;
    rs_config_fixed(&cfg);
    cfg.on_finding = on_finding;
    nmrh_chooser_zero zero;
    nmrh_chooser_zero_init(&zero);
    nmrh_world *w = nmrh_world_create(&cfg, &zero.base);
    uint32_t module = nmrh_world_add_module(w, "ub-client");
    nmrh_world_spawn(w, "notify", module, fn, lookup);
    bool clean = nmrh_world_finish(w);
    nmrh_world_destroy(w);
    return clean;
}

#ifdef RT_HAVE_SANITIZERS
static void UbCountNotification(void *arg)
{
    UB_LOOKUP *lookup = arg;
    UB_BINDING *binding = lookup->Found;
    lookup->Seen = binding->Notifications; /* the bug: no NULL check after the lookup */
}

static void child_run(void)
{
    UB_LOOKUP lookup = {NULL, 0};
    run(UbCountNotification, &lookup, rs_print_finding);
    fprintf(stderr, "CHILD SURVIVED\n");
    _exit(3);
}

static void test_null_member_access(check_tally *t)
{
    int status = 0;
    char *out = rs_run_child(child_run, &status);
    const char *text = out ? out : "";
    CHECK(t, (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3) || WIFSIGNALED(status));
    CHECK(t, strstr(text, "FINDING UBSAN-null-pointer-use@UbCountNotification") != NULL);
    CHECK(t, strstr(text, "RULE UBSAN\n") != NULL);
    CHECK(t, strstr(text, "SIGNATURE UBSAN-null-pointer-use@UbCountNotification\n") != NULL);
    CHECK(t, strstr(text, "MESSAGE UndefinedBehaviorSanitizer: Member access within null pointer") != NULL);
    CHECK(t, strstr(text, "running ub-client code") != NULL);
    CHECK(t, strstr(text, "CHILD SURVIVED") == NULL);
    if (t->failed) fprintf(stderr, "child stderr:\n%s\n", text);
    free(out);
}
#else
static void test_null_member_access(check_tally *t)
{
    (void)t;
    printf("test_rules_ubsan: not built with the sanitizers: skipping the undefined-behaviour run\n");
}
#endif

/* The correct twin checks the lookup: clean, with and without a binding. */
static void test_twin(check_tally *t)
{
    UB_BINDING binding = {7};
    UB_LOOKUP found = {&binding, 0}, missing = {NULL, 0};
    CHECK(t, run(UbCountNotificationChecked, &found, NULL));
    CHECK(t, found.Seen == 7);
    CHECK(t, run(UbCountNotificationChecked, &missing, NULL));
    CHECK(t, missing.Seen == -1);
}

int main(void)
{
    check_tally t = {0, 0, "rules-ubsan"};
    test_null_member_access(&t);
    test_twin(&t);
    return check_summary(&t, "test_rules_ubsan");
}
