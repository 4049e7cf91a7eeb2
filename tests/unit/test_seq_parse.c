/*
 * The text parser never accepts garbage silently: a table of malformed inputs, each rejected
 * (return 0) with the exact line and column and a key phrase of the message; and a few inputs
 * that must be accepted, to show the table does not pass by rejecting everything.
 */
#include "../support/check.h"
#include "nmrh/seq.h"
#include "nmrh/targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static check_tally T = {0, 0, "test_seq_parse"};

typedef struct bad_case {
    const char *what;
    const char *text;
    size_t size; /* 0: strlen(text) */
    unsigned line, col;
    const char *phrase;
} bad_case;

#define M0 "m0 = echo-client\n"
#define M0_T0 "m0 = echo-client\nload m0\n"

static const bad_case bad[] = {
    /* statements */
    {"unknown statement", "foo m0\n", 0, 1, 1, "unknown statement 'foo'"},
    {"unknown statement after a good line", M0 "  launch m0\n", 0, 2, 3, "unknown statement 'launch'"},
    {"'=' alone", "= m0\n", 0, 1, 1, "unknown statement '='"},
    {"bad reference before '='", "mx = echo-client\n", 0, 1, 1, "expected m<number> or t<number> before '='"},
    {"unexpected character", "m0 = echo-client $\n", 0, 1, 18, "unexpected character '$'"},
    {"non-ASCII byte", M0 "load m0 \xc3\xa9\n", 0, 2, 9, "unexpected character"},
    /* modules */
    {"undeclared module", M0 "load m1\n", 0, 2, 6, "'m1' is not declared (declare modules first"},
    {"module before any declaration", "call m0\n", 0, 1, 6, "'m0' is not declared"},
    {"undeclared module in fail-allocs", M0 "fail-allocs m3 1\n", 0, 2, 13, "'m3' is not declared"},
    {"modules out of order", "m1 = echo-client\n", 0, 1, 1, "modules are declared in order: expected m0"},
    {"module declared twice", M0 "m0 = echo-provider\n", 0, 2, 1, "modules are declared in order: expected m1"},
    {"too many modules",
     "m0 = echo-client\nm1 = echo-client\nm2 = echo-client\nm3 = echo-client\nm4 = echo-client\n"
     "m5 = echo-client\nm6 = echo-client\nm7 = echo-client\nm8 = echo-client\n",
     0, 9, 1, "too many modules (the limit is 8)"},
    {"missing kind", "m0 =\n", 0, 1, 5, "expected a module kind"},
    {"unknown kind", "m0 = echo-server\n", 0, 1, 6,
     "unknown module kind 'echo-server' (this target has: echo-client, echo-provider, generic-client, generic-provider)"},
    /* options */
    {"option on a kind that takes none", "m0 = echo-client version=1\n", 0, 1, 18, "unknown option 'version' (this module kind takes none)"},
    {"unknown option", "m0 = generic-client flavour=a\n", 0, 1, 21, "unknown option 'flavour' for this module kind"},
    {"bad option value", "m0 = echo-provider version=3\n", 0, 1, 28, "unknown value '3' (expected one of: 2, 1)"},
    {"bad option value, counterpart", "m0 = generic-provider detach=later\n", 0, 1, 30,
     "unknown value 'later' (expected one of: success, pending, early, pre)"},
    {"option without value", "m0 = generic-client npi=\n", 0, 1, 21, "expected an option KEY=VALUE, not 'npi'"},
    {"option without '='", "m0 = generic-client npi a\n", 0, 1, 21, "expected an option KEY=VALUE, not 'npi'"},
    {"option given twice", "m0 = generic-client npi=a npi=b\n", 0, 1, 27, "option 'npi' given twice"},
    /* threads */
    {"thread out of order", M0 "t1 = load m0\n", 0, 2, 1, "threads are started in order: expected t0"},
    {"thread out of order after shorthand", M0_T0 "t0 = unload m0\n", 0, 3, 1, "threads are started in order: expected t1"},
    {"thread not started", M0 "step t0\n", 0, 2, 6, "'t0' has not been started (start threads first"},
    {"run of a thread not started", M0_T0 "run t1\n", 0, 3, 5, "'t1' has not been started"},
    {"not a thread", M0_T0 "step m0\n", 0, 3, 6, "expected a thread (t0, t1, ...)"},
    {"not a module", M0 "load t0\n", 0, 2, 6, "expected a module (m0, m1, ...)"},
    {"missing module", M0 "unload\n", 0, 2, 7, "expected a module (m0, m1, ...)"},
    {"unknown action", M0 "t0 = start m0\n", 0, 2, 6, "expected an action (load, unload, call, complete), not 'start'"},
    {"missing action", M0 "t0 =\n", 0, 2, 5, "expected an action"},
    {"too many threads", NULL, 0, 34, 1, "too many threads (the limit is 32)"}, /* built below */
    /* counts and values */
    {"step count 0", M0_T0 "step t0 0\n", 0, 3, 9, "expected a step count from 1 to 16"},
    {"step count 17", M0_T0 "step t0 17\n", 0, 3, 9, "expected a step count from 1 to 16"},
    {"call value 256", M0 "call m0 256\n", 0, 2, 9, "expected a call value from 0 to 255"},
    {"negative call value", M0 "call m0 -1\n", 0, 2, 9, "expected a call value from 0 to 255"},
    {"huge number", M0 "call m0 99999999999999999999\n", 0, 2, 9, "expected a call value from 0 to 255"},
    {"decision 256", "decide 1 2 256\n", 0, 1, 12, "expected a decision from 0 to 255"},
    {"decide without values", "decide\n", 0, 1, 7, "expected one or more decisions"},
    {"fail-allocs count 16", M0 "fail-allocs m0 16\n", 0, 2, 16, "expected a count from 0 to 15"},
    {"fail-allocs without count", M0 "fail-allocs m0\n", 0, 2, 15, "expected a count from 0 to 15"},
    {"fail-allocs after without count", M0 "fail-allocs m0 1 after\n", 0, 2, 23, "expected a number of allocations from 0 to 15 after 'after'"},
    {"fail-allocs after 16", M0 "fail-allocs m0 1 after 16\n", 0, 2, 24, "expected a number of allocations from 0 to 15"},
    {"fail-allocs before", M0 "fail-allocs m0 1 before 2\n", 0, 2, 18, "unexpected 'before' at the end of the line"},
    {"fail-allocs after, trailing word", M0 "fail-allocs m0 1 after 2 x\n", 0, 2, 26, "unexpected 'x' at the end of the line"},
    {"fail-nmr kind", "fail-nmr detach 1\n", 0, 1, 10, "expected 'register' or 'attach', not 'detach'"},
    {"fail-nmr count", "fail-nmr register 40\n", 0, 1, 19, "expected a count from 0 to 15"},
    /* knobs */
    {"unknown knob", "knob detach-speed fast\n", 0, 1, 6, "unknown knob 'detach-speed' (knobs: handle-write,"},
    {"knob without value", "knob cleanup\n", 0, 1, 13, "expected a knob value or 'choose'"},
    {"bad knob value", "knob cleanup later\n", 0, 1, 14, "unknown value 'later' (expected inline, deferred, or choose)"},
    /* trailing garbage */
    {"trailing word after an action", M0 "load m0 now\n", 0, 2, 9, "unexpected 'now' at the end of the line"},
    {"trailing word after run", M0_T0 "run t0 t0\n", 0, 3, 8, "unexpected 't0' at the end of the line"},
    {"trailing word after a knob", "knob cleanup inline please\n", 0, 1, 21, "unexpected 'please' at the end of the line"},
    {"trailing word after a step", M0_T0 "step t0 2 3\n", 0, 3, 11, "unexpected '3' at the end of the line"},
    {"trailing word after a call value", M0 "call m0 1 2\n", 0, 2, 11, "unexpected '2' at the end of the line"},
    {"too many words", "decide 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25\n", 0, 1, 68,
     "too many words on one line"},
    /* binary given as text */
    {"NUL byte", "m0 = echo-client\nload\0m0\n", 25, 2, 5, "unexpected NUL byte: this is not a text sequence (binary? use nmrh convert)"},
    {"binary record", "\x00\x01\x00\x00\x02\x00\x00\x00", 8, 1, 1, "unexpected NUL byte"},
    {"control byte", "\x06\x05\x05\x05", 0, 1, 1, "unexpected character"},
};

static char *too_many_threads(void)
{
    static char buf[4096];
    size_t n = (size_t)snprintf(buf, sizeof buf, "m0 = echo-client\n");
    for (int i = 0; i < 33; i++) n += (size_t)snprintf(buf + n, sizeof buf - n, "call m0\n");
    return buf;
}

static void test_bad_inputs(nmrh_seq *s, const nmrh_target *echo)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const bad_case *c = &bad[i];
        const char *text = c->text ? c->text : too_many_threads();
        size_t size = c->size ? c->size : strlen(text);
        nmrh_seq_error err;
        memset(&err, 0x55, sizeof err);
        int ok = nmrh_seq_parse(s, echo, text, size, &err);
        int where = err.line == c->line && err.col == c->col;
        int says = !ok && memchr(err.message, '\0', sizeof err.message) && strstr(err.message, c->phrase) != NULL;
        if (ok || !where || !says)
            fprintf(stderr, "case '%s': got %s %u:%u '%s', want %u:%u '%s'\n", c->what, ok ? "success" : "error",
                    err.line, err.col, ok ? "" : err.message, c->line, c->col, c->phrase);
        CHECK(&T, !ok);
        CHECK(&T, where);
        CHECK(&T, says);
    }
}

static void check_good(nmrh_seq *s, const nmrh_target *echo, const char *text, uint32_t records)
{
    nmrh_seq_error err;
    int ok = nmrh_seq_parse(s, echo, text, strlen(text), &err);
    if (!ok) fprintf(stderr, "rejected %u:%u %s\n  in: %s\n", err.line, err.col, err.message, text);
    CHECK(&T, ok);
    CHECK(&T, !ok || s->count == records);
}

static void test_good_inputs(nmrh_seq *s, const nmrh_target *echo)
{
    check_good(s, echo, "", 0);
    check_good(s, echo, "# nothing but a comment", 0);
    check_good(s, echo, "m0=echo-client\nt0=load m0\nstep t0 16\nrun t0\nrun", 5);
    check_good(s, echo, "\tm0 = generic-client npi = b attach=v1-only\r\n  load m0   # spaced\r\n", 2);
    check_good(s, echo, "decide 0 255 7\nknob handle-write after-attach\nknob cleanup-irql choose\n", 5);
    check_good(s, echo, "m0 = echo-client\nfail-allocs m0 15\nfail-nmr register 0\nfail-nmr attach 15\n", 4);
    check_good(s, echo, "m0 = echo-client\nfail-allocs m0 1 after 15\n", 2);
    CHECK(&T, s->records[1].op == NMRH_OP_FAIL_ALLOCS && s->records[1].b == 1 && s->records[1].c == 15);
    /* 32 threads is the limit, not past it. */
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof buf, "m0 = echo-client\n");
    for (int i = 0; i < 32; i++) n += (size_t)snprintf(buf + n, sizeof buf - n, "t%d = call m0 %d\n", i, i);
    check_good(s, echo, buf, 33);
    CHECK(&T, s->nthreads == 32);
    /* Eight modules are allowed. */
    check_good(s, echo,
               "m0 = echo-client\nm1 = echo-provider\nm2 = generic-client\nm3 = generic-provider\nm4 = echo-client\n"
               "m5 = echo-client\nm6 = echo-client\nm7 = echo-client\ncomplete m7\n",
               9);
}

/* A sequence of more than 1024 records is refused, at the line that overflows. */
static void test_record_limit(nmrh_seq *s, const nmrh_target *echo)
{
    size_t cap = 70000, n = 0;
    char *buf = malloc(cap);
    for (int line = 0; line < 70; line++) {
        n += (size_t)snprintf(buf + n, cap - n, "decide");
        for (int i = 0; i < 16; i++) n += (size_t)snprintf(buf + n, cap - n, " %d", i);
        n += (size_t)snprintf(buf + n, cap - n, "\n");
    }
    nmrh_seq_error err;
    int ok = nmrh_seq_parse(s, echo, buf, n, &err);
    CHECK(&T, !ok);
    CHECK(&T, err.line == 65); /* 64 full lines are 1024 records */
    CHECK(&T, strstr(err.message, "too many records (the limit is 1024)") != NULL);
    free(buf);
}

int main(void)
{
    const nmrh_target *echo = nmrh_target_find("echo");
    nmrh_seq *s = malloc(sizeof *s);
    CHECK(&T, echo != NULL && s != NULL);
    if (!echo || !s) return check_summary(&T, "test_seq_parse");
    test_bad_inputs(s, echo);
    test_good_inputs(s, echo);
    test_record_limit(s, echo);
    free(s);
    return check_summary(&T, "test_seq_parse");
}
