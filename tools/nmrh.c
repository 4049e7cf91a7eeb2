/* nmrh: command-line front end of the NMR callback-sequence harness. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "nmrh/oracle.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"fuzz", cmd_fuzz, "fuzz a target with libFuzzer and report minimised findings"},
    {"replay", cmd_replay, "replay sequence files and report findings"},
    {"stress", cmd_stress, "run sequences on real threads with injected delays (races below the scheduler)"},
    {"minimize", cmd_minimize, "shrink a finding to a minimal sequence with the same signature"},
    {"coverage", cmd_coverage, "show which NMR protocol transitions a corpus exercises"},
    {"fmt", cmd_fmt, "print the canonical text of a sequence"},
    {"convert", cmd_convert, "convert a sequence between text and binary"},
    {"rules", cmd_rules, "list the oracle's rules"},
    {"targets", cmd_targets, "list the targets, their module kinds and options"},
    {"dict", cmd_dict, "print a libFuzzer dictionary of valid records for a target"},
};

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
/* A ThreadSanitizer report is a finding: exit status 1, like every other finding (TSan's own
   default is 66). */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) { return "exitcode=1"; }
#endif
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: nmrh COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'nmrh COMMAND --help' describes a command. Exit status: 0 no finding, 1 finding, 2 bad input or usage.\n");
}

int main(int argc, char **argv)
{
    nmrh_oracle_install_asan_hook();
    if (argc < 2 || tool_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_CLEAN;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "nmrh: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
