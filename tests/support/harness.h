/*
 * Test support: drive module kinds (nmrh_module_kind) inside a world. Each action runs on its own
 * logical kernel thread, as the sequence interpreter does: load = DriverEntry, unload = the
 * driver's unload routine (after which the oracle is told the module is gone), call = one call
 * into every bound peer.
 */
#ifndef NMRH_TEST_HARNESS_H
#define NMRH_TEST_HARNESS_H

#include "nmrh/world.h"
#include "nmrh/module.h"

typedef struct test_instance {
    const nmrh_module_kind *kind;
    uint32_t module;
    ULONG param;
    void *instance;
    NTSTATUS load_status;
    int loaded, unloaded;
    ULONG call_value;
} test_instance;

void th_instance_init(nmrh_world *w, test_instance *i, const nmrh_module_kind *kind, const char *name, ULONG param);
nmrh_thread *th_load(nmrh_world *w, test_instance *i);
nmrh_thread *th_unload(nmrh_world *w, test_instance *i);
nmrh_thread *th_call(nmrh_world *w, test_instance *i, ULONG value);

/* Frees the instance memory the harness owns (after the world is destroyed or finished). */
void th_instance_free(test_instance *i);

/* A world with default config (all knobs chosen by `chooser`) and the echo kinds available. */
nmrh_world *th_world(nmrh_chooser *chooser);

/* Signature of the finding that stopped the run, or "" when none. */
const char *th_signature(const nmrh_world *w);

#endif
