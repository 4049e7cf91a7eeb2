/*
 * The MSVC dialect build option: msvc_sample_a.c and msvc_sample_b.c are MSVC-style module code
 * compiled with nmrh_target_msvc_dialect (tests/CMakeLists.txt). That they compile and link at
 * all is most of the test; the run checks that the MSVC-only paths were taken and computed what
 * MSVC would, and that the interlocked intrinsic is nmrh's scheduling point.
 */
#include "../support/shim_test.h"

#include <ntddk.h>

ULONG MsvcSampleA(ULONG x);
ULONG MsvcSampleB(ULONG x);
LONG MsvcSampleCount(volatile LONG *counter);
ULONG MsvcSampleConst(ULONG *value);

static ULONG mix(ULONG x)
{
    x ^= x >> 16;
    x *= 0x7feb352dUL;
    return x ^ (x >> 15);
}

typedef struct count_job {
    LONG counter;
    LONG result;
} count_job;

static void t_count(void *arg)
{
    count_job *j = arg;
    j->result = MsvcSampleCount(&j->counter);
    j->result = MsvcSampleCount(&j->counter);
}

int main(void)
{
    check_tally t = {0, 0, "msvc-dialect"};
    /* (mix & 0xff) + bit index 4 (the _MSC_VER and _WIN64 path) + low word 1 + 10 + selectany 42 */
    check_record(&t, MsvcSampleA(7) == (mix(7) & 0xFF) + 4 + 1 + 10 + 42, "MsvcSampleA", __FILE__, __LINE__);
    check_record(&t, MsvcSampleB(7) == mix(7) + 14 + 1 + 16, "MsvcSampleB", __FILE__, __LINE__);
    ULONG v = 4;
    check_record(&t, MsvcSampleConst(&v) == 5, "MsvcSampleConst", __FILE__, __LINE__);

    nmrh_chooser_zero z;
    nmrh_world *w = shim_test_world(&z);
    count_job j = {0, 0};
    nmrh_thread *th = nmrh_world_spawn(w, "count", 0, t_count, &j);
    int steps = 0;
    while (nmrh_world_step(w, th) == NMRH_THREAD_RUNNABLE) steps++;
    check_record(&t, steps == 2 && j.result == 2, "_InterlockedIncrement is a scheduling point", __FILE__, __LINE__);
    shim_test_clean(&t, w);
    nmrh_world_destroy(w);
    return check_summary(&t, "test_msvc_dialect");
}
