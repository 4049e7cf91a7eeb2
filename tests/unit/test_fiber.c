/* Unit tests for nmrh fibers. Standalone: exit code 0 = all passed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fork, sigaltstack, MAP_ANONYMOUS on strict -std=c11 */
#endif

#include "nmrh/fiber.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

#define NOINLINE __attribute__((noinline))

typedef struct tally {
    int passed;
    int failed;
} tally;

#define CHECK(t, cond)                                                                     \
    do {                                                                                   \
        if (cond) {                                                                        \
            (t)->passed++;                                                                 \
        } else {                                                                           \
            (t)->failed++;                                                                 \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__, __func__, \
                    #cond);                                                                \
        }                                                                                  \
    } while (0)

/* Virtual size of the process in pages, or 0 if /proc is unavailable. */
static unsigned long vm_pages(void)
{
    unsigned long pages = 0;
    FILE *fp = fopen("/proc/self/statm", "r");
    if (fp == NULL)
        return 0;
    if (fscanf(fp, "%lu", &pages) != 1)
        pages = 0;
    fclose(fp);
    return pages;
}

/* ------------------------------------------------------------------------------------------ */
/* Ping-pong between main and two fibers, including a direct fiber-to-fiber switch.          */

enum { PP_ROUNDS = 5 };

typedef struct pingpong {
    nmrh_fiber main, a, b;
    char log[64];
    int n;
    long value;
} pingpong;

static void pp_log(pingpong *p, char c)
{
    if (p->n < (int)sizeof p->log - 1)
        p->log[p->n++] = c;
}

static void pp_entry_a(void *arg)
{
    pingpong *p = arg;
    for (int r = 0; r < PP_ROUNDS; r++) {
        pp_log(p, 'a');
        p->value = p->value * 3 + 1;
        nmrh_fiber_switch(&p->a, &p->b);
    }
    pp_log(p, 'A');
    nmrh_fiber_switch_final(&p->a, &p->b);
}

static void pp_entry_b(void *arg)
{
    pingpong *p = arg;
    for (int r = 0; r < PP_ROUNDS; r++) {
        pp_log(p, 'b');
        p->value = p->value + 7;
        nmrh_fiber_switch(&p->b, &p->main);
    }
    pp_log(p, 'B');
    nmrh_fiber_switch_final(&p->b, &p->main);
}

static void test_pingpong(tally *t)
{
    pingpong p;
    memset(&p, 0, sizeof p);
    nmrh_fiber_init_main(&p.main);
    CHECK(t, nmrh_fiber_create(&p.a, 0, pp_entry_a, &p) == 0);
    CHECK(t, nmrh_fiber_create(&p.b, 0, pp_entry_b, &p) == 0);

    long expect = 2;
    p.value = 2;
    for (int r = 0; r < PP_ROUNDS; r++) {
        pp_log(&p, 'm');
        nmrh_fiber_switch(&p.main, &p.a);
        expect = expect * 3 + 1 + 7;
        CHECK(t, p.value == expect);
    }
    pp_log(&p, 'x');
    nmrh_fiber_switch(&p.main, &p.a); /* a finishes into b, b finishes into main */
    pp_log(&p, 'M');

    char want[64];
    int w = 0;
    for (int r = 0; r < PP_ROUNDS; r++) {
        want[w++] = 'm';
        want[w++] = 'a';
        want[w++] = 'b';
    }
    memcpy(want + w, "xABM", 5);
    p.log[p.n] = '\0';
    CHECK(t, strcmp(p.log, want) == 0);
    if (strcmp(p.log, want) != 0)
        fprintf(stderr, "  interleaving: got \"%s\" want \"%s\"\n", p.log, want);

#if TEST_ASAN
    /* Switching back to main needs main's stack bounds, which ASan only reveals on the first
     * switch away from it; without them ASan silently loses track of the main stack. */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    CHECK(t, p.main.stack_size != 0);
    CHECK(t, here >= (uintptr_t)p.main.stack_bottom &&
                 here < (uintptr_t)p.main.stack_bottom + p.main.stack_size);
#endif

    nmrh_fiber_destroy(&p.a);
    nmrh_fiber_destroy(&p.b);
}

/* ------------------------------------------------------------------------------------------ */
/* Callee-saved registers: many values live across every switch, in both contexts at once.   */

enum { REG_ITERS = 1000 };

typedef struct regs {
    nmrh_fiber main, f;
    uint64_t fiber_result;
} regs;

/* Twelve integer and four FP accumulators stay live across each switch, more than there are
 * callee-saved registers, so both the registers and the spill slots on each stack are exercised. */
static NOINLINE uint64_t reg_work(uint64_t seed, nmrh_fiber *self, nmrh_fiber *other)
{
    uint64_t x0 = seed, x1 = seed ^ 0x9e3779b97f4a7c15u, x2 = seed * 3, x3 = seed + 11;
    uint64_t x4 = ~seed, x5 = seed << 7, x6 = seed >> 3, x7 = seed * seed;
    uint64_t x8 = seed + 0x1234, x9 = seed ^ 0xdeadbeef, x10 = seed * 5 + 1, x11 = seed - 99;
    double d0 = (double)(seed & 0xff), d1 = 1.5, d2 = -2.25, d3 = 0.125;
    for (int i = 0; i < REG_ITERS; i++) {
        x0 = x0 * 6364136223846793005u + x11;
        x1 ^= (x0 << 13) | (x0 >> 51);
        x2 += x1 * 31;
        x3 ^= x2 >> 7;
        x4 = x4 * 5 + x3;
        x5 += x4 ^ x0;
        x6 = (x6 << 3) ^ x5;
        x7 += x6 * 17;
        x8 ^= x7 + x2;
        x9 = x9 * 9 + x8;
        x10 += x9 ^ x4;
        x11 = x11 * 3 ^ x10;
        d0 = d0 * 0.5 + (double)(x3 & 0xf);
        d1 = d1 + d0 * 0.25;
        d2 = d2 * 0.75 - d1 * 0.125;
        d3 = d3 + d2 * 0.0625;
        if (self != NULL)
            nmrh_fiber_switch(self, other);
    }
    return x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11 + (uint64_t)(int64_t)d0 +
           (uint64_t)(int64_t)d1 + (uint64_t)(int64_t)d2 + (uint64_t)(int64_t)(d3 * 1000.0);
}

static void reg_entry(void *arg)
{
    regs *r = arg;
    r->fiber_result = reg_work(0xfeedface12345678u, &r->f, &r->main);
    nmrh_fiber_switch_final(&r->f, &r->main);
}

static void test_callee_saved(tally *t)
{
    uint64_t want_main = reg_work(42, NULL, NULL);
    uint64_t want_fiber = reg_work(0xfeedface12345678u, NULL, NULL);

    regs r;
    memset(&r, 0, sizeof r);
    nmrh_fiber_init_main(&r.main);
    CHECK(t, nmrh_fiber_create(&r.f, 0, reg_entry, &r) == 0);
    /* Each side switches once per iteration; the fiber's last switch is its final one. */
    uint64_t got_main = reg_work(42, &r.main, &r.f);
    nmrh_fiber_switch(&r.main, &r.f);
    CHECK(t, got_main == want_main);
    CHECK(t, r.fiber_result == want_fiber);
    nmrh_fiber_destroy(&r.f);
}

/* ------------------------------------------------------------------------------------------ */
/* Deep recursion uses most of a 256 KiB stack.                                              */

typedef struct deep {
    nmrh_fiber main, f;
    int depth;
    size_t stride; /* a run-time stride stops the compiler from shrinking the frame's buffer */
    uintptr_t top_frame, lowest_frame;
    uint64_t sum;
} deep;

static NOINLINE uint64_t deep_recurse(deep *d, int n)
{
    volatile unsigned char buf[1024];
    for (size_t i = 0; i < sizeof buf; i += d->stride)
        buf[i] = (unsigned char)((size_t)n + i);
    uintptr_t fa = (uintptr_t)__builtin_frame_address(0);
    if (fa < d->lowest_frame)
        d->lowest_frame = fa;
    uint64_t below = n > 1 ? deep_recurse(d, n - 1) : 0;
    uint64_t s = 0;
    for (size_t i = 0; i < sizeof buf; i += d->stride)
        s += buf[i];
    return below + s;
}

static void deep_entry(void *arg)
{
    deep *d = arg;
    d->top_frame = (uintptr_t)__builtin_frame_address(0);
    d->lowest_frame = d->top_frame;
    d->sum = deep_recurse(d, d->depth);
    nmrh_fiber_switch_final(&d->f, &d->main);
}

static void test_deep_recursion(tally *t)
{
    deep d;
    memset(&d, 0, sizeof d);
    d.depth = 160;
    d.stride = 64;
    uint64_t want = 0;
    for (int n = 1; n <= d.depth; n++)
        for (unsigned i = 0; i < 1024; i += 64)
            want += (unsigned char)((unsigned)n + i);

    nmrh_fiber_init_main(&d.main);
    CHECK(t, nmrh_fiber_create(&d.f, 256 * 1024, deep_entry, &d) == 0);
    nmrh_fiber_switch(&d.main, &d.f);
    CHECK(t, d.sum == want);
    /* The frames really were on the fiber's own stack... */
    CHECK(t, d.lowest_frame >= (uintptr_t)d.f.stack_bottom);
    CHECK(t, d.top_frame < (uintptr_t)d.f.stack_bottom + d.f.stack_size);
    /* ...and used a good chunk of it. ASan moves the buffers to its fake stack. */
    if (!TEST_ASAN)
        CHECK(t, d.top_frame - d.lowest_frame >= 160u * 1024);
    nmrh_fiber_destroy(&d.f);
}

/* ------------------------------------------------------------------------------------------ */
/* Floating-point control state is per fiber.                                                */

#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_FP_TEST 1
enum { RND_NEAREST, RND_UP, RND_DOWN, RND_ZERO };

#if defined(__x86_64__)
static const unsigned x86_rc[4] = {0, 2, 1, 3}; /* RC field encoding per mode */

static int rc_to_mode(unsigned rc)
{
    for (int m = 0; m < 4; m++)
        if (x86_rc[m] == rc)
            return m;
    return -1;
}

static void fp_set_round(int mode)
{
    uint32_t mxcsr = 0;
    uint16_t cw = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    mxcsr = (mxcsr & ~(3u << 13)) | (x86_rc[mode] << 13);
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    cw = (uint16_t)((cw & ~(3u << 10)) | (x86_rc[mode] << 10));
    __asm__ volatile("fldcw %0" : : "m"(cw));
}

/* SSE (MXCSR) rounding mode. */
static int fp_get_round(void)
{
    uint32_t mxcsr = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    return rc_to_mode((mxcsr >> 13) & 3);
}

/* x87 control word rounding mode, kept separately by the hardware. */
static int fp_get_round_x87(void)
{
    uint16_t cw = 0;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return rc_to_mode((cw >> 10) & 3u);
}
#else
static void fp_set_round(int mode)
{
    static const uint64_t rmode[4] = {0, 1, 2, 3}; /* FPCR.RMode: RN, RP, RM, RZ */
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr = (fpcr & ~((uint64_t)3 << 22)) | (rmode[mode] << 22);
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
}

static int fp_get_round(void)
{
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    return (int)((fpcr >> 22) & 3);
}

static int fp_get_round_x87(void)
{
    return fp_get_round();
}
#endif

/* Volatile operands keep the division at run time, under whatever mode is current. */
static NOINLINE double fp_third(void)
{
    volatile double one = 1.0, three = 3.0;
    volatile double q = one / three;
    return q;
}

typedef struct fpctx {
    nmrh_fiber main, f, g;
    double third[4];
    int f_mode_after_resume, f_x87_after_resume;
    double f_third_after_resume;
    int g_mode_at_start;
} fpctx;

static void fp_entry_f(void *arg)
{
    fpctx *c = arg;
    fp_set_round(RND_UP);
    nmrh_fiber_switch(&c->f, &c->main);
    c->f_mode_after_resume = fp_get_round();
    c->f_x87_after_resume = fp_get_round_x87();
    c->f_third_after_resume = fp_third();
    nmrh_fiber_switch_final(&c->f, &c->main);
}

static void fp_entry_g(void *arg)
{
    fpctx *c = arg;
    c->g_mode_at_start = fp_get_round();
    nmrh_fiber_switch_final(&c->g, &c->main);
}

static void test_fp_state(tally *t)
{
    fpctx c;
    memset(&c, 0, sizeof c);
    for (int m = 0; m < 4; m++) {
        fp_set_round(m);
        c.third[m] = fp_third();
    }
    fp_set_round(RND_NEAREST);
    CHECK(t, c.third[RND_UP] != c.third[RND_DOWN]); /* otherwise the test proves nothing */

    nmrh_fiber_init_main(&c.main);
    CHECK(t, nmrh_fiber_create(&c.f, 0, fp_entry_f, &c) == 0);
    nmrh_fiber_switch(&c.main, &c.f); /* f switches to round-up and yields */
    CHECK(t, fp_get_round() == RND_NEAREST);
    CHECK(t, fp_get_round_x87() == RND_NEAREST);
    CHECK(t, fp_third() == c.third[RND_NEAREST]);

    fp_set_round(RND_DOWN);
    nmrh_fiber_switch(&c.main, &c.f);
    CHECK(t, c.f_mode_after_resume == RND_UP);
    CHECK(t, c.f_x87_after_resume == RND_UP);
    CHECK(t, c.f_third_after_resume == c.third[RND_UP]);
    CHECK(t, fp_get_round() == RND_DOWN);
    CHECK(t, fp_get_round_x87() == RND_DOWN);
    CHECK(t, fp_third() == c.third[RND_DOWN]);

    /* A new fiber starts with its creator's mode, not whatever is current when it first runs. */
    fp_set_round(RND_ZERO);
    CHECK(t, nmrh_fiber_create(&c.g, 0, fp_entry_g, &c) == 0);
    fp_set_round(RND_NEAREST);
    nmrh_fiber_switch(&c.main, &c.g);
    CHECK(t, c.g_mode_at_start == RND_ZERO);
    CHECK(t, fp_get_round() == RND_NEAREST);

    nmrh_fiber_destroy(&c.f);
    nmrh_fiber_destroy(&c.g);
}
#else
#define HAVE_FP_TEST 0
#endif

/* ------------------------------------------------------------------------------------------ */
/* Final switch then destroy; destroying suspended and never-started fibers.                 */

typedef struct life {
    nmrh_fiber main, f;
    int steps;
    unsigned char *escape; /* address of a fiber local, to force an ASan fake frame */
} life;

static NOINLINE void life_touch(life *l, unsigned char *p, size_t n)
{
    l->escape = p;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i + (size_t)l->steps);
}

static void life_finish_entry(void *arg)
{
    life *l = arg;
    unsigned char local[256];
    life_touch(l, local, sizeof local);
    l->steps++;
    nmrh_fiber_switch(&l->f, &l->main);
    l->steps += local[10] == (unsigned char)(10 + 0) ? 1 : 100;
    nmrh_fiber_switch_final(&l->f, &l->main);
}

static void life_suspend_entry(void *arg)
{
    life *l = arg;
    unsigned char local[256];
    life_touch(l, local, sizeof local);
    l->steps++;
    nmrh_fiber_switch(&l->f, &l->main);
    abort(); /* never resumed */
}

/* A fiber abandoned inside a frame too big for ASan's fake stack leaves that frame's redzones
 * poisoned on its real stack. Once destroyed, whatever is mapped at the same address next must
 * be usable without spurious reports. */
enum { STALE_STACK = 256 * 1024, STALE_FRAME = 100 * 1024 };

static NOINLINE void stale_big_frame(life *l)
{
    unsigned char big[STALE_FRAME];
    life_touch(l, big, sizeof big);
    l->steps++;
    nmrh_fiber_switch(&l->f, &l->main);
    abort(); /* never resumed */
}

static void stale_entry(void *arg)
{
    stale_big_frame(arg);
}

static void test_destroy_leaves_no_poison(tally *t)
{
    life l;
    memset(&l, 0, sizeof l);
    nmrh_fiber_init_main(&l.main);
    CHECK(t, nmrh_fiber_create(&l.f, STALE_STACK, stale_entry, &l) == 0);
    nmrh_fiber_switch(&l.main, &l.f);
    CHECK(t, l.steps == 1);
    void *old_map = l.f.map;
    size_t old_size = l.f.map_size;
    nmrh_fiber_destroy(&l.f);

    /* The kernel normally hands the same range straight back; if not, there is nothing to see. */
    void *m = mmap(NULL, old_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(t, m != MAP_FAILED);
    if (m == MAP_FAILED)
        return;
    if (m != old_map && TEST_ASAN)
        fprintf(stderr, "note: stale-poison check inconclusive (mapping moved)\n");
    volatile unsigned char *v = m;
    unsigned sum = 0;
    for (size_t i = 0; i < old_size; i++) {
        v[i] = (unsigned char)i;
        sum += v[i];
    }
    CHECK(t, sum != 0);
    munmap(m, old_size);
}

static void test_final_then_destroy(tally *t)
{
    life l;
    memset(&l, 0, sizeof l);
    nmrh_fiber_init_main(&l.main);
    CHECK(t, nmrh_fiber_create(&l.f, 0, life_finish_entry, &l) == 0);
    nmrh_fiber_switch(&l.main, &l.f);
    CHECK(t, l.steps == 1);
    nmrh_fiber_switch(&l.main, &l.f); /* resumes, checks its local survived, finishes */
    CHECK(t, l.steps == 2);
    nmrh_fiber_destroy(&l.f);
    CHECK(t, l.f.map == NULL);
    nmrh_fiber_destroy(&l.f); /* idempotent after destroy: struct is cleared */
}

static void test_destroy_suspended(tally *t)
{
    life l;
    memset(&l, 0, sizeof l);
    nmrh_fiber_init_main(&l.main);

    /* Never started. */
    CHECK(t, nmrh_fiber_create(&l.f, 0, life_suspend_entry, &l) == 0);
    nmrh_fiber_destroy(&l.f);
    CHECK(t, l.steps == 0);

    /* Abandoned mid-run, many times: under ASan each one owns a fake stack that destroy must
     * release, so the address space must not grow by hundreds of KiB per fiber. */
    unsigned long before = vm_pages();
    int ok = 1;
    for (int i = 0; i < 2000 && ok; i++) {
        ok = nmrh_fiber_create(&l.f, 0, life_suspend_entry, &l) == 0;
        if (!ok)
            break;
        nmrh_fiber_switch(&l.main, &l.f);
        nmrh_fiber_destroy(&l.f);
    }
    unsigned long after = vm_pages();
    CHECK(t, ok);
    CHECK(t, l.steps == 2000);
    long page = sysconf(_SC_PAGESIZE);
    if (before != 0 && page > 0) {
        unsigned long grown = after > before ? (after - before) * (unsigned long)page : 0;
        CHECK(t, grown < 32ul * 1024 * 1024);
        if (grown >= 32ul * 1024 * 1024)
            fprintf(stderr, "  address space grew by %lu KiB\n", grown / 1024);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* 10,000 create/run/destroy cycles must not leak mappings (or heap, checked by LSan).       */

typedef struct churn {
    nmrh_fiber main, f;
    long runs;
} churn;

static void churn_entry(void *arg)
{
    churn *c = arg;
    c->runs++;
    nmrh_fiber_switch_final(&c->f, &c->main);
}

static void test_churn(tally *t)
{
    churn c;
    memset(&c, 0, sizeof c);
    nmrh_fiber_init_main(&c.main);
    unsigned long before = vm_pages();
    int failures = 0;
    for (int i = 0; i < 10000; i++) {
        if (nmrh_fiber_create(&c.f, (size_t)(i % 4) * 16384, churn_entry, &c) != 0) {
            failures++;
            continue;
        }
        if (i % 2 == 0) /* odd ones are destroyed without ever running */
            nmrh_fiber_switch(&c.main, &c.f);
        nmrh_fiber_destroy(&c.f);
    }
    unsigned long after = vm_pages();
    CHECK(t, failures == 0);
    CHECK(t, c.runs == 5000);
    long page = sysconf(_SC_PAGESIZE);
    if (before != 0 && page > 0) {
        unsigned long grown = after > before ? (after - before) * (unsigned long)page : 0;
        CHECK(t, grown < 32ul * 1024 * 1024);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Faults in a child process: stack overflow hits the guard page; returning from entry aborts. */

enum { GUARD_HIT = 42, GUARD_MISS = 43 };

typedef struct overflow {
    nmrh_fiber main, f;
} overflow;

/* Fault addresses inside the page right below stack_bottom prove the guard page caught the
 * overflow. The handler may not use globals, so the bounds are parked at the low end of the
 * alternate signal stack, which sigaltstack() hands back and the handler's frames never reach. */
static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0)
        _exit(GUARD_MISS);
    const uintptr_t *bounds = ss.ss_sp;
    uintptr_t a = (uintptr_t)si->si_addr;
    _exit(a >= bounds[0] && a < bounds[1] ? GUARD_HIT : GUARD_MISS);
}

static NOINLINE int overflow_recurse(int n)
{
    volatile unsigned char buf[192];
    buf[0] = (unsigned char)n;
    buf[sizeof buf - 1] = (unsigned char)n;
    if (n > 100000000)
        return 0;
    return overflow_recurse(n + 1) + buf[0] + buf[sizeof buf - 1];
}

static void overflow_entry(void *arg)
{
    overflow *o = arg;
    (void)overflow_recurse(0);
    nmrh_fiber_switch_final(&o->f, &o->main);
}

static void run_overflow_child(void)
{
    overflow o;
    memset(&o, 0, sizeof o);
    nmrh_fiber_init_main(&o.main);
    if (nmrh_fiber_create(&o.f, 64 * 1024, overflow_entry, &o) != 0)
        _exit(3);
    long page = sysconf(_SC_PAGESIZE);
    size_t alt_size = 256 * 1024;
    void *alt = mmap(NULL, alt_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (alt == MAP_FAILED || page <= 0)
        _exit(4);
    uintptr_t *bounds = alt;
    bounds[0] = (uintptr_t)o.f.stack_bottom - (uintptr_t)page;
    bounds[1] = (uintptr_t)o.f.stack_bottom;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = alt;
    ss.ss_size = alt_size;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGSEGV, &sa, NULL) != 0 ||
        sigaction(SIGBUS, &sa, NULL) != 0)
        _exit(5);
    nmrh_fiber_switch(&o.main, &o.f);
    _exit(6); /* the overflow must not come back */
}

static void returning_entry(void *arg)
{
    (void)arg; /* returns, which the contract forbids: the fiber must abort */
}

static void run_return_child(void)
{
    nmrh_fiber m, f;
    nmrh_fiber_init_main(&m);
    if (nmrh_fiber_create(&f, 0, returning_entry, NULL) != 0)
        _exit(3);
    nmrh_fiber_switch(&m, &f);
    _exit(6);
}

/* Runs child() in a forked process with stderr silenced (a sanitizer may describe the crash we
 * provoke); returns its wait status, or -1. */
static int in_child(void (*child)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(2);
        child();
        _exit(7);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static void test_guard_page(tally *t)
{
    int st = in_child(run_overflow_child);
    CHECK(t, st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == GUARD_HIT);
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == GUARD_HIT))
        fprintf(stderr, "  overflow child status %#x\n", (unsigned)st);
}

static void test_entry_return_aborts(tally *t)
{
    int st = in_child(run_return_child);
    CHECK(t, st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

/* ------------------------------------------------------------------------------------------ */

int main(void)
{
    tally t = {0, 0};
    test_pingpong(&t);
    test_callee_saved(&t);
    test_deep_recursion(&t);
#if HAVE_FP_TEST
    test_fp_state(&t);
#else
    fprintf(stderr, "note: floating-point control test not available on this architecture\n");
#endif
    test_final_then_destroy(&t);
    test_destroy_suspended(&t);
    test_destroy_leaves_no_poison(&t);
    test_churn(&t);
    test_guard_page(&t);
    test_entry_return_aborts(&t);
    printf("test_fiber: %s backend%s\n", NMRH_FIBER_BACKEND_ASM ? "asm" : "ucontext",
           TEST_ASAN ? ", asan" : "");
    printf("test_fiber: %d passed, %d failed\n", t.passed, t.failed);
    return t.failed == 0 ? 0 : 1;
}
