/* Minimal test framework: CHECK records and continues; the summary line is "N passed, M failed",
   which CTest output and CI both read. Test programs return check_summary(). */
#ifndef NMRH_TEST_CHECK_H
#define NMRH_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

typedef struct check_tally {
    int passed, failed;
    const char *name;
} check_tally;

#define CHECK(t, cond) check_record((t), (cond) != 0, #cond, __FILE__, __LINE__)
#define CHECK_STR(t, got, want) check_str((t), (got), (want), __FILE__, __LINE__)

static inline void check_record(check_tally *t, int ok, const char *what, const char *file, int line)
{
    if (ok) {
        t->passed++;
    } else {
        t->failed++;
        fprintf(stderr, "%s:%d: %s: check failed: %s\n", file, line, t->name ? t->name : "", what);
    }
}

static inline void check_str(check_tally *t, const char *got, const char *want, const char *file, int line)
{
    int ok = got && want && strcmp(got, want) == 0;
    if (ok) {
        t->passed++;
    } else {
        t->failed++;
        fprintf(stderr, "%s:%d: %s: expected \"%s\", got \"%s\"\n", file, line, t->name ? t->name : "",
                want ? want : "(null)", got ? got : "(null)");
    }
}

static inline int check_summary(const check_tally *t, const char *program)
{
    printf("%s: %d passed, %d failed\n", program, t->passed, t->failed);
    return t->failed ? 1 : 0;
}

#endif
