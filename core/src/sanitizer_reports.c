/*
 * Sanitizer reports as findings. AddressSanitizer, UndefinedBehaviorSanitizer and
 * ThreadSanitizer reports get a signature "<TOOL>-<kind>@<first module frame>", so that reports
 * with the same cause deduplicate, and become the run's finding before the sanitizer ends the
 * process (ASan, UBSan) or goes on (TSan).
 */
#include <execinfo.h>
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
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NMRH_HAVE_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(NMRH_HAVE_TSAN)
#define NMRH_HAVE_TSAN 1
#endif

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
/* The report becomes the run's finding (the first one only), written out through on_finding
   before ASan prints the report and ends the process. */
static void asan_report_hook(const char *report)
{
    char sig[160];
    nmrh_asan_signature(report, sig, sizeof sig);
    NMRH_HARNESS(w);
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

/* Symbolizes pcs[0..n) (NULL-terminated early) with the sanitizer runtime and names the first
   module frame in `frame`; false when every frame is harness or runtime code. */
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out_buf, size_t out_buf_size) __attribute__((weak));
static bool first_module_frame(void *const *pcs, int n, char *frame, size_t size)
{
    if (!__sanitizer_symbolize_pc) return false;
    for (int i = 0; i < n && pcs[i]; i++) {
        char sym[512];
        sym[0] = '\0';
        __sanitizer_symbolize_pc(pcs[i], "%f %L", sym, sizeof sym);
        const char *sp = strchr(sym, ' ');
        size_t fn_len = sp ? (size_t)(sp - sym) : strlen(sym);
        const char *loc = sp ? sp : sym + fn_len;
        if (fn_len == 0 || strncmp(sym, "<null>", 6) == 0 || is_harness_frame(sym, fn_len, loc, strlen(loc))) continue;
        if (fn_len > size - 1) fn_len = size - 1;
        memcpy(frame, sym, fn_len);
        frame[fn_len] = '\0';
        return true;
    }
    return false;
}

/* ---- UndefinedBehaviorSanitizer ---- */

/* The runtime's report hooks (ubsan_monitor.h); weak, so builds without UBSan still link. */
int __ubsan_get_current_report_data(const char **kind, const char **message, const char **file, unsigned *line,
                                    unsigned *col, char **memory_addr) __attribute__((weak));
void __ubsan_on_report(void);

/* Called by UBSan for each report, before it prints it and (the builds here do not recover)
   ends the process: "UBSAN-<check>@<first module frame>", e.g. UBSAN-null@EchoClientNotify. */
void __ubsan_on_report(void)
{
    const char *kind = "unknown", *message = "", *file = "";
    unsigned line = 0, col = 0;
    char *addr = NULL;
    if (__ubsan_get_current_report_data) __ubsan_get_current_report_data(&kind, &message, &file, &line, &col, &addr);
    void *pcs[32];
    int n = backtrace(pcs, 32), from = 0;
    /* The runtime's own frames (C++, outside any recognisable path) end with the check's handler
       that the instrumented code called. */
    for (int i = 0; i < n && __sanitizer_symbolize_pc; i++) {
        char sym[256];
        sym[0] = '\0';
        __sanitizer_symbolize_pc(pcs[i], "%f", sym, sizeof sym);
        if (starts_with(sym, "__ubsan_handle")) from = i + 1;
    }
    char frame[96] = "unknown";
    first_module_frame(pcs + from, n - from, frame, sizeof frame);
    char sig[160];
    snprintf(sig, sizeof sig, "UBSAN-%s@%s", kind, frame);
    NMRH_HARNESS(w);
    fprintf(stderr, "FINDING %s: UndefinedBehaviorSanitizer report in module code\n", sig);
    if (!w || w->stopped) return;
    nmrh_finding *f = &w->finding;
    f->rule = NMRH_RULE_UBSAN;
    snprintf(f->signature, sizeof f->signature, "%s", sig);
    char where[160];
    nmrh_oracle_where(w, where, sizeof where);
    snprintf(f->message, sizeof f->message, "UndefinedBehaviorSanitizer: %s at %s:%u, on %s", message, file, line, where);
    f->details = NULL;
    w->stopped = true;
    nmrh_trace(w, NMRH_EV_FINDING, NMRH_RULE_UBSAN, 0);
    if (w->cfg.on_finding) w->cfg.on_finding(w, f, w->cfg.user);
}

#ifdef NMRH_HAVE_TSAN
/* ThreadSanitizer's report API (compiler-rt tsan_debugging.cpp; not in its public header). */
int __tsan_get_report_data(void *report, const char **description, int *count, int *stack_count, int *mop_count,
                           int *loc_count, int *mutex_count, int *thread_count, int *unique_tid_count,
                           void **sleep_trace, unsigned long trace_size);
int __tsan_get_report_mop(void *report, unsigned long idx, int *tid, void **addr, int *size, int *write,
                          int *atomic, void **trace, unsigned long trace_size);
void __tsan_on_report(void *report);

/* Runs inside TSan's report lock, after the report was printed: it only parks the report in the
   current world (the first one wins), to be turned into the finding at the next harness entry. */
void __tsan_on_report(void *report)
{
    const nmrh_tls *c = nmrh_tls_get();
    nmrh_world *w = c ? c->world : NULL;
    if (!w) return;
    struct nmrh_pending_report *p = &w->tsan_report;
    int expected = 0;
    if (!__atomic_compare_exchange_n(&p->state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) return;
    const char *kind = "unknown";
    int count = 0, stacks = 0, mops = 0, locs = 0, mutexes = 0, threads = 0, tids = 0;
    void *sleep_trace[1];
    __tsan_get_report_data(report, &kind, &count, &stacks, &mops, &locs, &mutexes, &threads, &tids, sleep_trace, 1);
    snprintf(p->kind, sizeof p->kind, "%s", kind);
    if (c->self)
        snprintf(p->thread, sizeof p->thread, "%s '%s'", c->self->label, c->self->name);
    else
        p->thread[0] = '\0';
    for (int m = 0; m < 2 && m < mops; m++) {
        int tid, size, write, atomic;
        void *addr;
        __tsan_get_report_mop(report, (unsigned long)m, &tid, &addr, &size, &write, &atomic, p->pcs[m], 16);
    }
    __atomic_store_n(&p->state, 2, __ATOMIC_RELEASE);
}

/* "TSAN-<kind>@<first module frame of the accesses>": deduplicates like ASan's signatures. */
static void tsan_finding(nmrh_world *w)
{
    struct nmrh_pending_report *p = &w->tsan_report;
    char frame[96] = "unknown";
    if (!first_module_frame(p->pcs[0], 16, frame, sizeof frame)) first_module_frame(p->pcs[1], 16, frame, sizeof frame);
    char sig[160];
    snprintf(sig, sizeof sig, "TSAN-%s@%s", p->kind, frame);
    fprintf(stderr, "FINDING %s: ThreadSanitizer report in module code\n", sig);
    if (w->stopped) return;
    nmrh_finding *f = &w->finding;
    f->rule = NMRH_RULE_TSAN;
    snprintf(f->signature, sizeof f->signature, "%s", sig);
    snprintf(f->message, sizeof f->message, "ThreadSanitizer: %s in %s, on thread %s", p->kind, frame,
             p->thread[0] ? p->thread : "driving the world");
    f->details = NULL;
    w->stopped = true;
    nmrh_trace(w, NMRH_EV_FINDING, NMRH_RULE_TSAN, 0);
    if (w->cfg.on_finding) w->cfg.on_finding(w, f, w->cfg.user);
}
#endif

void nmrh_oracle_take_sanitizer_report(nmrh_world *w)
{
#ifdef NMRH_HAVE_TSAN
    int ready = 2;
    if (__atomic_load_n(&w->tsan_report.state, __ATOMIC_ACQUIRE) == 2 &&
        __atomic_compare_exchange_n(&w->tsan_report.state, &ready, 3, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        tsan_finding(w);
#else
    (void)w;
#endif
}

void nmrh_oracle_install_asan_hook(void)
{
#ifdef NMRH_HAVE_ASAN
    __asan_set_error_report_callback(asan_report_hook);
#endif
}
