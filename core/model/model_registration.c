/*
 * Registration data. Nmr*Register* takes the module's characteristics by pointer and Windows
 * keeps reading them while the registration lives; a module that changes them meanwhile (clears
 * a callback between Deregister and Wait, reuses the structure for another registration) is
 * wrong. The model keeps its own copy, calls and passes on only that copy, and compares it with
 * the module's at every use, so such a module gets one finding that names it
 * (NMR-REGISTRATION-CHANGED) and the harness never calls through what the module left there.
 */
#include <string.h>

#include "../src/sanitizer_query.h"
#include "model_impl.h"

void nmr_reg_snapshot(nmr_reg *r, const void *chars)
{
    if (r->is_client)
        r->copy.client = *(const NPI_CLIENT_CHARACTERISTICS *)chars;
    else
        r->copy.provider = *(const NPI_PROVIDER_CHARACTERISTICS *)chars;
    r->npi_id = *nmr_reg_instance(r)->NpiId;
}

const NPI_REGISTRATION_INSTANCE *nmr_reg_instance(const nmr_reg *r)
{
    return r->is_client ? &r->copy.client.ClientRegistrationInstance : &r->copy.provider.ProviderRegistrationInstance;
}

PNPI_CLIENT_ATTACH_PROVIDER_FN nmr_client_attach_fn(const nmr_reg *r) { return r->copy.client.ClientAttachProvider; }
PNPI_PROVIDER_ATTACH_CLIENT_FN nmr_provider_attach_fn(const nmr_reg *r) { return r->copy.provider.ProviderAttachClient; }

PNPI_CLIENT_DETACH_PROVIDER_FN nmr_detach_fn(const nmr_reg *r)
{
    /* The client and provider detach and cleanup callbacks have the same type. */
    return r->is_client ? r->copy.client.ClientDetachProvider : r->copy.provider.ProviderDetachClient;
}

PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN nmr_cleanup_fn(const nmr_reg *r)
{
    return r->is_client ? r->copy.client.ClientCleanupBindingContext : r->copy.provider.ProviderCleanupBindingContext;
}

/* The first field of the module's characteristics that differs from the copy, or NULL. */
static const char *changed_field(const nmr_reg *r)
{
    if (r->is_client) {
        const NPI_CLIENT_CHARACTERISTICS *now = r->chars, *was = &r->copy.client;
        if (now->ClientAttachProvider != was->ClientAttachProvider) return "ClientAttachProvider";
        if (now->ClientDetachProvider != was->ClientDetachProvider) return "ClientDetachProvider";
        if (now->ClientCleanupBindingContext != was->ClientCleanupBindingContext) return "ClientCleanupBindingContext";
        if (now->Version != was->Version || now->Length != was->Length) return "Version or Length";
    } else {
        const NPI_PROVIDER_CHARACTERISTICS *now = r->chars, *was = &r->copy.provider;
        if (now->ProviderAttachClient != was->ProviderAttachClient) return "ProviderAttachClient";
        if (now->ProviderDetachClient != was->ProviderDetachClient) return "ProviderDetachClient";
        if (now->ProviderCleanupBindingContext != was->ProviderCleanupBindingContext)
            return "ProviderCleanupBindingContext";
        if (now->Version != was->Version || now->Length != was->Length) return "Version or Length";
    }
    const NPI_REGISTRATION_INSTANCE *now = r->is_client
                                               ? &((const NPI_CLIENT_CHARACTERISTICS *)r->chars)->ClientRegistrationInstance
                                               : &((const NPI_PROVIDER_CHARACTERISTICS *)r->chars)->ProviderRegistrationInstance;
    const NPI_REGISTRATION_INSTANCE *was = nmr_reg_instance(r);
    if (now->NpiId != was->NpiId) return "RegistrationInstance.NpiId";
    if (now->ModuleId != was->ModuleId) return "RegistrationInstance.ModuleId";
    if (now->NpiSpecificCharacteristics != was->NpiSpecificCharacteristics)
        return "RegistrationInstance.NpiSpecificCharacteristics";
    if (now->Version != was->Version || now->Size != was->Size || now->Number != was->Number)
        return "RegistrationInstance.Version, Size or Number";
    if (!IsEqualGUID(was->NpiId, &r->npi_id)) return "the NPI id it points to";
    return NULL;
}

bool nmr_reg_unchanged(nmrh_world *w, const nmr_reg *r, const char *use)
{
    if (r->failed) return true; /* never registered: nothing kept */
    char name[96], where[160];
    size_t size = r->is_client ? sizeof(NPI_CLIENT_CHARACTERISTICS) : sizeof(NPI_PROVIDER_CHARACTERISTICS);
    if (nmrh_memory_poisoned(r->chars, size) || nmrh_memory_poisoned(nmr_reg_instance(r)->NpiId, sizeof(GUID))) {
        /* Freed some other way than through the pool (which reports it at the free). */
        nmr_reg_name(w, r, name, sizeof name);
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_FREED_WHILE_REGISTERED, NULL,
                         "the %s of %s (module %s) are in freed memory while registered, seen before %s, on %s",
                         nmrh_memory_poisoned(r->chars, size) ? "characteristics" : "NPI id", name,
                         nmrh_world_module_name(w, r->module), use, where);
        return false;
    }
    const char *field = changed_field(r);
    if (!field) return true;
    nmr_reg_name(w, r, name, sizeof name);
    nmrh_oracle_where(w, where, sizeof where);
    nmrh_oracle_fail(w, NMRH_RULE_REGISTRATION_CHANGED, NULL,
                     "module %s changed the %s characteristics of %s while registered (%s differs from what %s "
                     "was given), seen before %s, on %s",
                     nmrh_world_module_name(w, r->module), r->is_client ? "client" : "provider", name, field,
                     r->is_client ? "NmrRegisterClient" : "NmrRegisterProvider", use, where);
    return false;
}
