/* User-mode fibers: cooperative stack switching for one OS thread.
 *
 * Contract:
 *  - A fiber is resumed only by an explicit nmrh_fiber_switch / nmrh_fiber_switch_final; nothing is
 *    scheduled implicitly. `from` must be the fiber that is currently running and `to` a different,
 *    suspended (or never started) fiber. Fibers are not thread-safe: keep one fiber graph per thread.
 *  - Each fiber keeps its own callee-saved registers and floating-point control state (x86-64: x87
 *    control word and MXCSR; aarch64: FPCR). A new fiber inherits the FP control state of its creator.
 *  - A fiber object must stay at one address from init/create until destroy: fibers refer to each
 *    other by pointer, and the ucontext backend points into the object itself.
 *  - Works under AddressSanitizer (including detect_stack_use_after_return) without extra calls.
 *
 * Backend: hand-written switch on ELF x86-64 and aarch64, ucontext elsewhere. Defining
 * NMRH_FIBER_UCONTEXT forces the ucontext backend; it changes the struct layout, so it must be
 * defined identically for every translation unit that includes this header.
 */
#ifndef NMRH_FIBER_H
#define NMRH_FIBER_H

#include <stddef.h>

#if !defined(NMRH_FIBER_UCONTEXT) && defined(__ELF__) && !defined(__ILP32__) && \
    (defined(__x86_64__) || defined(__aarch64__))
#define NMRH_FIBER_BACKEND_ASM 1
#else
#define NMRH_FIBER_BACKEND_ASM 0
#include <ucontext.h>
#endif

typedef struct nmrh_fiber nmrh_fiber;

/* Fields are private to fiber.c; the definition is public only so callers can embed the object.
 * The layout does not depend on sanitizer flags, so ASan and non-ASan objects can be mixed. */
struct nmrh_fiber {
    void *sp;                 /* saved stack pointer while suspended (asm backend) */
    void *map;                /* mmap'd region incl. guard page; NULL for a main fiber */
    size_t map_size;
    void (*entry)(void *arg);
    void *arg;
    const void *stack_bottom; /* usable stack bounds, reported to ASan; a main fiber learns */
    size_t stack_size;        /* them the first time it is switched away from */
    void *asan_fake_stack;    /* ASan fake stack parked while suspended */
    void *tsan_fiber;         /* ThreadSanitizer's context for this fiber (TSan builds only) */
    const void *low_water;    /* lowest stack address seen in use (sampled; see nmrh_fiber_note_depth) */
    int finished;             /* ended through nmrh_fiber_switch_final / nmrh_fiber_exit */
#if !NMRH_FIBER_BACKEND_ASM
    nmrh_fiber *prev;         /* who switched to us; the asm backend passes it in a register */
    ucontext_t uctx;
#endif
};

/* Turn the calling OS thread's current context into a fiber object (no stack allocated). */
void nmrh_fiber_init_main(nmrh_fiber *f);

/* Create a fiber with its own stack of stack_size bytes (0 = default 64 KiB, rounded up to whole
 * pages, plus an inaccessible guard page below it) that will run entry(arg) when first switched to.
 * Returns 0 on success, -1 on allocation failure. entry must never return: it ends by calling
 * nmrh_fiber_switch_final() (returning aborts the process). */
int nmrh_fiber_create(nmrh_fiber *f, size_t stack_size, void (*entry)(void *arg), void *arg);

/* Save the current context into `from` and resume `to`. Returns when someone switches back to `from`. */
void nmrh_fiber_switch(nmrh_fiber *from, nmrh_fiber *to);

/* Like switch, but `from` is finished and will never be resumed (lets ASan release its fake stack). */
_Noreturn void nmrh_fiber_switch_final(nmrh_fiber *from, nmrh_fiber *to);

/* nmrh_fiber_switch_final without the _Noreturn in its declaration: it never returns either. A
 * call to a no-return function makes AddressSanitizer run __asan_handle_no_return first, which
 * costs a sigaltstack system call; the fiber's stack bookkeeping is done by take_stack instead.
 * Call it last in the fiber's entry function. */
void nmrh_fiber_exit(nmrh_fiber *from, nmrh_fiber *to);

/* Record how deep the running fiber `f` has gone: take_stack clears from the deepest recorded
 * point (and what it finds written below it) up. Switches record it by themselves; call
 * this at other frequent points where the fiber may be deep (the harness's scheduling points). */
static inline void nmrh_fiber_note_depth(nmrh_fiber *f)
{
    const void *sp = __builtin_frame_address(0);
    if ((const char *)sp < (const char *)f->low_water) f->low_water = sp;
}

/* Make take_stack clear the whole stack (e.g. after a sanitizer report ran deep on it). */
static inline void nmrh_fiber_assume_dirty(nmrh_fiber *f) { f->finished = 0; }

/* Stack reuse, to spare the mmap/mprotect/munmap of a stack per fiber. A stack taken from one
 * fiber can carry a new fiber of the same stack size. */
typedef struct nmrh_fiber_stack {
    void *map;                /* the mapping, guard page included; NULL = no stack */
    size_t map_size;
} nmrh_fiber_stack;

/* Take the stack away from a fiber that will never run again (finished, never started, or
 * suspended forever; its frames are discarded without unwinding). The stack's memory reads as
 * zeros again, as a fresh one does. The fiber keeps stack_bottom/stack_size (where its stack
 * was) but owns no memory any more: destroying it is a no-op. A main fiber gives {NULL, 0}.
 * For a fiber that finished, only the part it wrote is cleared, with no system call: from its
 * deepest recorded point up, and below it as far as non-zero memory goes (a scan that stops after
 * NMRH_FIBER_CLEAN_RUN bytes of zeros). Any other fiber's stack is cleared whole (memset of the
 * top, madvise of the rest). */
nmrh_fiber_stack nmrh_fiber_take_stack(nmrh_fiber *f);

/* Like nmrh_fiber_create, on a stack from nmrh_fiber_take_stack: on success the fiber owns it, on
 * failure (-1, ucontext backend only) it is still the caller's. */
int nmrh_fiber_create_on(nmrh_fiber *f, nmrh_fiber_stack stack, void (*entry)(void *arg), void *arg);

/* For tests: how many bytes of a taken stack are not zero (0 = it reads as a fresh one). */
size_t nmrh_fiber_stack_dirty_bytes(nmrh_fiber_stack stack);

/* Unmap a taken stack that will not be reused. No-op for {NULL, 0}. */
void nmrh_fiber_stack_free(nmrh_fiber_stack stack);

/* Release the stack of a fiber created by nmrh_fiber_create. Legal for a fiber that has finished,
 * never started, or is suspended forever (its frames are discarded without unwinding). No-op for a
 * main fiber. Must not be called on the running fiber. */
void nmrh_fiber_destroy(nmrh_fiber *f);

#endif /* NMRH_FIBER_H */
