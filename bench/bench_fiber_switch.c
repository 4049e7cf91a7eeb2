/* Cost of one fiber switch: main and a fiber ping-pong; prints the median over RUNS runs of
 * ROUND_TRIPS round trips (two one-way switches each). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime on strict -std=c11 */
#endif

#include "nmrh/fiber.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { RUNS = 31, ROUND_TRIPS = 1000000 };

typedef struct bench {
    nmrh_fiber main, f;
    uint64_t counter;
} bench;

static void pong(void *arg)
{
    bench *b = arg;
    for (;;) {
        b->counter++;
        nmrh_fiber_switch(&b->f, &b->main);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    bench b = {0};
    nmrh_fiber_init_main(&b.main);
    if (nmrh_fiber_create(&b.f, 0, pong, &b) != 0) {
        fprintf(stderr, "nmrh_fiber_create failed\n");
        return 1;
    }

    for (int i = 0; i < ROUND_TRIPS / 10; i++) /* warm up caches and the branch predictor */
        nmrh_fiber_switch(&b.main, &b.f);

    double ns[RUNS];
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < ROUND_TRIPS; i++)
            nmrh_fiber_switch(&b.main, &b.f);
        uint64_t t1 = now_ns();
        ns[r] = (double)(t1 - t0) / (2.0 * ROUND_TRIPS);
    }
    uint64_t expect = (uint64_t)ROUND_TRIPS / 10 + (uint64_t)RUNS * ROUND_TRIPS;
    if (b.counter != expect) {
        fprintf(stderr, "fiber ran %llu times, expected %llu\n", (unsigned long long)b.counter,
                (unsigned long long)expect);
        return 1;
    }
    qsort(ns, RUNS, sizeof ns[0], cmp_double);
    printf("fiber switch (%s backend): median %.2f ns, min %.2f ns, max %.2f ns per one-way switch "
           "(%d runs x %d round trips)\n",
           NMRH_FIBER_BACKEND_ASM ? "asm" : "ucontext", ns[RUNS / 2], ns[0], ns[RUNS - 1], RUNS,
           ROUND_TRIPS);

    /* The fiber is parked inside pong forever; destroying it mid-run is part of the contract. */
    nmrh_fiber_destroy(&b.f);
    return 0;
}
