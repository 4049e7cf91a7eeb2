#include "nmrh/rules.h"

#include <string.h>

static const struct {
    const char *id;
    const char *summary;
} rule_table[NMRH_RULE_COUNT] = {
    [NMRH_RULE_NONE] = {"NONE", "no finding"},
    [NMRH_RULE_ATTACH_STATUS_MISMATCH] = {"NMR-ATTACH-STATUS-MISMATCH",
        "ClientAttachProvider returned a status other than the one NmrClientAttachProvider returned"},
    [NMRH_RULE_ATTACH_SUCCESS_WITHOUT_BIND] = {"NMR-ATTACH-SUCCESS-WITHOUT-BIND",
        "ClientAttachProvider returned success without a successful NmrClientAttachProvider"},
    [NMRH_RULE_ATTACH_OUTSIDE_CALLBACK] = {"NMR-ATTACH-OUTSIDE-CALLBACK",
        "NmrClientAttachProvider called outside the ClientAttachProvider callback of that binding"},
    [NMRH_RULE_ATTACH_AFTER_SUCCESS] = {"NMR-ATTACH-AFTER-SUCCESS",
        "NmrClientAttachProvider called again after it succeeded for the binding"},
    [NMRH_RULE_COMPLETE_AFTER_SUCCESS] = {"NMR-COMPLETE-AFTER-SUCCESS",
        "Nmr*DetachComplete called after the detach callback returned STATUS_SUCCESS"},
    [NMRH_RULE_COMPLETE_TWICE] = {"NMR-COMPLETE-TWICE",
        "Nmr*DetachComplete called twice for the same side of a binding"},
    [NMRH_RULE_BAD_HANDLE] = {"NMR-BAD-HANDLE",
        "an NMR function got a NULL, invalid or stale handle (Windows bugchecks)"},
    [NMRH_RULE_WRONG_HANDLE_KIND] = {"NMR-WRONG-HANDLE-KIND",
        "an NMR function got a handle of the wrong kind (e.g. a registration handle to DetachComplete)"},
    [NMRH_RULE_DEREGISTER_TWICE] = {"NMR-DEREGISTER-TWICE", "Nmr*Deregister* called twice for one registration"},
    [NMRH_RULE_WAIT_WITHOUT_DEREGISTER] = {"NMR-WAIT-WITHOUT-DEREGISTER",
        "NmrWaitFor*DeregisterComplete called before Nmr*Deregister*"},
    [NMRH_RULE_WAIT_TWICE] = {"NMR-WAIT-TWICE", "NmrWaitFor*DeregisterComplete called twice"},
    [NMRH_RULE_UNLOAD_BEFORE_WAIT] = {"NMR-UNLOAD-BEFORE-WAIT",
        "a module's unload routine returned while one of its registrations was not deregistered and waited for"},
    [NMRH_RULE_WAIT_SKIPPED] = {"NMR-WAIT-SKIPPED",
        "a registration was deregistered but NmrWaitFor*DeregisterComplete was never called"},
    [NMRH_RULE_FREED_WHILE_REGISTERED] = {"NMR-FREED-WHILE-REGISTERED",
        "characteristics or registration context freed before deregistration completed"},
    [NMRH_RULE_IRQL_TOO_HIGH] = {"NMR-IRQL-TOO-HIGH", "an NMR function called above its IRQL limit"},
    [NMRH_RULE_PASSIVE_AT_DISPATCH] = {"KRNL-PASSIVE-AT-DISPATCH",
        "a passive-only primitive (blocking wait, paged pool, fast mutex) used at DISPATCH_LEVEL"},
    [NMRH_RULE_CALL_AFTER_DETACH] = {"NMR-CALL-AFTER-DETACH",
        "a call into the peer's NPI after the caller's detach returned success or was completed"},
    [NMRH_RULE_POOL_LEAK] = {"KRNL-POOL-LEAK", "pool memory a module allocated was not freed when it unloaded"},
    [NMRH_RULE_HANG] = {"NMR-HANG", "every live thread is blocked forever (unfinished detach, deadlock)"},
    [NMRH_RULE_STEP_BUDGET] = {"NMR-STEP-BUDGET", "a thread exceeded the step budget (livelock or endless loop)"},
    [NMRH_RULE_SPINLOCK_MISUSE] = {"KRNL-SPINLOCK-MISUSE",
        "spin lock released when not held, by another thread, or at the wrong IRQL"},
    [NMRH_RULE_RUNDOWN_MISUSE] = {"KRNL-RUNDOWN-MISUSE", "rundown protection released without acquire"},
    [NMRH_RULE_IRQL_MISUSE] = {"KRNL-IRQL-MISUSE",
        "IRQL raised or lowered in the wrong direction, or a callback returned at another IRQL"},
    [NMRH_RULE_POOL_BAD_FREE] = {"KRNL-POOL-BAD-FREE",
        "pool free of memory that is not allocated (double free) or with the wrong tag"},
    [NMRH_RULE_DETACH_BAD_STATUS] = {"NMR-DETACH-BAD-STATUS",
        "a detach callback returned neither STATUS_SUCCESS nor STATUS_PENDING"},
    [NMRH_RULE_BAD_CHARACTERISTICS] = {"NMR-BAD-CHARACTERISTICS",
        "Nmr*Register* got NULL or malformed characteristics"},
    [NMRH_RULE_CONTEXT_FREED_BEFORE_CLEANUP] = {"NMR-CONTEXT-FREED-BEFORE-CLEANUP",
        "a binding context (or dispatch table) was freed before the NMR called the cleanup callback for it"},
    [NMRH_RULE_STACK_OBJECT_BOUND] = {"NMR-STACK-OBJECT-BOUND",
        "a stack object was passed as binding context or dispatch table, which must outlive the binding"},
    [NMRH_RULE_ASSERT] = {"KRNL-ASSERT", "an NT_ASSERT/ASSERT in module code failed"},
    [NMRH_RULE_BUGCHECK] = {"KRNL-BUGCHECK", "module code called KeBugCheckEx"},
    [NMRH_RULE_ASAN] = {"ASAN", "AddressSanitizer reported a memory error (signature: kind plus first module frame)"},
    [NMRH_RULE_UBSAN] = {"UBSAN", "UndefinedBehaviorSanitizer reported undefined behaviour in module code (signature: check plus first module frame)"},
    [NMRH_RULE_TSAN] = {"TSAN", "ThreadSanitizer reported a data race or lock misuse in a real-thread stress run (signature: kind plus first module frame)"},
    [NMRH_RULE_INTERNAL] = {"NMRH-INTERNAL", "the harness broke its own contract towards modules (a bug in nmrh)"},
    [NMRH_RULE_REGISTRATION_CHANGED] = {"NMR-REGISTRATION-CHANGED",
        "a module changed its characteristics (callbacks, registration instance, NPI id) while registered"},
    [NMRH_RULE_PRIMITIVE_MISUSE] = {"KRNL-PRIMITIVE-MISUSE",
        "a kernel primitive used against its contract (critical region, push lock or resource rules, misaligned interlocked operand, a primitive added through nmrh/shim.h)"},
};

const char *nmrh_rule_id(nmrh_rule r)
{
    return (unsigned)r < NMRH_RULE_COUNT ? rule_table[r].id : "UNKNOWN";
}

const char *nmrh_rule_summary(nmrh_rule r)
{
    return (unsigned)r < NMRH_RULE_COUNT ? rule_table[r].summary : "unknown rule";
}

nmrh_rule nmrh_rule_from_id(const char *id)
{
    for (int r = 1; r < NMRH_RULE_COUNT; r++)
        if (strcmp(rule_table[r].id, id) == 0) return (nmrh_rule)r;
    return NMRH_RULE_NONE;
}
