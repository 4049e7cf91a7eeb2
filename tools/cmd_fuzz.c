/*
 * nmrh fuzz: the main job. Runs the target's libFuzzer binary in fork mode (so one finding does
 * not end the campaign), shows progress, and at the end minimises one input per finding
 * signature into a reproducer and prints a summary.
 *
 * Layout of --out DIR:  corpus/ (kept between runs)  findings/<signature>/  suppressed/<signature>/
 *                       artifacts/  fuzz.log
 *
 * A signature seen --continue-after times no longer stops the input that hits it (libFuzzer may
 * keep that input and explore from it), so bugs behind a first symptom are reached; signatures
 * of the --suppress file are counted but are not findings (nmrh/finding_policy.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "coverage_table.h"
#include "minimize.h"
#include "probe.h"
#include "nmrh/finding_file.h"
#include "nmrh/finding_policy.h"
#include "nmrh/session.h"
#include "seqfile.h"

static const char fuzz_help[] =
    "usage: nmrh fuzz [--target NAME] [--time SECONDS] [--jobs N] [--out DIR] [options]\n"
    "\n"
    "Fuzzes the target's module kinds with libFuzzer: every input is a sequence of NMR events and\n"
    "schedule decisions, replayed in a deterministic world and checked against the NMR contract.\n"
    "Prints progress while it runs and a summary at the end: each finding's signature, how often it\n"
    "was hit, and a minimised reproducer to replay with 'nmrh replay'.\n"
    "\n"
    "  --target NAME          module kinds to fuzz (default: echo; 'nmrh targets' lists them)\n"
    "  --time SECONDS         how long to fuzz (default 60)\n"
    "  --jobs N               parallel fuzzing processes (default 1)\n"
    "  --out DIR              corpus, findings and logs (default: nmrh-out/TARGET)\n"
    "  --minimize-time SECS   time limit for minimising each finding (default 60; 0 = do not minimise)\n"
    "  --seed N               libFuzzer seed, for a reproducible campaign (default: random)\n"
    "  --fuzzer PATH          the libFuzzer binary (default: fuzz/fuzz_TARGET next to this tool)\n"
    "  --dict FILE            libFuzzer dictionary (default: fuzz/TARGET.dict next to this tool, if any)\n"
    "  --seeds DIR            binary seed inputs (default: fuzz/seeds next to this tool, if any)\n"
    "  --suppress FILE        signatures accepted by design, one a line with the reason after it\n"
    "                         ('SIGNATURE  REASON'; a trailing * matches a prefix): counted and shown,\n"
    "                         not findings, and fuzzing goes on past them\n"
    "  --continue-after N     after N saved hits of a signature, inputs that hit it again are recorded\n"
    "                         and fuzzed on instead of being handled as crashes, so bugs behind it are\n"
    "                         found (default 1; 'never' = every hit is a crash). Sanitizer reports\n"
    "                         always end their run\n"
    "  -- ARGS                further arguments passed to libFuzzer as they are\n"
    "\n"
    "Exit status: 0 no finding, 1 findings (reproducers under DIR/findings), 2 bad usage or setup.\n";

typedef struct fuzz_opts {
    const char *target, *out, *fuzzer, *seed, *dict, *seeds, *suppress;
    long seconds, jobs, minimize_seconds, continue_after;
    int nextra;
    char **extra;
} fuzz_opts;

typedef struct fuzz_stats {
    unsigned long long execs, cov, ft, corpus, crashes;
    int seen;
} fuzz_stats;

typedef struct finding_summary {
    char dir[PATH_MAX];
    char signature[160];
    char message[384];
    char bug[160];             /* the group ("# bug:" of its saved inputs) */
    unsigned long long hits;
    char reproducer[PATH_MAX];
    unsigned records;
    int minimized;
} finding_summary;

/* snprintf for paths and messages: truncation (a path longer than PATH_MAX) just shortens the
   text; a vsnprintf wrapper, so gcc's format-truncation analysis leaves the call sites alone. */
__attribute__((format(printf, 3, 4))) static int bounded_printf(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n;
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The build puts fuzz targets in <build>/fuzz and this tool in <build>/tools. */
static void build_dir_file(char *out, size_t size, const char *rel)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        bounded_printf(out, size, "%s", rel);
        return;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    bounded_printf(out, size, "%s/../%s", self, rel);
}

/* Fork mode's status line: "#1530: cov: 402 ft: 1081 corp: 114 exec/s 765 oom/timeout/crash: 0/0/1 time: 3s ..." */
static void parse_stats(const char *line, fuzz_stats *st)
{
    unsigned long long execs, cov, ft, corp, eps, oom, timeout, crash, t;
    if (sscanf(line, "#%llu: cov: %llu ft: %llu corp: %llu exec/s %llu oom/timeout/crash: %llu/%llu/%llu time: %llus", &execs,
               &cov, &ft, &corp, &eps, &oom, &timeout, &crash, &t) == 9) {
        /* libFuzzer's exec/s and time are its own (rounded, per job); the tool divides the
           executions by its own clock instead (elapsed_ms). */
        (void)eps;
        (void)t;
        *st = (fuzz_stats){execs, cov, ft, corp, crash, 1};
    }
}

static unsigned long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
}

/* Executions per second over the whole run so far: executions divided by elapsed time. */
static unsigned long long per_second(unsigned long long execs, unsigned long long elapsed_ms)
{
    return elapsed_ms ? execs * 1000ull / elapsed_ms : 0;
}

static unsigned long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

/* Findings so far: signature directories and total hits. */
static void count_findings(const char *dir, int *signatures, unsigned long long *hits)
{
    *signatures = 0;
    *hits = 0;
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char p[PATH_MAX];
        bounded_printf(p, sizeof p, "%s/%s/hits", dir, e->d_name);
        unsigned long long h = file_size(p);
        if (h) {
            (*signatures)++;
            *hits += h;
        }
    }
    closedir(d);
}

/* Protocol coverage of the corpus for the progress lines, added incrementally. Corpus inputs
   replay safely in this process: they ran in the fuzz target without a crash (at most with a
   known or suppressed oracle finding, which stops a world cleanly; sanitizer reports always end
   their process, so such inputs never reach the corpus). */
typedef struct corpus_scan {
    coverage_table table;
    char **seen;
    size_t nseen, cap;
} corpus_scan;

static bool scan_seen(corpus_scan *s, const char *name)
{
    for (size_t i = 0; i < s->nseen; i++)
        if (strcmp(s->seen[i], name) == 0) return true;
    return false;
}

static void scan_corpus(corpus_scan *s, const char *dir, const nmrh_target *target, bool final)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || scan_seen(s, e->d_name)) continue;
        char path[PATH_MAX];
        bounded_printf(path, sizeof path, "%s/%s", dir, e->d_name);
        /* libFuzzer writes corpus files in place: one changed in the last 2 s may be half
           written; it is read at the next scan (the summary counts the final corpus afresh,
           after libFuzzer has exited). */
        struct stat st;
        if (!final && (stat(path, &st) != 0 || st.st_mtime + 2 > time(NULL))) continue;
        if (s->nseen == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 256;
            char **grown = realloc(s->seen, cap * sizeof *grown);
            if (!grown) break;
            s->seen = grown;
            s->cap = cap;
        }
        s->seen[s->nseen++] = strdup(e->d_name);
        /* Read as nmrh coverage reads it (seqfile_load: text or binary by content). */
        seqfile sf;
        if (seqfile_load(&sf, path, target)) {
            nmrh_session session;
            if (nmrh_session_run(&session, sf.seq, NULL) >= 0)
                coverage_add(&s->table, nmrh_world_transitions(session.world));
            nmrh_session_destroy(&session);
        }
        seqfile_free(&sf);
    }
    closedir(d);
}

static void scan_free(corpus_scan *s)
{
    for (size_t i = 0; i < s->nseen; i++) free(s->seen[i]);
    free(s->seen);
}

static void progress(FILE *out, unsigned long long elapsed_ms, const fuzz_stats *st, const corpus_scan *scan, int sigs,
                     unsigned long long hits)
{
    fprintf(out, "[%4llus] execs %llu (%llu/s)  code cov %llu  corpus %llu  protocol %d/%d transitions  findings %llu (%d signature%s)\n",
            elapsed_ms / 1000, st->execs, per_second(st->execs, elapsed_ms), st->cov, st->corpus, coverage_reached(&scan->table),
            NMRH_TRANSITION_COUNT, hits, sigs, sigs == 1 ? "" : "s");
    fflush(out);
}

static pid_t start_fuzzer(const fuzz_opts *o, const char *fuzzer, const char *dict, const char *seeds, char *const corpus,
                          const char *artifacts, const char *findings, const char *suppressed, int *err_fd)
{
    char fork_arg[32], time_arg[48], dict_arg[PATH_MAX + 8], art_arg[PATH_MAX + 20], seed_arg[48];
    bounded_printf(fork_arg, sizeof fork_arg, "-fork=%ld", o->jobs);
    bounded_printf(time_arg, sizeof time_arg, "-max_total_time=%ld", o->seconds);
    bounded_printf(dict_arg, sizeof dict_arg, "-dict=%s", dict);
    bounded_printf(art_arg, sizeof art_arg, "-artifact_prefix=%s/", artifacts);
    bounded_printf(seed_arg, sizeof seed_arg, "-seed=%s", o->seed ? o->seed : "0");
    const char *argv[64];
    int n = 0;
    argv[n++] = fuzzer;
    argv[n++] = fork_arg;
    argv[n++] = "-ignore_crashes=1";
    argv[n++] = "-ignore_timeouts=1";
    argv[n++] = "-ignore_ooms=1";
    /* 128 records: far more than any reproducer needs, and short inputs run fast. */
    argv[n++] = "-max_len=512";
    argv[n++] = time_arg;
    argv[n++] = art_arg;
    if (o->seed) argv[n++] = seed_arg;
    if (dict[0]) argv[n++] = dict_arg;
    for (int i = 0; i < o->nextra && n < 60; i++) argv[n++] = o->extra[i];
    argv[n++] = corpus;
    if (seeds[0]) argv[n++] = seeds;
    argv[n] = NULL;

    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        setenv("NMRH_FINDINGS_DIR", findings, 1);
        setenv("NMRH_SUPPRESSED_DIR", suppressed, 1);
        char after[32];
        bounded_printf(after, sizeof after, "%ld", o->continue_after);
        setenv("NMRH_CONTINUE_AFTER", after, 1);
        if (o->suppress)
            setenv("NMRH_SUPPRESS", o->suppress, 1);
        else
            unsetenv("NMRH_SUPPRESS");
        execv(fuzzer, (char *const *)argv);
        fprintf(stderr, "nmrh fuzz: cannot run %s: %s\n", fuzzer, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    *err_fd = fds[0];
    return pid;
}

/* Reads the fuzzer's output into fuzz.log and the stats until it exits, printing progress. */
static int watch_fuzzer(pid_t pid, int fd, const char *log_path, const char *corpus, const char *findings,
                        const nmrh_target *target, corpus_scan *scan, fuzz_stats *st, unsigned long long start_ms,
                        unsigned long long *elapsed_ms)
{
    FILE *log = fopen(log_path, "w");
    char buf[8192], line[4096];
    size_t line_len = 0;
    unsigned long long last_report = start_ms;
    int status = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, 1000);
        if (r > 0) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n <= 0) break;
            if (log) fwrite(buf, 1, (size_t)n, log);
            for (ssize_t i = 0; i < n; i++) {
                if (buf[i] == '\n' || line_len == sizeof line - 1) {
                    line[line_len] = '\0';
                    parse_stats(line, st);
                    if (strncmp(line, "nmrh fuzz:", 10) == 0 || strstr(line, "ERROR: ") == line)
                        fprintf(stderr, "%s\n", line);
                    line_len = 0;
                } else {
                    line[line_len++] = buf[i];
                }
            }
        } else if (r < 0 && errno != EINTR) {
            break;
        }
        unsigned long long now = now_ms();
        if (now - last_report >= 10000) {
            last_report = now;
            scan_corpus(scan, corpus, target, false);
            int sigs;
            unsigned long long hits;
            count_findings(findings, &sigs, &hits);
            progress(stdout, now - start_ms, st, scan, sigs, hits);
        }
    }
    close(fd);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *elapsed_ms = now_ms() - start_ms;
    if (log) fclose(log);
    return status;
}

/* Reads "# signature: ..." and "# message: ..." from a saved finding's text form. */
static void read_header(const char *path, finding_summary *f)
{
    FILE *in = fopen(path, "r");
    char line[1024];
    if (!in) return;
    while (fgets(line, sizeof line, in) && line[0] == '#') {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "# signature: ", 13) == 0) bounded_printf(f->signature, sizeof f->signature, "%s", line + 13);
        if (strncmp(line, "# message: ", 11) == 0) bounded_printf(f->message, sizeof f->message, "%s", line + 11);
        if (strncmp(line, "# bug: ", 7) == 0) bounded_printf(f->bug, sizeof f->bug, "%s", line + 7);
    }
    fclose(in);
}

/* Smallest saved input of a signature directory (fewest records minimise fastest). */
static bool smallest_input(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    unsigned long long best = ULLONG_MAX;
    if (!d) return false;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".bin") != 0) continue;
        char p[PATH_MAX];
        bounded_printf(p, sizeof p, "%s/%s", dir, e->d_name);
        unsigned long long s = file_size(p);
        if (s < best || (s == best && strcmp(p, out) < 0)) {
            best = s;
            bounded_printf(out, size, "%s", p);
        }
    }
    closedir(d);
    return best != ULLONG_MAX;
}

/* Hits of every signature of the bug `bug` in list[0..n). */
static unsigned long long bug_hits(const finding_summary *list, size_t n, const char *bug)
{
    unsigned long long h = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].bug, bug) == 0) h += list[i].hits;
    return h;
}

/* Bugs by total hits, then signatures of a bug by hits. */
static const finding_summary *sort_list;
static size_t sort_n;
static int by_bug_then_hits(const void *a, const void *b)
{
    const finding_summary *x = a, *y = b;
    if (strcmp(x->bug, y->bug) != 0) {
        unsigned long long hx = bug_hits(sort_list, sort_n, x->bug), hy = bug_hits(sort_list, sort_n, y->bug);
        return hx < hy ? 1 : hx > hy ? -1 : strcmp(x->bug, y->bug);
    }
    return x->hits < y->hits ? 1 : x->hits > y->hits ? -1 : strcmp(x->signature, y->signature);
}

static size_t collect_findings(const char *findings, const fuzz_opts *o, const nmrh_target *target,
                               finding_summary **out)
{
    DIR *d = opendir(findings);
    size_t n = 0, cap = 0;
    finding_summary *list = NULL;
    if (!d) {
        *out = NULL;
        return 0;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char dir[PATH_MAX], input[PATH_MAX] = "", text[PATH_MAX], hits[PATH_MAX];
        bounded_printf(dir, sizeof dir, "%s/%s", findings, e->d_name);
        bounded_printf(hits, sizeof hits, "%s/hits", dir);
        if (!is_dir(dir) || !smallest_input(dir, input, sizeof input)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            finding_summary *grown = realloc(list, cap * sizeof *grown);
            if (!grown) break;
            list = grown;
        }
        finding_summary *f = &list[n++];
        memset(f, 0, sizeof *f);
        bounded_printf(f->dir, sizeof f->dir, "%s", dir);
        bounded_printf(f->signature, sizeof f->signature, "%s", e->d_name);
        f->hits = file_size(hits);
        bounded_printf(text, sizeof text, "%.*s.nmrseq", (int)(strlen(input) - 4), input);
        read_header(text, f);
        if (!f->bug[0]) bounded_printf(f->bug, sizeof f->bug, "%s", f->signature);

        seqfile sf;
        if (!seqfile_load(&sf, input, target)) {
            seqfile_free(&sf);
            continue;
        }
        bounded_printf(f->reproducer, sizeof f->reproducer, "%s/reproducer.nmrseq", dir);
        minimize_stats ms = {0, 0, 0, 0};
        if (o->minimize_seconds > 0 && minimize_sequence(sf.seq, f->signature, (unsigned)o->minimize_seconds, &ms) == 0)
            f->minimized = 1;
        f->records = sf.seq->count;
        /* The message of the minimised run: thread and binding numbers have changed. */
        probe_result last;
        probe_run(sf.seq, 30, &last);
        if (last.status == PROBE_FINDING && strcmp(last.signature, f->signature) == 0)
            bounded_printf(f->message, sizeof f->message, "%s", last.message);
        if (write_reproducer(f->reproducer, sf.seq, f->signature, f->message, target->name) != 0)
            bounded_printf(f->reproducer, sizeof f->reproducer, "%s", text);
        seqfile_free(&sf);
    }
    closedir(d);
    sort_list = list;
    sort_n = n;
    if (n) qsort(list, n, sizeof *list, by_bug_then_hits);
    *out = list;
    return n;
}

/* Signatures of the suppression file seen in this output directory: hits and reason. */
static void print_suppressed(const char *dir, const nmrh_suppression *items, size_t count)
{
    DIR *d = opendir(dir);
    if (!d) return;
    bool header = false;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char hits[PATH_MAX];
        bounded_printf(hits, sizeof hits, "%s/%s/hits", dir, e->d_name);
        unsigned long long h = file_size(hits);
        if (!h) continue;
        const nmrh_suppression *why = nmrh_suppressions_match(items, count, e->d_name);
        if (!header) printf("suppressed:        (accepted by design: not findings)\n");
        header = true;
        printf("  %-40s %llu hit%s  %s\n", e->d_name, h, h == 1 ? "" : "s",
               why ? why->reason : "(suppressed in an earlier run; no longer in the suppression file)");
    }
    closedir(d);
}

static bool parse_args(int argc, char **argv, fuzz_opts *o)
{
    bool bad = false;
    const char *time_s = "60", *jobs_s = "1", *min_s = "60", *after_s = "1";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            o->extra = argv + i + 1;
            o->nextra = argc - i - 1;
            break;
        }
        if (tool_option_value(argc, argv, &i, "--target", &o->target, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--time", &time_s, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--jobs", &jobs_s, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--out", &o->out, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--minimize-time", &min_s, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--seed", &o->seed, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--fuzzer", &o->fuzzer, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--dict", &o->dict, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--seeds", &o->seeds, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--suppress", &o->suppress, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--continue-after", &after_s, &bad)) continue;
        fprintf(stderr, "nmrh fuzz: unexpected argument '%s'\n", argv[i]);
        bad = true;
    }
    if (!bad && !tool_parse_long(time_s, 1, &o->seconds)) {
        fprintf(stderr, "nmrh fuzz: --time takes a positive number of seconds, not '%s'\n", time_s);
        bad = true;
    }
    if (!bad && !tool_parse_long(jobs_s, 1, &o->jobs)) {
        fprintf(stderr, "nmrh fuzz: --jobs takes a positive number, not '%s'\n", jobs_s);
        bad = true;
    }
    if (!bad && !tool_parse_long(min_s, 0, &o->minimize_seconds)) {
        fprintf(stderr, "nmrh fuzz: --minimize-time takes a number of seconds, not '%s'\n", min_s);
        bad = true;
    }
    if (!bad && strcmp(after_s, "never") == 0) {
        o->continue_after = -1;
    } else if (!bad && !tool_parse_long(after_s, 0, &o->continue_after)) {
        fprintf(stderr, "nmrh fuzz: --continue-after takes a number of hits or 'never', not '%s'\n", after_s);
        bad = true;
    }
    long seed;
    if (!bad && o->seed && !tool_parse_long(o->seed, 0, &seed)) {
        fprintf(stderr, "nmrh fuzz: --seed takes a number, not '%s'\n", o->seed);
        bad = true;
    }
    return !bad;
}

int cmd_fuzz(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (tool_is_help(argv[i])) {
            fputs(fuzz_help, stdout);
            return EXIT_CLEAN;
        }
    fuzz_opts o = {"echo", NULL, NULL, NULL, NULL, NULL, NULL, 60, 1, 60, 1, 0, NULL};
    if (!parse_args(argc, argv, &o)) {
        fputs(fuzz_help, stderr);
        return EXIT_USAGE;
    }
    const nmrh_target *target = tool_target(o.target);
    if (!target) return EXIT_USAGE;

    char fuzzer[PATH_MAX], dict[PATH_MAX], seeds[PATH_MAX], out[PATH_MAX], rel[PATH_MAX];
    if (o.fuzzer) {
        bounded_printf(fuzzer, sizeof fuzzer, "%s", o.fuzzer);
    } else {
        bounded_printf(rel, sizeof rel, "fuzz/fuzz_%s", target->name);
        build_dir_file(fuzzer, sizeof fuzzer, rel);
    }
    if (!is_file(fuzzer) || access(fuzzer, X_OK) != 0) {
        fprintf(stderr,
                "nmrh fuzz: no fuzz target at %s\n"
                "  Fuzz targets are built with clang (libFuzzer): cmake --preset asan && cmake --build --preset asan\n"
                "  or name one with --fuzzer PATH.\n",
                fuzzer);
        return EXIT_USAGE;
    }
    if (o.dict) {
        bounded_printf(dict, sizeof dict, "%s", o.dict);
        if (!is_file(dict)) {
            fprintf(stderr, "nmrh fuzz: no dictionary at %s\n", dict);
            return EXIT_USAGE;
        }
    } else {
        bounded_printf(rel, sizeof rel, "fuzz/%s.dict", target->name);
        build_dir_file(dict, sizeof dict, rel);
        if (!is_file(dict)) dict[0] = '\0';
    }
    if (o.seeds) {
        bounded_printf(seeds, sizeof seeds, "%s", o.seeds);
        if (!is_dir(seeds)) {
            fprintf(stderr, "nmrh fuzz: no seed directory at %s\n", seeds);
            return EXIT_USAGE;
        }
    } else {
        build_dir_file(seeds, sizeof seeds, "fuzz/seeds");
        if (!is_dir(seeds)) seeds[0] = '\0';
    }
    if (o.out)
        bounded_printf(out, sizeof out, "%s", o.out);
    else
        bounded_printf(out, sizeof out, "nmrh-out/%s", target->name);

    /* The suppression file is checked here, so a mistake in it is reported once, with its line. */
    nmrh_suppression *suppressions = NULL;
    size_t nsuppressions = 0;
    char abs_suppress[PATH_MAX];
    if (o.suppress) {
        char err[PATH_MAX + 200];
        if (nmrh_suppressions_load(o.suppress, &suppressions, &nsuppressions, err, sizeof err) != 0) {
            fprintf(stderr, "nmrh fuzz: %s\n", err);
            return EXIT_USAGE;
        }
        if (realpath(o.suppress, abs_suppress)) o.suppress = abs_suppress;
    }

    char corpus[PATH_MAX + 16], findings[PATH_MAX + 16], artifacts[PATH_MAX + 16], log_path[PATH_MAX + 16];
    char suppressed[PATH_MAX + 16];
    bounded_printf(suppressed, sizeof suppressed, "%s/suppressed", out);
    bounded_printf(corpus, sizeof corpus, "%s/corpus", out);
    bounded_printf(findings, sizeof findings, "%s/findings", out);
    bounded_printf(artifacts, sizeof artifacts, "%s/artifacts", out);
    bounded_printf(log_path, sizeof log_path, "%s/fuzz.log", out);
    if (nmrh_mkdir_p(corpus) || nmrh_mkdir_p(findings) || nmrh_mkdir_p(artifacts) || nmrh_mkdir_p(suppressed)) {
        fprintf(stderr, "nmrh fuzz: cannot create %s: %s\n", out, strerror(errno));
        return EXIT_USAGE;
    }
    char abs_findings[PATH_MAX], abs_suppressed[PATH_MAX];
    if (!realpath(findings, abs_findings)) bounded_printf(abs_findings, sizeof abs_findings, "%s", findings);
    if (!realpath(suppressed, abs_suppressed)) bounded_printf(abs_suppressed, sizeof abs_suppressed, "%s", suppressed);

    printf("nmrh fuzz: target %s, %ld s, %ld job%s, output in %s\n", target->name, o.seconds, o.jobs,
           o.jobs == 1 ? "" : "s", out);
    fflush(stdout);
    int fd = -1;
    unsigned long long start_ms = now_ms(), elapsed_ms = 0;
    pid_t pid = start_fuzzer(&o, fuzzer, dict, seeds, corpus, artifacts, abs_findings, abs_suppressed, &fd);
    if (pid < 0) {
        fprintf(stderr, "nmrh fuzz: cannot start %s: %s\n", fuzzer, strerror(errno));
        return EXIT_USAGE;
    }
    /* Ctrl-C reaches libFuzzer (same process group), which stops; the summary still follows. */
    signal(SIGINT, SIG_IGN);
    corpus_scan scan;
    memset(&scan, 0, sizeof scan);
    fuzz_stats st;
    memset(&st, 0, sizeof st);
    int status = watch_fuzzer(pid, fd, log_path, corpus, findings, target, &scan, &st, start_ms, &elapsed_ms);
    signal(SIGINT, SIG_DFL);
    if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && !st.seen)) {
        fprintf(stderr, "nmrh fuzz: the fuzzer failed (%s %d); see %s\n", WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log_path);
        scan_free(&scan);
        free(suppressions);
        return EXIT_USAGE;
    }
    /* The summary's protocol coverage: the whole final corpus counted afresh, as nmrh coverage
       counts it (in this process, which is safe for corpus inputs, see corpus_scan, and much
       faster than a child per input; tests/seq/fuzz_summary.sh checks that the two agree). */
    corpus_scan final_scan;
    memset(&final_scan, 0, sizeof final_scan);
    scan_corpus(&final_scan, corpus, target, true);
    const coverage_table final_cov = final_scan.table;
    scan_free(&final_scan);

    finding_summary *list = NULL;
    if (o.minimize_seconds > 0) {
        printf("minimising findings...\n");
        fflush(stdout);
    }
    size_t n = collect_findings(findings, &o, target, &list);

    printf("\n== nmrh fuzz summary: target %s ==\n", target->name);
    printf("executions:        %llu in %llu.%llu s (%llu/s)\n", st.execs, elapsed_ms / 1000, elapsed_ms % 1000 / 100,
           per_second(st.execs, elapsed_ms));
    printf("code coverage:     %llu edges, %llu features; corpus %llu inputs (%s)\n", st.cov, st.ft, st.corpus, corpus);
    printf("protocol coverage: %d of %d NMR transitions (nmrh coverage --target %s %s)\n", coverage_reached(&final_cov),
           NMRH_TRANSITION_COUNT, target->name, corpus);
    size_t bugs = 0;
    for (size_t i = 0; i < n; i++) bugs += i == 0 || strcmp(list[i].bug, list[i - 1].bug) != 0;
    if (n == 0) {
        printf("findings:          none\n");
    } else {
        printf("findings:          %zu bug%s (%zu signature%s)\n", bugs, bugs == 1 ? "" : "s", n, n == 1 ? "" : "s");
        for (size_t i = 0, b = 0; i < n; i++) {
            if (i == 0 || strcmp(list[i].bug, list[i - 1].bug) != 0) {
                size_t sigs = 0;
                for (size_t k = i; k < n && strcmp(list[k].bug, list[i].bug) == 0; k++) sigs++;
                unsigned long long h = bug_hits(list, n, list[i].bug);
                printf(" bug %zu: %s  (%zu signature%s, %llu hit%s)\n", ++b, list[i].bug, sigs, sigs == 1 ? "" : "s", h,
                       h == 1 ? "" : "s");
            }
            printf("  %-40s %llu hit%s\n", list[i].signature, list[i].hits, list[i].hits == 1 ? "" : "s");
            printf("      %s\n", list[i].message);
            printf("      reproducer (%u records%s): %s\n", list[i].records, list[i].minimized ? ", minimised" : "",
                   list[i].reproducer);
            printf("      replay: nmrh replay --target %s %s\n", target->name, list[i].reproducer);
        }
    }
    print_suppressed(suppressed, suppressions, nsuppressions);
    free(list);
    free(suppressions);
    scan_free(&scan);
    return n ? EXIT_FINDING : EXIT_CLEAN;
}
