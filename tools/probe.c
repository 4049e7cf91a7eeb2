#include "probe.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nmrh/session.h"

typedef struct child_ctx {
    int fd;
    probe_result *result;
} child_ctx;

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        c += w;
        n -= (size_t)w;
    }
}

/* Sent at the finding itself: an AddressSanitizer report kills the child right after. */
static void report_finding(nmrh_world *w, const nmrh_finding *f, void *user)
{
    child_ctx *ctx = user;
    probe_result *r = ctx->result;
    r->status = PROBE_FINDING;
    snprintf(r->signature, sizeof r->signature, "%s", f->signature);
    snprintf(r->message, sizeof r->message, "%s", f->message);
    memcpy(r->transitions, nmrh_world_transitions(w), sizeof r->transitions);
    r->events = nmrh_world_get_stats(w).events;
    write_all(ctx->fd, r, sizeof *r);
}

static void child(const nmrh_seq *seq, const nmrh_config *base, int fd, unsigned timeout)
{
    probe_result r;
    memset(&r, 0, sizeof r);
    child_ctx ctx = {fd, &r};
    alarm(timeout);
    nmrh_config cfg;
    if (base)
        cfg = *base;
    else
        nmrh_config_init(&cfg);
    cfg.on_finding = report_finding;
    cfg.user = &ctx;
    nmrh_session s;
    int clean = nmrh_session_run(&s, seq, &cfg);
    if (clean == 1) {
        r.status = PROBE_CLEAN;
        memcpy(r.transitions, nmrh_world_transitions(s.world), sizeof r.transitions);
        r.events = nmrh_world_get_stats(s.world).events;
        write_all(fd, &r, sizeof r);
    } else if (clean < 0) {
        r.status = PROBE_ERROR;
        snprintf(r.message, sizeof r.message, "out of memory");
        write_all(fd, &r, sizeof r);
    }
    nmrh_session_destroy(&s);
    _exit(0);
}

void probe_run(const nmrh_seq *seq, unsigned timeout_seconds, probe_result *out)
{
    probe_run_config(seq, NULL, timeout_seconds, out);
}

void probe_run_config(const nmrh_seq *seq, const nmrh_config *cfg, unsigned timeout_seconds, probe_result *out)
{
    memset(out, 0, sizeof *out);
    int fds[2];
    if (pipe(fds) != 0) {
        out->status = PROBE_ERROR;
        snprintf(out->message, sizeof out->message, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        out->status = PROBE_ERROR;
        snprintf(out->message, sizeof out->message, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        /* The child's own sanitizer report goes to /dev/null: the parent reports. */
        FILE *devnull = freopen("/dev/null", "w", stderr);
        (void)devnull;
        child(seq, cfg, fds[1], timeout_seconds);
    }
    close(fds[1]);
    probe_result r;
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = read(fds[0], (char *)&r + got, sizeof r - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got == sizeof r) {
        *out = r;
        return;
    }
    out->status = PROBE_CRASH;
    if (WIFSIGNALED(status))
        snprintf(out->message, sizeof out->message, "the replay died with signal %d (%s)", WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? "timeout" : strsignal(WTERMSIG(status)));
    else
        snprintf(out->message, sizeof out->message, "the replay exited with status %d without a result",
                 WEXITSTATUS(status));
    snprintf(out->signature, sizeof out->signature, "CRASH-%s",
             WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? "timeout" : "signal");
}
