/* osdep.h for Windows (nmrstress.exe). Only <windows.h> here: no nmrh headers. */
#include "osdep.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int os_durable_append(const char *path, const char *line)
{
    HANDLE h = CreateFileA(path, FILE_APPEND_DATA, FILE_SHARE_READ, NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return 0;
    DWORD n = (DWORD)strlen(line), written = 0;
    BOOL ok = WriteFile(h, line, n, &written, NULL) && written == n;
    /* On the disk before the IOCTL that may bring the machine down. */
    ok = FlushFileBuffers(h) && ok;
    return CloseHandle(h) && ok;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int os_list_dir(const char *dir, const char *const *suffixes, char ***out)
{
    char pattern[MAX_PATH + 4];
    WIN32_FIND_DATAA fd;
    snprintf(pattern, sizeof pattern, "%s\\*", dir);
    HANDLE h = FindFirstFileA(pattern, &fd);
    if (h == INVALID_HANDLE_VALUE) return GetLastError() == ERROR_FILE_NOT_FOUND ? 0 : -1;
    char **list = NULL;
    int n = 0, cap = 0;
    do {
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
        size_t len = strlen(fd.cFileName);
        int match = 0;
        for (const char *const *s = suffixes; *s; s++) {
            size_t m = strlen(*s);
            if (len > m && _stricmp(fd.cFileName + len - m, *s) == 0) match = 1;
        }
        if (!match) continue;
        size_t need = strlen(dir) + len + 2;
        char *path = malloc(need);
        if (!path) break;
        snprintf(path, need, "%s\\%s", dir, fd.cFileName);
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
    } while (FindNextFileA(h, &fd));
    FindClose(h);
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
    DWORD a = GetFileAttributesA(path);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
}

void os_utc_now(char *buf, size_t cap)
{
    SYSTEMTIME st;
    GetSystemTime(&st);
    snprintf(buf, cap, "%04u-%02u-%02uT%02u:%02u:%02uZ", st.wYear, st.wMonth, st.wDay, st.wHour, st.wMinute, st.wSecond);
}

uint64_t os_now_ms(void) { return GetTickCount64(); }

void os_hostname(char *buf, size_t cap)
{
    DWORD n = (DWORD)cap;
    if (!GetComputerNameA(buf, &n) && cap) snprintf(buf, cap, "localhost");
}
