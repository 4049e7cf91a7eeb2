#include "serialize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nmrh/knobs.h"
#include "nmrh/session.h"

/* ---- the child: replay with every scheduling point traced, print the trace ---- */

typedef struct trace_child {
    FILE *out;
    int printed;
} trace_child;

/* At the finding itself: an AddressSanitizer report kills the child right after. */
static void print_at_finding(nmrh_world *w, const nmrh_finding *f, void *user)
{
    trace_child *c = user;
    (void)f;
    if (c->printed) return;
    nmrh_world_print_trace(w, c->out);
    fflush(c->out);
    c->printed = 1;
}

static _Noreturn void child(const nmrh_seq *seq, int fd, unsigned timeout)
{
    alarm(timeout);
    FILE *devnull = freopen("/dev/null", "w", stderr);
    (void)devnull;
    trace_child c = {fdopen(fd, "w"), 0};
    if (!c.out) _exit(1);
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.trace_points = true;
    cfg.on_finding = print_at_finding;
    cfg.user = &c;
    nmrh_session s;
    if (nmrh_session_run(&s, seq, &cfg) == 1 && !c.printed) nmrh_world_print_trace(s.world, c.out);
    fflush(c.out);
    _exit(0);
}

/* The trace text of one replay of `seq` (malloc'd, NUL-terminated), or NULL. */
static char *replay_trace(const nmrh_seq *seq, unsigned timeout)
{
    int fds[2];
    if (pipe(fds) != 0) return NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        close(fds[0]);
        child(seq, fds[1], timeout);
    }
    close(fds[1]);
    size_t len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    for (;;) {
        if (text && len + 1 == cap) {
            char *bigger = cap < ((size_t)64 << 20) ? realloc(text, cap * 2) : NULL;
            if (!bigger) {
                free(text);
                text = NULL;
            } else {
                text = bigger;
                cap *= 2;
            }
        }
        char sink[4096];
        char *into = text ? text + len : sink;
        size_t room = text ? cap - len - 1 : sizeof sink;
        ssize_t n = read(fds[0], into, room);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (text) len += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (text) text[len] = 0;
    return text;
}

/* ---- rewriting ---- */

#define MAX_THREADS 128

typedef struct rewriter {
    const nmrh_seq *in;
    nmrh_seq *out;
    uint32_t seq_threads;                /* threads the sequence itself starts (t0 .. tN-1) */
    uint8_t knob_state[NMRH_KNOB_COUNT]; /* as the output sets them: a value or NMRH_KNOB_CHOOSE */
    uint8_t pending[NMRH_KNOB_COUNT];    /* values the chooser gave since the last flush, or 0xFF */
    int failed;
    /* the `run` being serialised */
    int cur;    /* thread running in it, -1 none */
    uint32_t points;
    int ended;   /* the current thread blocked or ended */
    int gave_up; /* switched to a thread the sequence cannot name: the rest stays a `run` */
    /* Every thread of the run as the trace shows it (spawn order is id order), so that the
       decisions the chooser took can be re-derived: a `run` handed over to the chooser keeps them. */
    char labels[MAX_THREADS][8];
    uint8_t state[MAX_THREADS];       /* RUNNABLE, BLOCKED, ENDED */
    uint32_t nlabels;
    int running;                      /* the thread the trace says runs, -1 none */
    int question;                     /* an unanswered question: NONE, AT_POINT (of `running`), PICK */
    uint8_t answers[NMRH_SEQ_MAX_RECORDS]; /* the decisions of the current `run` */
    uint32_t nanswers, giveup_answer; /* answers from giveup_answer on are the chooser's part */
    int answered_last;                /* the last thread to run was chosen by a decision */
} rewriter;

enum { RUNNABLE, BLOCKED, ENDED };
enum { NONE, AT_POINT, PICK };

static void emit(rewriter *rw, nmrh_op op, uint8_t a, uint8_t b, uint8_t c)
{
    if (!nmrh_seq_append(rw->out, (nmrh_record){(uint8_t)op, a, b, c})) rw->failed = 1;
}

/* The chooser gave knob `k` value `v` within the statement (or run segment) being rewritten. */
static void knob_chosen(rewriter *rw, nmrh_knob k, uint8_t v)
{
    if (rw->pending[k] != 0xFF && rw->pending[k] != v) rw->failed = 1; /* two values: not a fixed knob */
    rw->pending[k] = v;
}

/* Fixes the knobs chosen since the last flush, ahead of the statement that consults them: the
   output has no decisions, and an empty queue answers 0. */
static void flush_knobs(rewriter *rw)
{
    for (int k = 0; k < NMRH_KNOB_COUNT; k++) {
        uint8_t v = rw->pending[k], now = rw->knob_state[k];
        rw->pending[k] = 0xFF;
        if (v == 0xFF || now == v || (now == NMRH_KNOB_CHOOSE && v == 0)) continue;
        emit(rw, NMRH_OP_KNOB, (uint8_t)k, v, 0);
        rw->knob_state[k] = v;
    }
}

static void close_segment(rewriter *rw)
{
    flush_knobs(rw);
    if (rw->cur >= 0) {
        if (rw->ended) {
            emit(rw, NMRH_OP_RUN, (uint8_t)rw->cur, 0, 0);
        } else {
            for (uint32_t left = rw->points; left > 0;) {
                uint32_t n = left > 16 ? 16 : left;
                emit(rw, NMRH_OP_STEP, (uint8_t)rw->cur, (uint8_t)(n - 1), 0);
                left -= n;
            }
        }
    }
    rw->cur = -1;
    rw->points = 0;
    rw->ended = 0;
}

/* The thread a trace label names, if the sequence can name it too ("t3" -> 3), else -2. */
static int sequence_thread(const rewriter *rw, const char *label)
{
    if (label[0] != 't') return -2;
    char *end = NULL;
    long n = strtol(label + 1, &end, 10);
    if (end == label + 1 || (*end && *end != ' ') || n < 0 || (uint32_t)n >= rw->seq_threads) return -2;
    return (int)n;
}

static void switch_to(rewriter *rw, const char *label)
{
    close_segment(rw);
    int t = sequence_thread(rw, label);
    if (t < 0) { /* the rest stays a `run`, with the decisions from the one that chose this thread */
        rw->cur = -1;
        rw->gave_up = 1;
        rw->giveup_answer = rw->nanswers - rw->answered_last;
        return;
    }
    rw->cur = t;
}

/* ---- re-deriving the chooser's decisions from the trace (core/src/sched.c: at a scheduling
   point, 0 = go on, k = the k-th other runnable thread; when the running thread blocks or ends,
   k = the k-th runnable thread; runnable threads counted in id order) ---- */

static int label_index(rewriter *rw, const char *label, int add)
{
    for (uint32_t i = 0; i < rw->nlabels; i++)
        if (strcmp(rw->labels[i], label) == 0) return (int)i;
    if (!add || rw->nlabels == MAX_THREADS) return -1;
    snprintf(rw->labels[rw->nlabels], sizeof rw->labels[0], "%s", label);
    rw->state[rw->nlabels] = RUNNABLE;
    return (int)rw->nlabels++;
}

static uint32_t runnable_before(const rewriter *rw, int t, int skip)
{
    uint32_t n = 0;
    for (int i = 0; i < t; i++) n += i != skip && rw->state[i] == RUNNABLE;
    return n;
}

static uint32_t runnable_count(const rewriter *rw)
{
    return runnable_before(rw, (int)rw->nlabels, -1);
}

static void answer(rewriter *rw, uint32_t value)
{
    if (rw->nanswers < NMRH_SEQ_MAX_RECORDS) rw->answers[rw->nanswers++] = (uint8_t)value;
    else rw->failed = 1;
}

/* Thread `t` runs next (a switch, or an event of its own): answers the open question. */
static void runs(rewriter *rw, int t)
{
    if (t < 0) return;
    rw->answered_last = rw->question == AT_POINT || (rw->question == PICK && runnable_count(rw) > 1);
    if (rw->question == AT_POINT)
        answer(rw, t == rw->running ? 0 : 1 + runnable_before(rw, t, rw->running));
    else if (rw->question == PICK && runnable_count(rw) > 1) /* one answer: no decision */
        answer(rw, runnable_before(rw, t, -1));
    rw->question = NONE;
    rw->running = t;
}

/* Follows one event of the trace; `in_run`: a `run` statement is being executed. */
static void track(rewriter *rw, const char *label, const char *event, int in_run)
{
    char other[8] = {0};
    int t = label[0] == '-' ? -1 : label_index(rw, label, 1);
    if (sscanf(event, "spawn %7s", other) == 1) {
        label_index(rw, other, 1);
    } else if (sscanf(event, "wakes %7s", other) == 1 || sscanf(event, "wait of %7s times out", other) == 1) {
        int w = label_index(rw, other, 1);
        if (w >= 0) rw->state[w] = RUNNABLE;
    } else if (strcmp(event, "-- switch --") == 0) {
        runs(rw, t);
    } else if (t >= 0 && (strncmp(event, "blocks on", 9) == 0 || strcmp(event, "thread ends") == 0)) {
        runs(rw, t);
        rw->state[t] = event[0] == 'b' ? BLOCKED : ENDED;
        rw->question = in_run ? PICK : NONE; /* counted when answered: a timed wait may expire first */
    } else if (t >= 0 && strncmp(event, "point (", 7) == 0) {
        runs(rw, t);
        if (in_run && runnable_count(rw) > 1) rw->question = AT_POINT;
    } else if (t >= 0) {
        runs(rw, t);
    }
}

static int parse_knob(const char *text, nmrh_knob *k, uint8_t *v)
{
    for (int i = 0; i < NMRH_KNOB_COUNT; i++) {
        const char *name = nmrh_knob_name((nmrh_knob)i);
        size_t n = strlen(name);
        if (strncmp(text, name, n) != 0 || strncmp(text + n, " = ", 3) != 0) continue;
        for (uint32_t j = 0; j < nmrh_knob_values((nmrh_knob)i); j++) {
            if (strcmp(text + n + 3, nmrh_knob_value_name((nmrh_knob)i, j)) == 0) {
                *k = (nmrh_knob)i;
                *v = (uint8_t)j;
                return 1;
            }
        }
    }
    return 0;
}

static void to_buffer(void *ctx, const char *s, size_t n)
{
    char *buf = ctx;
    size_t have = strlen(buf);
    if (have + n >= 256) n = 255 - have;
    memcpy(buf + have, s, n);
    buf[have + n] = 0;
}

/* Trace lines: "%5zu  LABEL NAME-OF-20 event" or "%5zu  -" padded the same: the event starts at
   column 32 (core/src/trace.c). Record markers "== <record>" come in record order. */
#define EVENT_COLUMN 32

/* Emits record `index` of the input (a `decide` is dropped: the output has no decisions). */
static void copy_record(rewriter *rw, uint32_t index)
{
    nmrh_record r = rw->in->records[index];
    if (r.op == NMRH_OP_DECIDE || r.op == NMRH_OP_RUN_ALL) return;
    if (r.op == NMRH_OP_KNOB)
        rw->knob_state[r.a] = r.b == nmrh_knob_values((nmrh_knob)r.a) ? NMRH_KNOB_CHOOSE : r.b;
    emit(rw, (nmrh_op)r.op, r.a, r.b, r.c);
}

/* The events of record `rec` are all read: emit it, or the steps its `run` amounted to. */
static void end_record(rewriter *rw, int64_t rec, int finding)
{
    if (rec < 0) return;
    if (rw->in->records[rec].op != NMRH_OP_RUN_ALL) {
        flush_knobs(rw);
        copy_record(rw, (uint32_t)rec);
    } else if (rw->gave_up) {
        /* Knobs chosen after the hand-over to the chooser are fixed before that `run`, which gets
           the scheduling decisions it took (trailing zeros are what an empty queue answers). */
        flush_knobs(rw);
        uint32_t end = rw->nanswers;
        while (end > rw->giveup_answer && rw->answers[end - 1] == 0) end--;
        for (uint32_t i = rw->giveup_answer; i < end; i++) emit(rw, NMRH_OP_DECIDE, rw->answers[i], 0, 0);
        emit(rw, NMRH_OP_RUN_ALL, 0, 0, 0);
    } else {
        if (finding && rw->cur >= 0) rw->ended = 1; /* run the finding's thread into it */
        close_segment(rw);
    }
    rw->cur = -1;
    rw->points = 0;
    rw->ended = 0;
    rw->gave_up = 0;
}

int serialize_schedule(const nmrh_seq *in, unsigned timeout_seconds, nmrh_seq *out)
{
    rewriter rw;
    memset(&rw, 0, sizeof rw);
    rw.in = in;
    rw.out = out;
    rw.cur = -1;
    rw.running = -1;
    memset(rw.knob_state, NMRH_KNOB_CHOOSE, sizeof rw.knob_state);
    int scheduled = 0;
    for (uint32_t i = 0; i < in->count; i++) {
        const nmrh_record *r = &in->records[i];
        rw.seq_threads += r->op == NMRH_OP_START || r->op == NMRH_OP_DO;
        scheduled |= r->op == NMRH_OP_DECIDE || r->op == NMRH_OP_RUN_ALL;
    }
    if (!scheduled) return 0;
    char *trace = replay_trace(in, timeout_seconds);
    if (!trace) return 0;
    nmrh_seq_init(out, in->target);

    memset(rw.pending, 0xFF, sizeof rw.pending);
    int64_t rec = -1; /* the record whose events these are */
    int finding = 0;
    for (char *line = trace, *next; line && *line && !finding && !rw.failed; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (strlen(line) < EVENT_COLUMN) continue;
        const char *event = line + EVENT_COLUMN;
        char label[8] = {0};
        sscanf(line, "%*u %7s", label);
        if (strncmp(event, "== ", 3) == 0) {
            end_record(&rw, rec, 0);
            if (++rec >= (int64_t)in->count) {
                rw.failed = 1;
                break;
            }
            char printed[256] = {0};
            nmrh_seq_print_record(in, (uint32_t)rec, to_buffer, printed);
            if (strcmp(printed, event + 3) != 0) rw.failed = 1; /* not a trace this code can read */
            int run_all = in->records[rec].op == NMRH_OP_RUN_ALL;
            rw.question = run_all ? PICK : NONE; /* a `run` starts by picking a thread */
            rw.nanswers = 0;
            continue;
        }
        if (rec < 0) continue;
        track(&rw, label, event, in->records[rec].op == NMRH_OP_RUN_ALL);
        nmrh_knob k;
        uint8_t v;
        if (strncmp(event, "knob ", 5) == 0 && parse_knob(event + 5, &k, &v)) {
            knob_chosen(&rw, k, v);
            continue;
        }
        if (strncmp(event, "FINDING", 7) == 0) finding = 1;
        if (in->records[rec].op != NMRH_OP_RUN_ALL || rw.gave_up) continue;
        if (strcmp(event, "-- switch --") == 0) {
            switch_to(&rw, label);
            continue;
        }
        int thread_event = strncmp(event, "point (", 7) == 0 || strncmp(event, "blocks on", 9) == 0 ||
                           strcmp(event, "thread ends") == 0;
        if (!thread_event) continue;
        if (sequence_thread(&rw, label) != rw.cur || rw.cur < 0) switch_to(&rw, label); /* resumed unannounced */
        if (rw.gave_up) continue;
        if (strncmp(event, "point (", 7) == 0)
            rw.points++;
        else
            rw.ended = 1;
    }
    end_record(&rw, rec, finding);
    free(trace);
    return !rw.failed && rec >= 0;
}
