/* The public extension point nmrh/shim.h, on top of the shim's internal helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nmrh/shim.h"
#include "shim_util.h"

nmrh_shim *nmrh_shim_enter(void) { return nmrh_harness_enter(); }
void nmrh_shim_leave(nmrh_shim **s) { nmrh_harness_leave(s); }

bool nmrh_shim_on_thread(const nmrh_shim *s) { return s && s->current; }
uint32_t nmrh_shim_thread_id(const nmrh_shim *s) { return (s && s->current) ? s->current->id : 0; }
unsigned nmrh_shim_irql(const nmrh_shim *s) { return (s && s->current) ? s->current->irql : PASSIVE_LEVEL; }

void nmrh_shim_set_irql(nmrh_shim *s, unsigned irql)
{
    if (s && s->current) s->current->irql = (uint8_t)irql;
}

void nmrh_shim_point(nmrh_shim *s)
{
    if (s && s->current) nmrh_sched_point(s, NMRH_POINTS_PRIMITIVE);
}

int32_t nmrh_shim_block(nmrh_shim *s, const void *object, const char *what)
{
    if (!s || !s->current) return 0;
    nmrh_trace(s, NMRH_EV_NOTE, nmrh_trace_string(s, what ? what : "(an added primitive)"), 0);
    return nmrh_sched_block(s, object, NMRH_WAIT_PRIMITIVE, false);
}

uint32_t nmrh_shim_wake(nmrh_shim *s, const void *object, bool all, int32_t status)
{
    return s ? nmrh_sched_wake(s, object, all, status) : 0;
}

void nmrh_shim_misuse(nmrh_shim *s, const char *fmt, ...)
{
    if (!s || !s->current) return;
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    NMRH_SHIM_FAIL(s, NMRH_RULE_PRIMITIVE_MISUSE, "%s", text);
}

void nmrh_shim_require_irql(nmrh_shim *s, unsigned max, const char *primitive)
{
    if (s) nmrh_shim_check_irql(s, (KIRQL)max, primitive);
}

uint32_t nmrh_shim_choose(nmrh_shim *s, uint32_t n) { return s ? nmrh_sched_choose(s, n) : 0; }

void nmrh_shim_note(nmrh_shim *s, const char *fmt, ...)
{
    if (!s) return;
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    nmrh_trace(s, NMRH_EV_NOTE, nmrh_trace_string(s, text), 0);
}

typedef struct spawned {
    void (*fn)(void *);
    void *arg;
} spawned;

static void run_spawned(void *arg)
{
    spawned job = *(spawned *)arg;
    free(arg);
    NMRH_HARNESS(w);
    uint32_t depth = w ? nmrh_harness_suspend(w) : 0; /* the body is module code */
    job.fn(job.arg);
    if (w) nmrh_harness_resume(w, depth);
}

bool nmrh_shim_spawn(nmrh_shim *s, const char *name, void (*fn)(void *arg), void *arg)
{
    if (!s) {
        fn(arg);
        return true;
    }
    spawned *job = malloc(sizeof *job);
    if (!job) return false;
    job->fn = fn;
    job->arg = arg;
    uint32_t module = s->current ? s->current->cur_module : 0;
    if (!nmrh_sched_spawn_internal(s, name, module, run_spawned, job)) {
        free(job);
        return false;
    }
    if (s->current) nmrh_sched_point(s, NMRH_POINTS_PRIMITIVE);
    return true;
}
