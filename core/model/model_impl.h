/*
 * The NMR model's state: registrations, bindings and their per-side detach states, and the
 * helpers the model's files share (handles, callback and API boundaries). User mode only.
 */
#ifndef NMRH_MODEL_IMPL_H
#define NMRH_MODEL_IMPL_H

#include <ntddk.h>
#include <netioddk.h>

#include "../src/world_impl.h"

enum { SIDE_CLIENT = 0, SIDE_PROVIDER = 1 };

typedef struct nmr_reg {
    uint32_t seq;              /* client#N / provider#N; also the handle's generation */
    uint32_t index;            /* slot in model->regs */
    bool is_client;
    uint32_t module;
    const void *chars;         /* the module's NPI_CLIENT/PROVIDER_CHARACTERISTICS */
    /* What Nmr*Register* read from `chars`, and the NPI id they pointed to. The model only ever
       calls and passes on these copies, and compares them with the module's characteristics at
       every use (nmr_reg_unchanged): a module that changes its registration while registered gets
       NMR-REGISTRATION-CHANGED instead of a harness crash on, say, a callback it cleared. */
    union {
        NPI_CLIENT_CHARACTERISTICS client;
        NPI_PROVIDER_CHARACTERISTICS provider;
    } copy;
    GUID npi_id;
    void *context;
    bool dereg_called, wait_called, wait_returned;
    bool failed;               /* Nmr*Register* failed (injected fault): never visible to peers */
    uint32_t live_bindings;    /* attaching, attached, detaching or cleaning up */
    uint32_t first_binding;    /* model->nbindings when registered: its bindings come after */
} nmr_reg;

typedef enum {
    DETACH_NONE,               /* detach callback not called yet */
    DETACH_RUNNING,            /* detach callback running */
    DETACH_PENDING,            /* returned STATUS_PENDING, Complete not called yet */
    DETACH_SUCCESS,            /* returned STATUS_SUCCESS: done, Complete now illegal */
    DETACH_COMPLETED,          /* completed through Nmr*DetachComplete: done */
} detach_state;

typedef struct nmr_side {
    detach_state detach;
    bool complete_called;      /* Complete called (before, during or after the detach callback) */
    uint32_t detach_calls;     /* invariant: at most 1 */
    uint32_t cleanup_calls;    /* invariant: at most 1, and only after a successful attach */
    bool cleanup_running, cleanup_done;
    void *ctx;
    const void *dispatch;
} nmr_side;

typedef enum { B_ATTACHING, B_ATTACHED, B_DETACHING, B_CLEANING, B_DEAD, B_DECLINED } binding_state;

/* Detach callbacks to run on an NMR worker (K4): `second`, after `first` unless it is -1. */
typedef struct nmr_detach_job {
    struct nmr_binding *b;
    int first, second;
} nmr_detach_job;

typedef struct nmr_binding {
    uint32_t seq, index;
    nmr_detach_job detach_jobs[2]; /* workers started by nmr_start_detach */
    nmr_reg *client, *provider;
    binding_state state;
    bool nmr_attach_called, nmr_attach_ok, in_client_attach_cb, detach_requested;
    NTSTATUS last_attach_status;
    nmrh_thread *attach_thread;
    KIRQL detach_irql;
    nmr_side side[2];
} nmr_binding;

struct nmrh_model {
    nmr_reg **regs;
    uint32_t nregs, regs_cap, reg_seq;
    nmr_binding **bindings;
    uint32_t nbindings, bindings_cap;
    uint32_t internal_violations;
    uint32_t regs_live_from, bindings_live_from; /* see nmr_regs_live_from, nmr_bindings_live_from */
};

/* Scans that only care about registrations and bindings still in use start here: every
   registration before it has returned from its wait (or failed), every binding before it is gone
   or declined, and neither ever changes again. Keeps long runs (many load/unload cycles in one
   world) linear. */
static inline uint32_t nmr_regs_live_from(struct nmrh_model *m)
{
    while (m->regs_live_from < m->nregs && m->regs[m->regs_live_from]->wait_returned) m->regs_live_from++;
    return m->regs_live_from;
}
static inline uint32_t nmr_bindings_live_from(struct nmrh_model *m)
{
    while (m->bindings_live_from < m->nbindings && (m->bindings[m->bindings_live_from]->state == B_DEAD ||
                                                    m->bindings[m->bindings_live_from]->state == B_DECLINED))
        m->bindings_live_from++;
    return m->bindings_live_from;
}

/* ---- handles (model_handles.c) ---- */
HANDLE nmr_reg_handle(const nmr_reg *r);
HANDLE nmr_binding_handle(const nmr_binding *b);
/* Decode a registration handle for `fn`; reports NMR-BAD-HANDLE / NMR-WRONG-HANDLE-KIND. */
nmr_reg *nmr_lookup_reg(nmrh_world *w, HANDLE h, bool want_client, nmrh_nmr_fn fn);
/* Decode a binding handle for `fn` (NULL fn name for harness checks); reports as above. */
nmr_binding *nmr_lookup_binding(nmrh_world *w, HANDLE h, const char *fn);
uint64_t nmr_reg_ref(const nmr_reg *r);
/* Trace reference for any handle value, without judging it (the lookup reports). */
uint64_t nmr_handle_ref(const nmrh_world *w, HANDLE h);
uint64_t nmr_binding_ref(const nmr_binding *b);
/* "client#1 (echo-client)" */
void nmr_reg_name(const nmrh_world *w, const nmr_reg *r, char *buf, size_t size);
/* "b3 (client#1 echo-client <-> provider#2 echo-provider)" */
void nmr_binding_name(const nmrh_world *w, const nmr_binding *b, char *buf, size_t size);
/* The registration instance as registered (the model's copy). */
const NPI_REGISTRATION_INSTANCE *nmr_reg_instance(const nmr_reg *r);
/* The callbacks as registered (the model's copy; cleanup may be NULL). */
PNPI_CLIENT_ATTACH_PROVIDER_FN nmr_client_attach_fn(const nmr_reg *r);
PNPI_PROVIDER_ATTACH_CLIENT_FN nmr_provider_attach_fn(const nmr_reg *r);
PNPI_CLIENT_DETACH_PROVIDER_FN nmr_detach_fn(const nmr_reg *r);
PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN nmr_cleanup_fn(const nmr_reg *r);

/* ---- registration data (model_registration.c) ---- */
/* Takes the copies of a new registration (chars already validated by nmr_register). */
void nmr_reg_snapshot(nmr_reg *r, const void *chars);
/* True when the module's characteristics (and the NPI id they point to) still say what they
   said at registration. Otherwise reports NMR-REGISTRATION-CHANGED against the owning module,
   naming the changed field and `use` (what the model was about to do), and returns false: the
   caller must then not use the registration (on a logical thread the report does not return). */
bool nmr_reg_unchanged(nmrh_world *w, const nmr_reg *r, const char *use);

/* ---- boundaries (model_boundary.c) ---- */
/* Aborts when an NMR function is called outside a logical thread of a running world. */
void nmr_require_thread(const nmrh_world *w, const char *fn);
void nmr_api_enter(nmrh_world *w, nmrh_nmr_fn fn, uint64_t ref);
NTSTATUS nmr_api_exit(nmrh_world *w, nmrh_nmr_fn fn, NTSTATUS status);
/* Reports NMR-IRQL-TOO-HIGH when the caller is above `max`. */
void nmr_require_irql(nmrh_world *w, KIRQL max, nmrh_nmr_fn fn);
typedef struct callback_frame {
    uint32_t saved_module;
    KIRQL saved_irql, entry_irql;
    nmrh_callback cb;
    uint32_t lock_depth;   /* real-thread mode: the world lock is released while the callback runs */
} callback_frame;
/* Enter module code of `owner` for callback cb at IRQL at least `irql`. */
void nmr_callback_enter(nmrh_world *w, const nmr_reg *owner, nmrh_callback cb, uint64_t ref, KIRQL irql,
                        callback_frame *f);
void nmr_callback_leave(nmrh_world *w, callback_frame *f, NTSTATUS status);
bool nmr_fault(nmrh_world *w, nmrh_nmr_fault which, uint32_t module);
const char *nmr_fn_name(nmrh_nmr_fn fn);

static inline void nmr_transition(nmrh_world *w, nmrh_transition t) { w->transitions[t]++; }

/* ---- attach (model_attach.c) ---- */
NTSTATUS nmr_register(bool is_client, const void *chars, void *context, PHANDLE handle);

/* ---- detach and cleanup (model_detach.c) ---- */
void nmr_start_detach(nmrh_world *w, nmr_binding *b);
void nmr_release_binding(nmrh_world *w, nmr_binding *b);

#endif
