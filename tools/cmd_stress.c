/*
 * nmrh stress: sequences on real threads. Every logical thread of a sequence is an OS thread,
 * module code runs in parallel, and the harness injects yields and short sleeps at its scheduling
 * points (cfg.real_threads, core/src/threads.c). Same interpreter, modules and oracle as replay
 * and fuzz; what it adds is races below the controlled scheduler's granularity, such as a plain
 * increment racing another processor, which ThreadSanitizer reports (the tsan preset).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "nmrh/finding_file.h"
#include "nmrh/session.h"
#include "pathlist.h"
#include "seqfile.h"

static const char stress_help[] =
    "usage: nmrh stress [--target NAME] [--time SECONDS] [--iterations N] [--seed N]\n"
    "                   [--max-delay-us N] [--out DIR] [FILE|DIR...]\n"
    "\n"
    "Runs sequences on real threads: each logical thread is an OS thread, module code runs in\n"
    "parallel, and random yields and delays are injected at every scheduling point. The NMR model\n"
    "and the oracle check every step as in 'nmrh replay'; built with the tsan preset, data races in\n"
    "module code are findings too (signature TSAN-<kind>@<function>). Runs the given sequence files\n"
    "(directories: every file in them) round robin, or random sequences when none is given, until\n"
    "the time or iteration budget is spent or the first finding. Runs are not reproducible; the\n"
    "finding's sequence is saved, and a logic bug it shows usually replays with 'nmrh replay'.\n"
    "\n"
    "  --target NAME      module kinds to use (default: echo; see 'nmrh targets')\n"
    "  --time SECONDS     how long to run (default 60)\n"
    "  --iterations N     stop after N sequences (default: no limit)\n"
    "  --seed N           seed of random sequences and delays (default: from the clock; printed)\n"
    "  --max-delay-us N   longest injected sleep in microseconds (default 50)\n"
    "  --out DIR          where findings are saved (default: nmrh-out/stress-TARGET)\n"
    "\n"
    "Exit status: 0 no finding, 1 a finding (saved under DIR/<signature>/), 2 bad input or usage.\n";

typedef struct stress_opts {
    const char *target_name, *out;
    long seconds, iterations, max_delay_us;
    unsigned long long seed;
    pathlist files;
} stress_opts;

/* What runs now, for the finding hook (called under the world lock, before the process could
   die of a sanitizer report). */
typedef struct stress_run {
    const stress_opts *opts;
    const nmrh_seq *seq;
    const uint8_t *data;
    size_t size;
    char source[4096];
} stress_run;

static void save_finding(nmrh_world *w, const nmrh_finding *f, void *user)
{
    (void)w;
    const stress_run *r = user;
    char dir[160];
    nmrh_signature_dirname(f->signature, dir, sizeof dir);
    if (nmrh_finding_save(r->opts->out, r->opts->target_name, f, r->seq, r->data, r->size) == 0)
        fprintf(stderr, "nmrh stress: finding %s while running %s, saved under %s/%s/\n", f->signature, r->source,
                r->opts->out, dir);
    else
        fprintf(stderr, "nmrh stress: cannot save the finding under %s: %s\n", r->opts->out, strerror(errno));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_options(int argc, char **argv, stress_opts *o)
{
    const char *time_s = "60", *iter_s = "0", *seed_s = NULL, *delay_s = "50";
    bool bad = false;
    o->target_name = "echo";
    o->out = NULL;
    for (int i = 1; i < argc; i++) {
        if (tool_is_help(argv[i])) {
            fputs(stress_help, stdout);
            return EXIT_CLEAN;
        }
        if (tool_option_value(argc, argv, &i, "--target", &o->target_name, &bad) ||
            tool_option_value(argc, argv, &i, "--time", &time_s, &bad) ||
            tool_option_value(argc, argv, &i, "--iterations", &iter_s, &bad) ||
            tool_option_value(argc, argv, &i, "--seed", &seed_s, &bad) ||
            tool_option_value(argc, argv, &i, "--max-delay-us", &delay_s, &bad) ||
            tool_option_value(argc, argv, &i, "--out", &o->out, &bad))
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "nmrh stress: unknown option '%s'\n", argv[i]);
            bad = true;
        } else if (pathlist_add(&o->files, argv[i]) != 0) {
            bad = true;
        }
    }
    long seed = 0;
    if (!bad && !tool_parse_long(time_s, 1, &o->seconds)) {
        fprintf(stderr, "nmrh stress: --time takes a positive number of seconds, not '%s'\n", time_s);
        bad = true;
    }
    if (!bad && !tool_parse_long(iter_s, 0, &o->iterations)) {
        fprintf(stderr, "nmrh stress: --iterations takes a number, not '%s'\n", iter_s);
        bad = true;
    }
    if (!bad && !tool_parse_long(delay_s, 1, &o->max_delay_us)) {
        fprintf(stderr, "nmrh stress: --max-delay-us takes a positive number, not '%s'\n", delay_s);
        bad = true;
    }
    if (!bad && seed_s && !tool_parse_long(seed_s, 0, &seed)) {
        fprintf(stderr, "nmrh stress: --seed takes a number, not '%s'\n", seed_s);
        bad = true;
    }
    o->seed = seed_s ? (unsigned long long)seed : (unsigned long long)time(NULL);
    if (bad) {
        fputs(stress_help, stderr);
        return EXIT_USAGE;
    }
    return -1;
}

/* A random sequence shaped for real threads: every module kind of the target declared once and
   loaded, then up to 24 threads of calls, loads, unloads, completes and knob changes, all started
   at once (they run as soon as they start), then every module unloaded. */
static void random_sequence(nmrh_seq *s, const nmrh_target *target, uint64_t *rng)
{
    nmrh_seq_init(s, target);
    unsigned nmod = target->nkinds < NMRH_SEQ_MAX_MODULES ? target->nkinds : NMRH_SEQ_MAX_MODULES;
    for (unsigned k = 0; k < nmod; k++) nmrh_seq_append(s, (nmrh_record){NMRH_OP_MODULE, (uint8_t)k, 0, 0});
    for (unsigned k = 0; k < nmod; k++) nmrh_seq_append(s, (nmrh_record){NMRH_OP_START, NMRH_ACT_LOAD, (uint8_t)k, 0});
    unsigned actions = 4 + (unsigned)(nmrh_splitmix64(rng) % 21);
    for (unsigned i = 0; i < actions; i++) {
        uint64_t r = nmrh_splitmix64(rng);
        uint8_t m = (uint8_t)((r >> 8) % nmod), v = (uint8_t)(r >> 16);
        switch (r % 16) {
        case 0: nmrh_seq_append(s, (nmrh_record){NMRH_OP_START, NMRH_ACT_LOAD, m, 0}); break;
        case 1: nmrh_seq_append(s, (nmrh_record){NMRH_OP_START, NMRH_ACT_UNLOAD, m, 0}); break;
        case 2: nmrh_seq_append(s, (nmrh_record){NMRH_OP_START, NMRH_ACT_COMPLETE, m, 0}); break;
        case 3: nmrh_seq_append(s, (nmrh_record){NMRH_OP_RUN_ALL, 0, 0, 0}); break;
        case 4: nmrh_seq_append(s, (nmrh_record){NMRH_OP_KNOB, (uint8_t)(r >> 24), (uint8_t)(r >> 32), 0}); break;
        default: nmrh_seq_append(s, (nmrh_record){NMRH_OP_START, NMRH_ACT_CALL, m, v}); break;
        }
    }
    for (unsigned k = 0; k < nmod; k++) nmrh_seq_append(s, (nmrh_record){NMRH_OP_START, NMRH_ACT_UNLOAD, (uint8_t)k, 0});
}

/* The next sequence: a file round robin, or a random one. False when a file does not load
   (reported by seqfile_load). */
static bool next_sequence(const stress_opts *o, const nmrh_target *target, unsigned long long n, uint64_t *rng,
                          seqfile *file, nmrh_seq *random_seq, uint8_t *bytes, size_t bytes_size, stress_run *run)
{
    if (o->files.count) {
        const char *path = o->files.paths[n % o->files.count];
        if (!seqfile_load(file, path, target)) return false;
        run->seq = file->seq;
        run->data = NULL;
        run->size = 0;
        snprintf(run->source, sizeof run->source, "%s", path);
        return true;
    }
    random_sequence(random_seq, target, rng);
    run->seq = random_seq;
    run->data = bytes;
    run->size = nmrh_seq_encode(random_seq, bytes, bytes_size);
    snprintf(run->source, sizeof run->source, "random sequence #%llu", n);
    return true;
}

int cmd_stress(int argc, char **argv)
{
    stress_opts o;
    memset(&o, 0, sizeof o);
    int early = parse_options(argc, argv, &o);
    const nmrh_target *target = early < 0 ? tool_target(o.target_name) : NULL;
    if (early >= 0 || !target) {
        pathlist_free(&o.files);
        return early >= 0 ? early : EXIT_USAGE;
    }
    char default_out[256];
    if (!o.out) {
        snprintf(default_out, sizeof default_out, "nmrh-out/stress-%s", o.target_name);
        o.out = default_out;
    }
    nmrh_seq *random_seq = malloc(sizeof *random_seq);
    size_t bytes_size = NMRH_SEQ_MAX_RECORDS * NMRH_SEQ_RECORD_SIZE;
    uint8_t *bytes = malloc(bytes_size);
    if (!random_seq || !bytes) {
        fprintf(stderr, "nmrh stress: out of memory\n");
        free(random_seq);
        free(bytes);
        pathlist_free(&o.files);
        return EXIT_USAGE;
    }
    printf("nmrh stress: target %s, %s, %ld s, seed %llu\n", o.target_name,
           o.files.count ? "sequence files" : "random sequences", o.seconds, o.seed);
    fflush(stdout);

    uint64_t rng = o.seed;
    stress_run run;
    memset(&run, 0, sizeof run);
    run.opts = &o;
    int status = EXIT_CLEAN;
    unsigned long long n = 0, events = 0, threads = 0;
    double start = now_seconds(), next_report = start + 5;
    while ((o.iterations == 0 || n < (unsigned long long)o.iterations) && now_seconds() - start < (double)o.seconds) {
        seqfile file = {0};
        if (!next_sequence(&o, target, n, &rng, &file, random_seq, bytes, bytes_size, &run)) {
            seqfile_free(&file);
            status = EXIT_USAGE;
            break;
        }
        nmrh_config cfg;
        nmrh_config_init(&cfg);
        cfg.real_threads = true;
        cfg.seed = o.seed * 0x2545F4914F6CDD1DULL + n;
        cfg.max_delay_us = (uint32_t)o.max_delay_us;
        cfg.on_finding = save_finding;
        cfg.user = &run;
        nmrh_chooser_random chooser;
        nmrh_chooser_random_init(&chooser, cfg.seed);
        nmrh_session s;
        int r = nmrh_session_run_with(&s, run.seq, &cfg, &chooser.base);
        n++;
        if (r >= 0) {
            nmrh_world_stats st = nmrh_world_get_stats(s.world);
            events += st.model_events;
            threads += nmrh_world_thread_count(s.world);
        }
        if (r < 0) {
            fprintf(stderr, "nmrh stress: out of memory running %s\n", run.source);
            status = EXIT_USAGE;
        } else if (r == 0) {
            const nmrh_finding *f = nmrh_world_finding(s.world);
            printf("FINDING %s: %s\n  while running %s (iteration %llu)\n", f->signature, f->message, run.source, n);
            if (f->details) fprintf(stderr, "%s\n", f->details);
            status = EXIT_FINDING;
        }
        nmrh_session_destroy(&s);
        seqfile_free(&file);
        if (status != EXIT_CLEAN) break;
        double now = now_seconds();
        if (now >= next_report) {
            printf("[%4.0fs] sequences %llu (%.0f/s)  threads %llu  model events %llu\n", now - start, n,
                   (double)n / (now - start), threads, events);
            fflush(stdout);
            next_report = now + 5;
        }
    }
    double elapsed = now_seconds() - start;
    printf("nmrh stress: %llu sequences in %.1f s (%llu threads, %llu model events): %s\n", n, elapsed, threads,
           events, status == EXIT_FINDING ? "finding (see above)" : status == EXIT_CLEAN ? "no finding" : "stopped on an error");
    free(random_seq);
    free(bytes);
    pathlist_free(&o.files);
    return status;
}
