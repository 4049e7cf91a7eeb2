/*
 * Determinism of a module with globals, in one process: a sequence replayed before and after
 * thousands of other runs (random binary sequences, as a fuzzer feeds them) gives a byte-identical
 * trace, and each DriverEntry of that sequence sees the driver's initialised globals ("next flow
 * 1000"). Without the restore of the module's globals the second replay would see the counters
 * the other runs left behind.
 *
 * usage: flowdrv_determinism SEQUENCE.nmrseq RUNS
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmrh/module_image.h"
#include "nmrh/session.h"

extern const nmrh_target nmrh_target_flowdrv;

static char *trace_of(const nmrh_seq *seq, int *clean)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    nmrh_session s;
    int r = nmrh_session_run(&s, seq, NULL);
    if (clean) *clean = r == 1;
    if (out) {
        nmrh_world_print_trace(s.world, out);
        fclose(out);
    }
    nmrh_session_destroy(&s);
    return text;
}

static uint64_t next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p++) n++;
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s SEQUENCE.nmrseq RUNS\n", argv[0]);
        return 2;
    }
    static char text[65536];
    FILE *f = fopen(argv[1], "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    fclose(f);
    static nmrh_seq seq, other;
    nmrh_seq_error err;
    if (!nmrh_seq_parse(&seq, &nmrh_target_flowdrv, text, n, &err)) {
        fprintf(stderr, "%s:%u:%u: %s\n", argv[1], err.line, err.col, err.message);
        return 2;
    }
    const nmrh_module_kind *driver = nmrh_target_flowdrv.kinds[0];
    if (!driver->image || nmrh_module_image_saved_bytes(driver->image) == 0) {
        fprintf(stderr, "FAIL: the driver's kind has no saved globals\n");
        return 1;
    }

    int clean1, clean2;
    char *first = trace_of(&seq, &clean1);
    int loads = count(first, "DriverEntry, next flow");
    int fresh = count(first, "DriverEntry, next flow 1000, 0 verdicts so far");
    uint64_t state = 1;
    unsigned long runs = strtoul(argv[2], NULL, 10), findings = 0;
    for (unsigned long i = 0; i < runs; i++) {
        uint8_t bytes[256];
        size_t size = 16 + next(&state) % (sizeof bytes - 16);
        for (size_t j = 0; j < size; j++) bytes[j] = (uint8_t)next(&state);
        nmrh_seq_decode(&other, &nmrh_target_flowdrv, bytes, size);
        int clean;
        free(trace_of(&other, &clean));
        findings += !clean;
    }
    char *second = trace_of(&seq, &clean2);

    printf("%s: %d DriverEntry calls, %d with initial globals; %lu other runs (%lu with findings); "
           "%lu bytes of globals restored per load; traces %zu and %zu bytes\n",
           argv[1], loads, fresh, runs, findings, nmrh_module_image_saved_bytes(driver->image), strlen(first),
           strlen(second));
    int ok = 1;
    if (!clean1 || !clean2) ok = 0, printf("FAIL: the sequence has a finding\n");
    if (loads == 0 || fresh != loads) ok = 0, printf("FAIL: a DriverEntry saw globals left from an earlier load\n");
    if (strcmp(first, second) != 0) ok = 0, printf("FAIL: the two traces differ\n");
    free(first);
    free(second);
    puts(ok ? "PASS: identical traces, every load from initial globals" : "FAIL");
    return ok ? 0 : 1;
}
