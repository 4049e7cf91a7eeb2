/* Finding actions for fuzzing processes and the suppression file (nmrh/finding_policy.h). */
#include "nmrh/finding_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nmrh/finding_file.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

int nmrh_suppressions_load(const char *path, nmrh_suppression **items, size_t *count, char *err, size_t err_size)
{
    *items = NULL;
    *count = 0;
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    size_t cap = 0;
    int lineno = 0, result = 0;
    while (fgets(line, sizeof line, in)) {
        lineno++;
        size_t len = strcspn(line, "\n");
        if (line[len] != '\n' && !feof(in)) {
            snprintf(err, err_size, "%s:%d:%d: line longer than %zu characters", path, lineno, (int)sizeof line - 1,
                     sizeof line - 2);
            result = -1;
            break;
        }
        line[len] = '\0';
        size_t i = 0;
        while (is_space(line[i])) i++;
        if (line[i] == '\0' || line[i] == '#') continue;
        size_t sig_start = i;
        while (line[i] && !is_space(line[i])) i++;
        size_t sig_len = i - sig_start;
        while (is_space(line[i])) i++;
        size_t reason_start = i, reason_len = strlen(line + i);
        while (reason_len && is_space(line[reason_start + reason_len - 1])) reason_len--;
        const char *bad = NULL;
        int col = (int)sig_start + 1;
        if (sig_len >= sizeof((*items)->signature)) {
            bad = "signature too long";
        } else if (reason_len == 0) {
            bad = "no reason given: write why this signature is accepted after it (SIGNATURE  REASON)";
            col = (int)(sig_start + sig_len) + 1;
        } else {
            for (size_t k = 0; k < sig_len; k++)
                if (line[sig_start + k] == '*' && k + 1 != sig_len) {
                    bad = "'*' may only end a signature (a prefix match)";
                    col = (int)(sig_start + k) + 1;
                    break;
                }
        }
        if (bad) {
            snprintf(err, err_size, "%s:%d:%d: %s", path, lineno, col, bad);
            result = -1;
            break;
        }
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            nmrh_suppression *grown = realloc(*items, cap * sizeof *grown);
            if (!grown) {
                snprintf(err, err_size, "%s: out of memory", path);
                result = -1;
                break;
            }
            *items = grown;
        }
        nmrh_suppression *s = &(*items)[(*count)++];
        snprintf(s->signature, sizeof s->signature, "%.*s", (int)sig_len, line + sig_start);
        snprintf(s->reason, sizeof s->reason, "%.*s", (int)reason_len, line + reason_start);
    }
    fclose(in);
    if (result != 0) {
        free(*items);
        *items = NULL;
        *count = 0;
    }
    return result;
}

const nmrh_suppression *nmrh_suppressions_match(const nmrh_suppression *items, size_t count, const char *signature)
{
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(items[i].signature);
        bool prefix = n && items[i].signature[n - 1] == '*';
        if (prefix ? strncmp(items[i].signature, signature, n - 1) == 0 : strcmp(items[i].signature, signature) == 0)
            return &items[i];
    }
    return NULL;
}

int nmrh_finding_policy_init(nmrh_finding_policy *p, const char *target, char *err, size_t err_size)
{
    memset(p, 0, sizeof *p);
    const char *dir = getenv("NMRH_FINDINGS_DIR");
    snprintf(p->findings_dir, sizeof p->findings_dir, "%s", dir && *dir ? dir : "nmrh-findings");
    dir = getenv("NMRH_SUPPRESSED_DIR");
    snprintf(p->suppressed_dir, sizeof p->suppressed_dir, "%s", dir && *dir ? dir : "nmrh-suppressed");
    snprintf(p->target, sizeof p->target, "%s", target);
    const char *after = getenv("NMRH_CONTINUE_AFTER");
    char *end = NULL;
    p->continue_after = after && *after ? strtol(after, &end, 10) : -1;
    if (after && *after && (!end || *end)) p->continue_after = -1;
    const char *file = getenv("NMRH_SUPPRESS");
    if (file && *file) return nmrh_suppressions_load(file, &p->suppressions, &p->nsuppressions, err, err_size);
    return 0;
}

void nmrh_finding_policy_free(nmrh_finding_policy *p)
{
    free(p->suppressions);
    p->suppressions = NULL;
    p->nsuppressions = 0;
}

static unsigned long long saved_hits(const char *dir, const char *signature)
{
    char sig[160], path[1400];
    nmrh_signature_dirname(signature, sig, sizeof sig);
    snprintf(path, sizeof path, "%s/%s/hits", dir, sig);
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

nmrh_finding_action nmrh_finding_policy_record(const nmrh_finding_policy *p, const nmrh_finding *f, const nmrh_seq *seq,
                                               const uint8_t *data, size_t size)
{
    if (nmrh_suppressions_match(p->suppressions, p->nsuppressions, f->signature)) {
        /* Counted with one input kept (the summary shows where it was seen), not a finding. */
        if (nmrh_finding_save(p->suppressed_dir, p->target, f, seq, data, size) != 0)
            perror("nmrh: cannot count a suppressed finding");
        return NMRH_FINDING_SUPPRESSED;
    }
    bool known = p->continue_after >= 0 && saved_hits(p->findings_dir, f->signature) >= (unsigned long long)p->continue_after;
    if (nmrh_finding_save(p->findings_dir, p->target, f, seq, data, size) != 0) perror("nmrh: cannot save finding");
    return known ? NMRH_FINDING_CONTINUE : NMRH_FINDING_STOP;
}
