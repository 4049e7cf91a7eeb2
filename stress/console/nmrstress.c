/*
 * nmrstress: the console tool of the kernel replay driver (docs/kernel-stress.md).
 *
 *   nmrstress info                         the driver's build, limits and module kinds
 *   nmrstress replay [options] FILE|DIR... replay sequences one by one on the real NMR, compare with
 *                                          the model's predictions (.nmrobs), report
 *   nmrstress stress [options] FILE|DIR... run them concurrently and repeatedly for a duration
 *   nmrstress compare MODEL.nmrobs KERNEL.nmrobs
 *   nmrstress triage [JOURNAL]             which submission was running when the machine went down
 *
 * Built for Windows (nmrstress.exe, DeviceIoControl on \\.\NmrhStress) and, for its tests, for
 * Linux with the driver's code in-process (transport_loopback.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/kproto.h"
#include "compare.h"
#include "nmrh/rules.h"
#include "obsfile.h"
#include "osdep.h"
#include "report.h"
#include "seqload.h"
#include "targetdesc.h"

enum { EXIT_PASS = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_DRIVER = 3 };

static const char usage[] =
    "usage: nmrstress COMMAND [options] ...\n"
    "\n"
    "  info                          the driver's build, limits and compiled-in module kinds\n"
    "  replay [options] FILE|DIR...  replay each sequence (.nmrseq text or .nmrbin binary; a directory\n"
    "                                means its *.nmrseq and *.nmrbin files) on the real NMR, one at a\n"
    "                                time, exactly ordered at NMR boundary events; compare what the NMR\n"
    "                                did with the model's prediction (FILE's .nmrobs from nmrh-kpredict)\n"
    "  stress [options] FILE|DIR...  run the sequences concurrently and repeatedly, with random delays\n"
    "  compare MODEL KERNEL          compare two .nmrobs files (e.g. one written by --save-obs)\n"
    "  triage [JOURNAL]              the submissions that started and never ended (after a crash)\n"
    "\n"
    "options (replay and stress):\n"
    "  --target NAME        module kinds of the driver to use (default echo; see 'nmrstress info')\n"
    "  --junit FILE         write JUnit XML results\n"
    "  --journal FILE       crash journal (default nmrstress-journal.log): every submission is\n"
    "                       recorded on disk before it is sent\n"
    "  --verbose            print the observations of every sequence that fails\n"
    "replay:\n"
    "  --expect DIR         where the .nmrobs predictions are (default: next to each sequence)\n"
    "  --save-obs DIR       write what the real NMR did, as DIR/NAME.nmrobs\n"
    "  --obs N              observations to receive per sequence (default 16384)\n"
    "  --settle-ms N        a thread that makes no progress for N ms is blocked (default 1000)\n"
    "  --wait-settle-ms N   the same inside NmrWaitFor*DeregisterComplete (default 50)\n"
    "stress:\n"
    "  --threads N          concurrent sequences (default 4, at most 16)\n"
    "  --duration S         total seconds (default 60)\n"
    "  --chunk S            seconds per driver request (default 60); the journal has one line per chunk\n"
    "  --max-delay-us N     random delay at each boundary event (default 200)\n"
    "  --seed N             random seed (default: from the clock; printed)\n"
    "  --hang-ms N          a sequence not finished N ms after its last record hangs (default 30000)\n"
    "  --cross-bind         let modules of different concurrent sequences bind each other\n"
    "\n"
    "Exit status: 0 every sequence passed, 1 a finding, hang or divergence, 2 bad usage or input,\n"
    "3 the driver could not be used.\n";

typedef struct options {
    const char *target, *junit, *journal, *expect_dir, *save_obs;
    uint32_t settle_ms, wait_settle_ms, obs_capacity;
    uint32_t threads, duration_s, chunk_s, max_delay_us, seed, hang_ms;
    int seed_set, cross_bind, verbose;
} options;

typedef struct driver {
    transport *t;
    targetdesc *desc;
    nmrk_info info;
} driver;

/* ---- small helpers ---- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) {
        fprintf(stderr, "nmrstress: out of memory\n");
        exit(EXIT_USAGE);
    }
    memcpy(d, s, n);
    return d;
}

typedef struct text {
    char *s;
    size_t n, cap;
} text;

#if defined(__GNUC__) || defined(__clang__)
static void tprintf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

static void tprintf(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        size_t room = t->cap - t->n;
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) return;
        if (t->s && (size_t)k < room) {
            t->n += (size_t)k;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 1024;
        while (cap < t->n + (size_t)k + 1) cap *= 2;
        char *bigger = realloc(t->s, cap);
        if (!bigger) return;
        t->s = bigger, t->cap = cap;
    }
}

static const char *base_name(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\') b = p + 1;
    return b;
}

/* "dir/name.nmrseq" -> "<dir or given>/name.nmrobs" */
static void obs_path(const char *seq_path, const char *dir, char *out, size_t cap)
{
    const char *b = base_name(seq_path);
    const char *dot = strrchr(b, '.');
    int stem = (int)(dot && dot != b ? (size_t)(dot - b) : strlen(b));
    if (dir)
        snprintf(out, cap, "%s/%.*s.nmrobs", dir, stem, b);
    else
        snprintf(out, cap, "%.*s%.*s.nmrobs", (int)(b - seq_path), seq_path, stem, b);
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static int parse_u32(const char *s, uint32_t *v)
{
    char *end;
    unsigned long x = strtoul(s, &end, 0);
    if (!*s || *end || x > 0xFFFFFFFFul) return 0;
    *v = (uint32_t)x;
    return 1;
}

/* Files named on the command line, directories expanded to their sequence files. */
static char **collect_files(char **args, int nargs, int *count)
{
    static const char *const suffixes[] = {".nmrseq", ".nmrbin", NULL};
    char **files = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < nargs; i++) {
        char **list = NULL;
        int k = 1;
        if (os_is_dir(args[i])) {
            k = os_list_dir(args[i], suffixes, &list);
            if (k < 0) {
                fprintf(stderr, "nmrstress: cannot read the directory %s\n", args[i]);
                k = 0;
            }
        }
        for (int j = 0; j < k; j++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                char **bigger = realloc(files, (size_t)cap * sizeof *files);
                if (!bigger) exit(EXIT_USAGE);
                files = bigger;
            }
            files[n++] = dup_str(list ? list[j] : args[i]);
        }
        if (list) os_free_list(list, k);
    }
    *count = n;
    return files;
}

/* ---- the driver ---- */

static int driver_open(driver *d)
{
    char err[512];
    memset(d, 0, sizeof *d);
    d->t = transport_open(err, sizeof err);
    if (!d->t) {
        fprintf(stderr, "nmrstress: %s\n", err);
        return 0;
    }
    size_t cap = 1u << 18, got = 0;
    char *buf = malloc(cap);
    transport_result r = buf ? transport_ioctl(d->t, NMRK_IOCTL_QUERY, NULL, 0, buf, cap, &got, err, sizeof err) : TR_FAILED;
    if (r == TR_MORE_DATA && got >= sizeof d->info) {
        memcpy(&d->info, buf, sizeof d->info);
        cap = d->info.total_size;
        char *bigger = cap < (1u << 24) ? realloc(buf, cap) : NULL;
        r = bigger ? (buf = bigger, transport_ioctl(d->t, NMRK_IOCTL_QUERY, NULL, 0, buf, cap, &got, err, sizeof err)) : TR_FAILED;
    }
    if (r != TR_OK || got < sizeof d->info) {
        fprintf(stderr, "nmrstress: the driver does not answer its query: %s\n", r == TR_OK ? "short answer" : err);
        free(buf);
        return 0;
    }
    memcpy(&d->info, buf, sizeof d->info);
    if (d->info.magic != NMRK_INFO_MAGIC || d->info.version != NMRK_PROTOCOL_VERSION || d->info.header_size != sizeof d->info ||
        d->info.total_size != got || d->info.text_size != got - sizeof d->info || d->info.text_size == 0 ||
        buf[got - 1] != '\0') {
        fprintf(stderr, "nmrstress: the driver speaks another protocol (version %u; this tool: %u)\n", d->info.version,
                NMRK_PROTOCOL_VERSION);
        free(buf);
        return 0;
    }
    d->info.build[sizeof d->info.build - 1] = '\0';
    d->desc = targetdesc_parse(buf + sizeof d->info, err, sizeof err);
    free(buf);
    if (!d->desc) {
        fprintf(stderr, "nmrstress: %s\n", err);
        return 0;
    }
    return 1;
}

static void driver_close(driver *d)
{
    targetdesc_free(d->desc);
    transport_close(d->t);
}

static uint8_t *build_request(const options *o, uint32_t mode, uint64_t id, const char *target, const char *label,
                              uint8_t *const *seqs, const size_t *sizes, uint32_t nseq, uint32_t duration_ms,
                              uint32_t seed, size_t *len)
{
    size_t payload = 0;
    for (uint32_t i = 0; i < nseq; i++) payload += (mode == NMRK_MODE_STRESS ? 4 : 0) + sizes[i];
    uint8_t *buf = calloc(1, sizeof(nmrk_request) + payload);
    if (!buf) return NULL;
    nmrk_request r;
    nmrk_request_init(&r, mode, payload);
    r.seq_id = id;
    snprintf(r.target, sizeof r.target, "%s", target);
    snprintf(r.label, sizeof r.label, "%s", label);
    for (char *p = r.label; *p; p++)
        if (*p < 0x20 || *p > 0x7E) *p = '?';
    r.nsequences = nseq;
    if (mode == NMRK_MODE_REPLAY) {
        r.settle_ms = o->settle_ms;
        r.wait_settle_ms = o->wait_settle_ms;
    } else {
        r.settle_ms = o->hang_ms;
        r.threads = o->threads;
        r.duration_ms = duration_ms;
        r.max_delay_us = o->max_delay_us;
        r.seed = seed;
        r.flags = o->cross_bind ? NMRK_FLAG_CROSS_BIND : 0;
    }
    memcpy(buf, &r, sizeof r);
    uint8_t *q = buf + sizeof r;
    for (uint32_t i = 0; i < nseq; i++) {
        if (mode == NMRK_MODE_STRESS) nmrk_put32(q, (uint32_t)sizes[i]), q += 4;
        memcpy(q, seqs[i], sizes[i]);
        q += sizes[i];
    }
    *len = sizeof r + payload;
    return buf;
}

/* Submits a RUN request; checks the answer's framing. Returns the transport result; on TR_OK
   *resp and *obs (malloc'd) hold the answer. */
static transport_result submit(driver *d, const uint8_t *req, size_t len, uint64_t id, uint32_t obs_capacity,
                               nmrk_response *resp, nmrh_obs **obs, char *err, size_t errcap)
{
    size_t cap = sizeof(nmrk_response) + (size_t)obs_capacity * sizeof(nmrh_obs), got = 0;
    uint8_t *out = malloc(cap);
    *obs = NULL;
    if (!out) {
        snprintf(err, errcap, "out of memory");
        return TR_FAILED;
    }
    transport_result r = transport_ioctl(d->t, NMRK_IOCTL_RUN, req, len, out, cap, &got, err, errcap);
    if (r == TR_OK) {
        memcpy(resp, out, got < sizeof *resp ? got : sizeof *resp);
        if (got < sizeof *resp || resp->magic != NMRK_RESPONSE_MAGIC || resp->header_size != sizeof *resp ||
            resp->total_size != got || got != sizeof *resp + (size_t)resp->nobs * sizeof(nmrh_obs) || resp->seq_id != id) {
            snprintf(err, errcap, "malformed answer from the driver (%zu bytes)", got);
            r = TR_FAILED;
        } else {
            *obs = malloc(resp->nobs ? resp->nobs * sizeof(nmrh_obs) : 1);
            if (*obs) memcpy(*obs, out + sizeof *resp, resp->nobs * sizeof(nmrh_obs));
        }
    }
    free(out);
    return r;
}

static const char *verdict_name(uint32_t v)
{
    return v == NMRK_VERDICT_PASS ? "PASS" : v == NMRK_VERDICT_FINDING ? "FINDING" : v == NMRK_VERDICT_HANG ? "HANG" : "ERROR";
}

static void print_case(const case_result *c, int verbose_details)
{
    printf("%-9s %s  %s\n", c->status, c->name, c->message ? c->message : "");
    if (c->details && (strcmp(c->status, "PASS") != 0 || verbose_details)) {
        int lines = 0;
        for (const char *p = c->details; *p && lines < 40; lines++) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            printf("          %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
        if (lines == 40) printf("          ... (more in the JUnit report)\n");
    }
}

static int write_junit(const options *o, const char *suite, const driver *d, const char *mode_props[][2], size_t nprops,
                       const case_result *cases, size_t n, double seconds)
{
    if (!o->junit) return 1;
    char when[32], host[128], classname[96];
    const char *props[16][2];
    size_t k = 0;
    os_utc_now(when, sizeof when);
    os_hostname(host, sizeof host);
    snprintf(classname, sizeof classname, "%s.%s", suite, o->target);
    props[k][0] = "target", props[k++][1] = o->target;
    props[k][0] = "driver", props[k++][1] = d->info.build;
    props[k][0] = "transport", props[k++][1] = transport_name();
    for (size_t i = 0; i < nprops && k < 16; i++) props[k][0] = mode_props[i][0], props[k++][1] = mode_props[i][1];
    junit_suite s = {suite, classname, when, host, props, k, cases, n, seconds};
    if (!junit_write(o->junit, &s)) {
        fprintf(stderr, "nmrstress: cannot write %s\n", o->junit);
        return 0;
    }
    return 1;
}

/* ---- replay ---- */

static case_result replay_one(driver *d, const nmrh_target *target, const char *path, const options *o, int *wedged)
{
    case_result c = {dup_str(path), "ERROR", NULL, NULL, 0};
    text msg = {0}, det = {0};
    char err[1024];
    seqload s;
    if (!seqload_file(&s, path, target, err, sizeof err)) {
        c.message = dup_str(err);
        seqload_free(&s);
        return c;
    }
    uint64_t id = nmrh_sequence_id(target->name, s.bytes, s.nbytes);
    char predicted[4096];
    obsfile model;
    int have_model = 0;
    obs_path(path, o->expect_dir, predicted, sizeof predicted);
    if (file_exists(predicted)) {
        if (!obsfile_read(predicted, &model, err, sizeof err)) {
            c.message = dup_str(err);
            seqload_free(&s);
            return c;
        }
        if (model.seq_id != id || strcmp(model.target, target->name) != 0) {
            snprintf(err, sizeof err,
                     "%.400s is the prediction of another sequence or target (regenerate it: nmrh-kpredict --target %.31s %.400s)",
                     predicted, target->name, path);
            c.message = dup_str(err);
            obsfile_free(&model);
            seqload_free(&s);
            return c;
        }
        have_model = 1;
    }

    size_t len;
    uint8_t *req = build_request(o, NMRK_MODE_REPLAY, id, target->name, base_name(path), &s.bytes, &s.nbytes, 1, 0, 0, &len);
    char what[4200];
    snprintf(what, sizeof what, "replay id=%016llx target=%s file=%s", (unsigned long long)id, target->name, path);
    uint64_t t0 = os_now_ms();
    nmrk_response resp;
    nmrh_obs *obs = NULL;
    transport_result tr = TR_FAILED;
    if (!req) {
        snprintf(err, sizeof err, "out of memory");
    } else if (journal_start(o->journal, what, err, sizeof err)) {
        tr = submit(d, req, len, id, o->obs_capacity, &resp, &obs, err, sizeof err);
        char end[200];
        snprintf(end, sizeof end, "replay id=%016llx verdict=%s", (unsigned long long)id,
                 tr == TR_OK ? verdict_name(resp.verdict) : "not-run");
        journal_end(o->journal, end, err + 512, sizeof err - 512);
    }
    c.seconds = (double)(os_now_ms() - t0) / 1000.0;
    free(req);
    if (tr != TR_OK) {
        if (tr == TR_NOT_READY) *wedged = 1;
        c.message = dup_str(err);
        if (have_model) obsfile_free(&model);
        seqload_free(&s);
        return c;
    }
    if (resp.verdict == NMRK_VERDICT_HANG) *wedged = 1;

    if (o->save_obs) {
        obsfile mine;
        char out[4096];
        memset(&mine, 0, sizeof mine);
        snprintf(mine.target, sizeof mine.target, "%s", target->name);
        mine.seq_id = id;
        for (uint32_t i = 0; i < resp.nobs; i++) obsfile_append(&mine, &obs[i]);
        obs_path(path, o->save_obs, out, sizeof out);
        FILE *f = fopen(out, "w");
        if (!f || !obsfile_write(f, &mine)) fprintf(stderr, "nmrstress: cannot write %s\n", out);
        if (f) fclose(f);
        obsfile_free(&mine);
    }

    const char *status = resp.verdict == NMRK_VERDICT_PASS ? "PASS" : verdict_name(resp.verdict);
    tprintf(&msg, "(%llu events, %u ms", (unsigned long long)resp.events, resp.elapsed_ms);
    if (resp.obs_dropped) tprintf(&msg, ", %u observations dropped: raise --obs", resp.obs_dropped);
    tprintf(&msg, ")");
    for (uint32_t i = 0; i < resp.nobs; i++) {
        if (obs[i].kind != NMRH_OBS_FINDING) continue;
        char line[256];
        obs_format(&obs[i], line, sizeof line);
        tprintf(&det, "%s\n", line);
    }
    if (resp.findings) tprintf(&msg, " %u finding(s), first %s", resp.findings, nmrh_rule_id((nmrh_rule)resp.first_rule));
    if (resp.verdict == NMRK_VERDICT_HANG)
        tprintf(&msg, " %u thread(s) blocked for good: the driver refuses further runs until the machine restarts",
                resp.hung_threads);
    if (have_model) {
        compare_result cr;
        if (compare_obs(&model, obs, resp.nobs, resp.verdict == NMRK_VERDICT_HANG, &cr) && cr.n) {
            tprintf(&msg, " %zu divergence(s) from the model%s%s", cr.n, cr.knobs[0] ? ": " : "", cr.knobs);
            for (size_t i = 0; i < cr.n; i++)
                tprintf(&det, "%s%s%s%s\n", cr.d[i].knob[0] ? "[" : "", cr.d[i].knob, cr.d[i].knob[0] ? "] " : "", cr.d[i].text);
            if (strcmp(status, "PASS") == 0) status = "DIVERGED";
        } else if (model.model_rule && resp.findings == 0) {
            tprintf(&msg, " (the model reports %s, which only the model or Driver Verifier can see)",
                    nmrh_rule_id((nmrh_rule)model.model_rule));
        } else {
            tprintf(&msg, " as the model predicts");
        }
        compare_free(&cr);
        obsfile_free(&model);
    } else {
        tprintf(&msg, " (no prediction %s)", predicted);
    }
    if (o->verbose && strcmp(status, "PASS") != 0) {
        tprintf(&det, "observations:\n");
        for (uint32_t i = 0; i < resp.nobs; i++) {
            char line[256];
            obs_format(&obs[i], line, sizeof line);
            tprintf(&det, "  %s\n", line);
        }
    }
    c.status = status;
    c.message = msg.s ? msg.s : dup_str("");
    c.details = det.s;
    free(obs);
    seqload_free(&s);
    return c;
}

/* Opens the driver and finds o->target in it: EXIT_PASS, or the exit status (driver closed). */
static int open_driver_target(const options *o, driver *d, const nmrh_target **target)
{
    if (!driver_open(d)) return EXIT_DRIVER;
    *target = targetdesc_find(d->desc, o->target);
    if (*target) return EXIT_PASS;
    fprintf(stderr, "nmrstress: the driver has no target '%s' (nmrstress info)\n", o->target);
    driver_close(d);
    return EXIT_USAGE;
}

static int cmd_replay(const options *o, char **args, int nargs)
{
    driver d;
    const nmrh_target *target;
    int opened = open_driver_target(o, &d, &target);
    if (opened != EXIT_PASS) return opened;
    int n;
    char **files = collect_files(args, nargs, &n);
    if (n == 0) {
        fprintf(stderr, "nmrstress: no sequence files\n");
        driver_close(&d);
        return EXIT_USAGE;
    }
    case_result *cases = calloc((size_t)n, sizeof *cases);
    int wedged = 0, failed = 0, errors = 0, refused = 0;
    uint64_t t0 = os_now_ms();
    printf("nmrstress replay: %d sequence(s), target %s, driver %s via %s\n", n, o->target, d.info.build, transport_name());
    for (int i = 0; i < n; i++) {
        if (wedged) {
            cases[i] = (case_result){dup_str(files[i]), "ERROR", dup_str("not run: the driver is wedged by a hang"), NULL, 0};
            refused = 1;
        } else {
            cases[i] = replay_one(&d, target, files[i], o, &wedged);
            if (wedged && strcmp(cases[i].status, "ERROR") == 0) refused = 1; /* refused this one too */
        }
        print_case(&cases[i], 0);
        fflush(stdout);
        if (strcmp(cases[i].status, "ERROR") == 0)
            errors++;
        else if (strcmp(cases[i].status, "PASS") != 0)
            failed++;
    }
    double seconds = (double)(os_now_ms() - t0) / 1000.0;
    printf("%d sequence(s): %d passed, %d failed, %d error(s) in %.1f s\n", n, n - failed - errors, failed, errors, seconds);
    char settle[16], wait_settle[16];
    snprintf(settle, sizeof settle, "%u", o->settle_ms);
    snprintf(wait_settle, sizeof wait_settle, "%u", o->wait_settle_ms);
    const char *props[][2] = {{"mode", "replay"}, {"settle_ms", settle}, {"wait_settle_ms", wait_settle}};
    int ok = write_junit(o, "nmrstress.replay", &d, props, 3, cases, (size_t)n, seconds);
    for (int i = 0; i < n; i++) free(cases[i].name), free(cases[i].message), free(cases[i].details), free(files[i]);
    free(cases);
    free(files);
    driver_close(&d);
    if (refused) return EXIT_DRIVER;
    return errors || !ok ? EXIT_USAGE : failed ? EXIT_FAILED : EXIT_PASS;
}

/* ---- stress ---- */

typedef struct stress_seq {
    seqload s;
    uint64_t runs, findings, hangs;
    text notes;
    uint32_t nnotes;
} stress_seq;

static int cmd_stress(options *o, char **args, int nargs)
{
    driver d;
    const nmrh_target *target;
    int opened = open_driver_target(o, &d, &target);
    if (opened != EXIT_PASS) return opened;
    int n;
    char **files = collect_files(args, nargs, &n);
    stress_seq *seqs = calloc((size_t)(n ? n : 1), sizeof *seqs);
    int bad = n == 0;
    for (int i = 0; i < n; i++) {
        char err[1024];
        if (!seqload_file(&seqs[i].s, files[i], target, err, sizeof err)) fprintf(stderr, "%s\n", err), bad = 1;
    }
    if (bad || !seqs) {
        if (n == 0) fprintf(stderr, "nmrstress: no sequence files\n");
        driver_close(&d);
        return EXIT_USAGE;
    }
    if (!o->seed_set) o->seed = (uint32_t)os_now_ms();
    uint64_t total_ms = (uint64_t)o->duration_s * 1000u, chunk_ms = (uint64_t)o->chunk_s * 1000u;
    if (chunk_ms > NMRK_MAX_DURATION_MS) chunk_ms = NMRK_MAX_DURATION_MS;
    if (chunk_ms == 0) chunk_ms = 1;
    printf("nmrstress stress: %d sequence(s), target %s, %u threads, %u s in chunks of %u s, max delay %u us, seed %u, driver %s via %s\n",
           n, o->target, o->threads, o->duration_s, (unsigned)(chunk_ms / 1000u), o->max_delay_us, o->seed, d.info.build,
           transport_name());
    uint64_t t0 = os_now_ms(), events = 0, iterations = 0;
    int wedged = 0, driver_error = 0;
    for (uint32_t chunk = 0; !wedged && !driver_error; chunk++) {
        uint64_t elapsed = os_now_ms() - t0;
        if (elapsed >= total_ms) break;
        uint64_t left = total_ms - elapsed;
        uint32_t dur = (uint32_t)(left < chunk_ms ? left : chunk_ms);
        if (dur == 0) break;
        /* At most NMRK_MAX_SEQUENCES per request: a window that moves round the files. */
        uint32_t k = (uint32_t)n < NMRK_MAX_SEQUENCES ? (uint32_t)n : NMRK_MAX_SEQUENCES;
        int window[NMRK_MAX_SEQUENCES];
        uint8_t *bytes[NMRK_MAX_SEQUENCES];
        size_t sizes[NMRK_MAX_SEQUENCES];
        uint64_t id = 0xcbf29ce484222325ull;
        text names = {0};
        for (uint32_t i = 0; i < k; i++) {
            window[i] = (int)((chunk * k + i) % (uint32_t)n);
            bytes[i] = seqs[window[i]].s.bytes;
            sizes[i] = seqs[window[i]].s.nbytes;
            id ^= nmrh_sequence_id(target->name, bytes[i], sizes[i]) + i;
            id *= 0x100000001b3ull;
            if (names.n < 3000) tprintf(&names, "%s%s", i ? "," : "", files[window[i]]);
        }
        uint32_t seed = o->seed + chunk;
        id ^= seed;
        size_t len;
        char label[48];
        snprintf(label, sizeof label, "stress chunk %u", chunk);
        uint8_t *req = build_request(o, NMRK_MODE_STRESS, id, target->name, label, bytes, sizes, k, dur, seed, &len);
        char what[4200], err[1024];
        snprintf(what, sizeof what, "stress id=%016llx target=%s seed=%u threads=%u duration_ms=%u files=%s%s",
                 (unsigned long long)id, target->name, seed, o->threads, dur, names.s ? names.s : "",
                 names.n >= 3000 ? ",..." : "");
        free(names.s);
        nmrk_response resp;
        nmrh_obs *obs = NULL;
        transport_result tr = TR_FAILED;
        if (!req) {
            snprintf(err, sizeof err, "out of memory");
        } else if (journal_start(o->journal, what, err, sizeof err)) {
            tr = submit(&d, req, len, id, 4096, &resp, &obs, err, sizeof err);
            char end[200], err2[256];
            snprintf(end, sizeof end, "stress id=%016llx verdict=%s", (unsigned long long)id,
                     tr == TR_OK ? verdict_name(resp.verdict) : "not-run");
            journal_end(o->journal, end, err2, sizeof err2);
        }
        free(req);
        if (tr != TR_OK) {
            fprintf(stderr, "nmrstress: chunk %u: %s\n", chunk, err);
            driver_error = 1;
            break;
        }
        for (uint32_t i = 0; i < k && i < resp.nsequences; i++) {
            stress_seq *q = &seqs[window[i]];
            q->runs += resp.seq_runs[i], q->findings += resp.seq_findings[i], q->hangs += resp.seq_hangs[i];
        }
        for (uint32_t i = 0; i < resp.nobs; i++) {
            if (obs[i].kind != NMRH_OBS_FINDING && obs[i].kind != NMRH_OBS_HANG) continue;
            uint32_t si = obs[i].aux & 0xFFFFu, worker = (obs[i].aux >> 16) & 0xFFu;
            if (obs[i].aux == 0xFFFFFFFFu || si >= k) continue;
            stress_seq *q = &seqs[window[si]];
            if (q->nnotes++ >= 5) continue;
            char line[256];
            obs_format(&obs[i], line, sizeof line);
            tprintf(&q->notes, "chunk %u seed %u worker %u: %s\n", chunk, seed, worker, line);
        }
        events += resp.events;
        iterations += resp.iterations;
        printf("chunk %u: %llu sequences, %llu boundary events, %u finding(s), verdict %s, %.1f s\n", chunk,
               (unsigned long long)resp.iterations, (unsigned long long)resp.events, resp.findings,
               verdict_name(resp.verdict), resp.elapsed_ms / 1000.0);
        fflush(stdout);
        if (resp.verdict == NMRK_VERDICT_HANG) wedged = 1;
        free(obs);
    }
    double seconds = (double)(os_now_ms() - t0) / 1000.0;
    case_result *cases = calloc((size_t)n, sizeof *cases);
    int failed = 0, errors = 0;
    for (int i = 0; i < n; i++) {
        stress_seq *q = &seqs[i];
        text msg = {0};
        const char *status = q->hangs ? "HANG" : q->findings ? "FINDING" : q->runs ? "PASS" : "ERROR";
        tprintf(&msg, "%llu runs, %llu with findings, %llu hung", (unsigned long long)q->runs,
                (unsigned long long)q->findings, (unsigned long long)q->hangs);
        if (!q->runs) tprintf(&msg, " (never ran: a longer --duration, or fewer files)");
        cases[i] = (case_result){dup_str(files[i]), status, msg.s, q->notes.s, 0};
        print_case(&cases[i], 0);
        if (strcmp(status, "ERROR") == 0)
            errors++;
        else if (strcmp(status, "PASS") != 0)
            failed++;
    }
    printf("stress: %llu sequences run, %llu boundary events, %d sequence(s) failed, %d never ran, in %.1f s%s\n",
           (unsigned long long)iterations, (unsigned long long)events, failed, errors, seconds,
           wedged ? " (stopped: a run hung; restart the machine)" : driver_error ? " (stopped: driver error)" : "");
    char threads[16], duration[16], delay[16], seed[16];
    snprintf(threads, sizeof threads, "%u", o->threads);
    snprintf(duration, sizeof duration, "%u", o->duration_s);
    snprintf(delay, sizeof delay, "%u", o->max_delay_us);
    snprintf(seed, sizeof seed, "%u", o->seed);
    const char *props[][2] = {{"mode", "stress"}, {"threads", threads}, {"duration_s", duration}, {"max_delay_us", delay}, {"seed", seed}};
    int ok = write_junit(o, "nmrstress.stress", &d, props, 5, cases, (size_t)n, seconds);
    for (int i = 0; i < n; i++) {
        free(cases[i].name), free(cases[i].message), free(cases[i].details), free(files[i]);
        seqload_free(&seqs[i].s);
    }
    free(cases);
    free(seqs);
    free(files);
    driver_close(&d);
    if (driver_error) return EXIT_DRIVER;
    return !ok ? EXIT_USAGE : failed || wedged ? EXIT_FAILED : errors ? EXIT_USAGE : EXIT_PASS;
}

/* ---- info, compare, triage ---- */

static int cmd_info(void)
{
    driver d;
    if (!driver_open(&d)) return EXIT_DRIVER;
    printf("driver:     %s via %s\nprotocol:   %u\nlimits:     %u workers, %u sequences a stress request, %u bytes a sequence, %u observations\n",
           d.info.build, transport_name(), d.info.version, d.info.max_workers, d.info.max_sequences,
           d.info.max_sequence_bytes, d.info.max_obs);
    for (const nmrh_target *const *t = targetdesc_targets(d.desc); *t; t++) {
        printf("target %s:", (*t)->name);
        for (unsigned k = 0; k < (*t)->nkinds; k++) printf(" %s", (*t)->kinds[k]->name);
        printf("\n");
    }
    driver_close(&d);
    return EXIT_PASS;
}

static int cmd_compare(const char *model_path, const char *kernel_path)
{
    obsfile model, kernel;
    char err[1024];
    if (!obsfile_read(model_path, &model, err, sizeof err)) {
        fprintf(stderr, "nmrstress: %s\n", err);
        return EXIT_USAGE;
    }
    if (!obsfile_read(kernel_path, &kernel, err, sizeof err)) {
        fprintf(stderr, "nmrstress: %s\n", err);
        obsfile_free(&model);
        return EXIT_USAGE;
    }
    int hung = 0;
    for (size_t i = 0; i < kernel.n; i++) hung |= kernel.obs[i].kind == NMRH_OBS_HANG;
    compare_result r;
    if (!compare_obs(&model, kernel.obs, kernel.n, hung, &r)) {
        fprintf(stderr, "nmrstress: out of memory\n");
        return EXIT_USAGE;
    }
    if (model.seq_id != kernel.seq_id) printf("note: the files are of different sequences\n");
    for (size_t i = 0; i < r.n; i++)
        printf("%s%s%s%s\n", r.d[i].knob[0] ? "[" : "", r.d[i].knob, r.d[i].knob[0] ? "] " : "", r.d[i].text);
    printf("%zu divergence(s)%s%s\n", r.n, r.knobs[0] ? ": " : "", r.knobs);
    int status = r.n ? EXIT_FAILED : EXIT_PASS;
    compare_free(&r);
    obsfile_free(&model);
    obsfile_free(&kernel);
    return status;
}

int main(int argc, char **argv)
{
    options o = {"echo", NULL, "nmrstress-journal.log", NULL, NULL, 1000, 50, 16384, 4, 60, 60, 200, 0, 30000, 0, 0, 0};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_PASS;
    }
    const char *cmd = argv[1];
    char **args = calloc((size_t)argc, sizeof *args);
    int nargs = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t *num = NULL;
        const char **str = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            free(args);
            return EXIT_PASS;
        } else if (strcmp(a, "--verbose") == 0) {
            o.verbose = 1;
            continue;
        } else if (strcmp(a, "--cross-bind") == 0) {
            o.cross_bind = 1;
            continue;
        } else if (strcmp(a, "--target") == 0) str = &o.target;
        else if (strcmp(a, "--junit") == 0) str = &o.junit;
        else if (strcmp(a, "--journal") == 0) str = &o.journal;
        else if (strcmp(a, "--expect") == 0) str = &o.expect_dir;
        else if (strcmp(a, "--save-obs") == 0) str = &o.save_obs;
        else if (strcmp(a, "--settle-ms") == 0) num = &o.settle_ms;
        else if (strcmp(a, "--wait-settle-ms") == 0) num = &o.wait_settle_ms;
        else if (strcmp(a, "--obs") == 0) num = &o.obs_capacity;
        else if (strcmp(a, "--threads") == 0) num = &o.threads;
        else if (strcmp(a, "--duration") == 0) num = &o.duration_s;
        else if (strcmp(a, "--chunk") == 0) num = &o.chunk_s;
        else if (strcmp(a, "--max-delay-us") == 0) num = &o.max_delay_us;
        else if (strcmp(a, "--hang-ms") == 0) num = &o.hang_ms;
        else if (strcmp(a, "--seed") == 0) num = &o.seed, o.seed_set = 1;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nmrstress: unknown option '%s'\n\n%s", a, usage);
            free(args);
            return EXIT_USAGE;
        } else {
            args[nargs++] = argv[i];
            continue;
        }
        if (!v || (num && !parse_u32(v, num))) {
            fprintf(stderr, "nmrstress: %s needs a %s\n", a, num ? "number" : "value");
            free(args);
            return EXIT_USAGE;
        }
        if (str) *str = v;
        i++;
    }
    if (o.settle_ms == 0 || o.settle_ms > NMRK_MAX_SETTLE_MS || o.wait_settle_ms == 0 || o.wait_settle_ms > NMRK_MAX_SETTLE_MS ||
        o.threads == 0 || o.threads > NMRK_MAX_WORKERS || o.max_delay_us > NMRK_MAX_DELAY_US || o.hang_ms == 0 ||
        o.hang_ms > NMRK_MAX_SETTLE_MS || o.obs_capacity == 0 || o.obs_capacity > NMRK_MAX_OBS || o.chunk_s == 0) {
        fprintf(stderr, "nmrstress: an option is out of range (see --help)\n");
        free(args);
        return EXIT_USAGE;
    }
    int status;
    if (strcmp(cmd, "info") == 0) {
        status = cmd_info();
    } else if (strcmp(cmd, "replay") == 0) {
        status = cmd_replay(&o, args, nargs);
    } else if (strcmp(cmd, "stress") == 0) {
        status = cmd_stress(&o, args, nargs);
    } else if (strcmp(cmd, "compare") == 0 && nargs == 2) {
        status = cmd_compare(args[0], args[1]);
    } else if (strcmp(cmd, "triage") == 0 && nargs <= 1) {
        char err[512];
        int k = journal_triage(nargs ? args[0] : o.journal, stdout, err, sizeof err);
        if (k < 0) fprintf(stderr, "nmrstress: %s\n", err);
        status = k < 0 ? EXIT_USAGE : k > 0 ? EXIT_FAILED : EXIT_PASS;
    } else {
        fprintf(stderr, "nmrstress: unknown command or wrong arguments: %s\n\n%s", cmd, usage);
        status = EXIT_USAGE;
    }
    free(args);
    return status;
}
