/*
 * Registration and attach. Attach runs synchronously on the thread that registers later (K2),
 * inside its Nmr*Register* call; *Handle is written before or after the attach callbacks (K3).
 * A pair of registrations is attempted once: whichever registration thread claims the pair first
 * attaches it, so concurrent registrations never double-bind.
 */
#include <stdlib.h>

#include "../src/sanitizer_query.h"
#include "model_impl.h"

static void *grow_array(void *array, uint32_t *cap, size_t elem)
{
    uint32_t n = *cap ? *cap * 2 : 8;
    void *p = realloc(array, n * elem);
    if (!p) abort();
    *cap = n;
    return p;
}

static nmr_reg *new_reg(nmrh_world *w, bool is_client, const void *chars, void *context)
{
    struct nmrh_model *m = w->model;
    nmr_reg *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->seq = ++m->reg_seq;
    r->is_client = is_client;
    r->module = w->current->cur_module;
    r->chars = chars;
    nmr_reg_snapshot(r, chars);
    r->context = context;
    r->first_binding = m->nbindings;
    if (m->nregs == m->regs_cap) m->regs = grow_array(m->regs, &m->regs_cap, sizeof *m->regs);
    r->index = m->nregs;
    m->regs[m->nregs++] = r;
    return r;
}

static nmr_binding *new_binding(nmrh_world *w, nmr_reg *client, nmr_reg *provider)
{
    struct nmrh_model *m = w->model;
    nmr_binding *b = calloc(1, sizeof *b);
    if (!b) abort();
    if (m->nbindings == m->bindings_cap) m->bindings = grow_array(m->bindings, &m->bindings_cap, sizeof *m->bindings);
    b->index = m->nbindings;
    b->seq = m->nbindings + 1;
    b->client = client;
    b->provider = provider;
    b->state = B_ATTACHING;
    b->attach_thread = w->current;
    m->bindings[m->nbindings++] = b;
    client->live_bindings++;
    provider->live_bindings++;
    nmrh_trace(w, NMRH_EV_BIND, b->seq, 0);
    return b;
}

static bool pair_attempted(const struct nmrh_model *m, const nmr_reg *c, const nmr_reg *p)
{
    /* A binding of the pair was made after both registrations. */
    uint32_t from = c->first_binding > p->first_binding ? c->first_binding : p->first_binding;
    for (uint32_t i = from; i < m->nbindings; i++)
        if (m->bindings[i]->client == c && m->bindings[i]->provider == p) return true;
    return false;
}

static bool same_npi(const nmr_reg *a, const nmr_reg *b)
{
    return IsEqualGUID(&a->npi_id, &b->npi_id);
}

static bool stack_object(nmrh_world *w, const void *p, const char *what, const nmr_binding *b)
{
    if (!p || !nmrh_sched_on_some_stack(w, p)) return false;
    char name[160], where[160];
    nmr_binding_name(w, b, name, sizeof name);
    nmrh_oracle_where(w, where, sizeof where);
    nmrh_oracle_fail(w, NMRH_RULE_STACK_OBJECT_BOUND, NULL, "%s of binding %s is a stack object, on %s", what, name, where);
    return true;
}

/* Runs the client's ClientAttachProvider for one (client, provider) pair on this thread. */
static void attach_pair(nmrh_world *w, nmr_reg *c, nmr_reg *p)
{
    nmr_binding *b = new_binding(w, c, p);
    char name[160];
    callback_frame f;
    b->in_client_attach_cb = true;
    nmr_transition(w, NMRH_T_ATTACH_START);
    if (!nmr_reg_unchanged(w, c, "ClientAttachProvider") || !nmr_reg_unchanged(w, p, "ClientAttachProvider")) {
        b->state = B_DECLINED;
        nmr_release_binding(w, b);
        return;
    }
    nmr_callback_enter(w, c, NMRH_CB_CLIENT_ATTACH, nmr_binding_ref(b), PASSIVE_LEVEL, &f);
    NTSTATUS status = nmr_client_attach_fn(c)(nmr_binding_handle(b), c->context, nmr_reg_instance(p));
    nmr_callback_leave(w, &f, status);
    b->in_client_attach_cb = false;

    if (b->nmr_attach_ok && status != STATUS_SUCCESS) {
        nmr_binding_name(w, b, name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_ATTACH_STATUS_MISMATCH, NULL,
                         "ClientAttachProvider of %s returned %s (0x%08X) after NmrClientAttachProvider succeeded for binding %s",
                         nmrh_world_module_name(w, c->module), nmrh_status_name(status) ? nmrh_status_name(status) : "a failure",
                         (unsigned)status, name);
    }
    if (!b->nmr_attach_ok && status == STATUS_SUCCESS) {
        nmr_binding_name(w, b, name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_ATTACH_SUCCESS_WITHOUT_BIND, NULL,
                         "ClientAttachProvider of %s returned STATUS_SUCCESS for binding %s %s",
                         nmrh_world_module_name(w, c->module), name,
                         b->nmr_attach_called ? "although NmrClientAttachProvider failed" : "without calling NmrClientAttachProvider");
    }
    if (!b->nmr_attach_ok && b->nmr_attach_called && status != b->last_attach_status) {
        nmr_binding_name(w, b, name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_ATTACH_STATUS_MISMATCH, NULL,
                         "ClientAttachProvider of %s returned 0x%08X but NmrClientAttachProvider returned 0x%08X for binding %s",
                         nmrh_world_module_name(w, c->module), (unsigned)status, (unsigned)b->last_attach_status, name);
    }
    if (b->nmr_attach_ok) {
        b->state = B_ATTACHED;
        nmr_transition(w, NMRH_T_ATTACHED);
        /* K8, late bind: a side began deregistering while the attach was in flight. */
        if (b->detach_requested || c->dereg_called || p->dereg_called) {
            nmr_transition(w, NMRH_T_LATE_BIND_DETACH);
            nmr_start_detach(w, b);
        }
    } else {
        if (!b->nmr_attach_called || status != b->last_attach_status) nmr_transition(w, NMRH_T_ATTACH_CLIENT_DECLINED);
        b->state = B_DECLINED;
        nmr_release_binding(w, b);
    }
}

NTSTATUS nmr_register(bool is_client, const void *chars, void *context, PHANDLE handle)
{
    nmrh_nmr_fn fn = is_client ? NMRH_FN_REGISTER_CLIENT : NMRH_FN_REGISTER_PROVIDER;
    NMRH_HARNESS(w);
    nmr_require_thread(w, nmr_fn_name(fn));
    struct nmrh_model *m = w->model;
    char where[160]; /* messages are formatted only for a finding: this is the hot path */
    /* Freed or unallocated characteristics are the module's mistake, not a crash of the model. */
    size_t chars_size = is_client ? sizeof(NPI_CLIENT_CHARACTERISTICS) : sizeof(NPI_PROVIDER_CHARACTERISTICS);
    if (nmrh_memory_poisoned(chars, chars_size)) {
        nmrh_oracle_where(w, where, sizeof where);
        nmr_api_enter(w, fn, NMRH_REF(NMRH_REF_NONE, 0));
        nmrh_oracle_fail(w, NMRH_RULE_BAD_CHARACTERISTICS, NULL, "%s with characteristics in freed or unallocated memory on %s",
                         nmr_fn_name(fn), where);
        return STATUS_INVALID_PARAMETER;
    }
    const NPI_REGISTRATION_INSTANCE *ri =
        !chars ? NULL
        : is_client ? &((const NPI_CLIENT_CHARACTERISTICS *)chars)->ClientRegistrationInstance
                    : &((const NPI_PROVIDER_CHARACTERISTICS *)chars)->ProviderRegistrationInstance;
    bool has_attach = chars && (is_client ? ((const NPI_CLIENT_CHARACTERISTICS *)chars)->ClientAttachProvider != NULL
                                          : ((const NPI_PROVIDER_CHARACTERISTICS *)chars)->ProviderAttachClient != NULL);
    bool has_detach = chars && (is_client ? ((const NPI_CLIENT_CHARACTERISTICS *)chars)->ClientDetachProvider != NULL
                                          : ((const NPI_PROVIDER_CHARACTERISTICS *)chars)->ProviderDetachClient != NULL);
    bool npi_id_freed = chars && ri->NpiId && nmrh_memory_poisoned(ri->NpiId, sizeof(GUID));
    if (!chars || !handle || !ri->NpiId || !ri->ModuleId || !has_attach || !has_detach || npi_id_freed) {
        nmrh_oracle_where(w, where, sizeof where);
        nmr_api_enter(w, fn, NMRH_REF(NMRH_REF_NONE, 0));
        nmrh_oracle_fail(w, NMRH_RULE_BAD_CHARACTERISTICS, NULL, "%s with %s on %s", nmr_fn_name(fn),
                         !chars ? "NULL characteristics" : !handle ? "a NULL handle pointer"
                         : !ri->NpiId ? "a NULL NpiId" : !ri->ModuleId ? "a NULL ModuleId"
                         : !has_attach ? "no attach callback" : !has_detach ? "no detach callback"
                         : "an NpiId in freed or unallocated memory", where);
        return STATUS_INVALID_PARAMETER;
    }
    nmr_reg *r = new_reg(w, is_client, chars, context);
    /* Decided before the entry point below lets other threads run: a registration that fails
       (as on an allocation failure) is never visible to a peer registering concurrently. The
       slot stays, as a registration that is already gone, so handles and numbers stay stable. */
    bool fault = nmr_fault(w, NMRH_FAULT_REGISTER, r->module);
    if (fault) r->failed = r->dereg_called = r->wait_called = r->wait_returned = true;
    nmr_api_enter(w, fn, nmr_reg_ref(r));
    nmr_require_irql(w, PASSIVE_LEVEL, fn);
    if (fault) {
        nmr_transition(w, NMRH_T_REGISTER_FAULT);
        return nmr_api_exit(w, fn, STATUS_INSUFFICIENT_RESOURCES);
    }
    nmr_transition(w, NMRH_T_REGISTER);
    bool handle_first = nmrh_knob_get(w, NMRH_KNOB_HANDLE_WRITE) == 0;
    if (handle_first) *handle = nmr_reg_handle(r);
    /* Registrations made after ours attach to us themselves; visit only those before us. */
    for (uint32_t i = nmr_regs_live_from(m); i < r->index; i++) {
        nmr_reg *peer = m->regs[i];
        if (r->dereg_called) break;
        if (peer->is_client == is_client || peer->dereg_called || !same_npi(r, peer)) continue;
        nmr_reg *c = is_client ? r : peer, *p = is_client ? peer : r;
        if (pair_attempted(m, c, p)) continue;
        nmr_transition(w, NMRH_T_REGISTER_WITH_PEERS);
        attach_pair(w, c, p);
    }
    if (!handle_first) *handle = nmr_reg_handle(r);
    return nmr_api_exit(w, fn, STATUS_SUCCESS);
}

NTSTATUS NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS ClientCharacteristics, PVOID ClientContext,
                           PHANDLE NmrClientHandle)
{
    return nmr_register(true, ClientCharacteristics, ClientContext, NmrClientHandle);
}

NTSTATUS NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS ProviderCharacteristics, PVOID ProviderContext,
                             PHANDLE NmrProviderHandle)
{
    return nmr_register(false, ProviderCharacteristics, ProviderContext, NmrProviderHandle);
}

NTSTATUS NmrClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientBindingContext, const VOID *ClientDispatch,
                                 PVOID *ProviderBindingContext, const VOID **ProviderDispatch)
{
    const nmrh_nmr_fn fn = NMRH_FN_CLIENT_ATTACH_PROVIDER;
    NMRH_HARNESS(w);
    nmr_require_thread(w, nmr_fn_name(fn));
    nmr_api_enter(w, fn, nmr_handle_ref(w, NmrBindingHandle));
    nmr_binding *b = nmr_lookup_binding(w, NmrBindingHandle, nmr_fn_name(fn));
    if (!b) return STATUS_INVALID_PARAMETER;
    nmr_require_irql(w, PASSIVE_LEVEL, fn);
    char name[160], where[160]; /* formatted only for a finding: this is the hot path */
    if (b->nmr_attach_ok) {
        nmr_binding_name(w, b, name, sizeof name);
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_ATTACH_AFTER_SUCCESS, NULL,
                         "NmrClientAttachProvider called again for binding %s after it succeeded, on %s", name, where);
        return STATUS_INVALID_PARAMETER;
    }
    if (b->state != B_ATTACHING || !b->in_client_attach_cb || b->attach_thread != w->current) {
        nmr_binding_name(w, b, name, sizeof name);
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_ATTACH_OUTSIDE_CALLBACK, NULL,
                         "NmrClientAttachProvider for binding %s called outside its ClientAttachProvider callback, on %s",
                         name, where);
        return STATUS_INVALID_PARAMETER;
    }
    stack_object(w, ClientBindingContext, "the client binding context", b);
    stack_object(w, ClientDispatch, "the client dispatch table", b);
    if (b->nmr_attach_called) nmr_transition(w, NMRH_T_ATTACH_VERSION_RETRY);
    b->nmr_attach_called = true;
    if (!ProviderBindingContext || !ProviderDispatch) {
        nmr_binding_name(w, b, name, sizeof name);
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_BAD_CHARACTERISTICS, NULL,
                         "NmrClientAttachProvider for binding %s got a NULL output pointer, on %s", name, where);
        return STATUS_INVALID_PARAMETER;
    }
    if (nmr_fault(w, NMRH_FAULT_CLIENT_ATTACH, b->client->module)) {
        b->last_attach_status = STATUS_INSUFFICIENT_RESOURCES;
        nmr_transition(w, NMRH_T_ATTACH_FAULT);
        return nmr_api_exit(w, fn, STATUS_INSUFFICIENT_RESOURCES);
    }
    nmr_reg *p = b->provider;
    PVOID provider_ctx = NULL;
    const VOID *provider_dispatch = NULL;
    callback_frame f;
    /* While the provider's callback runs the binding is not in its client's attach callback: a
       nested NmrClientAttachProvider (by the provider, or by code it calls) is reported. */
    if (!nmr_reg_unchanged(w, p, "ProviderAttachClient") || !nmr_reg_unchanged(w, b->client, "ProviderAttachClient"))
        return STATUS_INVALID_PARAMETER;
    b->in_client_attach_cb = false;
    nmr_callback_enter(w, p, NMRH_CB_PROVIDER_ATTACH, nmr_binding_ref(b), PASSIVE_LEVEL, &f);
    NTSTATUS status = nmr_provider_attach_fn(p)(nmr_binding_handle(b), p->context, nmr_reg_instance(b->client),
                                               ClientBindingContext, ClientDispatch, &provider_ctx, &provider_dispatch);
    nmr_callback_leave(w, &f, status);
    b->in_client_attach_cb = true;
    b->last_attach_status = status;
    if (status != STATUS_SUCCESS) nmr_transition(w, NMRH_T_ATTACH_PROVIDER_DECLINED);
    if (status == STATUS_SUCCESS) {
        stack_object(w, provider_ctx, "the provider binding context", b);
        stack_object(w, provider_dispatch, "the provider dispatch table", b);
        b->nmr_attach_ok = true;
        b->side[SIDE_CLIENT].ctx = ClientBindingContext;
        b->side[SIDE_CLIENT].dispatch = ClientDispatch;
        b->side[SIDE_PROVIDER].ctx = provider_ctx;
        b->side[SIDE_PROVIDER].dispatch = provider_dispatch;
        *ProviderBindingContext = provider_ctx;
        *ProviderDispatch = provider_dispatch;
    }
    return nmr_api_exit(w, fn, status);
}
