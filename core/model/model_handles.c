/*
 * NMR handles: opaque values that carry a magic number, the object kind, a slot and a
 * generation, so that NULL, garbage, stale and wrong-kind handles are told apart and reported
 * (Windows would bugcheck, K9) instead of crashing the harness.
 */
#include "model_impl.h"

#define HANDLE_MAGIC 0x6E6DULL
enum { HK_CLIENT = 1, HK_PROVIDER = 2, HK_BINDING = 3 };

static HANDLE encode(uint32_t kind, uint32_t index, uint32_t gen)
{
    return (HANDLE)(uintptr_t)((HANDLE_MAGIC << 48) | ((uint64_t)kind << 40) | ((uint64_t)(gen & 0xFFFF) << 24) |
                               (index & 0xFFFFFF));
}

static bool decode(HANDLE h, uint32_t *kind, uint32_t *index, uint32_t *gen)
{
    uint64_t v = (uint64_t)(uintptr_t)h;
    if ((v >> 48) != HANDLE_MAGIC) return false;
    *kind = (uint32_t)(v >> 40) & 0xFF;
    *gen = (uint32_t)(v >> 24) & 0xFFFF;
    *index = (uint32_t)v & 0xFFFFFF;
    return true;
}

HANDLE nmr_reg_handle(const nmr_reg *r) { return encode(r->is_client ? HK_CLIENT : HK_PROVIDER, r->index, r->seq); }
HANDLE nmr_binding_handle(const nmr_binding *b) { return encode(HK_BINDING, b->index, b->seq); }
uint64_t nmr_reg_ref(const nmr_reg *r) { return NMRH_REF(r->is_client ? NMRH_REF_CLIENT : NMRH_REF_PROVIDER, r->seq); }
uint64_t nmr_binding_ref(const nmr_binding *b) { return NMRH_REF(NMRH_REF_BINDING, b->seq); }

void nmr_reg_name(const nmrh_world *w, const nmr_reg *r, char *buf, size_t size)
{
    snprintf(buf, size, "%s#%u (%s)", r->is_client ? "client" : "provider", r->seq,
             nmrh_world_module_name(w, r->module));
}

void nmr_binding_name(const nmrh_world *w, const nmr_binding *b, char *buf, size_t size)
{
    snprintf(buf, size, "b%u (client#%u %s <-> provider#%u %s)", b->seq, b->client->seq,
             nmrh_world_module_name(w, b->client->module), b->provider->seq,
             nmrh_world_module_name(w, b->provider->module));
}

void nmrh_model_describe_binding(const nmrh_world *w, uint32_t binding_seq, char *buf, size_t size)
{
    const struct nmrh_model *m = w->model;
    for (uint32_t i = 0; i < m->nbindings; i++)
        if (m->bindings[i]->seq == binding_seq) {
            nmr_binding_name(w, m->bindings[i], buf, size);
            return;
        }
    snprintf(buf, size, "b%u", binding_seq);
}

uint64_t nmr_handle_ref(const nmrh_world *w, HANDLE h)
{
    uint32_t kind, index, gen;
    const struct nmrh_model *m = w->model;
    if (!h || !decode(h, &kind, &index, &gen)) return NMRH_REF(NMRH_REF_INVALID, 0);
    if ((kind == HK_CLIENT || kind == HK_PROVIDER) && index < m->nregs) return nmr_reg_ref(m->regs[index]);
    if (kind == HK_BINDING && index < m->nbindings) return nmr_binding_ref(m->bindings[index]);
    return NMRH_REF(NMRH_REF_INVALID, 0);
}

static const char *kind_name(uint32_t kind)
{
    return kind == HK_CLIENT ? "client registration" : kind == HK_PROVIDER ? "provider registration" : "binding";
}

static void bad_handle(nmrh_world *w, HANDLE h, const char *fn, const char *why)
{
    char where[160];
    nmrh_oracle_where(w, where, sizeof where);
    if (!h)
        nmrh_oracle_fail(w, NMRH_RULE_BAD_HANDLE, NULL, "%s got a NULL handle on %s", fn, where);
    else
        nmrh_oracle_fail(w, NMRH_RULE_BAD_HANDLE, NULL, "%s got %s on %s", fn, why, where);
}

static bool decode_checked(nmrh_world *w, HANDLE h, const char *fn, uint32_t *kind, uint32_t *index)
{
    uint32_t gen;
    const struct nmrh_model *m = w->model;
    if (!h || !decode(h, kind, index, &gen)) {
        bad_handle(w, h, fn, "a value that is not an NMR handle");
        return false;
    }
    bool ok = (*kind == HK_CLIENT || *kind == HK_PROVIDER) ? (*index < m->nregs && (m->regs[*index]->seq & 0xFFFF) == gen)
              : *kind == HK_BINDING ? (*index < m->nbindings && (m->bindings[*index]->seq & 0xFFFF) == gen)
                                    : false;
    if (!ok) {
        bad_handle(w, h, fn, "a forged or corrupted NMR handle");
        return false;
    }
    return true;
}

nmr_reg *nmr_lookup_reg(nmrh_world *w, HANDLE h, bool want_client, nmrh_nmr_fn fn)
{
    uint32_t kind, index;
    const char *name = nmr_fn_name(fn);
    if (!decode_checked(w, h, name, &kind, &index)) return NULL;
    uint32_t want = want_client ? HK_CLIENT : HK_PROVIDER;
    if (kind != want) {
        char where[160];
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_WRONG_HANDLE_KIND, NULL, "%s got a %s handle instead of a %s handle on %s", name,
                         kind_name(kind), kind_name(want), where);
        return NULL;
    }
    return w->model->regs[index];
}

nmr_binding *nmr_lookup_binding(nmrh_world *w, HANDLE h, const char *fn)
{
    uint32_t kind, index;
    if (!decode_checked(w, h, fn, &kind, &index)) return NULL;
    if (kind != HK_BINDING) {
        char where[160], name[96];
        nmrh_oracle_where(w, where, sizeof where);
        nmr_reg_name(w, w->model->regs[index], name, sizeof name);
        nmrh_oracle_fail(w, NMRH_RULE_WRONG_HANDLE_KIND, NULL,
                         "%s got the %s handle of %s instead of a binding handle on %s", fn, kind_name(kind), name,
                         where);
        return NULL;
    }
    return w->model->bindings[index];
}
