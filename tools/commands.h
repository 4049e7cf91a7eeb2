/* Subcommands of the nmrh tool. Each returns the process exit status:
   0 = success / no finding, 1 = finding (or check failed), 2 = bad input or usage. */
#ifndef NMRH_TOOL_COMMANDS_H
#define NMRH_TOOL_COMMANDS_H

#include <stdbool.h>

#include "nmrh/seq.h"
#include "nmrh/targets.h"

enum { EXIT_CLEAN = 0, EXIT_FINDING = 1, EXIT_USAGE = 2 };

int cmd_replay(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_minimize(int argc, char **argv);
int cmd_coverage(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);
int cmd_dict(int argc, char **argv);
int cmd_targets(int argc, char **argv);
int cmd_stress(int argc, char **argv);

/* Shared option handling: "--target NAME" / "--target=NAME". Returns the target, or NULL after
   printing an error listing the targets. */
const nmrh_target *tool_target(const char *name);
/* The user's own target of a tool built with nmrh_add_tool(), or NULL. */
const nmrh_target *tool_extra_target(void);
/* If argv[*i] is option `name` taking a value, stores the value, advances *i and returns true.
   Prints an error and sets *bad when the value is missing. */
bool tool_option_value(int argc, char **argv, int *i, const char *name, const char **value, bool *bad);
bool tool_is_help(const char *arg);
/* A decimal number >= min in the whole of s. */
bool tool_parse_long(const char *s, long min, long *out);

/* Writes a reproducer: header comment (signature, message, date, target, replay command) and
   canonical text, to `path` (NULL = standard output). Returns 0 or -1. */
int write_reproducer(const char *path, const nmrh_seq *seq, const char *signature, const char *message,
                     const char *target);

#endif
