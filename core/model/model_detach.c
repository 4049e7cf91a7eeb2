/*
 * Deregistration, detach, completion and cleanup. Deregister always returns STATUS_PENDING (K1).
 * Detach order, thread and IRQL (K4) and inline or deferred cleanup (K5) are knob choices; early
 * completion (K6) and pre-completion (K7) are legal; a binding still attaching when a side
 * deregisters is detached as soon as its attach returns (K8, in model_attach.c).
 */
#include <stdlib.h>

#include "model_impl.h"

static const char *side_name(int side) { return side == SIDE_CLIENT ? "client" : "provider"; }

/* A registration whose last binding is gone releases its NmrWaitFor*DeregisterComplete. */
static void notify_if_drained(nmrh_world *w, nmr_reg *r)
{
    if (r->dereg_called && r->live_bindings == 0) nmrh_sched_wake(w, r, true, STATUS_SUCCESS);
}

void nmr_release_binding(nmrh_world *w, nmr_binding *b)
{
    b->client->live_bindings--;
    b->provider->live_bindings--;
    notify_if_drained(w, b->client);
    notify_if_drained(w, b->provider);
}

static void run_cleanup(nmrh_world *w, nmr_binding *b, KIRQL irql)
{
    for (int s = SIDE_CLIENT; s <= SIDE_PROVIDER; s++) {
        nmr_side *side = &b->side[s];
        nmr_reg *r = s == SIDE_CLIENT ? b->client : b->provider;
        if (!nmr_reg_unchanged(w, r, s == SIDE_CLIENT ? "its ClientCleanupBindingContext" : "its ProviderCleanupBindingContext"))
            return;
        PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN fn = nmr_cleanup_fn(r);
        if (!fn) nmr_transition(w, NMRH_T_CLEANUP_WITHOUT_CALLBACK);
        if (fn) {
            if (side->cleanup_calls || !b->nmr_attach_ok) {
                w->model->internal_violations++;
                nmrh_oracle_fail(w, NMRH_RULE_INTERNAL, NULL, "model would call the %s cleanup of b%u %s", side_name(s),
                                 b->seq, side->cleanup_calls ? "a second time" : "for a binding that never attached");
            }
            side->cleanup_calls++;
            side->cleanup_running = true;
            callback_frame f;
            nmr_callback_enter(w, r, s == SIDE_CLIENT ? NMRH_CB_CLIENT_CLEANUP : NMRH_CB_PROVIDER_CLEANUP,
                               nmr_binding_ref(b), irql, &f);
            fn(side->ctx);
            nmr_callback_leave(w, &f, STATUS_SUCCESS);
            side->cleanup_running = false;
        }
        side->cleanup_done = true;
    }
    b->state = B_DEAD;
    nmr_release_binding(w, b);
}

static void deferred_cleanup(void *arg)
{
    nmr_binding *b = arg;
    NMRH_HARNESS(w);
    run_cleanup(w, b, b->detach_irql);
}

static void spawn_worker(nmrh_world *w, const char *what, nmrh_thread_fn fn, void *arg)
{
    char name[32];
    snprintf(name, sizeof name, "nmr-%s-%u", what, ++w->worker_seq);
    if (!nmrh_sched_spawn_internal(w, name, 0, fn, arg))
        nmrh_oracle_fail(w, NMRH_RULE_INTERNAL, NULL, "out of memory starting NMR worker thread %s", name);
}

/* Both sides finished detaching: clean up now, in this call, or on a worker (K5). */
static void both_sides_detached(nmrh_world *w, nmr_binding *b)
{
    b->state = B_CLEANING;
    if (nmrh_knob_get(w, NMRH_KNOB_CLEANUP) == 0) {
        nmr_transition(w, NMRH_T_CLEANUP_INLINE);
        run_cleanup(w, b, PASSIVE_LEVEL);
        return;
    }
    /* The deferred worker reuses detach_irql as its IRQL; the detach callbacks are over. */
    b->detach_irql = nmrh_knob_get(w, NMRH_KNOB_CLEANUP_IRQL) ? DISPATCH_LEVEL : PASSIVE_LEVEL;
    nmr_transition(w, NMRH_T_CLEANUP_DEFERRED);
    spawn_worker(w, "cleanup", deferred_cleanup, b);
}

static bool side_done(const nmr_side *s) { return s->detach == DETACH_SUCCESS || s->detach == DETACH_COMPLETED; }

static void side_finished(nmrh_world *w, nmr_binding *b)
{
    if (b->state == B_DETACHING && side_done(&b->side[SIDE_CLIENT]) && side_done(&b->side[SIDE_PROVIDER]))
        both_sides_detached(w, b);
}

static void run_detach_side(nmrh_world *w, nmr_binding *b, int s)
{
    nmr_side *side = &b->side[s];
    if (side->detach != DETACH_NONE) return;
    nmr_reg *r = s == SIDE_CLIENT ? b->client : b->provider;
    if (!nmr_reg_unchanged(w, r, s == SIDE_CLIENT ? "its ClientDetachProvider" : "its ProviderDetachClient")) return;
    side->detach = DETACH_RUNNING;
    side->detach_calls++;
    callback_frame f;
    nmr_callback_enter(w, r, s == SIDE_CLIENT ? NMRH_CB_CLIENT_DETACH : NMRH_CB_PROVIDER_DETACH, nmr_binding_ref(b),
                       b->detach_irql, &f);
    NTSTATUS status = nmr_detach_fn(r)(side->ctx);
    nmr_callback_leave(w, &f, status);
    if (status != STATUS_SUCCESS && status != STATUS_PENDING) {
        char name[160];
        nmr_binding_name(w, b, name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_DETACH_BAD_STATUS, NULL,
                         "%s detach callback of %s returned 0x%08X for binding %s (only STATUS_SUCCESS or STATUS_PENDING are allowed)",
                         side_name(s), nmrh_world_module_name(w, r->module), (unsigned)status, name);
        return;
    }
    if (status == STATUS_SUCCESS && side->complete_called) {
        /* Complete is the second half of a detach that returns STATUS_PENDING (K6 and K7 let it
           come early, never instead of PENDING). */
        char name[160];
        nmr_binding_name(w, b, name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_COMPLETE_AFTER_SUCCESS, NULL,
                         "%s detach callback of %s returned STATUS_SUCCESS for binding %s after %s was already called "
                         "for it (Complete belongs to a detach that returns STATUS_PENDING)",
                         side_name(s), nmrh_world_module_name(w, r->module), name,
                         nmr_fn_name(s == SIDE_CLIENT ? NMRH_FN_CLIENT_DETACH_COMPLETE : NMRH_FN_PROVIDER_DETACH_COMPLETE));
        return;
    }
    nmr_transition(w, side->complete_called ? NMRH_T_DETACH_RETURNED_AFTER_COMPLETE
                      : status == STATUS_SUCCESS ? NMRH_T_DETACH_RETURNED_SUCCESS
                                                 : NMRH_T_DETACH_RETURNED_PENDING);
    /* Complete already called (early completion K6, pre-completion K7): the side is done. */
    side->detach = side->complete_called ? DETACH_COMPLETED : status == STATUS_SUCCESS ? DETACH_SUCCESS : DETACH_PENDING;
    side_finished(w, b);
}

static void run_detach_job(nmrh_world *w, const nmr_detach_job *job)
{
    if (job->first >= 0) run_detach_side(w, job->b, job->first);
    run_detach_side(w, job->b, job->second);
}

static void detach_worker(void *arg)
{
    nmr_detach_job job = *(nmr_detach_job *)arg;
    run_detach_job(nmrh_world_current(), &job);
}

/* The job lives in the binding (slot 0 or 1), which the model keeps until the world goes: a run
   that stops before the worker starts leaks nothing. */
static void spawn_detach(nmrh_world *w, nmr_binding *b, int slot, int first, int second)
{
    b->detach_jobs[slot] = (nmr_detach_job){b, first, second};
    spawn_worker(w, "detach", detach_worker, &b->detach_jobs[slot]);
}

void nmr_start_detach(nmrh_world *w, nmr_binding *b)
{
    if (b->state != B_ATTACHED) return;
    b->state = B_DETACHING;
    int first = nmrh_knob_get(w, NMRH_KNOB_DETACH_ORDER) == 0 ? SIDE_CLIENT : SIDE_PROVIDER;
    int second = 1 - first;
    uint32_t where = nmrh_knob_get(w, NMRH_KNOB_DETACH_THREAD);
    b->detach_irql = nmrh_knob_get(w, NMRH_KNOB_DETACH_IRQL) ? DISPATCH_LEVEL : PASSIVE_LEVEL;
    nmr_transition(w, NMRH_T_DETACH_START);
    if (where != 0) nmr_transition(w, NMRH_T_DETACH_ON_WORKER);
    if (b->detach_irql == DISPATCH_LEVEL) nmr_transition(w, NMRH_T_DETACH_AT_DISPATCH);
    if (where == 0) {
        nmr_detach_job job = {b, first, second};
        run_detach_job(w, &job);
    } else if (where == 1) {
        spawn_detach(w, b, 0, first, second);
    } else {
        spawn_detach(w, b, 0, -1, first);
        spawn_detach(w, b, 1, -1, second);
    }
}

static NTSTATUS deregister(bool is_client, HANDLE h)
{
    nmrh_nmr_fn fn = is_client ? NMRH_FN_DEREGISTER_CLIENT : NMRH_FN_DEREGISTER_PROVIDER;
    NMRH_HARNESS(w);
    nmr_require_thread(w, nmr_fn_name(fn));
    nmr_api_enter(w, fn, nmr_handle_ref(w, h));
    nmr_reg *r = nmr_lookup_reg(w, h, is_client, fn);
    if (!r) return STATUS_INVALID_PARAMETER;
    nmr_require_irql(w, DISPATCH_LEVEL, fn);
    if (!nmr_reg_unchanged(w, r, nmr_fn_name(fn))) return STATUS_INVALID_PARAMETER;
    if (r->dereg_called) {
        char name[96], where[160];
        nmr_reg_name(w, r, name, sizeof name);
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_DEREGISTER_TWICE, NULL, "%s called twice for %s, on %s", nmr_fn_name(fn), name, where);
        return STATUS_INVALID_PARAMETER;
    }
    r->dereg_called = true;
    nmr_transition(w, r->live_bindings ? NMRH_T_DEREGISTER_WITH_BINDINGS : NMRH_T_DEREGISTER_IDLE);
    /* Index loop: detach callbacks run here may add bindings elsewhere and grow the array. */
    for (uint32_t i = nmr_bindings_live_from(w->model); i < w->model->nbindings; i++) {
        nmr_binding *b = w->model->bindings[i];
        if (b->client != r && b->provider != r) continue;
        if (b->state == B_ATTACHING) {
            b->detach_requested = true;
            nmr_transition(w, NMRH_T_DEREGISTER_DURING_ATTACH);
        } else
            nmr_start_detach(w, b);
    }
    notify_if_drained(w, r);
    return nmr_api_exit(w, fn, STATUS_PENDING);
}

NTSTATUS NmrDeregisterClient(HANDLE NmrClientHandle) { return deregister(true, NmrClientHandle); }
NTSTATUS NmrDeregisterProvider(HANDLE NmrProviderHandle) { return deregister(false, NmrProviderHandle); }

static NTSTATUS wait_deregister(bool is_client, HANDLE h)
{
    nmrh_nmr_fn fn = is_client ? NMRH_FN_WAIT_CLIENT : NMRH_FN_WAIT_PROVIDER;
    NMRH_HARNESS(w);
    nmr_require_thread(w, nmr_fn_name(fn));
    nmr_api_enter(w, fn, nmr_handle_ref(w, h));
    nmr_reg *r = nmr_lookup_reg(w, h, is_client, fn);
    if (!r) return STATUS_INVALID_PARAMETER;
    nmr_require_irql(w, APC_LEVEL, fn);
    if (!nmr_reg_unchanged(w, r, nmr_fn_name(fn))) return nmr_api_exit(w, fn, STATUS_INVALID_PARAMETER);
    char name[96], where[160];
    if (!r->dereg_called || r->wait_called) { /* formatted only for a finding: this is the hot path */
        nmr_reg_name(w, r, name, sizeof name);
        nmrh_oracle_where(w, where, sizeof where);
    }
    if (!r->dereg_called) {
        nmrh_oracle_fail(w, NMRH_RULE_WAIT_WITHOUT_DEREGISTER, NULL, "%s for %s before it was deregistered, on %s",
                         nmr_fn_name(fn), name, where);
        return nmr_api_exit(w, fn, STATUS_INVALID_PARAMETER);
    }
    if (r->wait_called) {
        nmrh_oracle_fail(w, NMRH_RULE_WAIT_TWICE, NULL, "%s called twice for %s, on %s", nmr_fn_name(fn), name, where);
        return nmr_api_exit(w, fn, STATUS_INVALID_PARAMETER);
    }
    r->wait_called = true;
    if (r->live_bindings > 0) nmr_transition(w, NMRH_T_WAIT_BLOCKED);
    while (r->live_bindings > 0) nmrh_sched_block(w, r, NMRH_WAIT_NMR_DEREGISTER, false);
    r->wait_returned = true;
    nmr_transition(w, NMRH_T_WAIT_RELEASED);
    return nmr_api_exit(w, fn, STATUS_SUCCESS);
}

NTSTATUS NmrWaitForClientDeregisterComplete(HANDLE NmrClientHandle) { return wait_deregister(true, NmrClientHandle); }
NTSTATUS NmrWaitForProviderDeregisterComplete(HANDLE NmrProviderHandle)
{
    return wait_deregister(false, NmrProviderHandle);
}

static void complete(int s, HANDLE h)
{
    nmrh_nmr_fn fn = s == SIDE_CLIENT ? NMRH_FN_CLIENT_DETACH_COMPLETE : NMRH_FN_PROVIDER_DETACH_COMPLETE;
    NMRH_HARNESS(w);
    nmr_require_thread(w, nmr_fn_name(fn));
    nmr_api_enter(w, fn, nmr_handle_ref(w, h));
    nmr_binding *b = nmr_lookup_binding(w, h, nmr_fn_name(fn));
    if (!b) return;
    nmr_require_irql(w, DISPATCH_LEVEL, fn);
    nmr_side *side = &b->side[s];
    char name[160], where[160];
    if (side->complete_called || side->detach == DETACH_SUCCESS || b->state == B_DECLINED || b->state == B_DEAD) {
        nmr_binding_name(w, b, name, sizeof name); /* formatted only for a finding: this is the hot path */
        nmrh_oracle_where(w, where, sizeof where);
    }
    if (side->complete_called)
        nmrh_oracle_fail(w, NMRH_RULE_COMPLETE_TWICE, NULL, "%s called twice for binding %s, on %s", nmr_fn_name(fn), name,
                         where);
    if (side->detach == DETACH_SUCCESS)
        nmrh_oracle_fail(w, NMRH_RULE_COMPLETE_AFTER_SUCCESS, NULL,
                         "%s for binding %s after the %s detach callback returned STATUS_SUCCESS, on %s", nmr_fn_name(fn),
                         name, side_name(s), where);
    if (b->state == B_DECLINED || b->state == B_DEAD)
        nmrh_oracle_fail(w, NMRH_RULE_BAD_HANDLE, NULL, "%s got the stale handle of binding %s, which %s, on %s",
                         nmr_fn_name(fn), name, b->state == B_DEAD ? "was already cleaned up" : "never attached", where);
    nmr_transition(w, side->detach == DETACH_NONE      ? NMRH_T_COMPLETE_PRE
                      : side->detach == DETACH_RUNNING ? NMRH_T_COMPLETE_EARLY
                                                       : NMRH_T_COMPLETE_AFTER_PENDING);
    side->complete_called = true;
    if (side->detach == DETACH_PENDING) {
        side->detach = DETACH_COMPLETED;
        side_finished(w, b);
    }
    nmr_api_exit(w, fn, STATUS_SUCCESS);
}

VOID NmrClientDetachProviderComplete(HANDLE NmrBindingHandle) { complete(SIDE_CLIENT, NmrBindingHandle); }
VOID NmrProviderDetachClientComplete(HANDLE NmrBindingHandle) { complete(SIDE_PROVIDER, NmrBindingHandle); }
