/*
 * The portable pieces around the IOCTL protocol, in user mode: request validation (every
 * rejection path, and what an accepted request yields), the target description and its parser in
 * the console, the .nmrobs text form, and the divergence comparison of the console.
 */
#include <string.h>

#include "../console/compare.h"
#include "../console/targetdesc.h"
#include "ktest.h"
#include "nmrh/rules.h"
#include "nmrh/seq.h"
#include "nmrh/targets.h"

/* ---- request validation ---- */

static uint8_t seq_bytes[12] = {0, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0}; /* module, shorthand, run all */

static uint8_t *replay_request(size_t *len)
{
    uint8_t *s = seq_bytes;
    size_t n = sizeof seq_bytes;
    kt_params p = {NMRK_MODE_REPLAY, 500, 20, 0, 0, 0, 0, 16};
    return kt_request("echo", &p, &s, &n, 1, len);
}

static uint8_t *stress_request(size_t *len)
{
    uint8_t *s[2] = {seq_bytes, seq_bytes};
    size_t n[2] = {sizeof seq_bytes, 8};
    kt_params p = {NMRK_MODE_STRESS, 30000, 0, 4, 1000, 100, 9, 16};
    return kt_request("echo", &p, s, n, 2, len);
}

static nmrk_error check(uint8_t *req, size_t len, size_t out_len)
{
    nmrk_validated v;
    return nmrk_validate_request(req, len, out_len, nmrh_targets(), &v);
}

/* Applies `stmt` to the header h of a fresh request and checks the validation result. */
#define EDIT(make, stmt, expect)                                                                  \
    do {                                                                                          \
        size_t len_;                                                                              \
        uint8_t *req_ = make(&len_);                                                              \
        nmrk_request h;                                                                           \
        memcpy(&h, req_, sizeof h);                                                               \
        stmt;                                                                                     \
        memcpy(req_, &h, sizeof h);                                                               \
        nmrk_error e_ = check(req_, len_, 4096);                                                  \
        free(req_);                                                                               \
        if (e_ != (expect)) {                                                                     \
            fprintf(stderr, "%s:%d: %s gave %s\n", __FILE__, __LINE__, #stmt, nmrk_error_name(e_)); \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

static void test_validation(void)
{
    size_t len;
    nmrk_validated v;
    uint8_t *req = replay_request(&len);
    CHECK(nmrk_validate_request(req, len, sizeof(nmrk_response) + 10 * 16 + 7, nmrh_targets(), &v) == NMRK_OK);
    CHECK(v.mode == NMRK_MODE_REPLAY && v.nsequences == 1 && v.seq[0] == req + sizeof(nmrk_request));
    CHECK(v.seq_size[0] == sizeof seq_bytes && v.obs_capacity == 10 && strcmp(v.target->name, "echo") == 0);
    CHECK(check(req, sizeof(nmrk_request) - 1, 4096) == NMRK_E_SHORT);
    CHECK(check(NULL, 0, 4096) == NMRK_E_SHORT);
    CHECK(check(req, len - 1, 4096) == NMRK_E_SIZE);
    CHECK(check(req, len, sizeof(nmrk_response) - 1) == NMRK_E_OUTPUT);
    free(req);

    EDIT(replay_request, h.magic ^= 1, NMRK_E_MAGIC);
    EDIT(replay_request, h.version = 2, NMRK_E_VERSION);
    EDIT(replay_request, h.header_size = 128, NMRK_E_VERSION);
    EDIT(replay_request, h.total_size += 4, NMRK_E_SIZE);
    EDIT(replay_request, h.payload_size -= 4, NMRK_E_SIZE);
    EDIT(replay_request, h.flags = 0x80, NMRK_E_FLAGS);
    EDIT(replay_request, h.reserved[2] = 1, NMRK_E_FLAGS);
    EDIT(replay_request, h.mode = 0, NMRK_E_MODE);
    EDIT(replay_request, h.mode = 3, NMRK_E_MODE);
    EDIT(replay_request, memset(h.target, 'x', sizeof h.target), NMRK_E_TARGET);
    EDIT(replay_request, h.target[0] = 0, NMRK_E_TARGET);
    EDIT(replay_request, memcpy(h.target, "echo-b", 7), NMRK_E_TARGET);
    EDIT(replay_request, memcpy(h.target, "echo-b17", 9), NMRK_OK);
    EDIT(replay_request, memset(h.label, 'a', sizeof h.label), NMRK_E_LABEL);
    EDIT(replay_request, h.label[1] = '\n', NMRK_E_LABEL);
    EDIT(replay_request, h.settle_ms = 0, NMRK_E_PARAM);
    EDIT(replay_request, h.settle_ms = NMRK_MAX_SETTLE_MS + 1, NMRK_E_PARAM);
    EDIT(replay_request, h.wait_settle_ms = 0, NMRK_E_PARAM);
    EDIT(replay_request, h.threads = 1, NMRK_E_PARAM);
    EDIT(replay_request, h.seed = 1, NMRK_E_PARAM);
    EDIT(replay_request, h.nsequences = 2, NMRK_E_PARAM);
    EDIT(replay_request, h.flags = NMRK_FLAG_CROSS_BIND, NMRK_E_PARAM);

    req = stress_request(&len);
    CHECK(nmrk_validate_request(req, len, 4096, nmrh_targets(), &v) == NMRK_OK);
    CHECK(v.mode == NMRK_MODE_STRESS && v.nsequences == 2 && v.seq_size[0] == 12 && v.seq_size[1] == 8);
    CHECK(v.seq[0] == req + sizeof(nmrk_request) + 4 && v.seq[1] == req + sizeof(nmrk_request) + 4 + 12 + 4);
    /* an entry longer than what is left, trailing bytes, a cut length word */
    nmrk_put32(req + sizeof(nmrk_request) + 4 + 12, 9);
    CHECK(check(req, len, 4096) == NMRK_E_PAYLOAD);
    nmrk_put32(req + sizeof(nmrk_request) + 4 + 12, 7);
    CHECK(check(req, len, 4096) == NMRK_E_PAYLOAD);
    nmrk_put32(req + sizeof(nmrk_request), NMRK_MAX_SEQUENCE_BYTES + 1);
    CHECK(check(req, len, 4096) == NMRK_E_PAYLOAD);
    free(req);
    EDIT(stress_request, h.nsequences = 3, NMRK_E_PAYLOAD);
    EDIT(stress_request, h.nsequences = 0, NMRK_E_PARAM);
    EDIT(stress_request, h.nsequences = NMRK_MAX_SEQUENCES + 1, NMRK_E_PARAM);
    EDIT(stress_request, h.threads = 0, NMRK_E_PARAM);
    EDIT(stress_request, h.threads = NMRK_MAX_WORKERS + 1, NMRK_E_PARAM);
    EDIT(stress_request, h.duration_ms = 0, NMRK_E_PARAM);
    EDIT(stress_request, h.duration_ms = NMRK_MAX_DURATION_MS + 1, NMRK_E_PARAM);
    EDIT(stress_request, h.max_delay_us = NMRK_MAX_DELAY_US + 1, NMRK_E_PARAM);
    EDIT(stress_request, h.wait_settle_ms = 5, NMRK_E_PARAM);
    EDIT(stress_request, h.flags = NMRK_FLAG_CROSS_BIND, NMRK_OK);

    /* A replay sequence longer than NMRK_MAX_SEQUENCE_BYTES. */
    uint8_t *big = calloc(1, NMRK_MAX_SEQUENCE_BYTES + 4);
    size_t bn = NMRK_MAX_SEQUENCE_BYTES + 4;
    kt_params p = {NMRK_MODE_REPLAY, 500, 20, 0, 0, 0, 0, 16};
    req = kt_request("echo", &p, &big, &bn, 1, &len);
    CHECK(check(req, len, 4096) == NMRK_E_PAYLOAD);
    free(req);
    free(big);
    for (int e = 0; e < NMRK_E_COUNT; e++) CHECK(strlen(nmrk_error_name((nmrk_error)e)) > 1);
}

/* ---- target description: the driver's text, parsed by the console, gives the same kinds ---- */

static void test_target_description(void)
{
    size_t n = nmrk_describe_targets(nmrh_targets(), NULL, 0);
    char *text = malloc(n);
    CHECK(text && nmrk_describe_targets(nmrh_targets(), text, n) == n && text[n - 1] == '\0' && strlen(text) == n - 1);
    char small[16];
    CHECK(nmrk_describe_targets(nmrh_targets(), small, sizeof small) == n); /* says what it needs */
    char err[256];
    targetdesc *d = targetdesc_parse(text, err, sizeof err);
    CHECK(d != NULL);
    int targets = 0;
    for (const nmrh_target *const *t = nmrh_targets(); *t; t++, targets++) {
        const nmrh_target *u = targetdesc_find(d, (*t)->name);
        CHECK(u != NULL && u->nkinds == (*t)->nkinds);
        for (unsigned k = 0; k < u->nkinds; k++) {
            const nmrh_module_kind *a = (*t)->kinds[k], *b = u->kinds[k];
            CHECK(strcmp(a->name, b->name) == 0 && a->nparams == b->nparams);
            for (unsigned i = 0; i < a->nparams; i++) {
                CHECK(strcmp(a->params[i].key, b->params[i].key) == 0 && a->params[i].shift == b->params[i].shift &&
                      a->params[i].bits == b->params[i].bits && a->params[i].nvalues == b->params[i].nvalues);
                for (unsigned j = 0; j < a->params[i].nvalues; j++) CHECK(strcmp(a->params[i].values[j], b->params[i].values[j]) == 0);
            }
        }
    }
    CHECK(targets > 1);
    /* The same sequence text parses to the same bytes against the real and the described kinds. */
    const char *seq = "m0 = generic-provider detach=pending cleanup=no\nm1 = echo-client\nload m0\nt1 = load m1\nstep t1 2\nrun\n";
    nmrh_seq *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    nmrh_seq_error e;
    CHECK(nmrh_seq_parse(a, nmrh_target_find("echo"), seq, strlen(seq), &e));
    CHECK(nmrh_seq_parse(b, targetdesc_find(d, "echo"), seq, strlen(seq), &e));
    uint8_t ba[64], bb[64];
    size_t na = nmrh_seq_encode(a, ba, sizeof ba), nb = nmrh_seq_encode(b, bb, sizeof bb);
    CHECK(na == nb && memcmp(ba, bb, na) == 0);
    free(a), free(b);
    targetdesc_free(d);
    CHECK(targetdesc_parse("kind x\n", err, sizeof err) == NULL);
    CHECK(targetdesc_parse("target t\nkind k\nparam p 0 9 a\n", err, sizeof err) == NULL);
    CHECK(targetdesc_parse("", err, sizeof err) == NULL);
    free(text);
}

/* ---- .nmrobs text ---- */

static void test_obs_text(void)
{
    nmrh_obs all[] = {
        {NMRH_OBS_RECORD, 0, NMRH_OBS_THREAD_NONE, 0, 0xFF, 0xFF, 0, 0, 17, 0},
        {NMRH_OBS_NMR_CALL, NMRH_OBS_FN_REGISTER_CLIENT, 3, 0, 1, 0xFF, 0, NMRH_OBS_F_FAULT, 0, 0},
        {NMRH_OBS_NMR_RETURN, NMRH_OBS_FN_DEREGISTER_PROVIDER, 0x81, 2, 0, 1, 4, 0xFF, 0x103, 0},
        {NMRH_OBS_CALLBACK, NMRH_OBS_CB_PROVIDER_CLEANUP, 39, 0, 7, 6, 254, NMRH_OBS_F_IN_COMPLETE, 0, 0},
        {NMRH_OBS_CALLBACK_RETURN, NMRH_OBS_CB_CLIENT_ATTACH, 2, 0, 1, 0, 1, NMRH_OBS_F_HANDLE_WRITTEN, 0xC00002B9u, 0},
        {NMRH_OBS_THREAD_END, 0, 5, 0, 2, 0xFF, 0, 0, 0, 0},
        {NMRH_OBS_FINDING, NMRH_OBS_WHAT_CB | NMRH_OBS_CB_CLIENT_DETACH, 2, 0, 1, 0xFF, 3, 0, NMRH_RULE_DETACH_BAD_STATUS, 0x00030002},
        {NMRH_OBS_FINDING, 0xFF, 2, 0, 1, 0xFF, 3, 0, NMRH_RULE_CALL_AFTER_DETACH, 0},
        {NMRH_OBS_BLOCKED, 0, 4, 0, 0, 0xFF, 0, NMRH_OBS_F_IN_WAIT, 0, 0},
        {NMRH_OBS_HANG, 0, 4, 0, 0, 0xFF, 0, NMRH_OBS_F_IN_WAIT, 0, 0},
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char line[256], err[128];
        nmrh_obs back;
        obs_format(&all[i], line, sizeof line);
        CHECK(obs_parse(line, &back, err, sizeof err) == 1);
        /* fields a kind does not print read back as their defaults */
        if (all[i].kind == NMRH_OBS_RECORD) CHECK(back.status == 17 && back.kind == NMRH_OBS_RECORD);
        else if (memcmp(&back, &all[i], sizeof back) != 0) {
            fprintf(stderr, "round trip of '%s' differs\n", line);
            CHECK(0);
        }
    }
    char line[256], err[128];
    nmrh_obs o;
    obs_format(&all[3], line, sizeof line);
    CHECK(strcmp(line, "callback ProviderCleanupBindingContext t39 m7 peer=m6 b254 irql=0 flags=in-complete") == 0);
    CHECK(obs_parse("  # a comment", &o, err, sizeof err) == 0);
    CHECK(obs_parse("callback NoSuchCallback t1", &o, err, sizeof err) == -1 && strstr(err, "NoSuchCallback"));
    CHECK(obs_parse("call NmrRegisterClient t1 colour=red", &o, err, sizeof err) == -1);
    CHECK(obs_parse("finding NMR-NO-SUCH-RULE t1", &o, err, sizeof err) == -1);
    CHECK(nmrh_sequence_id("echo", (const uint8_t *)"ab", 2) != nmrh_sequence_id("echo-b1", (const uint8_t *)"ab", 2));
    CHECK(nmrh_sequence_id("echo", (const uint8_t *)"ab", 2) != nmrh_sequence_id("echo", (const uint8_t *)"ba", 2));
}

/* ---- divergences ---- */

static obsfile model_of(const char *lines)
{
    obsfile f;
    memset(&f, 0, sizeof f);
    char err[128], line[256];
    for (const char *p = lines; *p;) {
        size_t n = strcspn(p, "\n");
        memcpy(line, p, n), line[n] = '\0';
        nmrh_obs o;
        int r = obs_parse(line, &o, err, sizeof err);
        CHECK(r >= 0);
        if (r) obsfile_append(&f, &o);
        p += n + (p[n] == '\n');
    }
    return f;
}

static const char BASE[] = "call NmrDeregisterClient t3 m1 irql=0\n"
                           "callback ClientDetachProvider t3 m1 peer=m0 b1 irql=0 flags=in-deregister\n"
                           "callback-return ClientDetachProvider t3 m1 peer=m0 b1 irql=0 flags=in-deregister status=0x00000000\n"
                           "callback ProviderDetachClient t3 m0 peer=m1 b1 irql=0 flags=in-deregister\n"
                           "callback-return ProviderDetachClient t3 m0 peer=m1 b1 irql=0 flags=in-deregister status=0x00000000\n"
                           "return NmrDeregisterClient t3 m1 irql=0 status=0x00000103\n";

static size_t diverge(const char *model, const char *kernel, uint32_t model_rule, compare_result *r)
{
    obsfile m = model_of(model), k = model_of(kernel);
    m.model_rule = model_rule;
    CHECK(compare_obs(&m, k.obs, k.n, 0, r));
    obsfile_free(&m), obsfile_free(&k);
    return r->n;
}

static void test_compare(void)
{
    compare_result r;
    CHECK(diverge(BASE, BASE, 0, &r) == 0);
    compare_free(&r);
    /* Controller notes and the ungated flag are not compared. */
    CHECK(diverge(BASE,
                  "call NmrDeregisterClient t3 m1 irql=0\nblocked t3 m1 irql=0\n"
                  "callback ClientDetachProvider t3 m1 peer=m0 b1 irql=0 flags=in-deregister,ungated\n"
                  "callback-return ClientDetachProvider t3 m1 peer=m0 b1 irql=0 flags=in-deregister status=0x00000000\n"
                  "callback ProviderDetachClient t3 m0 peer=m1 b1 irql=0 flags=in-deregister\n"
                  "callback-return ProviderDetachClient t3 m0 peer=m1 b1 irql=0 flags=in-deregister status=0x00000000\n"
                  "return NmrDeregisterClient t3 m1 irql=0 status=0x00000103\n",
                  0, &r) == 0);
    compare_free(&r);
    /* The provider's detach first: one order divergence, named K4 detach-order. */
    CHECK(diverge(BASE,
                  "call NmrDeregisterClient t3 m1 irql=0\n"
                  "callback ProviderDetachClient t3 m0 peer=m1 b1 irql=0 flags=in-deregister\n"
                  "callback-return ProviderDetachClient t3 m0 peer=m1 b1 irql=0 flags=in-deregister status=0x00000000\n"
                  "callback ClientDetachProvider t3 m1 peer=m0 b1 irql=0 flags=in-deregister\n"
                  "callback-return ClientDetachProvider t3 m1 peer=m0 b1 irql=0 flags=in-deregister status=0x00000000\n"
                  "return NmrDeregisterClient t3 m1 irql=0 status=0x00000103\n",
                  0, &r) == 1);
    CHECK(strcmp(r.d[0].knob, "K4 detach-order") == 0 && strstr(r.d[0].text, "order: the kernel did"));
    compare_free(&r);
    /* Detach at DISPATCH_LEVEL on an NMR thread: IRQL, thread and in-deregister, said once per callback. */
    CHECK(diverge(BASE,
                  "call NmrDeregisterClient t3 m1 irql=0\n"
                  "callback ClientDetachProvider w0 m1 peer=m0 b1 irql=2\n"
                  "callback-return ClientDetachProvider w0 m1 peer=m0 b1 irql=2 status=0x00000000\n"
                  "callback ProviderDetachClient t3 m0 peer=m1 b1 irql=0 flags=in-deregister\n"
                  "callback-return ProviderDetachClient t3 m0 peer=m1 b1 irql=0 flags=in-deregister status=0x00000000\n"
                  "return NmrDeregisterClient t3 m1 irql=0 status=0x00000103\n",
                  0, &r) == 3);
    CHECK(strcmp(r.d[0].knob, "K4 detach-thread") == 0 && strstr(r.d[0].text, "kernel on w0 (an NMR thread)"));
    CHECK(strcmp(r.d[1].knob, "K4 detach-irql") == 0 && strstr(r.d[1].text, "model at IRQL 0, kernel at IRQL 2"));
    CHECK(strcmp(r.d[2].knob, "K4 detach-thread") == 0 && strstr(r.d[2].text, "in-deregister in the model, not in the kernel"));
    CHECK(strcmp(r.knobs, "K4 detach-thread, K4 detach-irql") == 0);
    compare_free(&r);
    /* Deregister returning success (K1), a missing and an extra event. */
    CHECK(diverge(BASE,
                  "call NmrDeregisterClient t3 m1 irql=0\n"
                  "callback ClientDetachProvider t3 m1 peer=m0 b1 irql=0 flags=in-deregister\n"
                  "callback-return ClientDetachProvider t3 m1 peer=m0 b1 irql=0 flags=in-deregister status=0x00000000\n"
                  "return NmrDeregisterClient t3 m1 irql=0 status=0x00000000\n"
                  "end t3 m1 irql=0\n",
                  0, &r) == 4);
    CHECK(strcmp(r.d[0].knob, "K1 deregister-status") == 0);
    CHECK(strstr(r.d[1].text, "extra: the kernel did 'end t3 m1 irql=0'"));
    CHECK(strstr(r.d[2].text, "missing: the model did 'callback ProviderDetachClient"));
    compare_free(&r);
    /* The model stopped on a finding after the first event: the kernel's later events are not
       compared, but what the model saw is. */
    CHECK(diverge("call NmrDeregisterClient t3 m1 irql=0\n", BASE, NMRH_RULE_CALL_AFTER_DETACH, &r) == 0);
    compare_free(&r);
    CHECK(diverge("call NmrDeregisterClient t4 m1 irql=0\n", BASE, NMRH_RULE_CALL_AFTER_DETACH, &r) == 1);
    compare_free(&r);
}

int main(void)
{
    test_validation();
    test_target_description();
    test_obs_text();
    test_compare();
    printf("test_kproto: ok\n");
    return 0;
}
