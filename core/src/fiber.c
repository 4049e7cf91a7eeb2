/* Fibers: stack allocation, first-entry set-up and AddressSanitizer bookkeeping. The register
 * switch itself lives in fiber_switch_<arch>.S; other targets use ucontext. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* MAP_ANONYMOUS / MAP_STACK, ucontext on strict -std=c11 */
#endif

#include "nmrh/fiber.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define NMRH_FIBER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NMRH_FIBER_ASAN 1
#endif
#endif
#ifndef NMRH_FIBER_ASAN
#define NMRH_FIBER_ASAN 0
#endif

#if NMRH_FIBER_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__SANITIZE_THREAD__)
#define NMRH_FIBER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NMRH_FIBER_TSAN 1
#endif
#endif
#ifndef NMRH_FIBER_TSAN
#define NMRH_FIBER_TSAN 0
#endif
#if NMRH_FIBER_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ThreadSanitizer keeps a shadow stack and a clock per context: it must be told about each
   fiber and about every switch, or it reports nonsense (a main fiber learns its context when it
   first switches away). */
static inline void tsan_switch(nmrh_fiber *from, nmrh_fiber *to)
{
#if NMRH_FIBER_TSAN
    if (!from->tsan_fiber) from->tsan_fiber = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#else
    (void)from;
    (void)to;
#endif
}

#define NMRH_FIBER_DEFAULT_STACK ((size_t)64 * 1024)
/* Top pages of a stack taken from an unfinished fiber that are cleared in place rather than given
 * back to the kernel: a page fault costs several microseconds, and threads rarely go deeper. */
#define NMRH_FIBER_KEEP_PAGES 2
/* Below its deepest recorded point, a finished fiber may have written more (the frames of calls
 * made after the last record: the allocator with its stack-trace buffer, formatting, module code
 * between two scheduling points, a few KiB in practice). take_stack looks for that writing: it
 * scans down from the recorded point and stops after this much unbroken zero memory. */
#ifndef NMRH_FIBER_CLEAN_RUN
#define NMRH_FIBER_CLEAN_RUN ((size_t)4 * 1024)
#endif

#if NMRH_FIBER_BACKEND_ASM
/* Hidden so that a shared-library build calls them directly instead of through the PLT. Returns the
 * `transfer` argument passed by whichever context later switches back to this one. */
__attribute__((visibility("hidden"))) void *nmrh_fiber_asm_swap(void **save_sp, void *new_sp,
                                                                void *transfer);
/* Never called from C: its address is planted as the return address of a new fiber's first frame. */
__attribute__((visibility("hidden"))) void nmrh_fiber_asm_trampoline(void);
#endif

#if NMRH_FIBER_ASAN
/* Completes the switch ASan was told about in start_switch. It reports the bounds of the stack we
 * came from; a main fiber's bounds are unknown until then, so that is when we record them. */
static void asan_finish_switch(void *fake_stack, nmrh_fiber *prev)
{
    const void *bottom = NULL;
    size_t size = 0;
    __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
    if (prev->stack_size == 0) {
        prev->stack_bottom = bottom;
        prev->stack_size = size;
    }
}

/* A suspended fiber's fake stack (ASan's heap copy of its address-taken locals, detect_stack_use_
 * after_return) is only freed by a final start_switch made while it is current. For an abandoned
 * fiber we make it current for a moment, without leaving our real stack, and discard it; otherwise
 * every abandoned fiber would leak several hundred KiB of ASan mappings. */
static void asan_drop_fake_stack(nmrh_fiber *f)
{
    void *own_fake_stack = NULL;
    const void *own_bottom = NULL;
    size_t own_size = 0;
    __sanitizer_start_switch_fiber(&own_fake_stack, f->stack_bottom, f->stack_size);
    __sanitizer_finish_switch_fiber(f->asan_fake_stack, &own_bottom, &own_size);
    __sanitizer_start_switch_fiber(NULL, own_bottom, own_size);
    __sanitizer_finish_switch_fiber(own_fake_stack, NULL, NULL);
    f->asan_fake_stack = NULL;
}
#endif

/* First code a new fiber runs (reached from the trampoline or makecontext). */
static _Noreturn void fiber_start(nmrh_fiber *self, nmrh_fiber *prev)
{
#if NMRH_FIBER_ASAN
    asan_finish_switch(NULL, prev); /* fresh fiber: no fake stack to restore yet */
#else
    (void)prev;
#endif
    self->entry(self->arg);
    abort(); /* entry must end with nmrh_fiber_switch_final; there is nothing to return to */
}

#if !NMRH_FIBER_BACKEND_ASM
/* makecontext only passes int arguments, so the pointer travels in two halves. */
static void fiber_start_uc(unsigned int hi, unsigned int lo)
{
    nmrh_fiber *self = (nmrh_fiber *)(uintptr_t)(((uint64_t)hi << 32) | (uint64_t)lo);
    fiber_start(self, self->prev);
}
#endif

/* Returns the fiber that switched back to `from`. */
static inline nmrh_fiber *raw_switch(nmrh_fiber *from, nmrh_fiber *to)
{
#if NMRH_FIBER_BACKEND_ASM
    return (nmrh_fiber *)nmrh_fiber_asm_swap(&from->sp, to->sp, from);
#else
    to->prev = from;
    if (swapcontext(&from->uctx, &to->uctx) != 0)
        abort();
    return from->prev;
#endif
}

void nmrh_fiber_init_main(nmrh_fiber *f)
{
    *f = (nmrh_fiber){0};
}

#if NMRH_FIBER_BACKEND_ASM
/* Builds a frame that nmrh_fiber_asm_swap's restore path pops, so the first switch "returns" into
 * the trampoline with self/fiber_start in callee-saved registers. */
static void init_first_frame(nmrh_fiber *f, char *stack_top)
{
    /* Keep a little slack above the first frame for unwinders that peek past the top. */
    uintptr_t top = ((uintptr_t)stack_top - 64) & ~(uintptr_t)15;
    uint64_t *p = (uint64_t *)top;
#if defined(__x86_64__)
    /* Layout must match fiber_switch_x86_64.S. The trampoline starts with rsp == top, which is the
     * 16-byte alignment the ABI requires just before its `call`. */
    uint32_t mxcsr = 0; /* asm memory outputs are invisible to MSan */
    uint16_t fpcw = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpcw));
    p[-1] = (uint64_t)(uintptr_t)&nmrh_fiber_asm_trampoline; /* return address */
    p[-2] = 0;                                              /* rbp: ends frame-pointer walks */
    p[-3] = 0;                                              /* rbx */
    p[-4] = (uint64_t)(uintptr_t)f;                         /* r12 */
    p[-5] = (uint64_t)(uintptr_t)&fiber_start;              /* r13 */
    p[-6] = 0;                                              /* r14 */
    p[-7] = 0;                                              /* r15 */
    p[-8] = mxcsr & ~(uint32_t)0x3f;                        /* inherit modes, not sticky flags */
    p[-9] = fpcw;
    f->sp = &p[-9];
#elif defined(__aarch64__)
    /* Layout must match fiber_switch_aarch64.S: 22 slots, sp stays 16-byte aligned. */
    uint64_t fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    uint64_t *q = p - 22;
    for (int i = 0; i < 22; i++)
        q[i] = 0;
    q[0] = (uint64_t)(uintptr_t)f;                          /* x19 */
    q[1] = (uint64_t)(uintptr_t)&fiber_start;               /* x20 */
    q[10] = 0;                                              /* x29: ends frame-pointer walks */
    q[11] = (uint64_t)(uintptr_t)&nmrh_fiber_asm_trampoline; /* x30 */
    q[20] = fpcr;
    f->sp = q;
#else
#error "asm fiber backend selected for an unsupported architecture"
#endif
}
#endif

static size_t page_size(void)
{
    long page_l = sysconf(_SC_PAGESIZE);
    return page_l > 0 ? (size_t)page_l : 4096;
}

/* Sets up f to run entry(arg) on [map + page, map + map_size); the guard page is in place. */
static int create_on(nmrh_fiber *f, char *map, size_t map_size, size_t page, void (*entry)(void *arg), void *arg)
{
    size_t usable = map_size - page;
    *f = (nmrh_fiber){0};
    f->map = map;
    f->map_size = map_size;
    f->entry = entry;
    f->arg = arg;
    f->stack_bottom = map + page;
    f->stack_size = usable;
    f->low_water = map + map_size;
#if NMRH_FIBER_TSAN
    f->tsan_fiber = __tsan_create_fiber(0);
#endif

#if NMRH_FIBER_BACKEND_ASM
    init_first_frame(f, map + map_size);
#else
    if (getcontext(&f->uctx) != 0) {
        *f = (nmrh_fiber){0};
        return -1;
    }
    f->uctx.uc_stack.ss_sp = map + page;
    f->uctx.uc_stack.ss_size = usable;
    f->uctx.uc_link = NULL;
    uint64_t self = (uint64_t)(uintptr_t)f;
    makecontext(&f->uctx, (void (*)(void))fiber_start_uc, 2, (unsigned int)(self >> 32),
                (unsigned int)(self & 0xffffffffu));
#endif
    return 0;
}

int nmrh_fiber_create(nmrh_fiber *f, size_t stack_size, void (*entry)(void *arg), void *arg)
{
    size_t page = page_size();
    if (stack_size == 0)
        stack_size = NMRH_FIBER_DEFAULT_STACK;
    if (stack_size > SIZE_MAX - 2 * page)
        return -1;
    size_t usable = (stack_size + page - 1) & ~(page - 1);
    size_t map_size = usable + page;

    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_STACK
    flags |= MAP_STACK;
#endif
    char *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (map == MAP_FAILED)
        return -1;
    /* Stacks grow down: an overflow runs into this page and faults instead of corrupting memory. */
    if (mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, map_size);
        return -1;
    }
#if NMRH_FIBER_ASAN
    /* The address range may have been used by something ASan poisoned and never cleaned up. */
    __asan_unpoison_memory_region(map, map_size);
#endif
    int r = create_on(f, map, map_size, page, entry, arg);
    if (r != 0)
        munmap(map, map_size);
    return r;
}

int nmrh_fiber_create_on(nmrh_fiber *f, nmrh_fiber_stack stack, void (*entry)(void *arg), void *arg)
{
    return create_on(f, stack.map, stack.map_size, page_size(), entry, arg);
}

void nmrh_fiber_switch(nmrh_fiber *from, nmrh_fiber *to)
{
    nmrh_fiber_note_depth(from);
    tsan_switch(from, to);
#if NMRH_FIBER_ASAN
    __sanitizer_start_switch_fiber(&from->asan_fake_stack, to->stack_bottom, to->stack_size);
    nmrh_fiber *prev = raw_switch(from, to);
    asan_finish_switch(from->asan_fake_stack, prev);
#else
    (void)raw_switch(from, to);
#endif
}

/* Declared as returning (it does not), so that ASan inserts no __asan_handle_no_return here. */
void nmrh_fiber_exit(nmrh_fiber *from, nmrh_fiber *to)
{
    /* Whatever was parked here is the fake stack that the NULL start_switch below destroys;
     * destroy() must not free it a second time. */
    from->asan_fake_stack = NULL;
    nmrh_fiber_note_depth(from);
    from->finished = 1;
    tsan_switch(from, to);
#if NMRH_FIBER_ASAN
    __sanitizer_start_switch_fiber(NULL, to->stack_bottom, to->stack_size);
#endif
    (void)raw_switch(from, to);
    abort(); /* nobody may resume a finished fiber */
}

_Noreturn void nmrh_fiber_switch_final(nmrh_fiber *from, nmrh_fiber *to)
{
    nmrh_fiber_exit(from, to);
    abort(); /* not reached */
}

/* Stack scanning and clearing are not instrumented: they read below what the fiber used (where
 * ASan may have unpoisoned nothing) and run at every thread end, where ASan's range checks of a
 * memset would cost as much as the clearing. */
#if NMRH_FIBER_ASAN
#define NMRH_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define NMRH_NO_ASAN
#endif

/* 64 bytes as one value (a compiler vector: the loops below compile to wide loads and stores). */
typedef uint64_t line64 __attribute__((vector_size(64)));

/* Where a finished fiber's writing on [bottom, top) ends, going down: its deepest recorded point,
 * or the lowest non-zero 256-byte block below it that is followed (further down) by less than
 * NMRH_FIBER_CLEAN_RUN of zeros. A recorded point outside the stack: the whole stack (bottom).
 * bottom and top are page-aligned. */
NMRH_NO_ASAN static char *dirty_from(const nmrh_fiber *f, char *bottom, char *top)
{
    if ((const char *)f->low_water < bottom || (const char *)f->low_water > top) return bottom;
    char *lowest = (char *)((uintptr_t)f->low_water & ~(uintptr_t)255);
    size_t zeros = 0;
    for (char *p = lowest - 256; p >= bottom && zeros < NMRH_FIBER_CLEAN_RUN; p -= 256) {
        const line64 *q = (const line64 *)(const void *)p;
        line64 x = q[0] | q[1] | q[2] | q[3];
        if ((x[0] | x[1] | x[2] | x[3] | x[4] | x[5] | x[6] | x[7]) == 0) {
            zeros += 256;
        } else {
            lowest = p;
            zeros = 0;
        }
    }
    return lowest;
}

/* memset(p, 0, n) for 256-byte aligned p and n, without the sanitizer's interceptor. */
NMRH_NO_ASAN static void clear_lines(char *p, size_t n)
{
    line64 *q = (line64 *)(void *)p;
    const line64 zero = {0};
    for (size_t i = 0; i < n / sizeof *q; i++) q[i] = zero;
}

/* ASan and TSan bookkeeping before [from, top) of a stack is released or handed to another fiber. */
static void forget_stack(nmrh_fiber *f, char *from)
{
#if NMRH_FIBER_TSAN
    if (f->tsan_fiber) __tsan_destroy_fiber(f->tsan_fiber);
    f->tsan_fiber = NULL;
#endif
#if NMRH_FIBER_ASAN
    if (f->asan_fake_stack != NULL)
        asan_drop_fake_stack(f);
    /* Frames abandoned mid-run (and the last frames of a finished fiber, which never return) leave
     * redzones poisoned; the next user of the stack (or a later mapping at this address) must not
     * inherit them. A finished fiber's frames all lie above `from`. */
    __asan_unpoison_memory_region(from, (size_t)((char *)f->map + f->map_size - from));
#endif
    (void)f;
    (void)from;
}

nmrh_fiber_stack nmrh_fiber_take_stack(nmrh_fiber *f)
{
    nmrh_fiber_stack s = {f->map, f->map_size};
    if (f->map == NULL)
        return s;
    size_t page = page_size(), usable = s.map_size - page;
    char *bottom = (char *)s.map + page, *top = (char *)s.map + s.map_size;
    /* The next fiber on this stack sees zeros, as on a fresh mapping: what one thread left on its
     * stack never leaks into another (or into another run). Of a finished fiber's stack, only the
     * part it wrote is cleared, in place, no system call. */
    char *from = f->finished ? dirty_from(f, bottom, top) : bottom;
    forget_stack(f, f->finished ? from : (char *)s.map);
    f->map = NULL;
    f->map_size = 0;
    if (f->finished) {
        clear_lines(from, (size_t)(top - from));
        return s;
    }
    /* Otherwise (abandoned, never started, or stopped by a finding): the top pages, which every
     * fiber uses, are cleared in place and stay mapped; the rest is given back to the kernel. The
     * mapping and its guard page stay. */
    size_t keep = (size_t)NMRH_FIBER_KEEP_PAGES * page;
    if (keep > usable)
        keep = usable;
    memset(top - keep, 0, keep);
    if (usable > keep && madvise(bottom, usable - keep, MADV_DONTNEED) != 0) {
        munmap(s.map, s.map_size);
        s.map = NULL;
        s.map_size = 0;
    }
    return s;
}

size_t nmrh_fiber_stack_dirty_bytes(nmrh_fiber_stack s)
{
    if (s.map == NULL)
        return 0;
    size_t page = page_size(), dirty = 0; /* the guard page is not readable */
    const unsigned char *b = (const unsigned char *)s.map + page;
    for (size_t i = 0; i < s.map_size - page; i++)
        dirty += b[i] != 0;
    return dirty;
}

void nmrh_fiber_stack_free(nmrh_fiber_stack s)
{
    if (s.map != NULL)
        munmap(s.map, s.map_size);
}

void nmrh_fiber_destroy(nmrh_fiber *f)
{
    if (f->map == NULL)
        return;
    forget_stack(f, f->map);
    munmap(f->map, f->map_size);
    *f = (nmrh_fiber){0};
}
