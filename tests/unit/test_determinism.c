/*
 * Determinism: a run is a pure function of its chooser's decisions. A non-trivial echo scenario
 * (one client, three providers, calls in both directions, unloads racing the calls) run with a
 * recording chooser around a random one replays byte-identically from the recorded decisions;
 * the same seed gives the same trace, different seeds give different traces; the bytes chooser
 * (fuzz input) is deterministic and equivalent to replaying the same values; and worlds run
 * interleaved with each other do not influence each other.
 */
#include "../support/check.h"
#include "../support/harness.h"
#include "echo_modules.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run_result {
    char *trace;           /* nmrh_world_print_trace text, malloc'd */
    size_t trace_len;
    char signature[160];   /* "" when the run was clean */
    char message[384];
    nmrh_world_stats stats;
    uint64_t decisions_before_finish;
    bool clean;
    uint32_t invariants;
} run_result;

static void result_free(run_result *r)
{
    free(r->trace);
    r->trace = NULL;
}

typedef struct scenario {
    nmrh_world *w;
    test_instance c, p[3];
} scenario;

/* Phase 1: everything loads (providers before and after the client); phase 2: calls both ways
   race with unloads. Returns after phase `phases`. */
static void scenario_setup(scenario *s, nmrh_chooser *ch, bool faults)
{
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.fault_choices = faults;
    s->w = nmrh_world_create(&cfg, ch);
    th_instance_init(s->w, &s->c, &echo_client_kind, "echo-client", 0);
    th_instance_init(s->w, &s->p[0], &echo_provider_kind, "echo-provider-a", 0);
    th_instance_init(s->w, &s->p[1], &echo_provider_kind, "echo-provider-b", 1);
    th_instance_init(s->w, &s->p[2], &echo_provider_kind, "echo-provider-c", 0);
}

static void scenario_destroy(scenario *s)
{
    nmrh_world_destroy(s->w);
    th_instance_free(&s->c);
    for (int i = 0; i < 3; i++) th_instance_free(&s->p[i]);
}

static void scenario_phase1(scenario *s)
{
    th_load(s->w, &s->p[0]);
    th_load(s->w, &s->c);
    th_load(s->w, &s->p[1]);
    th_load(s->w, &s->p[2]);
    nmrh_world_run(s->w);
}

static void scenario_phase2(scenario *s)
{
    th_call(s->w, &s->c, 11);
    th_call(s->w, &s->p[0], 12);
    th_call(s->w, &s->p[2], 13);
    th_unload(s->w, &s->p[1]);
    th_call(s->w, &s->c, 14);
    th_unload(s->w, &s->p[0]);
    th_call(s->w, &s->p[2], 15);
    th_unload(s->w, &s->c);
    th_unload(s->w, &s->p[2]);
    nmrh_world_run(s->w);
}

static void collect(run_result *r, nmrh_world *w)
{
    r->decisions_before_finish = nmrh_world_get_stats(w).decisions;
    r->clean = nmrh_world_finish(w);
    r->invariants = r->clean ? nmrh_world_check_model_invariants(w) : 0;
    const nmrh_finding *f = nmrh_world_finding(w);
    snprintf(r->signature, sizeof r->signature, "%s", f ? f->signature : "");
    snprintf(r->message, sizeof r->message, "%s", f ? f->message : "");
    r->stats = nmrh_world_get_stats(w);
    r->trace = NULL;
    r->trace_len = 0;
    FILE *out = open_memstream(&r->trace, &r->trace_len);
    if (!out) abort();
    nmrh_world_print_trace(w, out);
    fclose(out);
}

static run_result run_scenario(nmrh_chooser *ch, bool faults)
{
    scenario s;
    run_result r;
    scenario_setup(&s, ch, faults);
    scenario_phase1(&s);
    scenario_phase2(&s);
    collect(&r, s.w);
    scenario_destroy(&s);
    return r;
}

static bool same_run(const run_result *a, const run_result *b)
{
    return a->trace_len == b->trace_len && memcmp(a->trace, b->trace, a->trace_len) == 0 &&
           strcmp(a->signature, b->signature) == 0 && strcmp(a->message, b->message) == 0 &&
           a->stats.points == b->stats.points && a->stats.switches == b->stats.switches &&
           a->stats.decisions == b->stats.decisions && a->stats.events == b->stats.events && a->clean == b->clean;
}

static void report_mismatch(const run_result *a, const run_result *b, const char *what)
{
    fprintf(stderr, "---- %s: traces differ (%zu vs %zu bytes, '%s' vs '%s')\n", what, a->trace_len, b->trace_len,
            a->signature, b->signature);
    size_t i = 0;
    while (i < a->trace_len && i < b->trace_len && a->trace[i] == b->trace[i]) i++;
    size_t from = i > 200 ? i - 200 : 0;
    fprintf(stderr, "first difference at byte %zu:\n--- a:\n%.400s\n--- b:\n%.400s\n", i, a->trace + from, b->trace + from);
}

/* A clean run of the correct echo pair: no finding and intact model invariants. */
static void check_clean(check_tally *t, const run_result *r, const char *what, uint64_t seed)
{
    CHECK(t, r->clean);
    CHECK(t, r->invariants == 0);
    if (!r->clean) fprintf(stderr, "%s seed %llu: %s: %s\n", what, (unsigned long long)seed, r->signature, r->message);
}

static int count_faults(const char *trace)
{
    int n = 0;
    for (const char *p = trace; (p = strstr(p, "fault injected")) != NULL; p++) n++;
    return n;
}

/* Record around random, replay the recording: byte-identical. */
static void test_record_replay(check_tally *t)
{
    int nontrivial = 0, injected = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        for (int faults = 0; faults < 2; faults++) {
            nmrh_chooser_random rnd;
            nmrh_chooser_random_init(&rnd, seed);
            nmrh_chooser_recorder rec;
            nmrh_chooser_recorder_init(&rec, &rnd.base);
            run_result a = run_scenario(&rec.base, faults);
            /* Every decision the run asked for went through the recorder (finish drains with its own
               zero chooser, which is not recorded and needs no recording). */
            CHECK(t, rec.count == a.decisions_before_finish);
            for (size_t i = 0; i < rec.count; i++) CHECK(t, rec.decisions[i] < 64);
            nmrh_chooser_replay rep;
            nmrh_chooser_replay_init(&rep, rec.decisions, rec.count);
            run_result b = run_scenario(&rep.base, faults);
            CHECK(t, same_run(&a, &b));
            if (!same_run(&a, &b)) report_mismatch(&a, &b, "record/replay");
            CHECK(t, rep.next == rec.count); /* replay consumed exactly the recording */
            /* The echo pair handles every injected failure: clean either way. */
            check_clean(t, &a, faults ? "record/replay with faults" : "record/replay", seed);
            if (faults) injected += count_faults(a.trace) > 0;
            if (a.stats.switches > 20 && rec.count > 50 && strstr(a.trace, "ClientCleanupBindingContext")) nontrivial++;
            nmrh_chooser_recorder_free(&rec);
            result_free(&a);
            result_free(&b);
        }
    }
    /* The scenario is not trivial: many switches, many decisions, bindings cleaned up; and the
       fault variant really injects faults. */
    CHECK(t, nontrivial >= 60);
    CHECK(t, injected >= 45);
}

/* Same seed twice: identical; different seeds: different traces for many pairs. */
static void test_seeds(check_tally *t)
{
    enum { N = 16 };
    run_result r[N];
    for (int i = 0; i < N; i++) {
        nmrh_chooser_random rnd;
        nmrh_chooser_random_init(&rnd, 1000 + (uint64_t)i);
        r[i] = run_scenario(&rnd.base, false);
        check_clean(t, &r[i], "seeds", 1000 + (uint64_t)i);
        nmrh_chooser_random_init(&rnd, 1000 + (uint64_t)i);
        run_result again = run_scenario(&rnd.base, false);
        CHECK(t, same_run(&r[i], &again));
        if (!same_run(&r[i], &again)) report_mismatch(&r[i], &again, "same seed");
        result_free(&again);
    }
    int pairs = 0, different = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            pairs++;
            different += !(r[i].trace_len == r[j].trace_len && memcmp(r[i].trace, r[j].trace, r[i].trace_len) == 0);
        }
    /* Random schedules of this scenario practically never coincide. */
    CHECK(t, different > 0);
    CHECK(t, different * 10 >= pairs * 9);
    for (int i = 0; i < N; i++) result_free(&r[i]);
}

/* The fuzz-input chooser: the same bytes give the same run, and replaying the same values through
   the replay chooser gives that run too (both reduce each value modulo n). */
static void test_bytes_chooser(check_tally *t)
{
    int distinct = 0;
    char *prev = NULL;
    size_t prev_len = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        uint8_t data[512];
        uint32_t values[512];
        nmrh_chooser_random gen;
        nmrh_chooser_random_init(&gen, seed * 31);
        size_t size = 64 + (size_t)(seed * 17 % 448);
        for (size_t i = 0; i < size; i++) {
            data[i] = (uint8_t)gen.base.choose(&gen.base, 256);
            values[i] = data[i];
        }
        for (int faults = 0; faults < 2; faults++) {
            nmrh_chooser_bytes b1, b2;
            nmrh_chooser_bytes_init(&b1, data, size);
            nmrh_chooser_bytes_init(&b2, data, size);
            run_result x = run_scenario(&b1.base, faults);
            run_result y = run_scenario(&b2.base, faults);
            CHECK(t, same_run(&x, &y));
            if (!same_run(&x, &y)) report_mismatch(&x, &y, "bytes");
            CHECK(t, b1.next == b2.next && b1.next <= size);
            nmrh_chooser_replay rep;
            nmrh_chooser_replay_init(&rep, values, size);
            run_result z = run_scenario(&rep.base, faults);
            CHECK(t, same_run(&x, &z));
            if (!same_run(&x, &z)) report_mismatch(&x, &z, "bytes vs replay");
            check_clean(t, &x, "bytes", seed);
            if (!faults) {
                if (!prev || prev_len != x.trace_len || memcmp(prev, x.trace, x.trace_len) != 0) distinct++;
                free(prev);
                prev = x.trace;
                prev_len = x.trace_len;
                x.trace = NULL;
            }
            result_free(&x);
            result_free(&y);
            result_free(&z);
        }
    }
    free(prev);
    CHECK(t, distinct >= 12);

    /* Exhausted input degrades to a deterministic drain: an empty input is the zero chooser. */
    nmrh_chooser_bytes empty;
    nmrh_chooser_bytes_init(&empty, NULL, 0);
    nmrh_chooser_zero zero;
    nmrh_chooser_zero_init(&zero);
    run_result e = run_scenario(&empty.base, false), z = run_scenario(&zero.base, false);
    CHECK(t, same_run(&e, &z));
    check_clean(t, &e, "empty input", 0);
    result_free(&e);
    result_free(&z);
}

/* The choosers themselves. */
static void test_chooser_units(check_tally *t)
{
    nmrh_chooser_random a, b;
    nmrh_chooser_random_init(&a, 42);
    nmrh_chooser_random_init(&b, 42);
    uint32_t hist[5] = {0};
    bool all_equal = true;
    for (int i = 0; i < 5000; i++) {
        uint32_t x = a.base.choose(&a.base, 5), y = b.base.choose(&b.base, 5);
        all_equal &= x == y;
        CHECK(t, x < 5);
        if (x < 5) hist[x]++;
    }
    CHECK(t, all_equal);
    for (int v = 0; v < 5; v++) CHECK(t, hist[v] > 800 && hist[v] < 1200);

    static const uint8_t bytes[] = {7, 200, 3};
    nmrh_chooser_bytes by;
    nmrh_chooser_bytes_init(&by, bytes, sizeof bytes);
    CHECK(t, by.base.choose(&by.base, 2) == 1);
    CHECK(t, by.base.choose(&by.base, 3) == 200 % 3);
    CHECK(t, by.base.choose(&by.base, 4) == 3);
    CHECK(t, by.base.choose(&by.base, 4) == 0); /* exhausted */

    static const uint32_t rec[] = {5, 1};
    nmrh_chooser_replay rp;
    nmrh_chooser_replay_init(&rp, rec, 2);
    CHECK(t, rp.base.choose(&rp.base, 3) == 2);
    CHECK(t, rp.base.choose(&rp.base, 3) == 1);
    CHECK(t, rp.base.choose(&rp.base, 3) == 0);

    nmrh_chooser_random inner;
    nmrh_chooser_random_init(&inner, 9);
    nmrh_chooser_recorder r;
    nmrh_chooser_recorder_init(&r, &inner.base);
    uint32_t got[300];
    for (int i = 0; i < 300; i++) got[i] = r.base.choose(&r.base, (uint32_t)(2 + i % 7));
    CHECK(t, r.count == 300);
    bool match = true;
    for (int i = 0; i < 300; i++) match &= r.decisions[i] == got[i];
    CHECK(t, match);
    nmrh_chooser_recorder_free(&r);
    CHECK(t, r.decisions == NULL && r.count == 0);
}

/* Worlds are independent: running another world between the phases of one changes nothing. */
static void test_interleaved_worlds(check_tally *t)
{
    for (uint64_t seed = 5; seed <= 8; seed++) {
        nmrh_chooser_random ra;
        nmrh_chooser_random_init(&ra, seed);
        run_result ref = run_scenario(&ra.base, false);

        nmrh_chooser_random r1, r2;
        nmrh_chooser_random_init(&r1, seed);
        nmrh_chooser_random_init(&r2, seed);
        scenario s1, s2;
        scenario_setup(&s1, &r1.base, false);
        scenario_setup(&s2, &r2.base, false);
        scenario_phase1(&s1);
        scenario_phase1(&s2);
        scenario_phase2(&s2);
        run_result b;
        collect(&b, s2.w);
        scenario_phase2(&s1);
        run_result a;
        collect(&a, s1.w);
        CHECK(t, nmrh_world_current() == NULL); /* no world stays current after driving one */
        scenario_destroy(&s2);
        scenario_destroy(&s1);
        CHECK(t, same_run(&ref, &a));
        CHECK(t, same_run(&ref, &b));
        if (!same_run(&ref, &a)) report_mismatch(&ref, &a, "interleaved");
        result_free(&ref);
        result_free(&a);
        result_free(&b);
    }
}

int main(void)
{
    check_tally t = {0, 0, "determinism"};
    test_chooser_units(&t);
    test_record_replay(&t);
    test_seeds(&t);
    test_bytes_chooser(&t);
    test_interleaved_worlds(&t);
    return check_summary(&t, "test_determinism");
}
