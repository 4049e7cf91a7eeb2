#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "osdep.h"

void xml_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            if (c < 0x20 && c != '\n' && c != '\t')
                fputc('?', out); /* not allowed in XML 1.0 */
            else
                fputc(c, out);
        }
    }
}

int junit_write(const char *path, const junit_suite *s)
{
    FILE *out = fopen(path, "w");
    if (!out) return 0;
    size_t failures = 0, errors = 0;
    for (size_t i = 0; i < s->ncases; i++) {
        if (strcmp(s->cases[i].status, "ERROR") == 0)
            errors++;
        else if (strcmp(s->cases[i].status, "PASS") != 0)
            failures++;
    }
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out, "<testsuites name=\"nmrstress\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n",
            s->ncases, failures, errors, s->seconds);
    fprintf(out, "  <testsuite name=\"");
    xml_escape(out, s->name);
    fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\" timestamp=\"", s->ncases,
            failures, errors, s->seconds);
    xml_escape(out, s->timestamp);
    fprintf(out, "\" hostname=\"");
    xml_escape(out, s->hostname);
    fprintf(out, "\">\n    <properties>\n");
    for (size_t i = 0; i < s->nproperties; i++) {
        fprintf(out, "      <property name=\"");
        xml_escape(out, s->properties[i][0]);
        fprintf(out, "\" value=\"");
        xml_escape(out, s->properties[i][1]);
        fprintf(out, "\"/>\n");
    }
    fprintf(out, "    </properties>\n");
    for (size_t i = 0; i < s->ncases; i++) {
        const case_result *c = &s->cases[i];
        fprintf(out, "    <testcase classname=\"");
        xml_escape(out, s->classname);
        fprintf(out, "\" name=\"");
        xml_escape(out, c->name);
        fprintf(out, "\" time=\"%.3f\">\n", c->seconds);
        if (strcmp(c->status, "PASS") != 0) {
            const char *tag = strcmp(c->status, "ERROR") == 0 ? "error" : "failure";
            fprintf(out, "      <%s type=\"", tag);
            xml_escape(out, c->status);
            fprintf(out, "\" message=\"");
            xml_escape(out, c->message);
            fprintf(out, "\">");
            xml_escape(out, c->details ? c->details : c->message);
            fprintf(out, "</%s>\n", tag);
        } else if (c->message && c->message[0]) {
            fprintf(out, "      <system-out>");
            xml_escape(out, c->message);
            fprintf(out, "</system-out>\n");
        }
        fprintf(out, "    </testcase>\n");
    }
    fprintf(out, "  </testsuite>\n</testsuites>\n");
    int ok = !ferror(out);
    return fclose(out) == 0 && ok;
}

static int journal_line(const char *path, const char *tag, const char *what, char *err, size_t errcap)
{
    char when[32], line[4096];
    os_utc_now(when, sizeof when);
    snprintf(line, sizeof line, "%s %s %s\n", when, tag, what);
    if (os_durable_append(path, line)) return 1;
    snprintf(err, errcap, "cannot write the crash journal %s", path);
    return 0;
}

int journal_start(const char *path, const char *what, char *err, size_t errcap)
{
    return journal_line(path, "START", what, err, errcap);
}

int journal_end(const char *path, const char *what, char *err, size_t errcap)
{
    return journal_line(path, "END", what, err, errcap);
}

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* "... START mode id=X ..." / "... END mode id=X ...": the id word of a line. */
static int id_of(const char *line, char *id, size_t cap)
{
    const char *p = strstr(line, " id=");
    if (!p) return 0;
    p += 4;
    size_t n = strcspn(p, " \r\n");
    if (n == 0 || n >= cap) return 0;
    memcpy(id, p, n);
    id[n] = '\0';
    return 1;
}

int journal_triage(const char *path, FILE *out, char *err, size_t errcap)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(err, errcap, "cannot read the crash journal %s", path);
        return -1;
    }
    /* Submissions are one at a time: remember the open STARTs (at most a few), close them at END. */
    enum { MAX_OPEN = 64 };
    char *open[MAX_OPEN];
    int nopen = 0, starts = 0;
    char line[4096], id[64], id2[64];
    while (fgets(line, sizeof line, in)) {
        if (strstr(line, " START ") && id_of(line, id, sizeof id)) {
            starts++;
            if (nopen == MAX_OPEN) free(open[0]), memmove(open, open + 1, (MAX_OPEN - 1) * sizeof *open), nopen--;
            if ((open[nopen] = dup(line)) != NULL) nopen++;
        } else if (strstr(line, " END ") && id_of(line, id, sizeof id)) {
            for (int i = nopen - 1; i >= 0; i--)
                if (id_of(open[i], id2, sizeof id2) && strcmp(id, id2) == 0) {
                    free(open[i]);
                    memmove(open + i, open + i + 1, (size_t)(nopen - i - 1) * sizeof *open);
                    nopen--;
                    break;
                }
        }
    }
    fclose(in);
    if (nopen == 0) {
        fprintf(out, "%s: %d submissions, every one answered: the machine did not go down during a run\n", path, starts);
    } else {
        fprintf(out, "%s: %d submissions; started and never answered (the machine went down or the tool was killed while the driver ran it):\n",
                path, starts);
        for (int i = 0; i < nopen; i++) fprintf(out, "  %s", open[i]);
    }
    for (int i = 0; i < nopen; i++) free(open[i]);
    return nopen;
}
