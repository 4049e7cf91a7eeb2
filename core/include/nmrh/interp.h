/*
 * The sequence interpreter: executes a sequence's records against a platform. Module instances
 * and the per-thread action arguments live in the interpreter; actions follow the module adapter
 * contract (nmrh/module.h): load an instance that is not loaded, unload a loaded one, call and
 * complete only while it is loaded or unloading; any other action is a no-op, so every sequence
 * (and every fuzzer input) is meaningful. Portable: no libc beyond mem*.
 */
#ifndef NMRH_INTERP_H
#define NMRH_INTERP_H

#include "nmrh/platform.h"
#include "nmrh/seq.h"

typedef enum {
    NMRH_MOD_IDLE,
    NMRH_MOD_LOADING,
    NMRH_MOD_LOADED,
    NMRH_MOD_UNLOADING,
    NMRH_MOD_UNLOADED,
} nmrh_module_state;

typedef struct nmrh_interp nmrh_interp;

typedef struct nmrh_interp_module {
    const nmrh_module_kind *kind;
    uint32_t id;          /* the platform's module id */
    uint32_t options;
    void *instance;       /* kind->instance_size bytes owned by the interpreter */
    nmrh_module_state state;
    uint32_t calls;       /* call/complete actions running on the instance */
    uint8_t refused;      /* a second instance of a kind with an image (module.h): never loads */
    char name[40];        /* "m1:echo-provider" */
} nmrh_interp_module;

typedef struct nmrh_interp_thread {
    nmrh_interp *ip;
    void *handle;
    uint8_t action, module, value;
} nmrh_interp_thread;

struct nmrh_interp {
    const nmrh_platform *pf;
    const nmrh_seq *seq;
    uint32_t nmodules, nthreads;
    nmrh_interp_module modules[NMRH_SEQ_MAX_MODULES];
    /* The sequence's threads, then the final completion threads of nmrh_interp_finish. */
    nmrh_interp_thread threads[NMRH_SEQ_MAX_THREADS + NMRH_SEQ_MAX_MODULES];
    int out_of_memory;
};

void nmrh_interp_init(nmrh_interp *ip, const nmrh_platform *pf, const nmrh_seq *seq);
/* Executes every record (stops early when the platform reports a finding). Does not drain. */
void nmrh_interp_run(nmrh_interp *ip);
/* End of the sequence: every module that owes detach completions (a counterpart with
   detach=pending) gets a final `complete` action on a new thread, as a real peer eventually
   completes what it pended. Call before draining. */
void nmrh_interp_finish(nmrh_interp *ip);
/* Releases instance memory; call only after every thread of the run has ended or been abandoned. */
void nmrh_interp_release(nmrh_interp *ip);

#endif
