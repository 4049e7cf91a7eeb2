#include "kproto.h"

#include <string.h>

static const char *const error_names[NMRK_E_COUNT] = {
    "ok",
    "request shorter than its header",
    "bad magic",
    "unsupported protocol version",
    "sizes disagree with the buffer",
    "unknown flags or reserved fields set",
    "unknown mode",
    "unknown or unterminated target name",
    "label not NUL-terminated printable text",
    "parameter out of range for the mode",
    "sequences do not exactly fill the payload",
    "output buffer too small",
};

const char *nmrk_error_name(nmrk_error e) { return (unsigned)e < NMRK_E_COUNT ? error_names[e] : "?"; }

static int terminated(const char *s, size_t cap, size_t *len)
{
    for (size_t i = 0; i < cap; i++)
        if (s[i] == '\0') {
            *len = i;
            return 1;
        }
    return 0;
}

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

nmrk_error nmrk_validate_request(const void *in, size_t in_len, size_t out_len, const nmrh_target *const *targets,
                                 nmrk_validated *v)
{
    nmrk_request r;
    size_t len;
    memset(v, 0, sizeof *v);
    if (!in || in_len < sizeof r) return NMRK_E_SHORT;
    memcpy(&r, in, sizeof r); /* no alignment assumption about the caller's buffer */
    if (r.magic != NMRK_REQUEST_MAGIC) return NMRK_E_MAGIC;
    if (r.version != NMRK_PROTOCOL_VERSION || r.header_size != sizeof r) return NMRK_E_VERSION;
    if (r.total_size != in_len || in_len > NMRK_MAX_REQUEST || r.payload_size != in_len - sizeof r) return NMRK_E_SIZE;
    if ((r.flags & ~NMRK_FLAG_CROSS_BIND) || r.reserved[0] || r.reserved[1] || r.reserved[2]) return NMRK_E_FLAGS;
    if (r.mode != NMRK_MODE_REPLAY && r.mode != NMRK_MODE_STRESS) return NMRK_E_MODE;

    if (!terminated(r.target, sizeof r.target, &len) || len == 0) return NMRK_E_TARGET;
    for (const nmrh_target *const *t = targets; t && *t; t++)
        if (same((*t)->name, r.target)) v->target = *t;
    if (!v->target) return NMRK_E_TARGET;
    if (!terminated(r.label, sizeof r.label, &len)) return NMRK_E_LABEL;
    for (size_t i = 0; i < len; i++)
        if (r.label[i] < 0x20 || r.label[i] > 0x7E) return NMRK_E_LABEL;

    if (r.settle_ms == 0 || r.settle_ms > NMRK_MAX_SETTLE_MS) return NMRK_E_PARAM;
    if (r.mode == NMRK_MODE_REPLAY) {
        if (r.wait_settle_ms == 0 || r.wait_settle_ms > NMRK_MAX_SETTLE_MS) return NMRK_E_PARAM;
        if (r.threads || r.duration_ms || r.max_delay_us || r.seed || r.nsequences != 1 || r.flags) return NMRK_E_PARAM;
        if (r.payload_size > NMRK_MAX_SEQUENCE_BYTES) return NMRK_E_PAYLOAD;
        v->nsequences = 1;
        v->seq[0] = (const uint8_t *)in + sizeof r;
        v->seq_size[0] = r.payload_size;
    } else {
        if (r.wait_settle_ms || r.threads == 0 || r.threads > NMRK_MAX_WORKERS || r.duration_ms == 0 ||
            r.duration_ms > NMRK_MAX_DURATION_MS || r.max_delay_us > NMRK_MAX_DELAY_US || r.nsequences == 0 ||
            r.nsequences > NMRK_MAX_SEQUENCES)
            return NMRK_E_PARAM;
        const uint8_t *p = (const uint8_t *)in + sizeof r;
        size_t left = r.payload_size;
        for (uint32_t i = 0; i < r.nsequences; i++) {
            if (left < 4) return NMRK_E_PAYLOAD;
            uint32_t n = nmrk_get32(p);
            if (n > NMRK_MAX_SEQUENCE_BYTES || n > left - 4) return NMRK_E_PAYLOAD;
            v->seq[i] = p + 4;
            v->seq_size[i] = n;
            p += 4 + n;
            left -= 4 + (size_t)n;
        }
        if (left != 0) return NMRK_E_PAYLOAD;
        v->nsequences = r.nsequences;
    }
    if (out_len < sizeof(nmrk_response)) return NMRK_E_OUTPUT;
    size_t cap = (out_len - sizeof(nmrk_response)) / sizeof(nmrh_obs);
    v->obs_capacity = cap > NMRK_MAX_OBS ? NMRK_MAX_OBS : (uint32_t)cap;
    v->mode = r.mode;
    return NMRK_OK;
}

/* ---- target description ---- */

typedef struct writer {
    char *out;
    size_t cap, len;
} writer;

static void put(writer *w, const char *s)
{
    while (*s) {
        if (w->len < w->cap) w->out[w->len] = *s;
        w->len++, s++;
    }
}

static void put_num(writer *w, uint32_t v)
{
    char digits[10];
    int n = 0;
    do digits[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    char s[2] = {0, 0};
    while (n) s[0] = digits[--n], put(w, s);
}

size_t nmrk_describe_targets(const nmrh_target *const *targets, char *out, size_t cap)
{
    writer w = {out, cap, 0};
    for (const nmrh_target *const *t = targets; t && *t; t++) {
        put(&w, "target "), put(&w, (*t)->name), put(&w, "\n");
        for (unsigned k = 0; k < (*t)->nkinds; k++) {
            const nmrh_module_kind *kind = (*t)->kinds[k];
            put(&w, "kind "), put(&w, kind->name), put(&w, "\n");
            for (unsigned i = 0; i < kind->nparams; i++) {
                const nmrh_module_param *p = &kind->params[i];
                put(&w, "param "), put(&w, p->key);
                put(&w, " "), put_num(&w, p->shift), put(&w, " "), put_num(&w, p->bits);
                for (unsigned j = 0; j < p->nvalues; j++) put(&w, " "), put(&w, p->values[j]);
                put(&w, "\n");
            }
        }
    }
    if (w.len < cap) out[w.len] = '\0';
    return w.len + 1;
}
