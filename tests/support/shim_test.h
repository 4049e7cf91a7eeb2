/* Helpers shared by the kernel-shim, scheduler and knob tests: a world whose chooser always says 0,
   a world's trace as text, and checks that a run stops on one finding. */
#ifndef NMRH_TEST_SHIM_TEST_H
#define NMRH_TEST_SHIM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nmrh/world.h"

static inline nmrh_world *shim_test_world(nmrh_chooser_zero *z)
{
    nmrh_chooser_zero_init(z);
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) cfg.knobs[k] = 0;
    return nmrh_world_create(&cfg, &z->base);
}

static inline char *shim_test_trace(const nmrh_world *w)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) abort();
    nmrh_world_print_trace(w, f);
    fclose(f);
    return buf;
}

/* The run (finished) ended without a finding. */
static inline void shim_test_clean(check_tally *t, nmrh_world *w)
{
    bool clean = nmrh_world_finish(w);
    CHECK(t, clean);
    if (!clean) {
        const nmrh_finding *f = nmrh_world_finding(w);
        fprintf(stderr, "unexpected finding %s: %s\n", f->signature, f->message);
    }
}

/* Running every thread stops on exactly this finding, with `needle` in its message. */
static inline void shim_test_finding(check_tally *t, nmrh_world *w, const char *signature, const char *needle)
{
    nmrh_world_run(w);
    CHECK(t, !nmrh_world_finish(w));
    const nmrh_finding *f = nmrh_world_finding(w);
    CHECK_STR(t, f ? f->signature : "", signature);
    if (f && needle && !strstr(f->message, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", f->message, needle);
        CHECK(t, false);
    }
}

#endif
