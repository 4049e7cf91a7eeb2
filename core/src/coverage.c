#include "nmrh/coverage.h"

#include "world_impl.h"

static const char *const names[NMRH_TRANSITION_COUNT] = {
    [NMRH_T_ATTACH_START] = "attach: ClientAttachProvider called",
    [NMRH_T_ATTACH_CLIENT_DECLINED] = "attach: client declined",
    [NMRH_T_ATTACH_PROVIDER_DECLINED] = "attach: provider declined",
    [NMRH_T_ATTACH_VERSION_RETRY] = "attach: NmrClientAttachProvider retried (version fallback)",
    [NMRH_T_ATTACH_FAULT] = "attach: NmrClientAttachProvider fault injected",
    [NMRH_T_ATTACHED] = "attach: binding attached",
    [NMRH_T_LATE_BIND_DETACH] = "attach: late bind, detached right after attach (K8)",
    [NMRH_T_DETACH_START] = "detach: started",
    [NMRH_T_DETACH_ON_WORKER] = "detach: on an NMR worker thread (K4)",
    [NMRH_T_DETACH_AT_DISPATCH] = "detach: at DISPATCH_LEVEL (K4)",
    [NMRH_T_DETACH_RETURNED_SUCCESS] = "detach: callback returned STATUS_SUCCESS",
    [NMRH_T_DETACH_RETURNED_PENDING] = "detach: callback returned STATUS_PENDING",
    [NMRH_T_DETACH_RETURNED_AFTER_COMPLETE] = "detach: callback returned after Complete (K6/K7)",
    [NMRH_T_COMPLETE_PRE] = "complete: before the detach callback (K7)",
    [NMRH_T_COMPLETE_EARLY] = "complete: while the detach callback ran (K6)",
    [NMRH_T_COMPLETE_AFTER_PENDING] = "complete: after STATUS_PENDING",
    [NMRH_T_CLEANUP_INLINE] = "cleanup: inline in the completing call (K5)",
    [NMRH_T_CLEANUP_DEFERRED] = "cleanup: deferred to a worker (K5)",
    [NMRH_T_CLEANUP_WITHOUT_CALLBACK] = "cleanup: a side without cleanup callback",
    [NMRH_T_REGISTER] = "register: succeeded",
    [NMRH_T_REGISTER_FAULT] = "register: fault injected",
    [NMRH_T_REGISTER_WITH_PEERS] = "register: attached to existing peers (K2)",
    [NMRH_T_DEREGISTER_IDLE] = "deregister: no binding",
    [NMRH_T_DEREGISTER_WITH_BINDINGS] = "deregister: with bindings to detach",
    [NMRH_T_DEREGISTER_DURING_ATTACH] = "deregister: while a binding was attaching (K8)",
    [NMRH_T_WAIT_BLOCKED] = "wait: blocked until bindings drained",
    [NMRH_T_WAIT_RELEASED] = "wait: returned",
};

const char *nmrh_transition_name(nmrh_transition t)
{
    return (unsigned)t < NMRH_TRANSITION_COUNT ? names[t] : "?";
}

const uint32_t *nmrh_world_transitions(const nmrh_world *w) { return w->transitions; }
