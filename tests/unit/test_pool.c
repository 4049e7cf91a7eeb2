/*
 * World pools change nothing a run does. Every sequence of the given directories (the scenario
 * corpus, clean runs, and the regression reproducers, which end in findings with threads
 * abandoned mid-stack) is replayed in a fresh world and then in pooled worlds, in file order and
 * again in reverse order, so each pooled run inherits stacks and world objects from a different
 * predecessor: result, finding and trace text must be byte-identical every time. After each
 * pooled run every stack the pool keeps must read as zeros, which checks that clearing only what a
 * thread used (its recorded depth plus the slack) misses nothing. A fiber that goes deep without
 * recording its depth must still come back clean.
 *
 * Usage: test_pool DIR...   (a file named <target>.nmrseq runs on that target, any other on echo;
 * reproducers of sanitizer findings are skipped, since the sanitizer ends the process)
 */
#include "../support/check.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmrh/fiber.h"
#include "nmrh/seq.h"
#include "nmrh/session.h"
#include "nmrh/targets.h"

typedef struct outcome {
    int result;
    char signature[160];
    char *trace;
    size_t trace_len;
} outcome;

typedef struct entry {
    char path[512];
    const nmrh_target *target;
    nmrh_seq *seq;
    outcome fresh;
} entry;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n + 1 >= cap) {
            cap = cap ? cap * 2 : 4096;
            char *b = realloc(buf, cap);
            if (!b) break;
            buf = b;
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
    } while (r > 0);
    fclose(f);
    if (buf) buf[n] = '\0'; /* the expect-line check uses strstr */
    *len = n;
    return buf;
}

static outcome run(const nmrh_seq *seq, nmrh_world_pool *pool)
{
    outcome o = {0};
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.pool = pool;
    nmrh_session s;
    o.result = nmrh_session_run(&s, seq, &cfg);
    const nmrh_finding *f = nmrh_world_finding(s.world);
    if (f) snprintf(o.signature, sizeof o.signature, "%s", f->signature);
    FILE *m = open_memstream(&o.trace, &o.trace_len);
    if (m) {
        nmrh_world_print_trace(s.world, m);
        fclose(m);
    }
    nmrh_session_destroy(&s);
    return o;
}

static bool same(const outcome *a, const outcome *b)
{
    return a->result == b->result && strcmp(a->signature, b->signature) == 0 && a->trace_len == b->trace_len &&
           a->trace && b->trace && memcmp(a->trace, b->trace, a->trace_len) == 0;
}

static int load_dir(check_tally *t, const char *dir, entry **list, int *n)
{
    DIR *d = opendir(dir);
    CHECK(t, d != NULL);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 8 || strcmp(e->d_name + len - 7, ".nmrseq") != 0) continue;
        entry *l = realloc(*list, (size_t)(*n + 1) * sizeof *l);
        if (!l) break;
        *list = l;
        entry *x = &l[*n];
        memset(x, 0, sizeof *x);
        snprintf(x->path, sizeof x->path, "%s/%s", dir, e->d_name);
        char stem[128];
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 7), e->d_name);
        x->target = nmrh_target_find(stem);
        if (!x->target) x->target = nmrh_target_find("echo");
        size_t size = 0;
        char *text = read_file(x->path, &size);
        /* A sanitizer finding ends the process (as in `nmrh replay`): only the oracle's are kept. */
        if (text && (strstr(text, "# expect: ASAN-") || strstr(text, "# expect: UBSAN-"))) {
            free(text);
            continue;
        }
        x->seq = malloc(sizeof *x->seq);
        nmrh_seq_error err;
        bool ok = text && x->seq && nmrh_seq_parse(x->seq, x->target, text, size, &err);
        free(text);
        if (!ok) {
            fprintf(stderr, "%s: cannot load\n", x->path);
            free(x->seq);
            CHECK(t, ok);
            continue;
        }
        (*n)++;
    }
    closedir(d);
    return *n;
}

static void test_pooled_runs(check_tally *t, entry *list, int n)
{
    for (int i = 0; i < n; i++) list[i].fresh = run(list[i].seq, NULL);
    nmrh_world_pool *pool = nmrh_world_pool_create();
    CHECK(t, pool != NULL);
    if (!pool) return;
    int findings = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < n; k++) {
            entry *x = &list[pass == 0 ? k : n - 1 - k];
            outcome o = run(x->seq, pool);
            if (!same(&o, &x->fresh)) fprintf(stderr, "%s: pooled run differs from a fresh world's\n", x->path);
            CHECK(t, same(&o, &x->fresh));
            findings += o.result == 0;
            size_t dirty = 0;
            uint32_t stacks = nmrh_world_pool_stacks(pool, &dirty);
            if (dirty) fprintf(stderr, "%s: %zu bytes of the pool's %u stacks are not zero\n", x->path, dirty, stacks);
            CHECK(t, stacks > 0 && dirty == 0);
            free(o.trace);
        }
    }
    nmrh_world_pool_destroy(pool);
    printf("%d sequences, %d pooled runs ending in a finding\n", n, findings);
    CHECK(t, n > 0);
}

/* A fiber that goes deep with no switch on the way (nothing records its depth) and ends. */
typedef struct deep {
    nmrh_fiber main, f;
} deep;

static int recurse(int depth)
{
    volatile char buf[1024];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)(depth + (int)i + 1);
    return depth ? recurse(depth - 1) + buf[depth % 1024] : buf[0];
}

static void deep_entry(void *arg)
{
    deep *d = arg;
    volatile int sink = recurse(100); /* ~100 KiB under the deepest point a switch recorded */
    (void)sink;
    nmrh_fiber_exit(&d->f, &d->main);
}

static void test_deep_fiber(check_tally *t)
{
    deep d;
    nmrh_fiber_init_main(&d.main);
    CHECK(t, nmrh_fiber_create(&d.f, 256 * 1024, deep_entry, &d) == 0);
    nmrh_fiber_switch(&d.main, &d.f);
    nmrh_fiber_stack s = nmrh_fiber_take_stack(&d.f);
    CHECK(t, s.map != NULL);
    CHECK(t, nmrh_fiber_stack_dirty_bytes(s) == 0);
    nmrh_fiber_stack_free(s);
}

int main(int argc, char **argv)
{
    check_tally t = {0, 0, "pool"};
    entry *list = NULL;
    int n = 0;
    for (int i = 1; i < argc; i++) load_dir(&t, argv[i], &list, &n);
    test_pooled_runs(&t, list, n);
    test_deep_fiber(&t);
    for (int i = 0; i < n; i++) {
        free(list[i].seq);
        free(list[i].fresh.trace);
    }
    free(list);
    return check_summary(&t, "test_pool");
}
