/*
 * The rule catalogue stays complete: docs/rules.md has a section "### `ID`" for every rule of
 * core/include/nmrh/rules.h, no section for an identifier that is not a rule, and every test
 * file it names as covering a rule exists. The identifiers themselves round-trip.
 */
#include "../support/check.h"

#include <stdlib.h>

#include "nmrh/rules.h"

#ifndef NMRH_SOURCE_DIR
#define NMRH_SOURCE_DIR "."
#endif

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (len + 1 < cap) continue;
        char *n = realloc(buf, cap * 2);
        if (!n) free(buf);
        buf = n;
        cap *= 2;
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

int main(void)
{
    check_tally t = {0, 0, "rules-catalogue"};

    for (int r = 1; r < NMRH_RULE_COUNT; r++) {
        const char *id = nmrh_rule_id((nmrh_rule)r);
        CHECK(&t, nmrh_rule_from_id(id) == (nmrh_rule)r);
        CHECK(&t, strlen(nmrh_rule_summary((nmrh_rule)r)) > 10);
    }
    CHECK(&t, nmrh_rule_from_id("NMR-NO-SUCH-RULE") == NMRH_RULE_NONE);

    char *doc = read_file(NMRH_SOURCE_DIR "/docs/rules.md");
    CHECK(&t, doc != NULL);
    if (!doc) return check_summary(&t, "test_rules_catalogue");

    for (int r = 1; r < NMRH_RULE_COUNT; r++) {
        char heading[96];
        snprintf(heading, sizeof heading, "\n### `%s`", nmrh_rule_id((nmrh_rule)r));
        if (!strstr(doc, heading)) fprintf(stderr, "docs/rules.md has no section for %s\n", nmrh_rule_id((nmrh_rule)r));
        CHECK(&t, strstr(doc, heading) != NULL);
    }
    /* Every section is a rule. */
    for (const char *p = strstr(doc, "\n### `"); p; p = strstr(p + 1, "\n### `")) {
        char id[64];
        size_t n = 0;
        const char *s = p + 6;
        while (s[n] && s[n] != '`' && n < sizeof id - 1) id[n] = s[n], n++;
        id[n] = '\0';
        if (nmrh_rule_from_id(id) == NMRH_RULE_NONE) fprintf(stderr, "docs/rules.md: %s is not a rule\n", id);
        CHECK(&t, nmrh_rule_from_id(id) != NMRH_RULE_NONE);
    }
    /* Every test file it cites exists. */
    int cited = 0;
    for (const char *p = strstr(doc, "test_rules_"); p; p = strstr(p + 1, "test_rules_")) {
        char name[64];
        size_t n = 0;
        while ((p[n] == '_' || (p[n] >= 'a' && p[n] <= 'z')) && n < sizeof name - 3) name[n] = p[n], n++;
        name[n] = '\0';
        if (n == strlen("test_rules_")) continue; /* "test_rules_*.c": the pattern, not a file */
        char path[512];
        snprintf(path, sizeof path, "%s/tests/unit/%s.c", NMRH_SOURCE_DIR, name);
        FILE *f = fopen(path, "rb");
        if (!f) fprintf(stderr, "docs/rules.md cites %s, which does not exist\n", path);
        CHECK(&t, f != NULL);
        if (f) fclose(f);
        cited++;
    }
    CHECK(&t, cited >= NMRH_RULE_COUNT - 1);
    free(doc);
    return check_summary(&t, "test_rules_catalogue");
}
