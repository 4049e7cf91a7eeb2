#include "pathlist.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int push(pathlist *l, const char *path)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **grown = realloc(l->paths, cap * sizeof *grown);
        if (!grown) return -1;
        l->paths = grown;
        l->cap = cap;
    }
    l->paths[l->count] = strdup(path);
    if (!l->paths[l->count]) return -1;
    l->count++;
    return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int pathlist_add(pathlist *l, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: error: no such file or directory\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) return push(l, path);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "%s: error: cannot read directory\n", path);
        return -1;
    }
    size_t first = l->count;
    int status = 0;
    for (struct dirent *e; status == 0 && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (stat(child, &st) == 0 && S_ISREG(st.st_mode)) status = push(l, child);
    }
    closedir(d);
    qsort(l->paths + first, l->count - first, sizeof *l->paths, by_name);
    if (status != 0) fprintf(stderr, "%s: error: out of memory listing the directory\n", path);
    return status;
}

void pathlist_free(pathlist *l)
{
    for (size_t i = 0; i < l->count; i++) free(l->paths[i]);
    free(l->paths);
    *l = (pathlist){0};
}
