/* Cost of one fiber switch: main and a fiber ping-pong; prints the median over 31 runs of
 * 1,000,000 round trips (two one-way switches each). --quick: 3 runs of 1000 round trips. */
#include "bench_util.h"

#include "nmrh/fiber.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { MAX_RUNS = 31 };

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

int main(int argc, char **argv)
{
    const bool quick = bench_quick(argc, argv);
    const int runs = quick ? 3 : MAX_RUNS, round_trips = quick ? 1000 : 1000000;
    bench b = {0};
    nmrh_fiber_init_main(&b.main);
    if (nmrh_fiber_create(&b.f, 0, pong, &b) != 0) {
        fprintf(stderr, "nmrh_fiber_create failed\n");
        return 1;
    }

    for (int i = 0; i < round_trips / 10; i++) /* warm up caches and the branch predictor */
        nmrh_fiber_switch(&b.main, &b.f);

    double ns[MAX_RUNS];
    for (int r = 0; r < runs; r++) {
        uint64_t t0 = bench_now_ns();
        for (int i = 0; i < round_trips; i++)
            nmrh_fiber_switch(&b.main, &b.f);
        uint64_t t1 = bench_now_ns();
        ns[r] = (double)(t1 - t0) / (2.0 * round_trips);
    }
    uint64_t expect = (uint64_t)round_trips / 10 + (uint64_t)runs * round_trips;
    if (b.counter != expect) {
        fprintf(stderr, "fiber ran %llu times, expected %llu\n", (unsigned long long)b.counter,
                (unsigned long long)expect);
        return 1;
    }
    double median = bench_median(ns, runs);
    printf("fiber switch (%s backend): median %.2f ns, min %.2f ns, max %.2f ns per one-way switch "
           "(%d runs x %d round trips)\n",
           NMRH_FIBER_BACKEND_ASM ? "asm" : "ucontext", median, ns[0], ns[runs - 1], runs, round_trips);

    /* The fiber is parked inside pong forever; destroying it mid-run is part of the contract. */
    nmrh_fiber_destroy(&b.f);
    return 0;
}
