/*
 * The interposer: sits between modules and the NMR, so that every boundary event (an NMR call's
 * entry and exit, a callback's entry and exit) passes through a gate supplied by the platform,
 * is checked against the module-side rules that can be checked there, and is recorded.
 *
 * How modules reach it without source changes: their files are compiled with the forced include
 * interpose_nmr.h, which renames the nine Nmr* functions (and ExAllocatePool2 /
 * ExAllocatePoolWithTag, for fail-allocs) to the nmrh_ip_* functions below. This file itself is
 * compiled without it and calls the real NMR: netio.sys in the kernel driver, the NMR model in the
 * user-mode prediction (stress/predict), a test double in the user-mode tests of the driver.
 *
 * How callbacks reach it: NmrRegister* registers a copy of the module's characteristics whose
 * callbacks are the interposer's trampolines, with the registration record as the registration
 * context. Both binding contexts the NMR sees are the interposer's binding record; the trampolines
 * and nmrh_ip_NmrClientAttachProvider translate them back, so modules see exactly their own
 * contexts. Only bindings between interposed modules are formed: an attach from or to a module
 * that is not interposed is declined with STATUS_NOINTERFACE (the driver's NPI ids are private).
 *
 * Gates sit on the NMR side of the observation: a call is recorded, then gated, then passed on;
 * its return is gated, then recorded; a callback is gated, then recorded, then called; its return
 * is recorded, then gated. That is where the user-mode model has its scheduling points, so the
 * same schedule gives the same log in both.
 *
 * Calls that break a rule on which the real NMR would bugcheck (a bad, stale or wrong-kind
 * handle, a second Complete, Complete after success, an IRQL above the limit, a second
 * Deregister or Wait, Wait before Deregister, attach outside the callback) are recorded as a
 * FINDING and not passed on (NMRH_OBS_F_SUPPRESSED): the run goes on and the log says what
 * happened. Everything else, including wrong return values of callbacks, is passed on unchanged.
 *
 * Portable: C11, no libc beyond mem*, no floating point, no lock held across a call; OS services
 * come from the host table. One interposer is active at a time (nmrh_ip_activate).
 */
#ifndef NMRH_INTERPOSE_H
#define NMRH_INTERPOSE_H

#include <stddef.h>
#include <stdint.h>

#include <ntddk.h>
#include <netioddk.h>

#include "nmrh/rules.h"
#include "obs.h"

/* Slots: the calling thread's index, supplied by the host. [0, workers * threads_per_worker) are
   the sequence threads of each worker (worker = slot / threads_per_worker, thread tN = slot %
   threads_per_worker); the next foreign_slots are threads the NMR runs callbacks on itself. */
#define NMRH_IP_NO_SLOT 0xFFFFFFFFu
#define NMRH_IP_SEQ_THREADS 48u /* the interpreter's 40 (sequence threads and final completions)
                                   and 8 for unloading what a sequence left loaded */
#define NMRH_IP_MAX_MODULES 8u
#define NMRH_IP_MODULE_NONE 0xFFu

#define NMRH_IP_F_RECORD_EVENTS 0x1u /* record every boundary event (replay), not only findings */
#define NMRH_IP_F_RECYCLE 0x2u       /* reuse records once both registrations were waited for (stress) */
#define NMRH_IP_F_CROSS_WORKER 0x4u  /* bind modules of different workers too (default: each worker's
                                        modules bind only each other, as in the sequence they come from) */

typedef struct nmrh_ip_host {
    void *ctx;
    /* Mutual exclusion for the interposer's own state: held briefly, never across a call into the
       NMR, a module or the gate. May raise IRQL (a kernel spin lock); returns what unlock needs. */
    uintptr_t (*lock)(void *ctx);
    void (*unlock)(void *ctx, uintptr_t token);
    /* The calling thread's slot, or NMRH_IP_NO_SLOT. */
    uint32_t (*slot)(void *ctx);
    uint8_t (*irql)(void *ctx);
    /* A boundary event of the thread in `slot` (which may be NMRH_IP_NO_SLOT): wait for the schedule
       (replay), a random delay (stress), or nothing. can_block is 0 at IRQL >= DISPATCH_LEVEL. */
    void (*gate)(void *ctx, uint32_t slot, const nmrh_obs *event, int can_block);
} nmrh_ip_host;

typedef struct nmrh_ip_config {
    uint32_t workers;            /* concurrent interpreters (1 for a replay) */
    uint32_t threads_per_worker; /* NMRH_IP_SEQ_THREADS */
    uint32_t foreign_slots;
    uint32_t max_regs, max_bindings;
    uint32_t log_capacity;
    uint32_t flags;              /* NMRH_IP_F_* */
} nmrh_ip_config;

typedef struct nmrh_ip nmrh_ip;

typedef struct nmrh_ip_stats {
    uint32_t events;           /* boundary events (recorded or not) */
    uint32_t findings;
    uint32_t dropped;          /* records that did not fit in the log */
    uint32_t foreign_declined; /* attaches to or from modules that are not interposed */
    uint32_t out_of_records;   /* registrations or bindings refused: record arena full */
    uint32_t first_rule;       /* nmrh_rule of the first finding, or 0 */
} nmrh_ip_stats;

/* Memory for an interposer with this configuration (0 when the configuration is invalid). */
size_t nmrh_ip_size(const nmrh_ip_config *cfg);
/* Lays out an interposer in `mem` (zeroed by this call). NULL when `size` is too small. */
nmrh_ip *nmrh_ip_init(void *mem, size_t size, const nmrh_ip_config *cfg, const nmrh_ip_host *host);
/* Makes `ip` the interposer the nmrh_ip_* entry points use (NULL: pass every call through). */
void nmrh_ip_activate(nmrh_ip *ip);
nmrh_ip *nmrh_ip_active(void);

/* ---- the platform's hooks ---- */
/* A sequence thread starts running an action of `module` (a sequence module index). */
void nmrh_ip_thread_begin(nmrh_ip *ip, uint32_t slot, uint32_t module);
/* ... and its action returned: records THREAD_END. */
void nmrh_ip_thread_end(nmrh_ip *ip, uint32_t slot);
/* Record `index` of the sequence starts (controller). */
void nmrh_ip_record(nmrh_ip *ip, uint32_t index);
/* Informational records of the replay controller (NMRH_OBS_BLOCKED, NMRH_OBS_HANG) about `slot`. */
void nmrh_ip_note(nmrh_ip *ip, uint32_t kind, uint32_t slot);
/* A worker's tag, carried in the aux field of its findings (stress: sequence index, worker). */
void nmrh_ip_set_worker_tag(nmrh_ip *ip, uint32_t worker, uint32_t tag);
/* The module's unload routine returned: its registrations must all have been waited for. */
void nmrh_ip_module_unloaded(nmrh_ip *ip, uint32_t worker, uint32_t module);
/* Fault injection (the sequence's fail-allocs and fail-nmr): the next `count` pool allocations
   of the module's code fail after `skip` more succeed; the next `count` Nmr*Register* (which 0)
   or NmrClientAttachProvider (which 1) calls fail with STATUS_INSUFFICIENT_RESOURCES. */
void nmrh_ip_fail_allocs(nmrh_ip *ip, uint32_t worker, uint32_t module, uint32_t skip, uint32_t count);
void nmrh_ip_fail_nmr(nmrh_ip *ip, uint32_t which, uint32_t count);
/* True when the thread in `slot` is inside NmrWaitFor*DeregisterComplete for a registration
   whose bindings are all gone, so the wait is about to return (the replay waits for it). */
int nmrh_ip_expects_wake(nmrh_ip *ip, uint32_t slot);
/* Whether the thread in `slot` is inside NmrWaitFor*DeregisterComplete. */
int nmrh_ip_in_wait(nmrh_ip *ip, uint32_t slot);

/* ---- results ---- */
const nmrh_obs *nmrh_ip_log(const nmrh_ip *ip, uint32_t *count);
nmrh_ip_stats nmrh_ip_get_stats(const nmrh_ip *ip);
/* Findings per rule (NMRH_RULE_COUNT counters). */
const uint32_t *nmrh_ip_rule_counts(const nmrh_ip *ip);
/* Findings attributed to a worker (its threads, or its modules' registrations and bindings). */
uint32_t nmrh_ip_worker_findings(nmrh_ip *ip, uint32_t worker);
/* Stop or resume recording boundary events (findings are always recorded): the driver stops
   before it unloads what a sequence left loaded, which the model does not do. */
void nmrh_ip_set_recording(nmrh_ip *ip, int on);

/* ---- rule 9, for the counterparts' nmrh_oracle_check_peer_call in builds without the model ---- */
void nmrh_ip_check_peer_call(void *binding_handle, int caller_is_client);

/* ---- the entry points modules call instead of the NMR's (interpose_nmr.h) ---- */
NTSTATUS NTAPI nmrh_ip_NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS ClientCharacteristics, PVOID ClientContext,
                                         PHANDLE NmrClientHandle);
NTSTATUS NTAPI nmrh_ip_NmrDeregisterClient(HANDLE NmrClientHandle);
NTSTATUS NTAPI nmrh_ip_NmrWaitForClientDeregisterComplete(HANDLE NmrClientHandle);
NTSTATUS NTAPI nmrh_ip_NmrClientAttachProvider(HANDLE NmrBindingHandle, PVOID ClientBindingContext,
                                               const VOID *ClientDispatch, PVOID *ProviderBindingContext,
                                               const VOID **ProviderDispatch);
VOID NTAPI nmrh_ip_NmrClientDetachProviderComplete(HANDLE NmrBindingHandle);
NTSTATUS NTAPI nmrh_ip_NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS ProviderCharacteristics,
                                           PVOID ProviderContext, PHANDLE NmrProviderHandle);
NTSTATUS NTAPI nmrh_ip_NmrDeregisterProvider(HANDLE NmrProviderHandle);
NTSTATUS NTAPI nmrh_ip_NmrWaitForProviderDeregisterComplete(HANDLE NmrProviderHandle);
VOID NTAPI nmrh_ip_NmrProviderDetachClientComplete(HANDLE NmrBindingHandle);
PVOID NTAPI nmrh_ip_ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);
PVOID NTAPI nmrh_ip_ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag);

#endif
