/*
 * The module adapter: how the harness drives a module under test. A module kind is a name, a
 * description of its load options, the size of its instance state, and entry points written as
 * ordinary kernel code (they compile for the kernel as well):
 *
 *   load     - what the driver's DriverEntry does for this module: initialise the instance and
 *              register with the NMR. On failure nothing may be left registered or allocated;
 *              the harness may load the same instance again later.
 *   unload   - what the driver's Unload routine does: deregister, wait for deregistration to
 *              complete, free what load and the callbacks allocated.
 *   call     - one call from this module into every peer it is bound to, as an I/O request or a
 *              worker of the driver would make it (may be NULL). Calls may run concurrently with
 *              each other and with unload: a correct module copes.
 *   complete - for counterparts that pend their detach: complete every pending detach now
 *              (may be NULL).
 *
 * The harness owns the instance memory (instance_size bytes, zeroed before load) and keeps it
 * valid until unload and every call on the instance have returned, as a driver's global state
 * outlives its own unload routine.
 *
 * `param` packs the instance's options as described by `params` (each option is a bit field);
 * the sequence language prints and parses them as key=value pairs.
 *
 * A kind built from a driver that keeps its state in globals (nmrh_add_module in CMake) has an
 * `image`: the shared object it was built into. Its globals are put back to their initial values
 * before every load, as Windows maps a fresh image for every load of a driver, so every run (and
 * every reload inside a run) starts from the state DriverEntry expects. Such a kind has one
 * instance per sequence: a second `mN = kind` is refused, since both would share the globals.
 */
#ifndef NMRH_MODULE_H
#define NMRH_MODULE_H

#include <ntddk.h>

/* One option of a module kind: bits [shift, shift+bits) of the load parameter, whose values are
   named by values[0..nvalues-1] (value 0 is the default and is not printed). */
typedef struct nmrh_module_param {
    const char *key;
    unsigned char shift, bits;
    unsigned char nvalues;
    const char *const *values;
} nmrh_module_param;

/* The image of a kind that keeps state in globals. `restore` puts its writable data back to the
   bytes saved when the image was loaded into the process (nmrh/module_image.h, user mode). */
typedef struct nmrh_module_image {
    void (*restore)(const struct nmrh_module_image *image);
    void *saved; /* owned by the restore implementation */
} nmrh_module_image;

typedef struct nmrh_module_kind {
    const char *name;
    const char *summary;
    ULONG instance_size;
    NTSTATUS (*load)(void *instance, ULONG param);
    void (*unload)(void *instance);
    NTSTATUS (*call)(void *instance, ULONG value);
    NTSTATUS (*complete)(void *instance);
    const nmrh_module_param *params;
    unsigned nparams;
    const nmrh_module_image *image; /* NULL: all state is in the instance */
} nmrh_module_kind;

/* A target: the named set of module kinds compiled into a tool or driver. */
typedef struct nmrh_target {
    const char *name;
    const char *summary;
    const nmrh_module_kind *const *kinds;
    unsigned nkinds;
} nmrh_target;

#endif
