/*
 * Choosers: where every nondeterministic decision of a run comes from.
 *
 * A run asks its chooser whenever more than one behaviour is legal: which runnable thread goes
 * next at a scheduling point, which way a knob of the NMR contract falls, whether an injected
 * fault fires. `choose(self, n)` returns a value in [0, n), n >= 2. Value 0 is always the
 * "default" (keep running the current thread, knob value 0, no fault), so an exhausted chooser
 * degrades to a deterministic drain. The same chooser state always yields the same run.
 */
#ifndef NMRH_CHOOSER_H
#define NMRH_CHOOSER_H

#include <stddef.h>
#include <stdint.h>

typedef struct nmrh_chooser {
    uint32_t (*choose)(struct nmrh_chooser *self, uint32_t n);
} nmrh_chooser;

/* Always 0: run the current thread on, take every knob's default. */
typedef struct nmrh_chooser_zero {
    nmrh_chooser base;
} nmrh_chooser_zero;
void nmrh_chooser_zero_init(nmrh_chooser_zero *c);

/* Replays a recorded list of decisions (each already reduced modulo its n); 0 once exhausted. */
typedef struct nmrh_chooser_replay {
    nmrh_chooser base;
    const uint32_t *decisions;
    size_t count, next;
} nmrh_chooser_replay;
void nmrh_chooser_replay_init(nmrh_chooser_replay *c, const uint32_t *decisions, size_t count);

/* Decisions from fuzz input bytes: one byte per decision, taken modulo n; 0 once exhausted. */
typedef struct nmrh_chooser_bytes {
    nmrh_chooser base;
    const uint8_t *data;
    size_t size, next;
} nmrh_chooser_bytes;
void nmrh_chooser_bytes_init(nmrh_chooser_bytes *c, const uint8_t *data, size_t size);

/* The next value of the splitmix64 sequence whose state is *state (advanced). */
uint64_t nmrh_splitmix64(uint64_t *state);

/* Seeded pseudo-random decisions (splitmix64), for stress runs and random baselines. */
typedef struct nmrh_chooser_random {
    nmrh_chooser base;
    uint64_t state;
} nmrh_chooser_random;
void nmrh_chooser_random_init(nmrh_chooser_random *c, uint64_t seed);

/* Wraps another chooser and records every decision it makes, so a run can be replayed exactly. */
typedef struct nmrh_chooser_recorder {
    nmrh_chooser base;
    nmrh_chooser *inner;
    uint32_t *decisions;   /* malloc'd; freed by nmrh_chooser_recorder_free */
    size_t count, capacity;
} nmrh_chooser_recorder;
void nmrh_chooser_recorder_init(nmrh_chooser_recorder *c, nmrh_chooser *inner);
void nmrh_chooser_recorder_free(nmrh_chooser_recorder *c);

#endif
