/* osdep.h for POSIX systems (Linux: the console's tests, and offline commands). */
#include "osdep.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int os_durable_append(const char *path, const char *line)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) return 0;
    size_t n = strlen(line), off = 0;
    while (off < n) {
        ssize_t w = write(fd, line + off, n - off);
        if (w <= 0) {
            close(fd);
            return 0;
        }
        off += (size_t)w;
    }
    int ok = fsync(fd) == 0;
    return close(fd) == 0 && ok;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int os_list_dir(const char *dir, const char *const *suffixes, char ***out)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **list = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int match = 0;
        for (const char *const *s = suffixes; *s; s++) {
            size_t m = strlen(*s);
            if (len > m && strcmp(e->d_name + len - m, *s) == 0) match = 1;
        }
        if (!match) continue;
        size_t need = strlen(dir) + len + 2;
        char *path = malloc(need);
        if (!path) break;
        snprintf(path, need, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **bigger = realloc(list, (size_t)cap * sizeof *list);
            if (!bigger) {
                free(path);
                break;
            }
            list = bigger;
        }
        list[n++] = path;
    }
    closedir(d);
    if (n) qsort(list, (size_t)n, sizeof *list, by_name);
    *out = list;
    return n;
}

void os_free_list(char **list, int n)
{
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
}

int os_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void os_utc_now(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

uint64_t os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void os_hostname(char *buf, size_t cap)
{
    if (gethostname(buf, cap) != 0 && cap) snprintf(buf, cap, "localhost");
    if (cap) buf[cap - 1] = '\0';
}
