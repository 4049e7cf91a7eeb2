/* The driver through DeviceIoControl on \\.\NmrhStress (osdep.h). Only <windows.h> here. */
#include "osdep.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

#define DEVICE_PATH "\\\\.\\NmrhStress" /* NMRK_USER_DEVICE_PATH, stress/engine/kproto.h */

struct transport {
    HANDLE device;
};

const char *transport_name(void) { return DEVICE_PATH; }

static void win_error(DWORD code, const char *what, char *err, size_t errcap)
{
    char msg[256] = "";
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0, msg, sizeof msg, NULL);
    for (char *p = msg; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
    snprintf(err, errcap, "%s: error %lu: %s", what, (unsigned long)code, msg);
}

transport *transport_open(char *err, size_t errcap)
{
    HANDLE h = CreateFileA(DEVICE_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        win_error(e, "cannot open " DEVICE_PATH " (is nmrhstress.sys started? sc start nmrhstress; run as Administrator)",
                  err, errcap);
        return NULL;
    }
    transport *t = calloc(1, sizeof *t);
    if (!t) {
        CloseHandle(h);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    t->device = h;
    return t;
}

transport_result transport_ioctl(transport *t, uint32_t code, const void *in, size_t in_len, void *out, size_t out_cap,
                                 size_t *out_len, char *err, size_t errcap)
{
    DWORD returned = 0;
    *out_len = 0;
    if (DeviceIoControl(t->device, code, (LPVOID)in, (DWORD)in_len, out, (DWORD)out_cap, &returned, NULL)) {
        *out_len = returned;
        return TR_OK;
    }
    DWORD e = GetLastError();
    *out_len = returned;
    switch (e) {
    case ERROR_MORE_DATA: return TR_MORE_DATA;
    case ERROR_NOT_READY: snprintf(err, errcap, "the driver refuses runs: an earlier run hung (restart the machine)"); return TR_NOT_READY;
    case ERROR_BUSY: snprintf(err, errcap, "another run is in progress"); return TR_BUSY;
    case ERROR_INVALID_PARAMETER:
    case ERROR_REVISION_MISMATCH:
    case ERROR_BAD_LENGTH:
    case ERROR_INSUFFICIENT_BUFFER:
        win_error(e, "the driver rejected the request", err, errcap);
        return TR_REJECTED;
    default: win_error(e, "DeviceIoControl", err, errcap); return TR_FAILED;
    }
}

void transport_close(transport *t)
{
    if (!t) return;
    CloseHandle(t->device);
    free(t);
}
