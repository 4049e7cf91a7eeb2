/* Shared helpers of the benchmarks: a monotonic clock, medians and the --quick flag.
 * Benchmarks print numbers; they never fail on timings (machines are noisy). They exit non-zero
 * only when the work they measure went wrong (a finding, an event count that changed). */
#ifndef NMRH_BENCH_UTIL_H
#define NMRH_BENCH_UTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, open_memstream on strict -std=c11 */
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process (user + system): unlike wall time, it does not count time the
   machine gave to other processes, so it is the steadier figure on a shared machine. */
static inline uint64_t bench_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A stopwatch over both clocks. */
typedef struct bench_clock {
    uint64_t wall, cpu;
} bench_clock;
static inline bench_clock bench_start(void) { return (bench_clock){bench_now_ns(), bench_cpu_ns()}; }
/* Seconds since `start`, wall (CLOCK_MONOTONIC) and CPU. */
static inline void bench_elapsed(bench_clock start, double *wall_s, double *cpu_s)
{
    *wall_s = (double)(bench_now_ns() - start.wall) / 1e9;
    *cpu_s = (double)(bench_cpu_ns() - start.cpu) / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place and returns its median (mean of the middle two for an even count). */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* True when argv holds "--quick": a tiny run that only proves the benchmark still works. */
static inline bool bench_quick(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--quick") == 0) return true;
    return false;
}

#endif
