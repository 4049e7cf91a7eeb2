/*
 * The bug benchmark's random baseline (bench/bugbench.py, docs/benchmarks.md): the same fuzz
 * target as fuzz_<target> (fuzz_target.c is compiled into this program), driven without
 * libFuzzer and without coverage feedback. It loops: draw a random byte string from a seeded
 * PRNG (a random length up to --max-len bytes, a multiple of 4, so a whole number of records
 * whose `decide` records make a random schedule), replay it, until --time seconds have passed.
 * A finding is saved under $NMRH_FINDINGS_DIR and aborts the process, exactly as in the
 * libFuzzer target; a clean run exits 0.
 *
 * usage: random_<target> [--seed N] [--time SECONDS] [--max-len BYTES]
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nmrh/chooser.h"

/* An AddressSanitizer report ends the process through the sanitizer's death callback, not
   SIGABRT; the execution count is printed from there too. */
#if defined(__SANITIZE_ADDRESS__)
#define RANDOM_DRIVER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RANDOM_DRIVER_ASAN 1
#endif
#endif
#ifdef RANDOM_DRIVER_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Executions so far, reported on a clean exit and, from the SIGABRT handler, on a finding. */
static unsigned long long executions;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Async-signal-safe: "random_driver: N executions before the finding\n" with write(2). */
static void print_executions(void)
{
    char buf[96], digits[24];
    unsigned long long v = executions;
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && nd < (int)sizeof digits);
    const char *head = "random_driver: ", *tail = " executions before the finding\n";
    size_t n = 0;
    for (const char *p = head; *p; p++) buf[n++] = *p;
    while (nd) buf[n++] = digits[--nd];
    for (const char *p = tail; *p && n < sizeof buf; p++) buf[n++] = *p;
    ssize_t wrote = write(STDERR_FILENO, buf, n);
    (void)wrote;
}

static void on_abort(int sig)
{
    print_executions();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int parse_ull(const char *s, unsigned long long *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (!end || *end) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long long seed = 1, seconds = 60, max_len = 512;
    for (int i = 1; i < argc; i += 2) {
        unsigned long long *dst = NULL;
        if (strcmp(argv[i], "--seed") == 0) dst = &seed;
        else if (strcmp(argv[i], "--time") == 0) dst = &seconds;
        else if (strcmp(argv[i], "--max-len") == 0) dst = &max_len;
        if (!dst || i + 1 >= argc || parse_ull(argv[i + 1], dst) != 0) {
            fprintf(stderr, "usage: %s [--seed N] [--time SECONDS] [--max-len BYTES]\n", argv[0]);
            return 2;
        }
    }
    max_len -= max_len % 4;
    if (max_len < 4 || max_len > 4096) {
        fprintf(stderr, "%s: --max-len takes 4 to 4096 bytes\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    signal(SIGABRT, on_abort);
#ifdef RANDOM_DRIVER_ASAN
    __sanitizer_set_death_callback(print_executions);
#endif

    uint8_t *buf = malloc(max_len);
    if (!buf) return 2;
    uint64_t state = seed;
    double start = now_seconds(), end = start + (double)seconds;
    fprintf(stderr, "random_driver: seed %llu, %llu s, inputs up to %llu bytes\n", seed, seconds, max_len);
    while (now_seconds() < end) {
        size_t len = 4 * (size_t)(1 + nmrh_splitmix64(&state) % (max_len / 4));
        for (size_t i = 0; i < len; i += 8) {
            uint64_t r = nmrh_splitmix64(&state);
            size_t n = len - i < 8 ? len - i : 8;
            memcpy(buf + i, &r, n);
        }
        LLVMFuzzerTestOneInput(buf, len);
        executions++;
    }
    fprintf(stderr, "random_driver: %llu executions in %.1f s, no finding\n", executions, now_seconds() - start);
    free(buf);
    return 0;
}
