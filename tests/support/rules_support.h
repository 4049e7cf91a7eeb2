/*
 * Support for the oracle-rule tests (tests/unit/test_rules_*.c):
 *
 *  - the "rules" test NPI: a provider dispatch with Ping, a client dispatch with Notify;
 *  - two correct counterpart modules of that NPI (test doubles), written as WDK code, whose NPI
 *    functions call nmrh_oracle_check_peer_call first (rule 9), and whose binding contexts live
 *    in slots of the module instance, so that a call after cleanup is reported by the oracle
 *    instead of touching freed memory;
 *  - helpers to assert a finding (rule, signature, words of the message) or a clean run, and a
 *    schedule sweep that runs one scenario under the zero chooser and many random seeds.
 */
#ifndef NMRH_TEST_RULES_SUPPORT_H
#define NMRH_TEST_RULES_SUPPORT_H

#include <ntddk.h>
#include <netioddk.h>

#include "check.h"
#include "harness.h"

/* ---- the rules NPI ---- */

/* {6e6d7268-7275-6c65-8000-000000000001} */
DEFINE_GUID(NPI_RT_ID, 0x6e6d7268, 0x7275, 0x6c65, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01);
/* A second NPI, for modules that are a client of one NPI and a provider of another. */
DEFINE_GUID(NPI_RT_OTHER_ID, 0x6e6d7268, 0x7275, 0x6c65, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02);

#define RT_VERSION_1 1
#define RT_VERSION_2 2

typedef NTSTATUS NTAPI RT_PING_FN(PVOID ProviderBindingContext, ULONG Value);
typedef VOID NTAPI RT_NOTIFY_FN(PVOID ClientBindingContext, ULONG Value);

typedef struct _RT_PROVIDER_DISPATCH {
    USHORT Version;
    USHORT Length;
    RT_PING_FN *Ping;
} RT_PROVIDER_DISPATCH;

typedef struct _RT_CLIENT_DISPATCH {
    USHORT Version;
    USHORT Length;
    RT_NOTIFY_FN *Notify;
} RT_CLIENT_DISPATCH;

/* Pool tags in memory order, as poolmon shows them. */
#define RT_TAG(a, b, c, d) ((ULONG)(a) | ((ULONG)(b) << 8) | ((ULONG)(c) << 16) | ((ULONG)(d) << 24))

/* WDK boilerplate shared by the test modules: characteristics of a rules-NPI registration. The
   module id is NPI_RT_ID with its last byte replaced by `id_byte`. */
VOID RtInitClientCharacteristics(NPI_CLIENT_CHARACTERISTICS *Chars, NPI_MODULEID *ModuleId, UCHAR IdByte,
                                 const GUID *NpiId, PNPI_CLIENT_ATTACH_PROVIDER_FN Attach,
                                 PNPI_CLIENT_DETACH_PROVIDER_FN Detach,
                                 PNPI_CLIENT_CLEANUP_BINDING_CONTEXT_FN Cleanup);
VOID RtInitProviderCharacteristics(NPI_PROVIDER_CHARACTERISTICS *Chars, NPI_MODULEID *ModuleId, UCHAR IdByte,
                                   const GUID *NpiId, PNPI_PROVIDER_ATTACH_CLIENT_FN Attach,
                                   PNPI_PROVIDER_DETACH_CLIENT_FN Detach,
                                   PNPI_PROVIDER_CLEANUP_BINDING_CONTEXT_FN Cleanup);

/* ---- counterparts: correct test doubles of the rules NPI ---- */

/* Load parameter flags of both counterparts. */
#define RT_PEER_DECLINE     0x01u /* provider: answer STATUS_NOINTERFACE to every client */
#define RT_PEER_V1_ONLY     0x02u /* provider: decline client dispatch versions above 1 */
#define RT_PEER_HOLD_DETACH 0x04u /* detach returns STATUS_PENDING until call action RT_PEER_COMPLETE */

/* Call values of both counterparts. */
#define RT_PEER_CALL     0u /* call every bound peer once (Ping / Notify) */
#define RT_PEER_COMPLETE 1u /* complete the detaches held by RT_PEER_HOLD_DETACH (as the kinds'
                               `complete` entry point does) */

extern const nmrh_module_kind rt_provider_kind; /* counterpart provider */
extern const nmrh_module_kind rt_client_kind;   /* counterpart client (dispatch v2, falls back to v1) */

/* Calls the counterpart received from its peers so far (Pings for the provider, Notifies for
   the client). */
LONG RtPeerCallsReceived(void *Instance);

/* ---- assertions ---- */

/* The run stopped on a finding of `rule` whose signature is the rule's id (for NMRH_RULE_ASAN any
   "ASAN-..." signature) and whose message contains every string given; the model's invariants
   still hold (not checked for NMRH_RULE_INTERNAL). On failure prints the finding and the trace.
   With RS_VERBOSE=1 in the environment every expected finding is printed (RS_VERBOSE=2: with its
   details), which is where the example messages of docs/rules.md come from. */
#define rs_expect_finding(t, w, rule, ...) \
    rs_expect_finding_at(__FILE__, __LINE__, (t), (w), (rule), __VA_ARGS__, (const char *)NULL)
/* The finding's details (the multi-line dump) contain every string given. */
#define rs_expect_details(t, w, ...) rs_expect_details_at(__FILE__, __LINE__, (t), (w), __VA_ARGS__, (const char *)NULL)
/* nmrh_world_finish reports no finding and the model's invariants hold. */
#define rs_expect_clean(t, w) rs_expect_clean_at(__FILE__, __LINE__, (t), (w))

void rs_expect_finding_at(const char *file, int line, check_tally *t, nmrh_world *w, nmrh_rule rule, ...);
void rs_expect_details_at(const char *file, int line, check_tally *t, nmrh_world *w, ...);
void rs_expect_clean_at(const char *file, int line, check_tally *t, nmrh_world *w);

/* Config with every knob fixed to its default (0): client detach first, on the deregistering
   thread, at PASSIVE_LEVEL, cleanup inline. Tests override single knobs. */
void rs_config_fixed(nmrh_config *cfg);

/* ---- runs ---- */

#define RS_MAX_INSTANCES 6

/* One world and the module instances of one run. */
typedef struct rs_run {
    nmrh_world *w;
    test_instance inst[RS_MAX_INSTANCES];
    uint32_t ninst;
    void *ctx;         /* the sweep's ctx argument */
    /* Optional, set by a sweep's scenario: called after nmrh_world_finish of a clean run, with
       the world and instances still alive (e.g. to count calls into ctx). */
    void (*after)(struct rs_run *r);
    nmrh_chooser_zero zero;
} rs_run;

/* Creates the run's world with cfg (NULL: rs_config_fixed) and chooser (NULL: the zero chooser). */
void rs_begin(rs_run *r, const nmrh_config *cfg, nmrh_chooser *chooser);
/* A module instance of the run (th_instance_init on the next free slot). */
test_instance *rs_add(rs_run *r, const nmrh_module_kind *kind, const char *name, ULONG param);
/* Destroys the world and frees the instances. */
void rs_end(rs_run *r);

/* ---- schedule sweeps for correct twins ---- */

/* Builds the run: adds modules, spawns threads, may drive the world (nmrh_world_run). */
typedef void (*rs_scenario_fn)(rs_run *r);

/* Runs the scenario once under the zero chooser and once per seed 1..seeds under the random
   chooser (with cfg, or all knobs chosen when cfg is NULL); each run ends with nmrh_world_run
   and nmrh_world_finish and must have no finding and intact model invariants. Records one check
   for the whole sweep; stops at the first failing run and prints its seed, finding and trace.
   Returns the number of clean runs (seeds + 1 when all were clean). The environment variable
   RS_SEED_SCALE=N multiplies `seeds` by N for longer searches. */
uint32_t rs_sweep(check_tally *t, const char *name, const nmrh_config *cfg, uint32_t seeds, rs_scenario_fn fn,
                  void *ctx);

/* Runs fn() in a forked child whose stderr is captured (for wrong modules a sanitizer ends):
   returns the child's stderr (malloc'd, NUL-terminated; NULL on error) and its wait status. The
   child must not return (it _exit()s). */
char *rs_run_child(void (*fn)(void), int *status);
/* on_finding hook for such children: "RULE <id>\nSIGNATURE <sig>\nMESSAGE <msg>\n" on stderr. */
void rs_print_finding(nmrh_world *w, const nmrh_finding *f, void *user);

#endif
