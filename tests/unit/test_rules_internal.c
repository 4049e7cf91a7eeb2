/*
 * NMRH-INTERNAL: the harness broke its own contract towards modules. A correct model never does,
 * so this white-box test looks inside it (core/model/model_impl.h) and corrupts its bookkeeping:
 * after a clean run, to check nmrh_world_check_model_invariants (cleanup at most once per side
 * and only for attached bindings, detach at most once per side, no binding gone without its
 * cleanup, no Wait returned with live bindings); and before a callback, to check the model's
 * own guards (no callback after Wait returned, no second cleanup).
 */
#include "../support/rules_support.h"

#include "../../core/model/model_impl.h"

/* Counterpart client and provider bound (b1), then both unloaded: a clean run. */
static void clean_run(rs_run *r)
{
    rs_begin(r, NULL, NULL);
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(r, &rt_client_kind, "rt-client", 0);
    nmrh_world_run_thread(r->w, th_load(r->w, p));
    nmrh_world_run_thread(r->w, th_load(r->w, c));
    nmrh_world_run_thread(r->w, th_call(r->w, c, RT_PEER_CALL));
    nmrh_world_run_thread(r->w, th_unload(r->w, c));
    nmrh_world_run_thread(r->w, th_unload(r->w, p));
}

static nmr_binding *binding(nmrh_world *w, uint32_t seq)
{
    for (uint32_t i = 0; i < w->model->nbindings; i++)
        if (w->model->bindings[i]->seq == seq) return w->model->bindings[i];
    return NULL;
}

typedef enum {
    CORRUPT_CLEANUP_TWICE,
    CORRUPT_DETACH_TWICE,
    CORRUPT_CLEANUP_UNATTACHED,
    CORRUPT_DEAD_WITHOUT_CLEANUP,
    CORRUPT_WAIT_WITH_LIVE_BINDINGS,
} corruption;

static void test_invariants(check_tally *t, corruption what, uint32_t count, const char *message)
{
    rs_run r;
    clean_run(&r);
    CHECK(t, nmrh_world_finish(r.w));
    CHECK(t, nmrh_world_check_model_invariants(r.w) == 0);
    nmr_binding *b = binding(r.w, 1);
    CHECK(t, b != NULL && b->state == B_DEAD);
    if (!b) {
        rs_end(&r);
        return;
    }
    switch (what) {
    case CORRUPT_CLEANUP_TWICE: b->side[SIDE_CLIENT].cleanup_calls = 2; break;
    case CORRUPT_DETACH_TWICE: b->side[SIDE_PROVIDER].detach_calls = 2; break;
    case CORRUPT_CLEANUP_UNATTACHED: b->nmr_attach_ok = false; break;
    case CORRUPT_DEAD_WITHOUT_CLEANUP: b->side[SIDE_PROVIDER].cleanup_done = false; break;
    case CORRUPT_WAIT_WITH_LIVE_BINDINGS: b->client->live_bindings = 1; break;
    }
    CHECK(t, nmrh_world_check_model_invariants(r.w) == count);
    rs_expect_finding(t, r.w, NMRH_RULE_INTERNAL, "NMR model invariant broken", message);
    rs_end(&r);
}

/* Two broken invariants: both counted, the first one named, the finding not replaced. */
static void test_invariants_counted(check_tally *t)
{
    rs_run r;
    clean_run(&r);
    CHECK(t, nmrh_world_finish(r.w));
    nmr_binding *b = binding(r.w, 1);
    if (b) {
        b->side[SIDE_CLIENT].cleanup_calls = 2;
        b->side[SIDE_PROVIDER].detach_calls = 3;
    }
    CHECK(t, nmrh_world_check_model_invariants(r.w) == 2);
    rs_expect_finding(t, r.w, NMRH_RULE_INTERNAL, "b1 client side: cleanup called more than once");
    CHECK(t, nmrh_world_check_model_invariants(r.w) == 2); /* the run stopped: counted, not re-reported */
    CHECK(t, strstr(nmrh_world_finding(r.w)->message, "client side") != NULL);
    rs_end(&r);
}

/* The model's guard before calling a module back: never after that registration's Wait returned.
   The provider's registration is marked "waited for" while its binding still exists; the client
   deregistering then makes the model call the provider's detach callback. */
static void test_callback_after_wait(check_tally *t)
{
    rs_run r;
    rs_begin(&r, NULL, NULL);
    test_instance *p = rs_add(&r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(&r, &rt_client_kind, "rt-client", 0);
    nmrh_world_run_thread(r.w, th_load(r.w, p));
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    nmr_binding *b = binding(r.w, 1);
    CHECK(t, b != NULL && b->state == B_ATTACHED);
    if (b) b->provider->wait_returned = true; /* corrupt */
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_INTERNAL, "model called back into provider#1 (rt-provider) after its Wait returned");
    CHECK(t, nmrh_world_check_model_invariants(r.w) >= 1);
    rs_end(&r);
}

/* The model's guard before a cleanup callback: never a second one for the same side. */
static void test_cleanup_twice_guard(check_tally *t)
{
    rs_run r;
    rs_begin(&r, NULL, NULL);
    test_instance *p = rs_add(&r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(&r, &rt_client_kind, "rt-client", 0);
    nmrh_world_run_thread(r.w, th_load(r.w, p));
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    nmr_binding *b = binding(r.w, 1);
    CHECK(t, b != NULL && b->state == B_ATTACHED);
    if (b) b->side[SIDE_CLIENT].cleanup_calls = 1;
    nmrh_world_run_thread(r.w, th_unload(r.w, c));
    rs_expect_finding(t, r.w, NMRH_RULE_INTERNAL, "model would call the client cleanup of b1 a second time");
    CHECK(t, nmrh_world_check_model_invariants(r.w) >= 1);
    rs_end(&r);
}

/* Uncorrupted, the same runs are clean and keep every invariant. */
static void test_uncorrupted(check_tally *t)
{
    rs_run r;
    clean_run(&r);
    rs_expect_clean(t, r.w);
    nmr_binding *b = binding(r.w, 1);
    CHECK(t, b && b->side[SIDE_CLIENT].cleanup_calls == 1 && b->side[SIDE_PROVIDER].cleanup_calls == 1 &&
                 b->side[SIDE_CLIENT].detach_calls == 1 && b->side[SIDE_PROVIDER].detach_calls == 1);
    rs_end(&r);
}

int main(void)
{
    check_tally t = {0, 0, "rules-internal"};
    test_uncorrupted(&t);
    test_invariants(&t, CORRUPT_CLEANUP_TWICE, 1, "b1 client side: cleanup called more than once");
    test_invariants(&t, CORRUPT_DETACH_TWICE, 1, "b1 provider side: detach called more than once");
    test_invariants(&t, CORRUPT_CLEANUP_UNATTACHED, 2, "b1 client side: cleanup for a binding that never attached");
    test_invariants(&t, CORRUPT_DEAD_WITHOUT_CLEANUP, 1, "b1 provider side: binding gone without cleanup");
    test_invariants(&t, CORRUPT_WAIT_WITH_LIVE_BINDINGS, 1, "Wait returned with 1 live bindings");
    test_invariants_counted(&t);
    test_callback_after_wait(&t);
    test_cleanup_twice_guard(&t);
    return check_summary(&t, "test_rules_internal");
}
