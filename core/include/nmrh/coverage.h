/*
 * Protocol coverage: which transitions of the NMR model's binding and registration state
 * machines a run exercised, besides code coverage. `nmrh coverage DIR` unions them over a corpus
 * and shows which parts of the lifecycle fuzzing never reached.
 */
#ifndef NMRH_COVERAGE_H
#define NMRH_COVERAGE_H

#include <stdint.h>

#include "nmrh/world.h"

typedef enum nmrh_transition {
    /* attach: binding ATTACHING */
    NMRH_T_ATTACH_START,             /* pair claimed, ClientAttachProvider called */
    NMRH_T_ATTACH_CLIENT_DECLINED,   /* client returned without a successful NmrClientAttachProvider */
    NMRH_T_ATTACH_PROVIDER_DECLINED, /* ProviderAttachClient failed */
    NMRH_T_ATTACH_VERSION_RETRY,     /* NmrClientAttachProvider called again after a failure */
    NMRH_T_ATTACH_FAULT,             /* injected NmrClientAttachProvider failure */
    NMRH_T_ATTACHED,                 /* ATTACHING -> ATTACHED */
    NMRH_T_LATE_BIND_DETACH,         /* ATTACHED with a deregistration already under way (K8) */
    /* detach: binding ATTACHED -> DETACHING, per side */
    NMRH_T_DETACH_START,
    NMRH_T_DETACH_ON_WORKER,
    NMRH_T_DETACH_AT_DISPATCH,
    NMRH_T_DETACH_RETURNED_SUCCESS,
    NMRH_T_DETACH_RETURNED_PENDING,
    NMRH_T_DETACH_RETURNED_AFTER_COMPLETE, /* Complete came first (K6 early or K7 pre) */
    NMRH_T_COMPLETE_PRE,             /* Complete before the detach callback was called (K7) */
    NMRH_T_COMPLETE_EARLY,           /* Complete while the detach callback ran (K6) */
    NMRH_T_COMPLETE_AFTER_PENDING,   /* the documented path */
    /* cleanup: DETACHING -> CLEANING -> gone */
    NMRH_T_CLEANUP_INLINE,
    NMRH_T_CLEANUP_DEFERRED,
    NMRH_T_CLEANUP_WITHOUT_CALLBACK, /* a side registered no cleanup callback */
    /* registrations */
    NMRH_T_REGISTER,
    NMRH_T_REGISTER_FAULT,
    NMRH_T_REGISTER_WITH_PEERS,      /* attach ran inside Nmr*Register* (K2) */
    NMRH_T_DEREGISTER_IDLE,          /* no binding: Wait returns at once */
    NMRH_T_DEREGISTER_WITH_BINDINGS,
    NMRH_T_DEREGISTER_DURING_ATTACH, /* a binding of it was still attaching */
    NMRH_T_WAIT_BLOCKED,
    NMRH_T_WAIT_RELEASED,
    NMRH_TRANSITION_COUNT
} nmrh_transition;

const char *nmrh_transition_name(nmrh_transition t);
/* How often the run passed each transition (array of NMRH_TRANSITION_COUNT). */
const uint32_t *nmrh_world_transitions(const nmrh_world *w);

#endif
