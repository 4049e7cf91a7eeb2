/*
 * A world: all state of one run (NMR model, logical kernel threads, pool, trace, oracle).
 *
 * Create a world, add modules, spawn threads that run module actions, then drive it: either let
 * the chooser schedule everything (nmrh_world_run) or step threads explicitly (nmrh_world_step),
 * and end with nmrh_world_finish, which drains the remaining threads deterministically and runs
 * the end-of-run checks (hang, leaks, skipped waits, model invariants). The first finding stops
 * the run: threads are abandoned where they stand and the world only answers questions after.
 * Worlds are independent; destroying one releases everything, including module pool memory.
 * Kernel-style code finds its world through one thread-local pointer, set while a world runs.
 */
#ifndef NMRH_WORLD_H
#define NMRH_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "nmrh/chooser.h"
#include "nmrh/knobs.h"
#include "nmrh/rules.h"

typedef struct nmrh_world nmrh_world;
typedef struct nmrh_thread nmrh_thread;
typedef struct nmrh_world_pool nmrh_world_pool;
typedef void (*nmrh_thread_fn)(void *arg);

/* Which scheduling points may switch threads. Boundary points (NMR API entry/exit, callback
   entry/exit) exist in every build; primitive points (locks, interlocked operations, events,
   pool) only in user mode. A schedule over boundary points alone replays on real Windows. */
enum { NMRH_POINTS_BOUNDARY = 1u, NMRH_POINTS_PRIMITIVE = 2u, NMRH_POINTS_ALL = 3u };

typedef struct nmrh_finding {
    nmrh_rule rule;
    char signature[160];   /* rule id, or for sanitizer reports "ASAN-<kind>@<first module frame>" */
    char message[384];     /* one line: module, binding and event */
    /* The bug this finding belongs to, for grouping signatures: the rule and the object whose
       life cycle broke (e.g. "NMR-CALL-AFTER-DETACH on the client binding context"), or for a
       use after free the object's allocation site ("object allocated in EchoClientAttachProvider").
       Empty: the signature is its own group. */
    char group[160];
    char *details;         /* optional multi-line dump (blocked threads, binding states); may be NULL */
} nmrh_finding;

typedef struct nmrh_config {
    uint8_t knobs[NMRH_KNOB_COUNT];  /* a value, or NMRH_KNOB_CHOOSE (the default) */
    uint32_t points;                 /* NMRH_POINTS_* mask; default NMRH_POINTS_ALL */
    uint64_t step_budget;            /* scheduling points one thread may pass; default 100000 */
    bool fault_choices;              /* ask the chooser at every fallible allocation / Nmr call */
    bool trace_points;               /* record every scheduling point in the trace, not only switches */
    /* Called once, at the first finding, before the run is abandoned (e.g. to write it to disk). */
    void (*on_finding)(nmrh_world *w, const nmrh_finding *f, void *user);
    void *user;
    /* Optional (default NULL): where successive worlds keep thread stacks, so that a world per
       input does not map and unmap a stack per thread. A destroyed world's objects (threads, trace)
       are kept for the next world too. */
    nmrh_world_pool *pool;
    /* Real-thread mode (nmrh stress): every logical thread is an OS thread, module code runs in
       parallel, and scheduling points inject random yields and delays instead of choosing. Not
       reproducible; the chooser still decides knobs. Default false (fibers, deterministic). */
    bool real_threads;
    uint64_t seed;                   /* delay decisions in real-thread mode */
    uint32_t max_delay_us;           /* longest injected delay; 0 = 50 us */
} nmrh_config;

void nmrh_config_init(nmrh_config *cfg);

/* A cache of logical-thread stacks shared by the worlds created with it (cfg.pool), one after
   another on one OS thread, as a fuzzer runs one world per input. It changes nothing a run does:
   a reused stack reads as zeros, like a new one. Not thread-safe (one pool per OS thread); it must
   outlive its worlds. Create returns NULL when out of memory. */
nmrh_world_pool *nmrh_world_pool_create(void);
void nmrh_world_pool_destroy(nmrh_world_pool *p);
/* For tests: the number of stacks the pool holds and how many bytes of them are not zero (0 = each
   reads as a fresh mapping; a nonzero count is a harness bug). Reads every cached stack: slow. */
uint32_t nmrh_world_pool_stacks(const nmrh_world_pool *p, size_t *dirty_bytes);

/* The chooser must outlive the world. Returns NULL only when out of memory. */
nmrh_world *nmrh_world_create(const nmrh_config *cfg, nmrh_chooser *chooser);
/* Returns false only in real-thread mode when a thread never came back from module code: the world
   is then left allocated (not freed), and so must be whatever its threads may still use. */
bool nmrh_world_destroy(nmrh_world *w);
/* The world running on this OS thread (set while a world runs threads), or NULL. */
nmrh_world *nmrh_world_current(void);
/* The logical thread running now in `w` (e.g. to tell from a callback which thread runs it), or NULL
   when `w` is NULL or only the scheduler runs. */
nmrh_thread *nmrh_world_current_thread(const nmrh_world *w);

/* Modules are numbered from 1; 0 is the NMR itself. The name is copied. */
uint32_t nmrh_world_add_module(nmrh_world *w, const char *name);
const char *nmrh_world_module_name(const nmrh_world *w, uint32_t module);
/* Tell the oracle that a module's unload routine returned: its registrations must all have been
   waited for, and anything it still has in pool at the end of the run is a leak. */
void nmrh_world_module_unloaded(nmrh_world *w, uint32_t module);

/* Tell the oracle that a module is being loaded (again): it is no longer unloaded. */
void nmrh_world_module_loaded(nmrh_world *w, uint32_t module);

/* Fault injection: fail the next `count` pool allocations made by module code of `module`. */
void nmrh_world_fail_allocs(nmrh_world *w, uint32_t module, uint32_t count);
/* The same after letting the next `skip` allocations of the module succeed (to reach the
   allocation on an error path deep in a callback). */
void nmrh_world_fail_allocs_after(nmrh_world *w, uint32_t module, uint32_t skip, uint32_t count);
typedef enum { NMRH_FAULT_REGISTER, NMRH_FAULT_CLIENT_ATTACH, NMRH_FAULT_NMR_COUNT } nmrh_nmr_fault;
/* Fail the next `count` calls of Nmr*Register* / NmrClientAttachProvider with
   STATUS_INSUFFICIENT_RESOURCES. */
void nmrh_world_fail_nmr(nmrh_world *w, nmrh_nmr_fault which, uint32_t count);
/* Fix or release a knob mid-run (NMRH_KNOB_CHOOSE to give it back to the chooser). */
void nmrh_world_set_knob(nmrh_world *w, nmrh_knob k, uint8_t value);

/* A new logical kernel thread, runnable, at PASSIVE_LEVEL, running fn(arg) as code of `module`.
   The name is copied (truncated to 31 characters). Returns NULL when out of memory. */
nmrh_thread *nmrh_world_spawn(nmrh_world *w, const char *name, uint32_t module, nmrh_thread_fn fn, void *arg);

typedef enum { NMRH_THREAD_RUNNABLE, NMRH_THREAD_BLOCKED, NMRH_THREAD_FINISHED, NMRH_THREAD_ABANDONED } nmrh_thread_state;
nmrh_thread_state nmrh_thread_get_state(const nmrh_thread *t);
uint32_t nmrh_thread_id(const nmrh_thread *t);
const char *nmrh_thread_name(const nmrh_thread *t);
/* Thread by id (ids count from 0 in spawn order), or NULL. */
nmrh_thread *nmrh_world_thread(nmrh_world *w, uint32_t id);
uint32_t nmrh_world_thread_count(const nmrh_world *w);

/* Run `t` up to its next enabled scheduling point (or until it blocks or ends). Returns its state
   afterwards. Stepping a thread that is not runnable does nothing. */
nmrh_thread_state nmrh_world_step(nmrh_world *w, nmrh_thread *t);
/* Run `t` alone until it blocks or ends. */
nmrh_thread_state nmrh_world_run_thread(nmrh_world *w, nmrh_thread *t);
/* Let the chooser schedule all threads until none is runnable. Returns false if the run stopped
   on a finding. Does not itself report a hang: that is nmrh_world_finish's job. */
bool nmrh_world_run(nmrh_world *w);
/* Drain every runnable thread deterministically (current thread on, then lowest id), expire
   timed waits if nothing else can run, report a hang if threads stay blocked, and run the
   end-of-run checks. Returns true when the run ended without a finding. */
bool nmrh_world_finish(nmrh_world *w);

bool nmrh_world_stopped(const nmrh_world *w);
/* The finding that stopped the run, or NULL. */
const nmrh_finding *nmrh_world_finding(const nmrh_world *w);

/* Counters for benchmarks and progress displays. */
typedef struct nmrh_world_stats {
    uint64_t points;      /* scheduling points passed */
    uint64_t switches;    /* context switches between logical threads */
    uint64_t decisions;   /* chooser calls */
    uint64_t events;      /* trace records (NMR calls, callbacks, ...) */
    uint64_t model_events; /* of those: NMR calls, NMR returns, callbacks and callback returns */
} nmrh_world_stats;
nmrh_world_stats nmrh_world_get_stats(const nmrh_world *w);

/* The trace as text, one event a line; byte-identical for the same world and decisions. */
void nmrh_world_print_trace(const nmrh_world *w, FILE *out);
/* A dump of threads and NMR state (registrations, bindings, per-side detach states). */
void nmrh_world_print_state(const nmrh_world *w, FILE *out);

/* Internal-invariant check of the NMR model (cleanup exactly once per side and only for bindings
   that attached; nothing called back after Wait returned; detach called at most once per side).
   Returns the number of violations and raises NMRH-INTERNAL for the first. Run by finish. */
uint32_t nmrh_world_check_model_invariants(nmrh_world *w);

#endif
