/*
 * nmrh: clang-only (libFuzzer).
 *
 * libFuzzer target for the kernel replay driver's IOCTL request validation
 * (nmrk_validate_request, stress/engine/kproto.c), which is all that stands between user-mode
 * bytes and the driver. For every input:
 *
 *   raw:     the bytes as a METHOD_BUFFERED input buffer, against output buffers of several
 *            sizes. A rejection must name an error; an acceptance must describe only bytes inside
 *            the buffer (every sequence within the payload, the payload exactly covered in
 *            stress mode), an output capacity that fits the output buffer, a known target and a
 *            mode's parameters within their limits; and each accepted sequence must decode
 *            (the fuzzed decoder the driver uses next) and re-encode within its size.
 *   wrapped: the bytes as the payload of a well-formed replay request (and, split in two, of a
 *            stress request), so that the decoder behind the validation is reached from any input.
 *
 * Any violation aborts, which libFuzzer reports as a crash with the input.
 * Seeds: requests built from corpus/scenarios (make_ioctl_seeds.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/kproto.h"
#include "nmrh/seq.h"
#include "nmrh/targets.h"

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_ioctl_request: %s:%d: %s\n", __FILE__, __LINE__, #c);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static nmrh_seq g_seq;

static void check_accepted(const uint8_t *buf, size_t len, size_t out_len, const nmrk_validated *v)
{
    nmrk_request r;
    memcpy(&r, buf, sizeof r);
    REQUIRE(v->mode == r.mode && (v->mode == NMRK_MODE_REPLAY || v->mode == NMRK_MODE_STRESS));
    REQUIRE(v->target && nmrh_target_find(v->target->name) == v->target && strcmp(v->target->name, r.target) == 0);
    REQUIRE(r.total_size == len && r.payload_size == len - sizeof r && len <= NMRK_MAX_REQUEST);
    REQUIRE(out_len >= sizeof(nmrk_response));
    REQUIRE(sizeof(nmrk_response) + (size_t)v->obs_capacity * sizeof(nmrh_obs) <= out_len && v->obs_capacity <= NMRK_MAX_OBS);
    REQUIRE(v->nsequences >= 1 && v->nsequences <= NMRK_MAX_SEQUENCES && v->nsequences == r.nsequences);
    REQUIRE(r.settle_ms >= 1 && r.settle_ms <= NMRK_MAX_SETTLE_MS);
    if (v->mode == NMRK_MODE_REPLAY) {
        REQUIRE(v->nsequences == 1 && r.threads == 0 && r.duration_ms == 0 && r.flags == 0);
        REQUIRE(v->seq[0] == buf + sizeof r && v->seq_size[0] == r.payload_size);
    } else {
        REQUIRE(r.threads >= 1 && r.threads <= NMRK_MAX_WORKERS && r.duration_ms >= 1 &&
                r.duration_ms <= NMRK_MAX_DURATION_MS && r.max_delay_us <= NMRK_MAX_DELAY_US);
        const uint8_t *end = buf + sizeof r;
        for (uint32_t i = 0; i < v->nsequences; i++) {
            REQUIRE(v->seq[i] == end + 4 && nmrk_get32(end) == v->seq_size[i]); /* back to back */
            end = v->seq[i] + v->seq_size[i];
        }
        REQUIRE(end == buf + len); /* exactly covered */
    }
    for (uint32_t i = 0; i < v->nsequences; i++) {
        REQUIRE(v->seq_size[i] <= NMRK_MAX_SEQUENCE_BYTES);
        REQUIRE(v->seq[i] >= buf + sizeof r && v->seq[i] + v->seq_size[i] <= buf + len);
        nmrh_seq_decode(&g_seq, v->target, v->seq[i], v->seq_size[i]);
        REQUIRE(g_seq.count <= v->seq_size[i] / NMRH_SEQ_RECORD_SIZE);
        REQUIRE(nmrh_seq_encode(&g_seq, NULL, 0) <= v->seq_size[i]);
    }
    size_t label = strnlen(r.label, sizeof r.label);
    REQUIRE(label < sizeof r.label);
    for (size_t i = 0; i < label; i++) REQUIRE(r.label[i] >= 0x20 && r.label[i] <= 0x7E);
}

static void validate(const uint8_t *data, size_t size)
{
    static const size_t outs[] = {0, sizeof(nmrk_response) - 1, sizeof(nmrk_response), sizeof(nmrk_response) + 17,
                                  sizeof(nmrk_response) + 16 * 1000};
    /* The driver validates its own copy; so do we (an exact-size heap copy, for ASan). */
    uint8_t *copy = malloc(size ? size : 1);
    REQUIRE(copy != NULL);
    memcpy(copy, data, size);
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        nmrk_validated v;
        nmrk_error e = nmrk_validate_request(copy, size, outs[i], nmrh_targets(), &v);
        REQUIRE((unsigned)e < NMRK_E_COUNT && nmrk_error_name(e)[0] != '?');
        if (e == NMRK_OK) check_accepted(copy, size, outs[i], &v);
        if (outs[i] < sizeof(nmrk_response)) REQUIRE(e != NMRK_OK);
    }
    free(copy);
}

static void wrapped(const uint8_t *data, size_t size, uint32_t mode)
{
    size_t half = size / 2, payload = mode == NMRK_MODE_REPLAY ? size : 8 + size;
    if (mode == NMRK_MODE_REPLAY && size > NMRK_MAX_SEQUENCE_BYTES) return;
    uint8_t *buf = calloc(1, sizeof(nmrk_request) + payload);
    REQUIRE(buf != NULL);
    nmrk_request r;
    nmrk_request_init(&r, mode, payload);
    memcpy(r.target, "echo", 5);
    r.settle_ms = 100;
    if (mode == NMRK_MODE_REPLAY) {
        r.wait_settle_ms = 10;
        r.nsequences = 1;
        memcpy(buf + sizeof r, data, size);
    } else {
        r.threads = 2, r.duration_ms = 10, r.nsequences = 2;
        nmrk_put32(buf + sizeof r, (uint32_t)half);
        memcpy(buf + sizeof r + 4, data, half);
        nmrk_put32(buf + sizeof r + 4 + half, (uint32_t)(size - half));
        memcpy(buf + sizeof r + 8 + half, data + half, size - half);
    }
    memcpy(buf, &r, sizeof r);
    nmrk_validated v;
    nmrk_error e = nmrk_validate_request(buf, sizeof r + payload, 1 << 16, nmrh_targets(), &v);
    int too_long = half > NMRK_MAX_SEQUENCE_BYTES || size - half > NMRK_MAX_SEQUENCE_BYTES;
    REQUIRE(mode == NMRK_MODE_REPLAY ? e == NMRK_OK : (e == NMRK_OK) == !too_long);
    if (e == NMRK_OK) check_accepted(buf, sizeof r + payload, 1 << 16, &v);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int described;
    if (!described) {
        size_t n = nmrk_describe_targets(nmrh_targets(), NULL, 0);
        char *text = malloc(n);
        REQUIRE(text && nmrk_describe_targets(nmrh_targets(), text, n) == n && text[n - 1] == '\0');
        free(text);
        described = 1;
    }
    validate(data, size);
    wrapped(data, size, NMRK_MODE_REPLAY);
    wrapped(data, size, NMRK_MODE_STRESS);
    return 0;
}
