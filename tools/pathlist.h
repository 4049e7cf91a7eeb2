/* Command-line paths to sequence files: a file stands for itself, a directory for the regular
   files directly in it (sorted by name, dot files skipped). */
#ifndef NMRH_TOOL_PATHLIST_H
#define NMRH_TOOL_PATHLIST_H

#include <stddef.h>

typedef struct pathlist {
    char **paths;
    size_t count, cap;
} pathlist;

/* Appends the files `path` stands for. Prints "PATH: error: ..." and returns -1 when it does not
   exist or cannot be read. */
int pathlist_add(pathlist *l, const char *path);
void pathlist_free(pathlist *l);

#endif
