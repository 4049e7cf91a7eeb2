/*
 * Counterparts: a generic NMR client and a generic provider (test doubles) for plugging against a
 * module under test. Each instance shows one legal peer behaviour, chosen by its load options
 * (see counterpart_params in counterpart.c): NPI id, attach behaviour (accept, decline, accept
 * version 1 only, fail as on an allocation failure), detach behaviour (success when idle, pending
 * until a `complete` action, early completion from inside the detach callback, pre-completion
 * before deregistering), no cleanup callback, NULL binding context. They speak the echo NPI's
 * dispatch shapes on every NPI id, and every incoming NPI call is checked against rule 9.
 */
#ifndef NMRH_COUNTERPARTS_H
#define NMRH_COUNTERPARTS_H

#include "nmrh/module.h"

extern const nmrh_module_kind generic_client_kind;
extern const nmrh_module_kind generic_provider_kind;

#endif
