/* Internal header of the echo example pair: shared includes and the two module kinds. */
#ifndef ECHO_MODULES_H
#define ECHO_MODULES_H

#include "nmrh/module.h"
#include "echo_call_guard.h"
#include "echo_npi.h"

/* Most peers one call reaches at once (a client bound to more providers calls the first ones). */
#define ECHO_MAX_PEERS 16

/* Seeded bugs (bench/bugs.md): the same sources built with -DECHO_BUG=N -DECHO_VARIANT=bN carry
   bug class BN and export their kinds as bN_client_kind / bN_provider_kind. ECHO_BUG 0 is the
   correct pair. */
#ifndef ECHO_BUG
#define ECHO_BUG 0
#endif
#ifndef ECHO_VARIANT
#define ECHO_VARIANT echo
#endif
#define ECHO_CAT_(a, b) a##_##b
#define ECHO_CAT(a, b) ECHO_CAT_(a, b)
#define echo_client_kind ECHO_CAT(ECHO_VARIANT, client_kind)
#define echo_provider_kind ECHO_CAT(ECHO_VARIANT, provider_kind)

extern const nmrh_module_kind echo_client_kind;
extern const nmrh_module_kind echo_provider_kind;

/* Every seeded-bug variant built: X(number, variant). Keep in step with ECHO_SEEDED_BUGS in
   modules/CMakeLists.txt. */
#define ECHO_SEEDED_BUGS(X) X(1, b1) X(2, b2) X(6, b6) X(8, b8) X(11, b11) X(17, b17)

#endif
