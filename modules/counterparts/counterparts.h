/*
 * Counterparts: a generic NMR client and a generic provider (test doubles) for plugging against a
 * module under test. Each instance shows one legal peer behaviour, chosen by its load options
 * (see counterpart.c): attach behaviour (accept, decline, accept version 1 only, fail as on an
 * allocation failure), detach behaviour (success when idle, pending until a `complete` action,
 * early completion from inside the detach callback, pre-completion before deregistering), no
 * cleanup callback, NULL binding context. Every incoming NPI call is checked against the
 * call-after-detach rule.
 *
 * generic_client_kind / generic_provider_kind speak the example echo NPI (and ids a, b, c with the
 * echo dispatch shapes). For any other NPI, declare it with an nmrh_npi and NMRH_GENERIC_COUNTERPARTS
 * (docs/plugging-in-a-module.md, "Counterparts for your NPI").
 */
#ifndef NMRH_COUNTERPARTS_H
#define NMRH_COUNTERPARTS_H

#include "nmrh/module.h"

extern const nmrh_module_kind generic_client_kind;
extern const nmrh_module_kind generic_provider_kind;

#define NMRH_NPI_MAX_SLOTS 32
#define NMRH_NPI_MAX_HEADER 64

/* What one side of an NPI offers: its NPI-specific characteristics (given to the peer in
   NPI_REGISTRATION_INSTANCE.NpiSpecificCharacteristics; may be NULL) and the shape of its
   dispatch table: `header_size` bytes copied from `header` (version and size fields, ...), then,
   at the next pointer-aligned offset, `slots` function pointers. Each slot is a stub that takes
   the binding context as its first argument (as NPI functions do), records the call in the trace,
   checks that the caller may still call (NMR-CALL-AFTER-DETACH) and returns the status the
   instance's `status` option chooses. */
typedef struct nmrh_npi_side {
    const VOID *characteristics;
    const VOID *header;
    USHORT header_size;
    USHORT slots;
    const char *const *slot_names; /* optional, `slots` names for the trace */
} nmrh_npi_side;

/* An NPI for generic counterparts. `call_peer` (optional) is the counterpart's `call` action: one
   call into a bound peer through the peer's dispatch table, written as the real peer would make
   it; without it `call` calls nothing. `caller_is_client` says which side the counterpart is. */
typedef struct nmrh_npi {
    const char *name;
    GUID id;
    nmrh_npi_side client;   /* what the generic client offers */
    nmrh_npi_side provider; /* what the generic provider offers */
    NTSTATUS (*call_peer)(BOOLEAN caller_is_client, const VOID *peer_dispatch, PVOID peer_binding_context, ULONG value);
} nmrh_npi;

/* The building blocks NMRH_GENERIC_COUNTERPARTS puts together. */
#define NMRH_COUNTERPART_INSTANCE_SIZE 1024
NTSTATUS nmrh_counterpart_load(const nmrh_npi *npi, void *instance, ULONG param, BOOLEAN is_client);
void nmrh_counterpart_unload(void *instance);
NTSTATUS nmrh_counterpart_call(void *instance, ULONG value);
NTSTATUS nmrh_counterpart_complete(void *instance);
extern const nmrh_module_param nmrh_counterpart_npi_params[];
#define NMRH_COUNTERPART_NPI_NPARAMS 5

/* Defines `const nmrh_module_kind prefix##_client_kind, prefix##_provider_kind`, generic
   counterparts of `npi` (an nmrh_npi object) named client_name and provider_name in sequences.
   Options: attach=accept|decline|v1-only|fail (v1-only accepts like accept: versions are
   NPI-specific), detach=success|pending|early|pre, cleanup=yes|no, context=alloc|null,
   status=success|unsuccessful|not-supported|pending (what every slot returns). */
#define NMRH_GENERIC_COUNTERPARTS(prefix, npi, client_name, provider_name)                                       \
    static NTSTATUS prefix##_client_load(void *instance, ULONG param)                                           \
    {                                                                                                            \
        return nmrh_counterpart_load(&(npi), instance, param, TRUE);                                             \
    }                                                                                                            \
    static NTSTATUS prefix##_provider_load(void *instance, ULONG param)                                         \
    {                                                                                                            \
        return nmrh_counterpart_load(&(npi), instance, param, FALSE);                                            \
    }                                                                                                            \
    const nmrh_module_kind prefix##_client_kind = {                                                              \
        client_name, "generic client of a declared NPI", NMRH_COUNTERPART_INSTANCE_SIZE, prefix##_client_load,   \
        nmrh_counterpart_unload, nmrh_counterpart_call, nmrh_counterpart_complete, nmrh_counterpart_npi_params,   \
        NMRH_COUNTERPART_NPI_NPARAMS, NULL};                                                                     \
    const nmrh_module_kind prefix##_provider_kind = {                                                            \
        provider_name, "generic provider of a declared NPI", NMRH_COUNTERPART_INSTANCE_SIZE,                     \
        prefix##_provider_load, nmrh_counterpart_unload, nmrh_counterpart_call, nmrh_counterpart_complete,        \
        nmrh_counterpart_npi_params, NMRH_COUNTERPART_NPI_NPARAMS, NULL}

#endif
