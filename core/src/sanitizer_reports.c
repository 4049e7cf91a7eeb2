/*
 * Sanitizer reports as findings. AddressSanitizer, UndefinedBehaviorSanitizer and
 * ThreadSanitizer reports get a signature "<TOOL>-<kind>@<first module frame>", so that reports
 * with the same cause deduplicate, and become the run's finding before the sanitizer ends the
 * process (ASan, UBSan) or goes on (TSan). A report whose first frame outside the runtime and the
 * kernel shim is harness code is the harness's own bug: "NMRH-INTERNAL-<TOOL>-<kind>@<function>",
 * rule NMRH-INTERNAL, never blamed on whichever module ran last.
 */
#include <execinfo.h>
#include <stdlib.h>
#include <string.h>

#include "finding_group.h"
#include "sanitizer_query.h"
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

/* Who a stack frame belongs to. Runtime: the sanitizer and C runtime (and frames without a
   symbol, such as a call through NULL). Shim: the kernel primitives, which act on the module's
   behalf (a double free through ExFreePoolWithTag is the module's). Harness: the model, scheduler,
   interpreter and world. Everything else is module code. */
typedef enum { FRAME_RUNTIME, FRAME_SHIM, FRAME_HARNESS, FRAME_MODULE } frame_owner;

static bool contains(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t j = 0; j + n <= len; j++)
        if (memcmp(s + j, needle, n) == 0) return true;
    return false;
}

static frame_owner classify_frame(const char *fn, size_t fn_len, const char *loc, size_t loc_len)
{
    static const char *const runtime_fns[] = {"__", "malloc", "free", "calloc", "realloc", "_start", "<"};
    for (size_t i = 0; i < sizeof runtime_fns / sizeof runtime_fns[0]; i++) {
        size_t n = strlen(runtime_fns[i]);
        if (fn_len >= n && memcmp(fn, runtime_fns[i], n) == 0) return FRAME_RUNTIME;
    }
    /* System headers: inlined libc wrappers (string_fortified.h's memcpy) are not module code. */
    static const char *const runtime_dirs[] = {"compiler-rt", "libc", "libasan", "/usr/include/"};
    for (size_t i = 0; i < sizeof runtime_dirs / sizeof runtime_dirs[0]; i++)
        if (contains(loc, loc_len, runtime_dirs[i])) return FRAME_RUNTIME;
    if (contains(loc, loc_len, "/core/shim/") || contains(loc, loc_len, "/core/km/")) return FRAME_SHIM;
    if (contains(loc, loc_len, "/core/") || (fn_len >= 5 && memcmp(fn, "nmrh_", 5) == 0)) return FRAME_HARNESS;
    return FRAME_MODULE;
}

/* Walks the "#N 0x... in FN LOC" lines of one stack of a report, from `text` up to the first line
   that is not a frame (after at least one frame): the first module frame goes to `frame`, unless a
   harness frame comes first (the harness itself failed), which goes to `frame` with
   *harness = true. Returns false when the stack has neither. */
static bool report_stack_owner(const char *text, char *frame, size_t size, bool *harness)
{
    bool in_stack = false;
    *harness = false;
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *p = line;
        while (*p == ' ') p++;
        if (*p != '#') {
            if (in_stack) break;
            continue;
        }
        in_stack = true;
        const char *in = strstr(p, " in ");
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        if (!in || in > eol) continue;
        const char *fn = in + 4;
        size_t fn_len = 0;
        while (fn + fn_len < eol && fn[fn_len] != ' ') fn_len++;
        const char *loc = fn + fn_len;
        frame_owner owner = classify_frame(fn, fn_len, loc, (size_t)(eol - loc));
        if (owner == FRAME_RUNTIME || owner == FRAME_SHIM) continue;
        if (fn_len > size - 1) fn_len = size - 1;
        memcpy(frame, fn, fn_len);
        frame[fn_len] = '\0';
        *harness = owner == FRAME_HARNESS;
        return true;
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
    bool harness = false;
    report_stack_owner(report, frame, sizeof frame, &harness);
    /* The harness crashed: its own finding, not the module's that happened to run last. */
    snprintf(out, out_size, "%sASAN-%s@%s", harness ? NMRH_HARNESS_SIGNATURE_PREFIX : "", kind, frame);
}

void nmrh_asan_group(const char *report, const char *signature, char *out, unsigned out_size)
{
    /* Use-after-free and double free: the allocation site of the object, so that every place that
       touched (or freed again) the same freed object counts as one bug. */
    const char *alloc = strstr(report, "previously allocated by thread");
    char frame[96];
    bool harness;
    if (alloc && report_stack_owner(strchr(alloc, '\n') ? strchr(alloc, '\n') + 1 : alloc, frame, sizeof frame, &harness) &&
        !harness) {
        snprintf(out, out_size, "object allocated in %s", frame);
        return;
    }
    snprintf(out, out_size, "%s", signature);
}

#ifdef NMRH_HAVE_ASAN
/* The report becomes the run's finding (the first one only), written out through on_finding
   before ASan prints the report and ends the process. */
static void asan_report_hook(const char *report)
{
    char sig[160];
    nmrh_asan_signature(report, sig, sizeof sig);
    bool harness = strncmp(sig, NMRH_HARNESS_SIGNATURE_PREFIX, strlen(NMRH_HARNESS_SIGNATURE_PREFIX)) == 0;
    NMRH_HARNESS(w);
    fprintf(stderr, "FINDING %s: AddressSanitizer report in %s code\n", sig, harness ? "harness (nmrh's own)" : "module");
    if (!w || w->stopped) return;
    nmrh_finding *f = &w->finding;
    f->rule = harness ? NMRH_RULE_INTERNAL : NMRH_RULE_ASAN;
    snprintf(f->signature, sizeof f->signature, "%s", sig);
    nmrh_asan_group(report, sig, f->group, sizeof f->group);
    char where[160];
    nmrh_oracle_where(w, where, sizeof where);
    if (harness)
        snprintf(f->message, sizeof f->message, "AddressSanitizer report in harness code (a bug in nmrh, not in the module): %s, on %s",
                 sig + strlen(NMRH_HARNESS_SIGNATURE_PREFIX) + 5, where);
    else
        snprintf(f->message, sizeof f->message, "AddressSanitizer: %s, on %s", sig + 5, where);
    f->details = strdup(report);
    w->stopped = true;
    nmrh_trace(w, NMRH_EV_FINDING, NMRH_RULE_ASAN, 0);
    if (w->cfg.on_finding) w->cfg.on_finding(w, f, w->cfg.user);
}
#endif

/* Symbolizes pcs[0..n) (NULL-terminated early) with the sanitizer runtime and names the first
   module frame in `frame`, or the first harness frame when one comes before any module frame
   (*harness set); false when every frame is runtime or shim code. */
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out_buf, size_t out_buf_size) __attribute__((weak));
static bool first_owner_frame(void *const *pcs, int n, char *frame, size_t size, bool *harness)
{
    *harness = false;
    if (!__sanitizer_symbolize_pc) return false;
    for (int i = 0; i < n && pcs[i]; i++) {
        char sym[512];
        sym[0] = '\0';
        __sanitizer_symbolize_pc(pcs[i], "%f %L", sym, sizeof sym);
        const char *sp = strchr(sym, ' ');
        size_t fn_len = sp ? (size_t)(sp - sym) : strlen(sym);
        const char *loc = sp ? sp : sym + fn_len;
        if (fn_len == 0) continue;
        frame_owner owner = classify_frame(sym, fn_len, loc, strlen(loc));
        if (owner == FRAME_RUNTIME || owner == FRAME_SHIM) continue;
        if (fn_len > size - 1) fn_len = size - 1;
        memcpy(frame, sym, fn_len);
        frame[fn_len] = '\0';
        *harness = owner == FRAME_HARNESS;
        return true;
    }
    return false;
}

void nmrh_object_group(const void *object, const char *fallback, char *out, size_t size)
{
#ifdef NMRH_HAVE_ASAN
    void *pcs[16] = {0};
    int thread = 0;
    size_t n = object ? __asan_get_alloc_stack((void *)object, pcs, 16, &thread) : 0;
    char frame[96];
    bool harness;
    if (n > 0 && first_owner_frame(pcs, (int)n, frame, sizeof frame, &harness) && !harness) {
        snprintf(out, size, "object allocated in %s", frame);
        return;
    }
#else
    (void)object;
#endif
    snprintf(out, size, "%s", fallback);
}

bool nmrh_memory_poisoned(const void *p, size_t size)
{
#ifdef NMRH_HAVE_ASAN
    return p && __asan_region_is_poisoned((void *)p, size) != NULL;
#else
    (void)p;
    (void)size;
    return false;
#endif
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
    bool harness;
    first_owner_frame(pcs + from, n - from, frame, sizeof frame, &harness);
    char sig[160];
    snprintf(sig, sizeof sig, "%sUBSAN-%s@%s", harness ? NMRH_HARNESS_SIGNATURE_PREFIX : "", kind, frame);
    NMRH_HARNESS(w);
    fprintf(stderr, "FINDING %s: UndefinedBehaviorSanitizer report in %s code\n", sig, harness ? "harness (nmrh's own)" : "module");
    if (!w || w->stopped) return;
    nmrh_finding *f = &w->finding;
    f->rule = harness ? NMRH_RULE_INTERNAL : NMRH_RULE_UBSAN;
    snprintf(f->signature, sizeof f->signature, "%s", sig);
    snprintf(f->group, sizeof f->group, "%s", sig);
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
    bool harness;
    if (!first_owner_frame(p->pcs[0], 16, frame, sizeof frame, &harness))
        first_owner_frame(p->pcs[1], 16, frame, sizeof frame, &harness);
    char sig[160];
    snprintf(sig, sizeof sig, "TSAN-%s@%s", p->kind, frame);
    fprintf(stderr, "FINDING %s: ThreadSanitizer report in module code\n", sig);
    if (w->stopped) return;
    nmrh_finding *f = &w->finding;
    f->rule = NMRH_RULE_TSAN;
    snprintf(f->signature, sizeof f->signature, "%s", sig);
    snprintf(f->group, sizeof f->group, "%s", sig);
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
