/* nmrh coverage: which NMR protocol transitions a corpus exercises. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "coverage_table.h"
#include "pathlist.h"
#include "probe.h"
#include "seqfile.h"

static const char coverage_help[] =
    "usage: nmrh coverage [--target NAME] PATH...\n"
    "\n"
    "Replays every sequence file in the given files and directories (each in a child process) and\n"
    "prints which transitions of the NMR model's binding and registration life cycle they\n"
    "exercised: for each transition, how many inputs reached it and how often. Transitions no\n"
    "input reached are marked: those are the parts of the life cycle your fuzzing never tried.\n";

void coverage_add(coverage_table *t, const uint32_t *transitions)
{
    t->inputs++;
    for (int i = 0; i < NMRH_TRANSITION_COUNT; i++) {
        t->hits[i] += transitions[i];
        if (transitions[i]) t->inputs_reaching[i]++;
    }
}

int coverage_reached(const coverage_table *t)
{
    int n = 0;
    for (int i = 0; i < NMRH_TRANSITION_COUNT; i++) n += t->inputs_reaching[i] != 0;
    return n;
}

void coverage_print(const coverage_table *t, FILE *out)
{
    fprintf(out, "%-62s %8s %10s\n", "transition", "inputs", "hits");
    for (int i = 0; i < NMRH_TRANSITION_COUNT; i++)
        fprintf(out, "%-62s %8llu %10llu%s\n", nmrh_transition_name((nmrh_transition)i),
                (unsigned long long)t->inputs_reaching[i], (unsigned long long)t->hits[i],
                t->inputs_reaching[i] ? "" : "   <- never reached");
    fprintf(out, "reached %d of %d transitions over %llu input(s)\n", coverage_reached(t), NMRH_TRANSITION_COUNT,
            (unsigned long long)t->inputs);
}

static void add_file(coverage_table *t, const char *path, const nmrh_target *target, int *errors)
{
    seqfile f;
    if (!seqfile_load(&f, path, target)) {
        (*errors)++;
        seqfile_free(&f);
        return;
    }
    probe_result r;
    probe_run(f.seq, 30, &r);
    if (r.status == PROBE_ERROR || r.status == PROBE_CRASH) {
        fprintf(stderr, "%s: warning: %s; not counted\n", path, r.message);
    } else {
        coverage_add(t, r.transitions);
    }
    seqfile_free(&f);
}

int coverage_scan_path(coverage_table *t, const char *path, const nmrh_target *target)
{
    int errors = 0;
    pathlist files = {0};
    if (pathlist_add(&files, path) != 0) errors++;
    for (size_t k = 0; k < files.count; k++) add_file(t, files.paths[k], target, &errors);
    pathlist_free(&files);
    return errors;
}

int cmd_coverage(int argc, char **argv)
{
    const char *target_name = "echo";
    bool bad = false;
    int npaths = 0;
    for (int i = 1; i < argc; i++) {
        if (tool_is_help(argv[i])) {
            fputs(coverage_help, stdout);
            return EXIT_CLEAN;
        }
        if (tool_option_value(argc, argv, &i, "--target", &target_name, &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nmrh coverage: unknown option '%s'\n", argv[i]);
            bad = true;
        } else npaths++;
    }
    const nmrh_target *target = bad ? NULL : tool_target(target_name);
    if (bad || !target || npaths == 0) {
        fputs(coverage_help, stderr);
        return EXIT_USAGE;
    }
    coverage_table t;
    memset(&t, 0, sizeof t);
    int errors = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) continue;
        errors += coverage_scan_path(&t, argv[i], target);
    }
    coverage_print(&t, stdout);
    return errors ? EXIT_USAGE : EXIT_CLEAN;
}
