/* nmrh replay: run sequence files in the deterministic world and report findings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "nmrh/session.h"
#include "probe.h"
#include "seqfile.h"

static const char replay_help[] =
    "usage: nmrh replay [--target NAME] [--trace] [--state] [--boundary-only] FILE...\n"
    "\n"
    "Replays each sequence file (text .nmrseq or binary) against the target's module kinds in a\n"
    "fresh deterministic world, then drains every thread and runs the end-of-run checks.\n"
    "Prints 'FINDING <signature>: <message>' for a finding. The same file always replays the same.\n"
    "With several files (and no --trace or --state) each replays in a child process, so a memory\n"
    "error in module code ends only that replay.\n"
    "\n"
    "  --target NAME    module kinds to use (default: echo; see 'nmrh targets')\n"
    "  --trace          print the trace of every run\n"
    "  --state          print the threads and NMR state at the end of every run\n"
    "  --boundary-only  switch threads only at NMR boundary points (what kernel replay can do)\n"
    "\n"
    "Exit status: 0 no finding in any file, 1 a finding, 2 bad input or usage.\n";

int cmd_replay(int argc, char **argv)
{
    const char *target_name = "echo";
    bool trace = false, state = false, boundary = false, bad = false;
    int nfiles = 0;
    char **files = calloc((size_t)argc, sizeof *files);
    if (!files) return EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        if (tool_is_help(argv[i])) {
            fputs(replay_help, stdout);
            free(files);
            return EXIT_CLEAN;
        }
        if (tool_option_value(argc, argv, &i, "--target", &target_name, &bad)) continue;
        if (strcmp(argv[i], "--trace") == 0) trace = true;
        else if (strcmp(argv[i], "--state") == 0) state = true;
        else if (strcmp(argv[i], "--boundary-only") == 0) boundary = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "nmrh replay: unknown option '%s'\n", argv[i]);
            bad = true;
        } else files[nfiles++] = argv[i];
    }
    const nmrh_target *target = bad ? NULL : tool_target(target_name);
    if (bad || !target || nfiles == 0) {
        if (!bad && target) fputs("nmrh replay: no sequence file given\n\n", stderr);
        fputs(replay_help, stderr);
        free(files);
        return EXIT_USAGE;
    }
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    if (boundary) cfg.points = NMRH_POINTS_BOUNDARY;

    int status = EXIT_CLEAN;
    for (int i = 0; i < nfiles; i++) {
        seqfile f;
        if (!seqfile_load(&f, files[i], target)) {
            seqfile_free(&f);
            status = EXIT_USAGE;
            continue;
        }
        if (nfiles > 1 && !trace && !state) {
            /* Each file in a child process: a memory error in module code ends that replay
               (as the finding it is), not the whole batch. */
            probe_result pr;
            probe_run_config(f.seq, &cfg, 60, &pr);
            printf("== %s\n", files[i]);
            if (pr.status == PROBE_FINDING || pr.status == PROBE_CRASH) {
                printf("FINDING %s: %s\n", pr.signature, pr.message);
                if (status == EXIT_CLEAN) status = EXIT_FINDING;
            } else if (pr.status == PROBE_ERROR) {
                fprintf(stderr, "%s: error: %s\n", files[i], pr.message);
                if (status == EXIT_CLEAN) status = EXIT_USAGE;
            } else {
                printf("clean: %llu events\n", (unsigned long long)pr.events);
            }
            fflush(stdout);
            seqfile_free(&f);
            continue;
        }
        nmrh_session s;
        int r = nmrh_session_run(&s, f.seq, &cfg);
        if (nfiles > 1 || trace || state) printf("== %s\n", files[i]);
        if (trace) nmrh_world_print_trace(s.world, stdout);
        if (state) nmrh_world_print_state(s.world, stdout);
        if (r < 0) {
            fprintf(stderr, "%s: error: out of memory while replaying\n", files[i]);
            if (status == EXIT_CLEAN) status = EXIT_USAGE;
        } else if (r == 0) {
            const nmrh_finding *fd = nmrh_world_finding(s.world);
            printf("FINDING %s: %s\n", fd->signature, fd->message);
            if (fd->details) fprintf(stderr, "%s\n", fd->details);
            if (status == EXIT_CLEAN) status = EXIT_FINDING;
        } else if (nfiles > 1) {
            nmrh_world_stats st = nmrh_world_get_stats(s.world);
            printf("clean: %llu events, %llu thread switches\n", (unsigned long long)st.events,
                   (unsigned long long)st.switches);
        }
        fflush(stdout);
        nmrh_session_destroy(&s);
        seqfile_free(&f);
    }
    free(files);
    return status;
}
