/*
 * Memory errors in module code: NMRH_RULE_ASAN, signature "ASAN-<kind>@<first module frame>".
 *
 * The subject "uaf-client" is a client of the rules NPI that completes its detach from a work
 * item. With UA_TOUCH_AFTER_COMPLETE (B2, ebpf-for-windows #1087) the work item marks the
 * binding context after NmrClientDetachProviderComplete, which may have run the cleanup inline
 * and freed it. AddressSanitizer reports the write; the harness hook turns the report into a
 * finding. ASan ends the process after its report, so the wrong module runs in a forked child
 * whose stderr the parent reads. Without ASan that run is skipped (it would be undefined
 * behaviour); the signature parser is tested on canned reports in every build.
 */
#include "../support/rules_support.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nmrh/oracle.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RT_HAVE_ASAN)
#define RT_HAVE_ASAN 1
#endif

#define UA_TOUCH_AFTER_COMPLETE 0x0001u

#define UA_BINDING_TAG RT_TAG('U', 'a', 'B', 'd')

typedef struct _UA_MODULE UA_MODULE;

typedef struct _UA_BINDING {
    UA_MODULE *Module;
    HANDLE NmrBindingHandle;
    PIO_WORKITEM Work;
    BOOLEAN Completed;
} UA_BINDING;

struct _UA_MODULE {
    NPI_MODULEID ModuleId;
    NPI_CLIENT_CHARACTERISTICS Characteristics;
    HANDLE NmrClientHandle;
    ULONG Bugs;
};

static RT_NOTIFY_FN UafNotify;
static const RT_CLIENT_DISPATCH UafDispatch = {RT_VERSION_1, sizeof(RT_CLIENT_DISPATCH), UafNotify};
static VOID NTAPI UafNotify(PVOID ClientBindingContext, ULONG Value)
{
    UNREFERENCED_PARAMETER(ClientBindingContext);
    UNREFERENCED_PARAMETER(Value);
}

static NTSTATUS NTAPI UafAttachProvider(HANDLE NmrBindingHandle, PVOID ClientContext,
                                        PNPI_REGISTRATION_INSTANCE ProviderRegistrationInstance)
{
    UA_MODULE *m = ClientContext;
    PVOID providerContext = NULL;
    const VOID *providerDispatch = NULL;
    UA_BINDING *b;
    NTSTATUS status;
    if (!IsEqualGUID(ProviderRegistrationInstance->NpiId, &NPI_RT_ID)) return STATUS_NOINTERFACE;
    b = ExAllocatePool2(POOL_FLAG_NON_PAGED, sizeof(*b), UA_BINDING_TAG);
    if (b == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    b->Module = m;
    b->NmrBindingHandle = NmrBindingHandle;
    b->Work = IoAllocateWorkItem(NULL);
    if (b->Work == NULL) {
        ExFreePoolWithTag(b, UA_BINDING_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    status = NmrClientAttachProvider(NmrBindingHandle, b, &UafDispatch, &providerContext, &providerDispatch);
    if (!NT_SUCCESS(status)) {
        IoFreeWorkItem(b->Work);
        ExFreePoolWithTag(b, UA_BINDING_TAG);
    }
    return status;
}

/* The work item that completes the detach. */
static VOID NTAPI UafCompleteWorker(PDEVICE_OBJECT DeviceObject, PVOID Context)
{
    UA_BINDING *b = Context;
    PIO_WORKITEM item = b->Work;
    BOOLEAN touch = (b->Module->Bugs & UA_TOUCH_AFTER_COMPLETE) != 0;
    UNREFERENCED_PARAMETER(DeviceObject);
    b->Work = NULL; /* the work item frees itself below */
    NmrClientDetachProviderComplete(b->NmrBindingHandle);
    if (touch) b->Completed = TRUE; /* B2: cleanup may have freed b inside Complete */
    IoFreeWorkItem(item);
}

static NTSTATUS NTAPI UafDetachProvider(PVOID ClientBindingContext)
{
    UA_BINDING *b = ClientBindingContext;
    IoQueueWorkItem(b->Work, UafCompleteWorker, DelayedWorkQueue, b);
    return STATUS_PENDING;
}

static VOID NTAPI UafCleanup(PVOID ClientBindingContext)
{
    UA_BINDING *b = ClientBindingContext;
    if (b->Work) IoFreeWorkItem(b->Work);
    ExFreePoolWithTag(b, UA_BINDING_TAG);
}

static NTSTATUS UafLoad(void *Instance, ULONG Param)
{
    UA_MODULE *m = Instance;
    RtlZeroMemory(m, sizeof(*m));
    m->Bugs = Param;
    RtInitClientCharacteristics(&m->Characteristics, &m->ModuleId, 0x0b, &NPI_RT_ID, UafAttachProvider,
                                UafDetachProvider, UafCleanup);
    return NmrRegisterClient(&m->Characteristics, m, &m->NmrClientHandle);
}

static void UafUnload(void *Instance)
{
    UA_MODULE *m = Instance;
    if (NmrDeregisterClient(m->NmrClientHandle) == STATUS_PENDING)
        NmrWaitForClientDeregisterComplete(m->NmrClientHandle);
}

static const nmrh_module_kind ua_kind = {
    .name = "uaf-client",
    .summary = "rules-NPI client that may touch its binding context after completing its detach",
    .instance_size = sizeof(UA_MODULE),
    .load = UafLoad,
    .unload = UafUnload,
};

/* Provider and subject loaded, the provider unloads: the client's work item completes. */
static void uaf_run(rs_run *r, ULONG bugs)
{
    rs_begin(r, NULL, NULL); /* cleanup inline: it runs inside Complete */
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(r, &ua_kind, "uaf-client", bugs);
    nmrh_world_run_thread(r->w, th_load(r->w, p));
    nmrh_world_run_thread(r->w, th_load(r->w, c));
    nmrh_world_run_thread(r->w, th_unload(r->w, p));
    nmrh_world_finish(r->w);
}

/* ---- the wrong module, in a child process ---- */

#ifdef RT_HAVE_ASAN
static void child_run(void)
{
    nmrh_oracle_install_asan_hook();
    nmrh_config cfg;
    rs_config_fixed(&cfg);
    cfg.on_finding = rs_print_finding;
    rs_run r;
    rs_begin(&r, &cfg, NULL);
    test_instance *p = rs_add(&r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(&r, &ua_kind, "uaf-client", UA_TOUCH_AFTER_COMPLETE);
    nmrh_world_run_thread(r.w, th_load(r.w, p));
    nmrh_world_run_thread(r.w, th_load(r.w, c));
    nmrh_world_run_thread(r.w, th_unload(r.w, p));
    nmrh_world_finish(r.w);
    fprintf(stderr, "CHILD SURVIVED\n");
    _exit(3);
}

static void test_use_after_free(check_tally *t)
{
    int status = 0;
    char *out = rs_run_child(child_run, &status);
    CHECK(t, out != NULL);
    const char *text = out ? out : "";
    /* ASan ends the child: exit code 1 by default, a signal with ASAN_OPTIONS=abort_on_error=1. */
    CHECK(t, (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3) || WIFSIGNALED(status));
    CHECK(t, strstr(text, "FINDING ASAN-heap-use-after-free@UafCompleteWorker") != NULL);
    CHECK(t, strstr(text, "RULE ASAN\n") != NULL);
    CHECK(t, strstr(text, "SIGNATURE ASAN-heap-use-after-free@UafCompleteWorker\n") != NULL);
    CHECK(t, strstr(text, "MESSAGE AddressSanitizer: heap-use-after-free@UafCompleteWorker") != NULL);
    CHECK(t, strstr(text, "running uaf-client code") != NULL);
    CHECK(t, strstr(text, "CHILD SURVIVED") == NULL);
    if (t->failed) fprintf(stderr, "child stderr:\n%s\n", text);
    free(out);
}
#else
static void test_use_after_free(check_tally *t)
{
    (void)t;
    printf("test_rules_asan: not built with AddressSanitizer: skipping the use-after-free run\n");
}
#endif

/* ---- the correct twin: no touch after Complete ---- */

static void twin_scenario(rs_run *r)
{
    test_instance *p = rs_add(r, &rt_provider_kind, "rt-provider", 0);
    test_instance *c = rs_add(r, &ua_kind, "uaf-client", 0);
    th_load(r->w, p);
    th_load(r->w, c);
    nmrh_world_run(r->w);
    th_unload(r->w, p);
    th_unload(r->w, c);
}

static void test_twin(check_tally *t)
{
    rs_run r;
    uaf_run(&r, 0);
    CHECK(t, nmrh_world_finding(r.w) == NULL && nmrh_world_check_model_invariants(r.w) == 0);
    rs_end(&r);
    rs_sweep(t, "asan: no touch after Complete, inline or deferred cleanup", NULL, 150, twin_scenario, NULL);
}

/* ---- nmrh_asan_signature on canned reports ---- */

static void expect_signature(check_tally *t, const char *report, const char *want)
{
    char sig[160];
    nmrh_asan_signature(report, sig, sizeof sig);
    CHECK_STR(t, sig, want);
}

static void test_signature_parser(check_tally *t)
{
    /* The module frame on top. */
    expect_signature(t,
                     "=================================================================\n"
                     "==4711==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000018 at pc "
                     "0x55d1 bp 0x7f sp 0x7e\n"
                     "WRITE of size 1 at 0x602000000018 thread T0\n"
                     "    #0 0x55d1 in UafCompleteWorker /work/main/tests/unit/test_rules_asan.c:95:20\n"
                     "    #1 0x55d2 in run_work_item /work/main/core/shim/workitem.c:29:5\n"
                     "    #2 0x55d3 in thread_entry /work/main/core/src/sched.c:26:5\n",
                     "ASAN-heap-use-after-free@UafCompleteWorker");
    /* Runtime frames (the allocator, __ names) and the kernel shim (which acts for the module)
       are skipped. */
    expect_signature(t,
                     "==1==ERROR: AddressSanitizer: attempting double-free on 0x6020000000f0 in thread T0:\n"
                     "    #0 0x4a in free (/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.so+0xa)\n"
                     "    #1 0x4b in pool_free /work/main/core/shim/pool.c:201:5\n"
                     "    #2 0x4c in ExFreePoolWithTag /work/main/core/shim/pool.c:206:35\n"
                     "    #3 0x4d in EchoClientCleanupBindingContext /work/main/modules/echo/echo_client.c:99:5\n"
                     "    #4 0x4e in run_cleanup /work/main/core/model/model_detach.c:44:13\n",
                     "ASAN-double-free@EchoClientCleanupBindingContext");
    expect_signature(t,
                     "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x60 at pc 0x1 bp 0x2 sp 0x3\n"
                     "READ of size 4 at 0x60 thread T0\n"
                     "    #0 0x1 in __asan_memcpy (/usr/lib/libasan.so.8+0xb)\n"
                     "    #1 0x2 in nmrh_trace /work/main/core/src/trace.c:20:5\n"
                     "    #2 0x3 in memcpy /usr/include/x86_64-linux-gnu/bits/string_fortified.h:29:10\n"
                     "    #3 0x4 in MyProviderEcho /src/driver/provider.c:17:3\n",
                     "NMRH-INTERNAL-ASAN-heap-buffer-overflow@nmrh_trace");
    /* Harness code (model, scheduler, world) on top: the harness's own bug, whatever module
       code is further down (issue: a NULL callback called by the model was blamed on the
       module that unloaded). */
    expect_signature(t,
                     "==1==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc 0x0 bp 0x2 sp 0x3 T0)\n"
                     "    #0 0x0  (<unknown module>)\n"
                     "    #1 0x2 in run_detach_side /work/main/core/model/model_detach.c:107:23\n"
                     "    #2 0x3 in deregister /work/main/core/model/model_detach.c:212:13\n"
                     "    #3 0x4 in RgUnload /work/main/tests/unit/test_rules_register.c:216:27\n",
                     "NMRH-INTERNAL-ASAN-SEGV@run_detach_side");
    /* A call through a bad pointer from module code stays the module's. */
    expect_signature(t,
                     "==1==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc 0x0 bp 0x2 sp 0x3 T0)\n"
                     "    #0 0x0  (<unknown module>)\n"
                     "    #1 0x2 in EchoClientCall /work/main/modules/echo/echo_client.c:340:9\n"
                     "    #2 0x3 in nmrh_interp_call /work/main/core/seq/interp.c:212:13\n",
                     "ASAN-SEGV@EchoClientCall");
    /* Frames in libc are not module code either. */
    expect_signature(t,
                     "==1==ERROR: AddressSanitizer: stack-use-after-return on address 0x7f at pc 0x1 bp 0x2 sp 0x3\n"
                     "    #0 0x1 in strlen (/lib/x86_64-linux-gnu/libc.so.6+0x9a)\n"
                     "    #1 0x2 in ModuleLogName /src/drv/log.c:5:1\n",
                     "ASAN-stack-use-after-return@ModuleLogName");
    /* SEGV: the kind ends before " on " / " (". */
    expect_signature(t,
                     "==1==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000010 (pc 0x1 bp 0x2 sp 0x3 T0)\n"
                     "    #0 0x1 in ClientDereferencesNull /src/drv/client.c:44:9\n",
                     "ASAN-SEGV@ClientDereferencesNull");
    /* No module frame at all, no symbols, no report header. */
    expect_signature(t,
                     "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1 at pc 0x1 bp 0x2 sp 0x3\n"
                     "    #0 0x1 in nmrh_sched_point /work/main/core/src/sched.c:166:9\n"
                     "    #1 0x2  (/work/main/build/tests/test+0x1234)\n",
                     "NMRH-INTERNAL-ASAN-heap-use-after-free@nmrh_sched_point");
    expect_signature(t,
                     "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1 at pc 0x1 bp 0x2 sp 0x3\n"
                     "    #0 0x1 in __asan_memcpy (/usr/lib/libasan.so.8+0xb)\n"
                     "    #1 0x2  (/work/main/build/tests/test+0x1234)\n",
                     "ASAN-heap-use-after-free@unknown");
    expect_signature(t, "garbage\n    #0 0x1 in Foo /src/foo.c:1\n", "ASAN-unknown@Foo");
    expect_signature(t, "", "ASAN-unknown@unknown");
    /* A truncated output buffer stays a terminated prefix. */
    char small[12];
    nmrh_asan_signature("==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n"
                        "    #0 0x1 in ModuleFunction /src/m.c:1\n",
                        small, sizeof small);
    CHECK_STR(t, small, "ASAN-heap-u");
}

/* Grouping: a use after free belongs to the bug of the object's allocation site. */
static void test_group_parser(check_tally *t)
{
    static const char uaf[] =
        "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x60 at pc 0x1 bp 0x2 sp 0x3\n"
        "WRITE of size 8 at 0x60 thread T0\n"
        "    #0 0x1 in EchoGuardLeave /w/modules/echo/echo_call_guard.h:60:5\n"
        "    #1 0x2 in EchoClientCall /w/modules/echo/echo_client.c:340:9\n"
        "\n"
        "0x60 is located 8 bytes inside of 96-byte region [0x58,0xb8)\n"
        "freed by thread T0 here:\n"
        "    #0 0x3 in free (/usr/lib/libasan.so.8+0xb)\n"
        "    #1 0x4 in ExFreePoolWithTag /w/core/shim/pool.c:206:35\n"
        "    #2 0x5 in EchoClientCleanupBindingContext /w/modules/echo/echo_client.c:250:5\n"
        "\n"
        "previously allocated by thread T0 here:\n"
        "    #0 0x6 in malloc (/usr/lib/libasan.so.8+0xb)\n"
        "    #1 0x7 in ExAllocatePool2 /w/core/shim/pool.c:120:35\n"
        "    #2 0x8 in EchoClientAttachProvider /w/modules/echo/echo_client.c:101:15\n"
        "    #3 0x9 in attach_pair /w/core/model/model_attach.c:90:23\n";
    char sig[160], group[160];
    nmrh_asan_signature(uaf, sig, sizeof sig);
    CHECK_STR(t, sig, "ASAN-heap-use-after-free@EchoGuardLeave");
    nmrh_asan_group(uaf, sig, group, sizeof group);
    CHECK_STR(t, group, "object allocated in EchoClientAttachProvider");
    /* No allocation stack: the signature is its own group. */
    nmrh_asan_group("==1==ERROR: AddressSanitizer: SEGV on unknown address 0x0\n    #0 0x1 in F /s/f.c:1\n", "ASAN-SEGV@F", group,
                    sizeof group);
    CHECK_STR(t, group, "ASAN-SEGV@F");
}

int main(void)
{
    check_tally t = {0, 0, "rules-asan"};
    test_signature_parser(&t);
    test_group_parser(&t);
    test_twin(&t);
    test_use_after_free(&t);
    return check_summary(&t, "test_rules_asan");
}
