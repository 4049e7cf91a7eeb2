/*
 * Adding a kernel primitive to nmrh's shim, for a driver that calls one nmrh does not provide.
 *
 * A primitive is an ordinary C function with the WDK's name and signature, compiled into your
 * test build (not into your driver). Inside it, NMRH_SHIM_ENTER(s) gives the running world, or
 * NULL when no world runs (a static initialiser, a plain unit test): then do the plain thing.
 * With a world:
 *   - nmrh_shim_point(s) is a scheduling point: the fuzzer may run other threads here. Put one
 *     where a real kernel could switch threads or another processor could act (every call,
 *     usually at entry, and after a release).
 *   - nmrh_shim_block(s, object, what) parks the calling thread until nmrh_shim_wake(s, object,
 *     ...) from another thread; it returns the status given to wake. Re-check your condition in
 *     a loop after it returns. A thread parked forever is reported as a hang with `what`.
 *   - nmrh_shim_misuse(s, ...) reports KRNL-PRIMITIVE-MISUSE with your message and where it
 *     happened; nmrh_shim_require_irql(s, max, name) reports KRNL-PASSIVE-AT-DISPATCH above
 *     `max`. On a logical thread neither returns (the thread stops there, as after any finding).
 *   - nmrh_shim_thread_id / _irql / _set_irql / _choose / _note / _spawn: the calling thread's
 *     identity and IRQL, a value the fuzzer chooses (recorded, replayed), a trace line, a new
 *     kernel thread running module code.
 * Keep the primitive's state in the object the driver passes (as the WDK does); no globals.
 * Everything here is valid only between NMRH_SHIM_ENTER and the end of that scope. Example (a
 * lock that blocks and wakes): docs/wdk-surface.md, "Adding a primitive"; tests/unit/test_shim_extension.c.
 */
#ifndef NMRH_SHIM_H
#define NMRH_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nmrh_world nmrh_shim;

/* Enter/leave the harness (in real-thread runs this takes the world lock): use the macro, which
   leaves automatically at the end of the enclosing scope. */
nmrh_shim *nmrh_shim_enter(void);
void nmrh_shim_leave(nmrh_shim **s);
#define NMRH_SHIM_ENTER(s) nmrh_shim *s __attribute__((cleanup(nmrh_shim_leave))) = nmrh_shim_enter()

/* True when a logical thread of the world is running (false on the thread driving the world:
   then the point, block and misuse functions do nothing). */
bool nmrh_shim_on_thread(const nmrh_shim *s);
/* The calling logical thread: a small number, unique among the world's threads. */
uint32_t nmrh_shim_thread_id(const nmrh_shim *s);
unsigned nmrh_shim_irql(const nmrh_shim *s);
void nmrh_shim_set_irql(nmrh_shim *s, unsigned irql);

void nmrh_shim_point(nmrh_shim *s);
int32_t nmrh_shim_block(nmrh_shim *s, const void *object, const char *what);
/* Wakes the threads blocked on `object` (all, or the one that blocked first); returns how many. */
uint32_t nmrh_shim_wake(nmrh_shim *s, const void *object, bool all, int32_t status);

void nmrh_shim_misuse(nmrh_shim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void nmrh_shim_require_irql(nmrh_shim *s, unsigned max, const char *primitive);

/* A value in [0, n) chosen by the fuzzer (0 under plain replay unless the sequence says). */
uint32_t nmrh_shim_choose(nmrh_shim *s, uint32_t n);
/* A line in the trace (like DbgPrint). */
void nmrh_shim_note(nmrh_shim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts `fn(arg)` on a new kernel thread at PASSIVE_LEVEL, as code of the calling thread's
   module (as IoQueueWorkItem does); false when out of memory. */
bool nmrh_shim_spawn(nmrh_shim *s, const char *name, void (*fn)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif /* NMRH_SHIM_H */
