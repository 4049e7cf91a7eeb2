/* A second translation unit using the same header inline function (MSVC links it once). */
#include "msvc_sample.h"

ULONG MsvcSampleB(ULONG x) { return MsvcMix(x) + MsvcTwice(x) + _byteswap_ulong(0x01000000u) + _rotl(1u, 4); }

/* The prototype in msvc_sample.h says ULONG *; MSVC accepts this const-only difference with a
   warning (C4028), clang's C front end rejects it as conflicting types, so the definition here
   matches the prototype (docs/wdk-surface.md, what the dialect cannot absorb). */
ULONG MsvcSampleConst(ULONG *value) { return *value + 1; }
