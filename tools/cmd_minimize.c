/* nmrh minimize: shrink a finding to a small sequence with the same signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "minimize.h"
#include "nmrh/finding_file.h"
#include "probe.h"
#include "seqfile.h"

static const char minimize_help[] =
    "usage: nmrh minimize [--target NAME] [--time-limit SECONDS] IN [-o OUT]\n"
    "\n"
    "Shrinks the sequence IN, which must produce a finding, to one that produces a finding with\n"
    "the same signature and from which no single record can be removed. Passes, repeated until\n"
    "none helps: remove records (a removed thread or module takes its steps and actions along,\n"
    "later ones are renumbered); rewrite 'run' and its decisions as the explicit steps they\n"
    "amounted to, so that threads can go without shifting decisions; merge 'tN = ACTION' ...\n"
    "'run tN' into the shorthand action, and consecutive steps; simplify parameters. Modules are\n"
    "then numbered in the order the sequence first uses them. Every candidate replays in a child\n"
    "process. Writes the result with a header comment (OUT, or standard output), and its length\n"
    "in records (docs/fuzzing.md) on standard error.\n"
    "\n"
    "  --target NAME          module kinds to use (default: echo)\n"
    "  --time-limit SECONDS   stop shrinking after this long (default 300)\n"
    "\n"
    "Exit status: 0 minimised, 2 bad input or usage, or IN produces no finding.\n";

static void to_file(void *ctx, const char *s, size_t n) { fwrite(s, 1, n, (FILE *)ctx); }

int write_reproducer(const char *path, const nmrh_seq *seq, const char *signature, const char *message,
                     const char *target)
{
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out) return -1;
    nmrh_finding f;
    memset(&f, 0, sizeof f);
    snprintf(f.signature, sizeof f.signature, "%s", signature);
    snprintf(f.message, sizeof f.message, "%s", message);
    nmrh_finding_header(out, &f, target, path);
    nmrh_seq_print(seq, NULL, to_file, out);
    if (out != stdout) return fclose(out) == 0 ? 0 : -1;
    return fflush(out) == 0 ? 0 : -1;
}

int cmd_minimize(int argc, char **argv)
{
    const char *target_name = "echo", *out_path = NULL, *in_path = NULL, *limit = "300";
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        if (tool_is_help(argv[i])) {
            fputs(minimize_help, stdout);
            return EXIT_CLEAN;
        }
        if (tool_option_value(argc, argv, &i, "--target", &target_name, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--time-limit", &limit, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "-o", &out_path, &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nmrh minimize: unknown option '%s'\n", argv[i]);
            bad = true;
        } else if (in_path) {
            fprintf(stderr, "nmrh minimize: one input file at a time\n");
            bad = true;
        } else in_path = argv[i];
    }
    char *end = NULL;
    long seconds = strtol(limit, &end, 10);
    if (!bad && (!end || *end || seconds <= 0)) {
        fprintf(stderr, "nmrh minimize: --time-limit takes a positive number of seconds, not '%s'\n", limit);
        bad = true;
    }
    const nmrh_target *target = bad ? NULL : tool_target(target_name);
    if (bad || !target || !in_path) {
        fputs(minimize_help, stderr);
        return EXIT_USAGE;
    }
    seqfile f;
    if (!seqfile_load(&f, in_path, target)) {
        seqfile_free(&f);
        return EXIT_USAGE;
    }
    probe_result first;
    probe_run(f.seq, 30, &first);
    if (first.status != PROBE_FINDING && first.status != PROBE_CRASH) {
        fprintf(stderr, "%s: error: produces no finding against target %s; nothing to minimise\n", in_path, target->name);
        seqfile_free(&f);
        return EXIT_USAGE;
    }
    minimize_stats st;
    minimize_sequence(f.seq, first.signature, (unsigned)seconds, &st);
    probe_result last;
    probe_run(f.seq, 30, &last);
    int status = EXIT_CLEAN;
    if (write_reproducer(out_path, f.seq, first.signature, last.message, target->name) != 0) {
        fprintf(stderr, "%s: error: cannot write\n", out_path ? out_path : "standard output");
        status = EXIT_USAGE;
    }
    fprintf(stderr, "nmrh minimize: %s: %u -> %u records in %u runs%s\n", first.signature, st.records_before,
            st.records_after, st.runs, st.timed_out ? " (time limit reached)" : "");
    seqfile_free(&f);
    return status;
}
