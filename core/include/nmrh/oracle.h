/*
 * Oracle entry points for harness code that runs inside a world: counterparts (test-double
 * modules) and the kernel-primitive shim report contract violations through these.
 *
 * nmrh_oracle_report records the finding in the current world and, when called on a logical
 * kernel thread, abandons that thread (the run is over); it returns only when called outside
 * one (end-of-run checks) or when no world is current.
 */
#ifndef NMRH_ORACLE_H
#define NMRH_ORACLE_H

#include <stdbool.h>

#include "nmrh/rules.h"

#if defined(__GNUC__) || defined(__clang__)
#define NMRH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define NMRH_PRINTF(f, a)
#endif

void nmrh_oracle_report(nmrh_rule rule, const char *fmt, ...) NMRH_PRINTF(2, 3);

/* Rule 9: a call into the peer's NPI through `binding` (an NMR binding handle) is about to start.
   Reports NMR-CALL-AFTER-DETACH when the calling side's detach callback returned success or the
   calling side completed its detach, or when the binding is already gone. */
void nmrh_oracle_check_peer_call(void *binding, bool caller_is_client, const char *what);

/* Installs the AddressSanitizer report callback that turns a report into a finding of the
   current world (signature "ASAN-<kind>@<first module frame>") and calls its on_finding hook
   before the process dies. No-op without ASan. Call once per process. */
void nmrh_oracle_install_asan_hook(void);

/* Signature of an AddressSanitizer report: "ASAN-<kind>@<function>" for the first stack frame
   outside the sanitizer runtime and the kernel shim, when that frame is module code; when it is
   harness code (model, scheduler, interpreter), "NMRH-INTERNAL-ASAN-<kind>@<function>": a bug
   in nmrh. Pure text processing; exposed for tests. */
void nmrh_asan_signature(const char *report, char *out, unsigned out_size);
#define NMRH_HARNESS_SIGNATURE_PREFIX "NMRH-INTERNAL-"

/* The bug an AddressSanitizer report belongs to (nmrh_finding.group): for a report with an
   allocation stack (use after free, double free) "object allocated in <first module frame>",
   so reports of every function that touched one freed object group together; otherwise the
   signature. Pure text processing; exposed for tests. */
void nmrh_asan_group(const char *report, const char *signature, char *out, unsigned out_size);

#endif
