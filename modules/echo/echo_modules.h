/* Internal header of the echo example pair: shared includes and the two module kinds. */
#ifndef ECHO_MODULES_H
#define ECHO_MODULES_H

#include "nmrh/module.h"
#include "echo_call_guard.h"
#include "echo_npi.h"

/* Most peers one call reaches at once (a client bound to more providers calls the first ones). */
#define ECHO_MAX_PEERS 16

extern const nmrh_module_kind echo_client_kind;
extern const nmrh_module_kind echo_provider_kind;

#endif
