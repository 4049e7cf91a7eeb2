#include "nmrh/chooser.h"

#include <stdlib.h>

static uint32_t zero_choose(nmrh_chooser *self, uint32_t n)
{
    (void)self;
    (void)n;
    return 0;
}

void nmrh_chooser_zero_init(nmrh_chooser_zero *c) { c->base.choose = zero_choose; }

static uint32_t replay_choose(nmrh_chooser *self, uint32_t n)
{
    nmrh_chooser_replay *c = (nmrh_chooser_replay *)self;
    if (c->next >= c->count) return 0;
    return c->decisions[c->next++] % n;
}

void nmrh_chooser_replay_init(nmrh_chooser_replay *c, const uint32_t *decisions, size_t count)
{
    c->base.choose = replay_choose;
    c->decisions = decisions;
    c->count = count;
    c->next = 0;
}

static uint32_t bytes_choose(nmrh_chooser *self, uint32_t n)
{
    nmrh_chooser_bytes *c = (nmrh_chooser_bytes *)self;
    if (c->next >= c->size) return 0;
    return c->data[c->next++] % n;
}

void nmrh_chooser_bytes_init(nmrh_chooser_bytes *c, const uint8_t *data, size_t size)
{
    c->base.choose = bytes_choose;
    c->data = data;
    c->size = size;
    c->next = 0;
}

uint64_t nmrh_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint32_t random_choose(nmrh_chooser *self, uint32_t n)
{
    nmrh_chooser_random *c = (nmrh_chooser_random *)self;
    uint64_t z = nmrh_splitmix64(&c->state);
    /* Multiply-shift keeps the result unbiased enough for small n without a division. */
    return (uint32_t)(((z >> 32) * (uint64_t)n) >> 32);
}

void nmrh_chooser_random_init(nmrh_chooser_random *c, uint64_t seed)
{
    c->base.choose = random_choose;
    c->state = seed;
}

static uint32_t recorder_choose(nmrh_chooser *self, uint32_t n)
{
    nmrh_chooser_recorder *c = (nmrh_chooser_recorder *)self;
    uint32_t v = c->inner->choose(c->inner, n);
    if (c->count == c->capacity) {
        size_t cap = c->capacity ? c->capacity * 2 : 64;
        uint32_t *d = realloc(c->decisions, cap * sizeof *d);
        if (!d) abort();
        c->decisions = d;
        c->capacity = cap;
    }
    c->decisions[c->count++] = v;
    return v;
}

void nmrh_chooser_recorder_init(nmrh_chooser_recorder *c, nmrh_chooser *inner)
{
    c->base.choose = recorder_choose;
    c->inner = inner;
    c->decisions = NULL;
    c->count = c->capacity = 0;
}

void nmrh_chooser_recorder_free(nmrh_chooser_recorder *c)
{
    free(c->decisions);
    c->decisions = NULL;
    c->count = c->capacity = 0;
}
