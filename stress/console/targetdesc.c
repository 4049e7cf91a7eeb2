#include "targetdesc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 128
#define MAX_KINDS 32
#define MAX_PARAMS 16
#define MAX_VALUES 64

typedef struct dkind {
    nmrh_module_kind kind;
    nmrh_module_param params[MAX_PARAMS];
    const char *values[MAX_PARAMS][MAX_VALUES];
} dkind;

typedef struct dtarget {
    nmrh_target target;
    const nmrh_module_kind *kinds[MAX_KINDS];
    dkind *dkinds[MAX_KINDS];
} dtarget;

struct targetdesc {
    char *text; /* the description, cut into words in place: every name points into it */
    dtarget *targets[MAX_TARGETS + 1];
    const nmrh_target *list[MAX_TARGETS + 1];
    int n;
};

void targetdesc_free(targetdesc *d)
{
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        for (unsigned k = 0; k < d->targets[i]->target.nkinds; k++) free(d->targets[i]->dkinds[k]);
        free(d->targets[i]);
    }
    free(d->text);
    free(d);
}

static char *next_word(char **p)
{
    while (**p == ' ') (*p)++;
    if (**p == '\0') return NULL;
    char *w = *p;
    while (**p && **p != ' ') (*p)++;
    if (**p) *(*p)++ = '\0';
    return w;
}

targetdesc *targetdesc_parse(const char *text, char *err, size_t errcap)
{
    targetdesc *d = calloc(1, sizeof *d);
    size_t len = strlen(text);
    if (!d || !(d->text = malloc(len + 1))) {
        snprintf(err, errcap, "out of memory");
        targetdesc_free(d);
        return NULL;
    }
    memcpy(d->text, text, len + 1);
    dtarget *t = NULL;
    dkind *k = NULL;
    unsigned lineno = 0;
    for (char *line = d->text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        lineno++;
        char *p = line;
        char *word = next_word(&p);
        const char *problem = NULL;
        if (!word) {
        } else if (strcmp(word, "target") == 0) {
            char *name = next_word(&p);
            if (!name || d->n == MAX_TARGETS || !(t = calloc(1, sizeof *t))) {
                problem = "bad target line";
            } else {
                t->target.name = name;
                t->target.summary = "";
                t->target.kinds = t->kinds;
                d->targets[d->n] = t;
                d->list[d->n++] = &t->target;
                k = NULL;
            }
        } else if (strcmp(word, "kind") == 0) {
            char *name = next_word(&p);
            if (!t || !name || t->target.nkinds == MAX_KINDS || !(k = calloc(1, sizeof *k))) {
                problem = "bad kind line";
            } else {
                k->kind.name = name;
                k->kind.summary = "";
                k->kind.params = k->params;
                t->dkinds[t->target.nkinds] = k;
                t->kinds[t->target.nkinds++] = &k->kind;
            }
        } else if (strcmp(word, "param") == 0) {
            char *key = next_word(&p), *shift = next_word(&p), *bits = next_word(&p);
            if (!k || !key || !shift || !bits || k->kind.nparams == MAX_PARAMS) {
                problem = "bad param line";
            } else {
                unsigned i = k->kind.nparams++;
                nmrh_module_param *pm = &k->params[i];
                pm->key = key;
                pm->shift = (unsigned char)atoi(shift);
                pm->bits = (unsigned char)atoi(bits);
                pm->values = k->values[i];
                char *v;
                while ((v = next_word(&p)) != NULL && pm->nvalues < MAX_VALUES) k->values[i][pm->nvalues++] = v;
                if (pm->nvalues == 0 || pm->bits == 0 || pm->bits > 8 || pm->shift + pm->bits > 16) problem = "bad param line";
            }
        } else {
            problem = "unknown line";
        }
        if (problem) {
            snprintf(err, errcap, "driver's target description, line %u: %s", lineno, problem);
            targetdesc_free(d);
            return NULL;
        }
        line = nl ? nl + 1 : NULL;
    }
    if (d->n == 0) {
        snprintf(err, errcap, "the driver describes no target");
        targetdesc_free(d);
        return NULL;
    }
    return d;
}

const nmrh_target *targetdesc_find(const targetdesc *d, const char *name)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->list[i]->name, name) == 0) return d->list[i];
    return NULL;
}

const nmrh_target *const *targetdesc_targets(const targetdesc *d) { return d->list; }
