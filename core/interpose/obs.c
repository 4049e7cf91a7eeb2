#include "obs.h"

static const char *const kind_names[NMRH_OBS_KIND_COUNT] = {
    "none", "record", "call", "return", "callback", "callback-return", "end", "finding", "blocked", "hang",
};

static const char *const fn_names[NMRH_OBS_FN_COUNT] = {
    "NmrRegisterClient",       "NmrDeregisterClient",          "NmrWaitForClientDeregisterComplete",
    "NmrClientAttachProvider", "NmrClientDetachProviderComplete", "NmrRegisterProvider",
    "NmrDeregisterProvider",   "NmrWaitForProviderDeregisterComplete", "NmrProviderDetachClientComplete",
};

static const char *const cb_names[NMRH_OBS_CB_COUNT] = {
    "ClientAttachProvider", "ClientDetachProvider", "ClientCleanupBindingContext",
    "ProviderAttachClient", "ProviderDetachClient", "ProviderCleanupBindingContext",
};

static const char *const flag_names[8] = {
    "handle-written", "in-complete", "in-deregister", "in-register", "fault", "suppressed", "ungated", "in-wait",
};

const char *nmrh_obs_kind_name(uint32_t kind) { return kind < NMRH_OBS_KIND_COUNT ? kind_names[kind] : "?"; }
const char *nmrh_obs_fn_name(uint32_t fn) { return fn < NMRH_OBS_FN_COUNT ? fn_names[fn] : "Nmr?"; }
const char *nmrh_obs_cb_name(uint32_t cb) { return cb < NMRH_OBS_CB_COUNT ? cb_names[cb] : "?"; }
const char *nmrh_obs_flag_name(uint32_t bit) { return bit < 8 ? flag_names[bit] : "?"; }

static int same(const char *name, const char *s, uint32_t len)
{
    uint32_t i = 0;
    for (; i < len; i++)
        if (name[i] != s[i] || name[i] == '\0') return 0;
    return name[i] == '\0';
}

static int find(const char *const *names, uint32_t n, const char *s, uint32_t len)
{
    for (uint32_t i = 0; i < n; i++)
        if (same(names[i], s, len)) return (int)i;
    return -1;
}

int nmrh_obs_kind_from_name(const char *s, uint32_t len) { return find(kind_names, NMRH_OBS_KIND_COUNT, s, len); }
int nmrh_obs_fn_from_name(const char *s, uint32_t len) { return find(fn_names, NMRH_OBS_FN_COUNT, s, len); }
int nmrh_obs_cb_from_name(const char *s, uint32_t len) { return find(cb_names, NMRH_OBS_CB_COUNT, s, len); }
