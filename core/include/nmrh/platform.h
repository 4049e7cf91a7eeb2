/*
 * The platform table: every OS service the portable interpreter needs, so that the same
 * interpreter drives the deterministic user-mode world (core/src/platform_world.c), real threads
 * (stress) and kernel threads gated at boundary points (the kernel replay driver).
 */
#ifndef NMRH_PLATFORM_H
#define NMRH_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

typedef struct nmrh_platform {
    void *ctx;
    /* Memory for module instances: zeroed; NULL when out of memory. */
    void *(*alloc)(void *ctx, size_t size);
    void (*free)(void *ctx, void *p);
    /* Logical threads: created runnable, not yet running. Returns NULL when out of resources. */
    void *(*spawn)(void *ctx, const char *name, uint32_t module, void (*fn)(void *arg), void *arg);
    void (*step)(void *ctx, void *thread, uint32_t count);
    void (*run_thread)(void *ctx, void *thread);
    void (*run_all)(void *ctx);
    /* Non-zero once the run has stopped on a finding. */
    int (*stopped)(void *ctx);
    /* Model control (no-ops where the platform has no model, e.g. the real NMR). */
    void (*decide)(void *ctx, uint8_t value);
    void (*set_knob)(void *ctx, uint32_t knob, uint32_t value); /* value 0xFF = choose */
    void (*fail_allocs)(void *ctx, uint32_t module, uint32_t skip, uint32_t count);
    void (*fail_nmr)(void *ctx, uint32_t which, uint32_t count);
    /* Module bookkeeping for the oracle. */
    uint32_t (*add_module)(void *ctx, const char *name);
    void (*module_loaded)(void *ctx, uint32_t module);
    void (*module_unloaded)(void *ctx, uint32_t module);
    /* The interpreter is about to execute record `index` (for traces). May be NULL. */
    void (*record)(void *ctx, uint32_t index);
    /* Where logical threads run in parallel (real-thread stress): guard the interpreter's own
       bookkeeping (module states, calls in flight), never held while module code runs. NULL
       where only one logical thread runs at a time. */
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
} nmrh_platform;

#endif
