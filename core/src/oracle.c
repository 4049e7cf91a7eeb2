/*
 * Findings: recording the first one, stopping the run, and turning AddressSanitizer reports into
 * signatures so that crashes with the same cause deduplicate.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "world_impl.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NMRH_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(NMRH_HAVE_ASAN)
#define NMRH_HAVE_ASAN 1
#endif
#ifdef NMRH_HAVE_ASAN
#include <sanitizer/asan_interface.h>
#endif

static void record(nmrh_world *w, nmrh_rule rule, const char *signature, const char *details, const char *fmt,
                   va_list ap)
{
    nmrh_finding *f = &w->finding;
    f->rule = rule;
    snprintf(f->signature, sizeof f->signature, "%s", signature);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    for (char *p = f->message; *p; p++)
        if (*p == '\n') *p = ' ';
    f->details = details ? strdup(details) : NULL;
    w->stopped = true;
    nmrh_trace(w, NMRH_EV_FINDING, rule, 0);
    if (w->cfg.on_finding) w->cfg.on_finding(w, f, w->cfg.user);
}

void nmrh_oracle_fail(nmrh_world *w, nmrh_rule rule, const char *details, const char *fmt, ...)
{
    if (!w->stopped) {
        va_list ap;
        va_start(ap, fmt);
        record(w, rule, nmrh_rule_id(rule), details, fmt, ap);
        va_end(ap);
    }
    if (w->current) nmrh_sched_abandon_current(w);
}

void nmrh_oracle_report(nmrh_rule rule, const char *fmt, ...)
{
    nmrh_world *w = nmrh_world_current();
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!w) {
        fprintf(stderr, "nmrh: %s outside any world: %s\n", nmrh_rule_id(rule), msg);
        return;
    }
    nmrh_oracle_fail(w, rule, NULL, "%s", msg);
}

void nmrh_oracle_where(const nmrh_world *w, char *buf, size_t size)
{
    const nmrh_thread *t = w->current;
    if (!t)
        snprintf(buf, size, "the scheduler");
    else
        snprintf(buf, size, "thread %s '%s' running %s code at IRQL %u", t->label, t->name,
                 nmrh_world_module_name(w, t->cur_module), (unsigned)t->irql);
}

/* ---- AddressSanitizer reports ---- */

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Frames of the harness, the kernel shim and the sanitizer/C runtime are not "module code". */
static bool is_harness_frame(const char *fn, size_t fn_len, const char *loc, size_t loc_len)
{
    static const char *const prefixes[] = {"__", "nmrh_", "malloc", "free", "calloc", "realloc", "_start"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (fn_len >= n && memcmp(fn, prefixes[i], n) == 0) return true;
    }
    /* System headers: inlined libc wrappers (string_fortified.h's memcpy) are not module code. */
    static const char *const dirs[] = {"/core/", "compiler-rt", "libc", "libasan", "/usr/include/"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        size_t n = strlen(dirs[i]);
        for (size_t j = 0; j + n <= loc_len; j++)
            if (memcmp(loc + j, dirs[i], n) == 0) return true;
    }
    return false;
}

void nmrh_asan_signature(const char *report, char *out, unsigned out_size)
{
    char kind[64] = "unknown";
    const char *k = strstr(report, "AddressSanitizer: ");
    if (k) {
        k += strlen("AddressSanitizer: ");
        if (starts_with(k, "attempting ")) k += strlen("attempting ");
        size_t n = 0;
        while (k[n] && k[n] != '\n' && !starts_with(k + n, " on ") && !starts_with(k + n, " (") && n < sizeof kind - 1) {
            kind[n] = k[n] == ' ' ? '-' : k[n];
            n++;
        }
        kind[n] = '\0';
    }
    char frame[96] = "unknown";
    for (const char *line = report; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *p = line;
        while (*p == ' ') p++;
        if (*p != '#') continue;
        const char *in = strstr(p, " in ");
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        if (!in || in > eol) continue;
        const char *fn = in + 4;
        size_t fn_len = 0;
        while (fn + fn_len < eol && fn[fn_len] != ' ') fn_len++;
        const char *loc = fn + fn_len;
        if (is_harness_frame(fn, fn_len, loc, (size_t)(eol - loc))) continue;
        if (fn_len > sizeof frame - 1) fn_len = sizeof frame - 1;
        memcpy(frame, fn, fn_len);
        frame[fn_len] = '\0';
        break;
    }
    snprintf(out, out_size, "ASAN-%s@%s", kind, frame);
}

#ifdef NMRH_HAVE_ASAN
static void asan_report_hook(const char *report)
{
    nmrh_world *w = nmrh_world_current();
    char sig[160];
    nmrh_asan_signature(report, sig, sizeof sig);
    fprintf(stderr, "FINDING %s: AddressSanitizer report in module code\n", sig);
    if (!w || w->stopped) return;
    nmrh_finding *f = &w->finding;
    f->rule = NMRH_RULE_ASAN;
    snprintf(f->signature, sizeof f->signature, "%s", sig);
    char where[160];
    nmrh_oracle_where(w, where, sizeof where);
    snprintf(f->message, sizeof f->message, "AddressSanitizer: %s, on %s", sig + 5, where);
    f->details = strdup(report);
    w->stopped = true;
    nmrh_trace(w, NMRH_EV_FINDING, NMRH_RULE_ASAN, 0);
    if (w->cfg.on_finding) w->cfg.on_finding(w, f, w->cfg.user);
}
#endif

void nmrh_oracle_install_asan_hook(void)
{
#ifdef NMRH_HAVE_ASAN
    __asan_set_error_report_callback(asan_report_hook);
#endif
}
