#include "ktest.h"

#include <string.h>

#include "../kernel/dispatch.h"
#include "nmrh/seq.h"
#include "nmrh/targets.h"

uint8_t *kt_encode(const char *target, const char *text, size_t *n)
{
    const nmrh_target *t = nmrh_target_find(target);
    CHECK(t != NULL);
    nmrh_seq *s = malloc(sizeof *s);
    nmrh_seq_error err;
    CHECK(s != NULL);
    if (!nmrh_seq_parse(s, t, text, strlen(text), &err)) {
        fprintf(stderr, "test sequence:%u:%u: %s\n", err.line, err.col, err.message);
        exit(1);
    }
    size_t need = nmrh_seq_encode(s, NULL, 0);
    uint8_t *out = malloc(need ? need : 1);
    CHECK(out != NULL);
    *n = nmrh_seq_encode(s, out, need);
    free(s);
    return out;
}

uint8_t *kt_request(const char *target, const kt_params *p, uint8_t *const *seqs, const size_t *sizes, uint32_t nseq,
                    size_t *len)
{
    size_t payload = 0;
    for (uint32_t i = 0; i < nseq; i++) payload += (p->mode == NMRK_MODE_STRESS ? 4 : 0) + sizes[i];
    uint8_t *buf = calloc(1, sizeof(nmrk_request) + payload);
    CHECK(buf != NULL);
    nmrk_request r;
    nmrk_request_init(&r, p->mode, payload);
    r.seq_id = 0x1234;
    snprintf(r.target, sizeof r.target, "%s", target);
    snprintf(r.label, sizeof r.label, "ktest");
    r.settle_ms = p->settle_ms;
    r.wait_settle_ms = p->wait_settle_ms;
    r.threads = p->threads;
    r.duration_ms = p->duration_ms;
    r.max_delay_us = p->max_delay_us;
    r.seed = p->seed;
    r.nsequences = nseq;
    memcpy(buf, &r, sizeof r);
    uint8_t *q = buf + sizeof r;
    for (uint32_t i = 0; i < nseq; i++) {
        if (p->mode == NMRK_MODE_STRESS) nmrk_put32(q, (uint32_t)sizes[i]), q += 4;
        memcpy(q, seqs[i], sizes[i]);
        q += sizes[i];
    }
    *len = sizeof r + payload;
    return buf;
}

void kt_submit(const uint8_t *req, size_t len, uint32_t obs_capacity, kt_result *r)
{
    size_t out_len = sizeof(nmrk_response) + (size_t)obs_capacity * sizeof(nmrh_obs);
    size_t cap = out_len > len ? out_len : len;
    /* METHOD_BUFFERED: one system buffer, input in, output out. */
    uint64_t *buf = calloc(1, cap + 8);
    CHECK(buf != NULL);
    memcpy(buf, req, len);
    size_t info = 0;
    memset(r, 0, sizeof *r);
    r->status = nmrk_dispatch(NMRK_IOCTL_RUN, buf, len, out_len, &info);
    if (r->status == 0) {
        CHECK(info >= sizeof(nmrk_response));
        memcpy(&r->resp, buf, sizeof r->resp);
        CHECK(r->resp.magic == NMRK_RESPONSE_MAGIC);
        CHECK(r->resp.total_size == info);
        CHECK(info == sizeof(nmrk_response) + (size_t)r->resp.nobs * sizeof(nmrh_obs));
        r->nobs = r->resp.nobs;
        r->obs = malloc((r->nobs ? r->nobs : 1) * sizeof(nmrh_obs));
        CHECK(r->obs != NULL);
        memcpy(r->obs, (char *)buf + sizeof(nmrk_response), r->nobs * sizeof(nmrh_obs));
    }
    free(buf);
}

void kt_replay(const char *target, const char *text, kt_result *r) { kt_replay_settle(target, text, 500, 20, r); }

void kt_replay_settle(const char *target, const char *text, uint32_t settle_ms, uint32_t wait_settle_ms, kt_result *r)
{
    size_t n, len;
    uint8_t *seq = kt_encode(target, text, &n);
    kt_params p = {NMRK_MODE_REPLAY, settle_ms, wait_settle_ms, 0, 0, 0, 0, 4096};
    uint8_t *req = kt_request(target, &p, &seq, &n, 1, &len);
    kt_submit(req, len, p.obs_capacity, r);
    free(req);
    free(seq);
}

void kt_free(kt_result *r)
{
    free(r->obs);
    r->obs = NULL;
}

char *kt_text(const kt_result *r, int skip_records)
{
    size_t cap = 256 * (r->nobs + 1), len = 0;
    char *s = malloc(cap);
    CHECK(s != NULL);
    s[0] = '\0';
    for (uint32_t i = 0; i < r->nobs; i++) {
        if (skip_records && r->obs[i].kind == NMRH_OBS_RECORD) continue;
        char line[256];
        obs_format(&r->obs[i], line, sizeof line);
        len += (size_t)snprintf(s + len, cap - len, "%s\n", line);
    }
    return s;
}

void kt_dump(const kt_result *r, FILE *out)
{
    char *s = kt_text(r, 0);
    fputs(s, out);
    free(s);
}
