/*
 * Findings: recording the first one and stopping the run. Sanitizer reports become findings in
 * sanitizer_reports.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "finding_group.h"
#include "world_impl.h"

static void record(nmrh_world *w, nmrh_rule rule, const char *signature, const char *group, const char *details,
                   const char *fmt, va_list ap)
{
    nmrh_finding *f = &w->finding;
    f->rule = rule;
    snprintf(f->signature, sizeof f->signature, "%s", signature);
    snprintf(f->group, sizeof f->group, "%s", group ? group : signature);
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
        record(w, rule, nmrh_rule_id(rule), NULL, details, fmt, ap);
        va_end(ap);
    }
    if (w->current) nmrh_sched_abandon_current(w);
}

void nmrh_oracle_fail_grouped(nmrh_world *w, nmrh_rule rule, const char *group, const char *fmt, ...)
{
    if (!w->stopped) {
        va_list ap;
        va_start(ap, fmt);
        record(w, rule, nmrh_rule_id(rule), group, NULL, fmt, ap);
        va_end(ap);
    }
    if (w->current) nmrh_sched_abandon_current(w);
}

void nmrh_oracle_report(nmrh_rule rule, const char *fmt, ...)
{
    NMRH_HARNESS(w);
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

