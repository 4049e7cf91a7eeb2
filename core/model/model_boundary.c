/*
 * Boundary scheduling points of the NMR model: every NMR API entry and exit and every callback
 * entry and exit is traced and may switch threads. The model never holds state across them that
 * it does not re-validate afterwards, and it never calls a module with a lock held.
 */
#include <stdlib.h>

#include "model_impl.h"

const char *nmr_fn_name(nmrh_nmr_fn fn) { return nmrh_fn_name(fn); }

void nmr_require_thread(const nmrh_world *w, const char *fn)
{
    if (!w || !w->current) {
        fprintf(stderr, "nmrh: %s called outside a logical thread of a running world\n", fn);
        abort();
    }
}

void nmr_api_enter(nmrh_world *w, nmrh_nmr_fn fn, uint64_t ref)
{
    nmrh_trace(w, NMRH_EV_NMR_CALL, fn, ref);
    nmrh_sched_point(w, NMRH_POINTS_BOUNDARY);
}

NTSTATUS nmr_api_exit(nmrh_world *w, nmrh_nmr_fn fn, NTSTATUS status)
{
    nmrh_sched_point(w, NMRH_POINTS_BOUNDARY);
    nmrh_trace(w, NMRH_EV_NMR_RETURN, fn, (uint32_t)status);
    return status;
}

void nmr_require_irql(nmrh_world *w, KIRQL max, nmrh_nmr_fn fn)
{
    const nmrh_thread *t = w->current;
    if (t->irql <= max) return;
    char where[160];
    nmrh_oracle_where(w, where, sizeof where);
    nmrh_oracle_fail(w, NMRH_RULE_IRQL_TOO_HIGH, NULL, "%s called at IRQL %u (allowed up to %u) on %s",
                     nmr_fn_name(fn), (unsigned)t->irql, (unsigned)max, where);
}

void nmr_callback_enter(nmrh_world *w, const nmr_reg *owner, nmrh_callback cb, uint64_t ref, KIRQL irql,
                        callback_frame *f)
{
    nmrh_thread *t = w->current;
    if (owner->wait_returned) {
        w->model->internal_violations++;
        char name[96];
        nmr_reg_name(w, owner, name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_INTERNAL, NULL, "model called back into %s after its Wait returned", name);
    }
    f->cb = cb;
    f->saved_module = t->cur_module;
    f->saved_irql = t->irql;
    if (irql > t->irql) t->irql = irql;
    f->entry_irql = t->irql;
    t->cur_module = owner->module;
    nmrh_trace(w, NMRH_EV_CALLBACK, cb, ref);
    nmrh_sched_point(w, NMRH_POINTS_BOUNDARY);
    f->lock_depth = nmrh_harness_suspend(w); /* the callback is module code */
}

void nmr_callback_leave(nmrh_world *w, callback_frame *f, NTSTATUS status)
{
    nmrh_harness_resume(w, f->lock_depth);
    nmrh_thread *t = w->current;
    nmrh_sched_point(w, NMRH_POINTS_BOUNDARY);
    nmrh_trace(w, NMRH_EV_CALLBACK_RETURN, f->cb, (uint32_t)status);
    if (t->irql != f->entry_irql) {
        char where[160];
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_IRQL_MISUSE, NULL, "callback returned at IRQL %u but was called at IRQL %u on %s",
                         (unsigned)t->irql, (unsigned)f->entry_irql, where);
    }
    t->cur_module = f->saved_module;
    t->irql = f->saved_irql;
}

bool nmr_fault(nmrh_world *w, nmrh_nmr_fault which, uint32_t module)
{
    if (w->nmr_faults[which]) {
        w->nmr_faults[which]--;
    } else if (!(w->cfg.fault_choices && nmrh_sched_choose(w, 2) == 1)) {
        return false;
    }
    nmrh_trace(w, NMRH_EV_FAULT, which == NMRH_FAULT_REGISTER ? 1 : 2, module);
    return true;
}
