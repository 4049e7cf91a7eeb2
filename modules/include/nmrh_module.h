/*
 * The module adapter: how the harness drives a module under test. A module kind is a name and
 * three entry points written as ordinary kernel code (they compile for the kernel as well):
 *
 *   load   - what the driver's DriverEntry does for this module: allocate its state, register
 *            with the NMR. Returns the instance through *instance. On failure nothing is left
 *            registered or allocated and unload is never called.
 *   unload - what the driver's Unload routine does: deregister, wait, free everything.
 *   call   - one call from this module into every peer it is bound to (may be NULL).
 *
 * `param` is a kind-specific number from the sequence (e.g. the NPI version a provider accepts).
 */
#ifndef NMRH_MODULE_H
#define NMRH_MODULE_H

#include <ntddk.h>

typedef struct nmrh_module_kind {
    const char *name;
    NTSTATUS (*load)(void **instance, ULONG param);
    void (*unload)(void *instance);
    NTSTATUS (*call)(void *instance, ULONG param);
} nmrh_module_kind;

#endif
