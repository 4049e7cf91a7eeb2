#include "nmrh/finding_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void nmrh_signature_dirname(const char *signature, char *out, size_t size)
{
    size_t i = 0;
    for (; signature[i] && i + 1 < size; i++) {
        char c = signature[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                 c == '@' || c == '-';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

void nmrh_finding_header(FILE *out, const nmrh_finding *f, const char *target, const char *replay_path)
{
    char date[32] = "unknown";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(out, "# nmrh finding\n");
    fprintf(out, "# signature: %s\n", f->signature);
    fprintf(out, "# message: %s\n", f->message);
    fprintf(out, "# bug: %s\n", f->group[0] ? f->group : f->signature);
    fprintf(out, "# target: %s\n", target);
    fprintf(out, "# date: %s\n", date);
    fprintf(out, "# replay: nmrh replay --target %s %s\n", target, replay_path ? replay_path : "THIS-FILE");
}

int nmrh_mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return (mkdir(buf, 0777) != 0 && errno != EEXIST) ? -1 : 0;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* Inputs kept for a signature so far (parallel jobs may each add one past the limit). */
static int count_inputs(const char *dir, const char *sig)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sig);
    DIR *d = opendir(path);
    int n = 0;
    if (!d) return 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".bin") == 0) n++;
    }
    closedir(d);
    return n;
}

static void to_file(void *ctx, const char *s, size_t n) { fwrite(s, 1, n, (FILE *)ctx); }

int nmrh_finding_save(const char *dir, const char *target, const nmrh_finding *f, const nmrh_seq *seq,
                      const uint8_t *data, size_t size)
{
    char sig[160], path[4096];
    nmrh_signature_dirname(f->signature, sig, sizeof sig);
    snprintf(path, sizeof path, "%s/%s", dir, sig);
    if (nmrh_mkdir_p(path) != 0) return -1;

    /* One byte a hit, appended atomically: the count is the file's size. */
    snprintf(path, sizeof path, "%s/%s/hits", dir, sig);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd < 0) return -1;
    ssize_t wrote = write(fd, "x", 1);
    close(fd);
    if (wrote != 1) return -1;

    uint8_t *bytes = NULL;
    size_t need = nmrh_seq_encode(seq, NULL, 0);
    if (!data) {
        bytes = malloc(need ? need : 1);
        if (!bytes) return -1;
        nmrh_seq_encode(seq, bytes, need);
        data = bytes;
        size = need;
    }
    uint64_t h = fnv1a(data, size);
    snprintf(path, sizeof path, "%s/%s/%016llx.bin", dir, sig, (unsigned long long)h);
    struct stat st;
    int result = 0;
    if (stat(path, &st) != 0 && count_inputs(dir, sig) < NMRH_FINDING_MAX_INPUTS) {
        FILE *out = fopen(path, "wb");
        if (!out || fwrite(data, 1, size, out) != size || fclose(out) != 0) result = -1;
        snprintf(path, sizeof path, "%s/%s/%016llx.nmrseq", dir, sig, (unsigned long long)h);
        out = fopen(path, "w");
        if (out) {
            nmrh_finding_header(out, f, target, path);
            nmrh_seq_print(seq, NULL, to_file, out);
            if (fclose(out) != 0) result = -1;
        } else {
            result = -1;
        }
    }
    free(bytes);
    return result;
}
