/* Internal header of the echo example pair: shared includes and the two module kinds. */
#ifndef ECHO_MODULES_H
#define ECHO_MODULES_H

#include "nmrh/module.h"
#include "echo_call_guard.h"
#include "echo_npi.h"

/* Most peers one call reaches at once (a client bound to more providers calls the first ones). */
#define ECHO_MAX_PEERS 16

/* Seeded bugs (bench/bugs.md): the same sources built with -DECHO_BUG=N -DECHO_BUG_VARIANT=V
   -DECHO_VARIANT=name carry the V-th seeded instance of bug class BN and export their kinds as
   name_client_kind / name_provider_kind: variant 1 is named bN (target echo-bN), variant 2 bN_b
   (target echo-bN-b). ECHO_BUG 0 is the correct pair. */
#ifndef ECHO_BUG
#define ECHO_BUG 0
#endif
#ifndef ECHO_BUG_VARIANT
#define ECHO_BUG_VARIANT 1
#endif
#ifndef ECHO_VARIANT
#define ECHO_VARIANT echo
#endif
/* #if ECHO_SEEDED(4, 2): this build carries the second seeded bug of class B4. Classes with a
   single seeded bug test ECHO_BUG == N. */
#define ECHO_SEEDED(n, v) (ECHO_BUG == (n) && ECHO_BUG_VARIANT == (v))
#define ECHO_CAT_(a, b) a##_##b
#define ECHO_CAT(a, b) ECHO_CAT_(a, b)
#define echo_client_kind ECHO_CAT(ECHO_VARIANT, client_kind)
#define echo_provider_kind ECHO_CAT(ECHO_VARIANT, provider_kind)

extern const nmrh_module_kind echo_client_kind;
extern const nmrh_module_kind echo_provider_kind;

/* Every seeded-bug variant built: X(class number, variant number, kind prefix, target suffix).
   Keep in step with ECHO_SEEDED_BUGS in the top-level CMakeLists.txt ("N" for variant 1, "N-b"
   for variant 2, "N-c" for 3) and tests/build/portable_sources.txt. */
#define ECHO_SEEDED_BUGS(X)                                                                      \
    X(1, 1, b1, "b1") X(2, 1, b2, "b2") X(3, 1, b3, "b3") X(4, 1, b4, "b4") X(4, 2, b4_b, "b4-b")  \
    X(5, 1, b5, "b5") X(5, 2, b5_b, "b5-b") X(6, 1, b6, "b6") X(6, 2, b6_b, "b6-b") X(7, 1, b7, "b7")                   \
    X(7, 2, b7_b, "b7-b") X(7, 3, b7_c, "b7-c") X(8, 1, b8, "b8") X(9, 1, b9, "b9") X(9, 2, b9_b, "b9-b")               \
    X(10, 1, b10, "b10") X(10, 2, b10_b, "b10-b") X(11, 1, b11, "b11") X(12, 1, b12, "b12")       \
    X(13, 1, b13, "b13") X(14, 1, b14, "b14") X(15, 1, b15, "b15") X(16, 1, b16, "b16")           \
    X(17, 1, b17, "b17")

#endif
