/*
 * The finding policy of fuzzing processes (nmrh/finding_policy.h): the suppression file's format
 * and its errors (file:line:col), signature matching, and the action per hit: a new signature
 * stops its input, a signature saved --continue-after times lets the input go on, a suppressed
 * one is counted apart and never becomes a finding.
 */
#include "../support/check.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nmrh/finding_policy.h"

static char scratch[256];

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static void expect_error(check_tally *t, const char *text, const char *where, const char *what)
{
    const char *path = write_file("bad.txt", text);
    nmrh_suppression *items = NULL;
    size_t n = 0;
    char err[512] = "", want[600];
    CHECK(t, nmrh_suppressions_load(path, &items, &n, err, sizeof err) == -1);
    CHECK(t, items == NULL && n == 0);
    snprintf(want, sizeof want, "%s:%s: ", path, where);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what))
        fprintf(stderr, "got error \"%s\", want \"%s...%s\"\n", err, want, what);
    CHECK(t, strncmp(err, want, strlen(want)) == 0);
    CHECK(t, strstr(err, what) != NULL);
}

static void test_file_format(check_tally *t)
{
    const char *path = write_file("ok.txt",
                                  "# accepted by design\n"
                                  "\n"
                                  "NMR-HANG   unload waits for the user-mode service by design (issue 42)\n"
                                  "  ASAN-heap-use-after-free@Legacy*\told code, replaced in 2.0  \n");
    nmrh_suppression *items = NULL;
    size_t n = 0;
    char err[512] = "";
    CHECK(t, nmrh_suppressions_load(path, &items, &n, err, sizeof err) == 0);
    CHECK(t, n == 2);
    if (n == 2) {
        CHECK_STR(t, items[0].signature, "NMR-HANG");
        CHECK_STR(t, items[0].reason, "unload waits for the user-mode service by design (issue 42)");
        CHECK_STR(t, items[1].signature, "ASAN-heap-use-after-free@Legacy*");
        CHECK_STR(t, items[1].reason, "old code, replaced in 2.0");
    }
    CHECK(t, nmrh_suppressions_match(items, n, "NMR-HANG") == &items[0]);
    CHECK(t, nmrh_suppressions_match(items, n, "NMR-HANG-2") == NULL); /* exact unless '*' */
    CHECK(t, nmrh_suppressions_match(items, n, "ASAN-heap-use-after-free@LegacyCall") == &items[1]);
    CHECK(t, nmrh_suppressions_match(items, n, "ASAN-heap-use-after-free@EchoClientCall") == NULL);
    free(items);

    expect_error(t, "NMR-HANG\n", "1:9", "no reason given");
    expect_error(t, "# c\nNMR-HANG by design\n  KRNL-*-LEAK leaks\n", "3:8", "'*' may only end a signature");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none.txt", scratch);
    nmrh_suppression *items2 = NULL;
    CHECK(t, nmrh_suppressions_load(missing, &items2, &n, err, sizeof err) == -1);
    CHECK(t, strstr(err, "cannot read") != NULL);
}

static unsigned long long hits_of(const char *dir, const char *sig)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s/hits", dir, sig);
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

static void test_actions(check_tally *t)
{
    char findings[300], suppressed[300];
    snprintf(findings, sizeof findings, "%s/findings", scratch);
    snprintf(suppressed, sizeof suppressed, "%s/suppressed", scratch);
    setenv("NMRH_FINDINGS_DIR", findings, 1);
    setenv("NMRH_SUPPRESSED_DIR", suppressed, 1);
    setenv("NMRH_CONTINUE_AFTER", "2", 1);
    setenv("NMRH_SUPPRESS", write_file("supp.txt", "KRNL-POOL-LEAK  the cache is freed by the OS at unload\n"), 1);
    nmrh_finding_policy p;
    char err[512];
    CHECK(t, nmrh_finding_policy_init(&p, "echo", err, sizeof err) == 0);
    CHECK(t, p.continue_after == 2 && p.nsuppressions == 1);

    nmrh_seq *seq = calloc(1, sizeof *seq);
    nmrh_finding hang = {.rule = NMRH_RULE_HANG, .signature = "NMR-HANG", .message = "every thread blocked", .group = "NMR-HANG"};
    nmrh_finding leak = {.rule = NMRH_RULE_POOL_LEAK, .signature = "KRNL-POOL-LEAK", .message = "a block leaked", .group = "KRNL-POOL-LEAK"};
    uint8_t input[2] = {1, 2};
    /* The first two hits stop their input (libFuzzer records them); the third goes on. */
    CHECK(t, nmrh_finding_policy_record(&p, &hang, seq, input, 1) == NMRH_FINDING_STOP);
    CHECK(t, nmrh_finding_policy_record(&p, &hang, seq, input, 2) == NMRH_FINDING_STOP);
    CHECK(t, nmrh_finding_policy_record(&p, &hang, seq, input, 1) == NMRH_FINDING_CONTINUE);
    CHECK(t, hits_of(findings, "NMR-HANG") == 3); /* every hit counted */
    /* Suppressed: counted apart, never a finding. */
    CHECK(t, nmrh_finding_policy_record(&p, &leak, seq, input, 1) == NMRH_FINDING_SUPPRESSED);
    CHECK(t, hits_of(suppressed, "KRNL-POOL-LEAK") == 1);
    CHECK(t, hits_of(findings, "KRNL-POOL-LEAK") == 0);
    nmrh_finding_policy_free(&p);

    /* 'never' (or no variable): every hit stops its input. */
    unsetenv("NMRH_CONTINUE_AFTER");
    unsetenv("NMRH_SUPPRESS");
    CHECK(t, nmrh_finding_policy_init(&p, "echo", err, sizeof err) == 0);
    CHECK(t, nmrh_finding_policy_record(&p, &hang, seq, input, 1) == NMRH_FINDING_STOP);
    CHECK(t, nmrh_finding_policy_record(&p, &leak, seq, input, 1) == NMRH_FINDING_STOP);
    nmrh_finding_policy_free(&p);

    /* A bad suppression file fails the setup with its location. */
    setenv("NMRH_SUPPRESS", write_file("bad2.txt", "NMR-HANG\n"), 1);
    CHECK(t, nmrh_finding_policy_init(&p, "echo", err, sizeof err) == -1);
    CHECK(t, strstr(err, "bad2.txt:1:9: no reason given") != NULL);
    nmrh_finding_policy_free(&p);
    free(seq);
}

int main(void)
{
    check_tally t = {0, 0, "finding-policy"};
    snprintf(scratch, sizeof scratch, "/tmp/nmrh-test-finding-policy-XXXXXX");
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    test_file_format(&t);
    test_actions(&t);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", scratch);
    return check_summary(&t, "test_finding_policy");
}
