/*
 * Observations: what the NMR did, as the interposer (interpose.h) sees it at the boundary
 * between modules and the NMR. One fixed-size record per boundary event, in the order the
 * events happened. The kernel replay driver returns this log to user mode (stress/engine/kproto.h),
 * and the user-mode model produces the same log for the same sequence (stress/predict/), so that
 * the two can be compared field by field: callback order, thread, IRQL, whether cleanup ran
 * inside a Complete call, whether the handle was written before the attach callbacks, return
 * codes.
 *
 * Portable: C11, no libc, no floating point; compiles for the Windows kernel. The layout is part
 * of the driver's IOCTL protocol: little-endian, 16 bytes a record, never reordered.
 */
#ifndef NMRH_OBS_H
#define NMRH_OBS_H

#include <stdint.h>

typedef enum nmrh_obs_kind {
    NMRH_OBS_NONE = 0,
    NMRH_OBS_RECORD,          /* the interpreter starts sequence record `status` (controller) */
    NMRH_OBS_NMR_CALL,        /* a module calls the NMR: what = nmrh_obs_fn */
    NMRH_OBS_NMR_RETURN,      /* ... and the call returns: status (0 for the VOID functions) */
    NMRH_OBS_CALLBACK,        /* the NMR calls a module: what = nmrh_obs_cb */
    NMRH_OBS_CALLBACK_RETURN, /* ... and the callback returns: status (0 for cleanup) */
    NMRH_OBS_THREAD_END,      /* a sequence thread's action returned */
    NMRH_OBS_FINDING,         /* a module-side rule was broken: status = nmrh_rule, what = fn/cb */
    NMRH_OBS_BLOCKED,         /* replay: the thread stopped making progress (informational) */
    NMRH_OBS_HANG,            /* replay: the thread was still blocked when the run ended */
    NMRH_OBS_KIND_COUNT
} nmrh_obs_kind;

/* The nine NMR functions, in the NMR model's order (core/model). */
typedef enum nmrh_obs_fn {
    NMRH_OBS_FN_REGISTER_CLIENT,
    NMRH_OBS_FN_DEREGISTER_CLIENT,
    NMRH_OBS_FN_WAIT_CLIENT,
    NMRH_OBS_FN_CLIENT_ATTACH_PROVIDER,
    NMRH_OBS_FN_CLIENT_DETACH_COMPLETE,
    NMRH_OBS_FN_REGISTER_PROVIDER,
    NMRH_OBS_FN_DEREGISTER_PROVIDER,
    NMRH_OBS_FN_WAIT_PROVIDER,
    NMRH_OBS_FN_PROVIDER_DETACH_COMPLETE,
    NMRH_OBS_FN_COUNT
} nmrh_obs_fn;

typedef enum nmrh_obs_cb {
    NMRH_OBS_CB_CLIENT_ATTACH,
    NMRH_OBS_CB_CLIENT_DETACH,
    NMRH_OBS_CB_CLIENT_CLEANUP,
    NMRH_OBS_CB_PROVIDER_ATTACH,
    NMRH_OBS_CB_PROVIDER_DETACH,
    NMRH_OBS_CB_PROVIDER_CLEANUP,
    NMRH_OBS_CB_COUNT
} nmrh_obs_cb;

/* flags */
#define NMRH_OBS_F_HANDLE_WRITTEN 0x01u /* attach callback inside Nmr*Register*: the registering
                                           module's *NmrHandle was already written (K3) */
#define NMRH_OBS_F_IN_COMPLETE 0x02u    /* on a thread that is inside Nmr*DetachComplete (K5 inline) */
#define NMRH_OBS_F_IN_DEREGISTER 0x04u  /* on a thread that is inside Nmr*Deregister* (K4) */
#define NMRH_OBS_F_IN_REGISTER 0x08u    /* on a thread that is inside Nmr*Register* (K2) */
#define NMRH_OBS_F_FAULT 0x10u          /* NMR call failed by fault injection (fail-nmr), not passed on */
#define NMRH_OBS_F_SUPPRESSED 0x20u     /* NMR call not passed on: it broke a rule the NMR would
                                           bugcheck on (the FINDING record before it says which) */
#define NMRH_OBS_F_UNGATED 0x40u        /* at IRQL >= DISPATCH_LEVEL: the replay could not stop the
                                           thread here (kernel only; not compared) */
#define NMRH_OBS_F_IN_WAIT 0x80u        /* on a thread that is inside NmrWaitFor*DeregisterComplete */

/* thread: a sequence thread tN (0..39), an NMR thread of its own (FOREIGN | k, numbered in order
   of first appearance), or none (the controller, for RECORD). */
#define NMRH_OBS_THREAD_FOREIGN 0x80u
#define NMRH_OBS_THREAD_NONE 0xFFu
/* module, peer: a sequence module mN (0..7), or none. binding: 1.., in the order the bindings
   were created in the run (254 = that many or more), 0 = none. */
#define NMRH_OBS_NONE8 0xFFu
#define NMRH_OBS_BINDING_MAX 254u

typedef struct nmrh_obs {
    uint8_t kind;    /* nmrh_obs_kind */
    uint8_t what;    /* nmrh_obs_fn, nmrh_obs_cb, or for FINDING the fn (0x80 | cb for a callback) */
    uint8_t thread;
    uint8_t irql;    /* KeGetCurrentIrql() at the event */
    uint8_t module;  /* caller (NMR_CALL/RETURN, END) or callee (CALLBACK/RETURN) */
    uint8_t peer;    /* the other module of the binding, if any */
    uint8_t binding;
    uint8_t flags;
    uint32_t status; /* NTSTATUS, rule, or record index */
    uint32_t aux;    /* stress: worker << 16 | iteration (low 16 bits) for FINDING; else 0 */
} nmrh_obs;

_Static_assert(sizeof(nmrh_obs) == 16, "nmrh_obs is 16 bytes (IOCTL protocol)");

/* FINDING.what for a callback rather than an NMR function */
#define NMRH_OBS_WHAT_CB 0x80u

const char *nmrh_obs_kind_name(uint32_t kind);   /* "call", "callback-return", ...; "?" */
const char *nmrh_obs_fn_name(uint32_t fn);       /* "NmrRegisterClient", ...; "Nmr?" */
const char *nmrh_obs_cb_name(uint32_t cb);       /* "ClientAttachProvider", ...; "?" */
/* Kind, fn or cb by name (the text form of .nmrobs files); -1 when unknown. */
int nmrh_obs_kind_from_name(const char *s, uint32_t len);
int nmrh_obs_fn_from_name(const char *s, uint32_t len);
int nmrh_obs_cb_from_name(const char *s, uint32_t len);

/* Flag names in bit order: "handle-written", "in-complete", ... */
const char *nmrh_obs_flag_name(uint32_t bit);

#endif
