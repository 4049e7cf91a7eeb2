/*
 * The model's bookkeeping seen from outside: creation, state dumps, end-of-run and unload checks,
 * memory the NMR still references, the rule-9 check for counterparts, and internal invariants.
 */
#include <stdlib.h>

#include "../src/finding_group.h"
#include "model_impl.h"

struct nmrh_model *nmrh_model_create(nmrh_world *w)
{
    (void)w;
    return calloc(1, sizeof(struct nmrh_model));
}

void nmrh_model_destroy(struct nmrh_model *m)
{
    for (uint32_t i = 0; i < m->nregs; i++) free(m->regs[i]);
    for (uint32_t i = 0; i < m->nbindings; i++) free(m->bindings[i]);
    free(m->regs);
    free(m->bindings);
    free(m);
}

static const char *const binding_states[] = {"attaching", "attached", "detaching", "cleaning up", "gone", "declined"};
static const char *const detach_states[] = {"not called", "running", "pending", "returned success", "completed"};
static const char *const thread_states[] = {"runnable", "blocked", "finished", "abandoned"};

void nmrh_world_print_state(const nmrh_world *w, FILE *out)
{
    fprintf(out, "threads:\n");
    for (uint32_t i = 0; i < w->nthreads; i++) {
        const nmrh_thread *t = w->threads[i];
        fprintf(out, "  %s %-16s %-9s irql %u module %s", t->label, t->name, thread_states[t->state], (unsigned)t->irql,
                nmrh_world_module_name(w, t->cur_module));
        if (t->state == NMRH_THREAD_BLOCKED) fprintf(out, " waiting for %s", nmrh_wait_name(t->wait_kind));
        fputc('\n', out);
    }
    nmrh_model_print_state(w, out);
}

void nmrh_model_print_state(const nmrh_world *w, FILE *out)
{
    const struct nmrh_model *m = w->model;
    fprintf(out, "registrations:\n");
    for (uint32_t i = 0; i < m->nregs; i++) {
        const nmr_reg *r = m->regs[i];
        char name[96];
        nmr_reg_name(w, r, name, sizeof name);
        fprintf(out, "  %-28s %s, %u live binding(s)\n", name,
                r->failed ? "registration failed" : r->wait_returned ? "deregistered, wait returned"
                : r->wait_called ? "deregistering, waiting" : r->dereg_called ? "deregistering, not waited"
                : "registered",
                r->live_bindings);
    }
    fprintf(out, "bindings:\n");
    for (uint32_t i = 0; i < m->nbindings; i++) {
        const nmr_binding *b = m->bindings[i];
        char name[160];
        nmr_binding_name(w, b, name, sizeof name);
        fprintf(out, "  %s: %s; client detach %s%s; provider detach %s%s\n", name, binding_states[b->state],
                detach_states[b->side[SIDE_CLIENT].detach], b->side[SIDE_CLIENT].complete_called ? " (Complete called)" : "",
                detach_states[b->side[SIDE_PROVIDER].detach],
                b->side[SIDE_PROVIDER].complete_called ? " (Complete called)" : "");
    }
}

static bool within(const void *p, const void *lo, size_t size)
{
    return p && (const char *)p >= (const char *)lo && (const char *)p < (const char *)lo + (size ? size : 1);
}

void nmrh_model_check_free(nmrh_world *w, const void *p, size_t size)
{
    struct nmrh_model *m = w->model;
    char name[160], where[160];
    for (uint32_t i = nmr_regs_live_from(m); i < m->nregs; i++) {
        const nmr_reg *r = m->regs[i];
        if (r->wait_returned) continue;
        /* The characteristics and everything their registration instance points to. */
        const NPI_REGISTRATION_INSTANCE *ri = nmr_reg_instance(r);
        const char *what = within(r->chars, p, size)                          ? "characteristics"
                           : within(r->context, p, size)                      ? "registration context"
                           : within(ri->ModuleId, p, size)                    ? "module id"
                           : within(ri->NpiId, p, size)                       ? "NPI id"
                           : within(ri->NpiSpecificCharacteristics, p, size) ? "NPI-specific characteristics"
                                                                              : NULL;
        if (!what) continue;
        nmr_reg_name(w, r, name, sizeof name);
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_FREED_WHILE_REGISTERED, NULL,
                         "the %s of %s freed before its deregistration completed, on %s", what, name, where);
    }
    for (uint32_t i = nmr_bindings_live_from(m); i < m->nbindings; i++) {
        const nmr_binding *b = m->bindings[i];
        if (!b->nmr_attach_ok || b->state == B_DEAD || b->state == B_DECLINED) continue;
        for (int s = SIDE_CLIENT; s <= SIDE_PROVIDER; s++) {
            const nmr_side *side = &b->side[s];
            const nmr_reg *r = s == SIDE_CLIENT ? b->client : b->provider;
            bool has_cleanup = nmr_cleanup_fn(r) != NULL;
            if (!has_cleanup || side->cleanup_running || side->cleanup_done) continue;
            /* The dispatch table must outlive the binding as much as the context (the peer calls it). */
            const char *what = within(side->ctx, p, size)        ? "binding context"
                               : within(side->dispatch, p, size) ? "dispatch table"
                                                                 : NULL;
            if (!what) continue;
            nmr_binding_name(w, b, name, sizeof name);
            nmrh_oracle_where(w, where, sizeof where);
            char group[128];
            nmrh_object_group(p, s == SIDE_CLIENT ? "NMR-CONTEXT-FREED-BEFORE-CLEANUP (client)" : "NMR-CONTEXT-FREED-BEFORE-CLEANUP (provider)",
                              group, sizeof group);
            nmrh_oracle_fail_grouped(w, NMRH_RULE_CONTEXT_FREED_BEFORE_CLEANUP, group,
                             "the %s %s of %s freed before its cleanup callback ran (%s detach %s), on %s",
                             s == SIDE_CLIENT ? "client" : "provider", what, name, s == SIDE_CLIENT ? "client" : "provider",
                             detach_states[side->detach], where);
        }
    }
}

void nmrh_model_unload_check(nmrh_world *w, uint32_t module)
{
    struct nmrh_model *m = w->model;
    for (uint32_t i = nmr_regs_live_from(m); i < m->nregs; i++) {
        const nmr_reg *r = m->regs[i];
        if (r->module != module || r->wait_returned) continue;
        char name[96];
        nmr_reg_name(w, r, name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_UNLOAD_BEFORE_WAIT, NULL, "module %s finished unloading while %s was %s",
                         nmrh_world_module_name(w, module), name,
                         r->wait_called ? "still being waited for" : r->dereg_called ? "deregistered but not waited for"
                                                                                     : "still registered");
        return;
    }
}

void nmrh_model_finish_checks(nmrh_world *w)
{
    const struct nmrh_model *m = w->model;
    for (uint32_t i = 0; i < m->nregs; i++) {
        const nmr_reg *r = m->regs[i];
        if (!r->dereg_called || r->wait_called) continue;
        char name[96];
        nmr_reg_name(w, r, name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_WAIT_SKIPPED, NULL,
                         "%s was deregistered (STATUS_PENDING) but NmrWaitFor*DeregisterComplete was never called", name);
        return;
    }
}

uint32_t nmrh_model_check_invariants(nmrh_world *w)
{
    const struct nmrh_model *m = w->model;
    uint32_t violations = m->internal_violations;
    char first[256] = "";
    for (uint32_t i = 0; i < m->nbindings; i++) {
        const nmr_binding *b = m->bindings[i];
        for (int s = SIDE_CLIENT; s <= SIDE_PROVIDER; s++) {
            const nmr_side *side = &b->side[s];
            const char *bad = side->detach_calls > 1                      ? "detach called more than once"
                              : side->cleanup_calls > 1                   ? "cleanup called more than once"
                              : side->cleanup_calls && !b->nmr_attach_ok  ? "cleanup for a binding that never attached"
                              : b->state == B_DEAD && !side->cleanup_done ? "binding gone without cleanup"
                                                                          : NULL;
            if (!bad) continue;
            if (!violations++) snprintf(first, sizeof first, "b%u %s side: %s", b->seq, s ? "provider" : "client", bad);
        }
    }
    for (uint32_t i = 0; i < m->nregs; i++) {
        const nmr_reg *r = m->regs[i];
        if (r->wait_returned && !r->failed && r->live_bindings != 0 && !violations++)
            snprintf(first, sizeof first, "client/provider #%u: Wait returned with %u live bindings", r->seq,
                     r->live_bindings);
    }
    if (violations && !w->stopped)
        nmrh_oracle_fail(w, NMRH_RULE_INTERNAL, NULL, "NMR model invariant broken: %s", first[0] ? first : "see trace");
    return violations;
}

void nmrh_oracle_check_peer_call(void *binding, bool caller_is_client, const char *what)
{
    NMRH_HARNESS(w);
    if (!w || !w->current) return;
    nmr_binding *b = nmr_lookup_binding(w, binding, what);
    if (!b) return;
    const nmr_side *side = &b->side[caller_is_client ? SIDE_CLIENT : SIDE_PROVIDER];
    const char *why = b->state == B_DEAD                   ? "the binding was already cleaned up"
                      : side->detach == DETACH_SUCCESS     ? "its detach callback returned STATUS_SUCCESS"
                      : side->complete_called              ? "it completed its detach"
                                                           : NULL;
    if (!why) return;
    char name[160], where[160];
    nmr_binding_name(w, b, name, sizeof name);
    nmrh_oracle_where(w, where, sizeof where);
    /* The bug is about the peer's binding context: the object such a call may reach freed. */
    char group[128];
    nmrh_object_group(b->side[caller_is_client ? SIDE_PROVIDER : SIDE_CLIENT].ctx,
                      caller_is_client ? "NMR-CALL-AFTER-DETACH (client calls)" : "NMR-CALL-AFTER-DETACH (provider calls)",
                      group, sizeof group);
    nmrh_oracle_fail_grouped(w, NMRH_RULE_CALL_AFTER_DETACH, group, "%s side of binding %s called %s after %s, on %s",
                     caller_is_client ? "client" : "provider", name, what, why, where);
}
