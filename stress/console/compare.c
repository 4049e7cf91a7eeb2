#include "compare.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmrh/rules.h"

typedef struct ev {
    const nmrh_obs *o;
    size_t index;   /* in its log */
    uint32_t occ;   /* how many earlier events of the log have the same key */
    long match;     /* index in the other list, -1 */
} ev;

static int comparable(const nmrh_obs *o)
{
    if (o->kind == NMRH_OBS_NONE || o->kind == NMRH_OBS_BLOCKED || o->kind == NMRH_OBS_HANG) return 0;
    /* A hang is compared through the verdicts: the kernel reports it per thread, the model once. */
    if (o->kind == NMRH_OBS_FINDING && o->status == (uint32_t)NMRH_RULE_HANG) return 0;
    return 1;
}

static int same_key(const nmrh_obs *a, const nmrh_obs *b)
{
    if (a->kind != b->kind || a->what != b->what || a->module != b->module || a->peer != b->peer || a->binding != b->binding)
        return 0;
    if (a->kind == NMRH_OBS_RECORD || a->kind == NMRH_OBS_FINDING) return a->status == b->status;
    /* A return is the same event whatever it returned (the status is compared), likewise a call. */
    return 1;
}

static ev *collect(const nmrh_obs *o, size_t n, size_t *count)
{
    ev *e = calloc(n ? n : 1, sizeof *e);
    size_t k = 0;
    if (!e) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!comparable(&o[i])) continue;
        e[k].o = &o[i];
        e[k].index = i;
        e[k].match = -1;
        for (size_t j = 0; j < k; j++) e[k].occ += same_key(e[j].o, &o[i]);
        k++;
    }
    *count = k;
    return e;
}

#if defined(__GNUC__) || defined(__clang__)
static int add(compare_result *r, const char *knob, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

static int add(compare_result *r, const char *knob, const char *fmt, ...)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        divergence *d = realloc(r->d, cap * sizeof *d);
        if (!d) return 0;
        r->d = d, r->cap = cap;
    }
    divergence *d = &r->d[r->n++];
    d->knob = knob;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof d->text, fmt, ap);
    va_end(ap);
    if (knob[0] && !strstr(r->knobs, knob)) {
        size_t len = strlen(r->knobs);
        snprintf(r->knobs + len, sizeof r->knobs - len, "%s%s", len ? ", " : "", knob);
    }
    return 1;
}

static int is_cb(const nmrh_obs *o, int cb1, int cb2)
{
    return (o->kind == NMRH_OBS_CALLBACK || o->kind == NMRH_OBS_CALLBACK_RETURN) && (o->what == cb1 || o->what == cb2);
}
static int is_detach(const nmrh_obs *o) { return is_cb(o, NMRH_OBS_CB_CLIENT_DETACH, NMRH_OBS_CB_PROVIDER_DETACH); }
static int is_cleanup(const nmrh_obs *o) { return is_cb(o, NMRH_OBS_CB_CLIENT_CLEANUP, NMRH_OBS_CB_PROVIDER_CLEANUP); }
static int is_attach(const nmrh_obs *o) { return is_cb(o, NMRH_OBS_CB_CLIENT_ATTACH, NMRH_OBS_CB_PROVIDER_ATTACH); }

/* The open choice of the NMR contract an attribute of this event bears on. */
static const char *knob_of(const nmrh_obs *o, const char *attr)
{
    int irql = strcmp(attr, "irql") == 0;
    if (is_detach(o)) return irql ? "K4 detach-irql" : "K4 detach-thread";
    if (is_cleanup(o)) return irql ? "K5 cleanup-irql" : "K5 cleanup";
    if (is_attach(o) && strcmp(attr, "handle-written") == 0) return "K3 handle-write";
    if (is_attach(o) && (strcmp(attr, "thread") == 0 || strcmp(attr, "in-register") == 0)) return "K2 attach";
    if (o->kind == NMRH_OBS_NMR_RETURN && strcmp(attr, "status") == 0 &&
        (o->what == NMRH_OBS_FN_DEREGISTER_CLIENT || o->what == NMRH_OBS_FN_DEREGISTER_PROVIDER))
        return "K1 deregister-status";
    if (o->kind == NMRH_OBS_NMR_CALL && (o->what == NMRH_OBS_FN_CLIENT_DETACH_COMPLETE ||
                                         o->what == NMRH_OBS_FN_PROVIDER_DETACH_COMPLETE))
        return "K5 cleanup";
    return "";
}

static const char *thread_name(uint8_t t, char *buf, size_t cap)
{
    if (t == NMRH_OBS_THREAD_NONE) return "-";
    if (t & NMRH_OBS_THREAD_FOREIGN) snprintf(buf, cap, "w%u (an NMR thread)", (unsigned)(t & 0x7F));
    else snprintf(buf, cap, "t%u", (unsigned)t);
    return buf;
}

/* The entry event (call or callback) that this return event returns from, in the same log. */
static const nmrh_obs *entry_of(const nmrh_obs *log, const nmrh_obs *ret)
{
    uint8_t entry = ret->kind == NMRH_OBS_NMR_RETURN ? NMRH_OBS_NMR_CALL : NMRH_OBS_CALLBACK;
    for (const nmrh_obs *o = ret; o-- > log;)
        if (o->kind == entry && o->what == ret->what && o->module == ret->module && o->peer == ret->peer &&
            o->binding == ret->binding && o->thread == ret->thread)
            return o;
    return NULL;
}

static int attributes(compare_result *r, const nmrh_obs *mlog, const ev *m, const nmrh_obs *klog, const ev *k)
{
    const nmrh_obs *a = m->o, *b = k->o;
    char what[256], x[40], y[40];
    obs_format(a, what, sizeof what);
    int ok = 1;
    if (a->kind == NMRH_OBS_NMR_RETURN || a->kind == NMRH_OBS_CALLBACK_RETURN) {
        /* A return differs from the model where its call did, in the same way: said once, at the call. */
        const nmrh_obs *ea = entry_of(mlog, a), *eb = entry_of(klog, b);
        if (ea && eb && ea->thread == a->thread && eb->thread == b->thread && ea->irql == a->irql &&
            eb->irql == b->irql && ((ea->flags ^ a->flags) & ~NMRH_OBS_F_UNGATED) == 0 &&
            ((eb->flags ^ b->flags) & ~NMRH_OBS_F_UNGATED) == 0) {
            if (a->status != b->status)
                ok &= add(r, knob_of(a, "status"), "'%s': model returned 0x%08X, kernel 0x%08X", what, (unsigned)a->status,
                          (unsigned)b->status);
            return ok;
        }
    }
    if (a->thread != b->thread)
        ok &= add(r, knob_of(a, "thread"), "'%s': model on thread %s, kernel on %s", what, thread_name(a->thread, x, sizeof x),
                  thread_name(b->thread, y, sizeof y));
    if (a->irql != b->irql)
        ok &= add(r, knob_of(a, "irql"), "'%s': model at IRQL %u, kernel at IRQL %u", what, (unsigned)a->irql, (unsigned)b->irql);
    uint8_t fa = (uint8_t)(a->flags & ~NMRH_OBS_F_UNGATED), fb = (uint8_t)(b->flags & ~NMRH_OBS_F_UNGATED);
    for (unsigned bit = 0; bit < 8; bit++) {
        uint8_t f = (uint8_t)(1u << bit);
        if ((fa & f) == (fb & f)) continue;
        const char *name = nmrh_obs_flag_name(bit);
        if (fa & f)
            ok &= add(r, knob_of(a, name), "'%s': %s in the model, not in the kernel", what, name);
        else
            ok &= add(r, knob_of(a, name), "'%s': not %s in the model, %s in the kernel", what, name, name);
    }
    if ((a->kind == NMRH_OBS_NMR_RETURN || a->kind == NMRH_OBS_CALLBACK_RETURN) && a->status != b->status)
        ok &= add(r, knob_of(a, "status"), "'%s': model returned 0x%08X, kernel 0x%08X", what, (unsigned)a->status,
                  (unsigned)b->status);
    return ok;
}

int compare_obs(const obsfile *model, const nmrh_obs *kernel, size_t nkernel, int kernel_hung, compare_result *r)
{
    memset(r, 0, sizeof *r);
    size_t nm, nk;
    ev *m = collect(model->obs, model->n, &nm), *k = collect(kernel, nkernel, &nk);
    int ok = m && k;
    for (size_t i = 0; ok && i < nm; i++)
        for (size_t j = 0; j < nk; j++)
            if (k[j].match < 0 && k[j].occ == m[i].occ && same_key(m[i].o, k[j].o)) {
                m[i].match = (long)j, k[j].match = (long)i;
                break;
            }
    /* The model stopped on a finding: whatever the kernel did after the last event the model saw
       is not compared. */
    long last_matched = -1;
    for (size_t j = 0; j < nk; j++)
        if (k[j].match >= 0) last_matched = (long)j;
    char what[256];
    for (size_t j = 0; ok && j < nk; j++) {
        if (k[j].match >= 0) {
            ok &= attributes(r, model->obs, &m[k[j].match], kernel, &k[j]);
            continue;
        }
        if (model->model_rule && (long)j > last_matched) continue;
        obs_format(k[j].o, what, sizeof what);
        ok &= add(r, is_detach(k[j].o) ? "K4 detach-thread" : is_cleanup(k[j].o) ? "K5 cleanup" : "",
                  "extra: the kernel did '%s' (its event %zu), the model did not", what, k[j].index + 1);
    }
    for (size_t i = 0; ok && i < nm; i++) {
        if (m[i].match >= 0) continue;
        obs_format(m[i].o, what, sizeof what);
        ok &= add(r, is_detach(m[i].o) ? "K4 detach-thread" : is_cleanup(m[i].o) ? "K5 cleanup" : "",
                  "missing: the model did '%s' (its event %zu), the kernel did not", what, m[i].index + 1);
    }
    /* Order: neighbouring matched kernel events that the model has the other way round. */
    const ev *prev = NULL;
    for (size_t j = 0; ok && j < nk; j++) {
        if (k[j].match < 0) continue;
        if (prev && m[k[j].match].index < m[prev->match].index) {
            char before[256];
            obs_format(prev->o, before, sizeof before);
            obs_format(k[j].o, what, sizeof what);
            const char *knob = is_detach(prev->o) && is_detach(k[j].o) && prev->o->binding == k[j].o->binding
                                   ? "K4 detach-order"
                               : is_cleanup(prev->o) || is_cleanup(k[j].o) ? "K5 cleanup"
                               : is_detach(prev->o) || is_detach(k[j].o)   ? "K4 detach-thread"
                                                                           : "";
            ok &= add(r, knob, "order: the kernel did '%s' before '%s', the model the other way round", before, what);
        }
        prev = &k[j];
    }
    int model_hung = model->model_rule == (uint32_t)NMRH_RULE_HANG;
    if (ok && model_hung != !!kernel_hung)
        ok &= add(r, "", "%s", model_hung ? "the model hangs (NMR-HANG) at the end, the kernel did not"
                                          : "the kernel hung (threads blocked at the end), the model did not");
    free(m);
    free(k);
    return ok;
}

void compare_free(compare_result *r)
{
    free(r->d);
    memset(r, 0, sizeof *r);
}
