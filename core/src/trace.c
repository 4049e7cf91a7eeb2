/*
 * The trace: a compact array of fixed-size records, rendered as text only on demand. Records
 * hold ids and sequence numbers, never addresses, so identical decisions give identical text.
 */
#include <stdlib.h>
#include <string.h>

#include "world_impl.h"

void nmrh_trace(nmrh_world *w, nmrh_event_kind kind, uint32_t a, uint64_t b)
{
    if (w->ntrace == w->trace_cap) {
        size_t cap = w->trace_cap ? w->trace_cap * 2 : 256;
        nmrh_trace_rec *t = realloc(w->trace, cap * sizeof *t);
        if (!t) abort();
        w->trace = t;
        w->trace_cap = cap;
    }
    nmrh_trace_rec *r = &w->trace[w->ntrace++];
    r->kind = (uint16_t)kind;
    r->thread = w->current ? (uint16_t)w->current->id : 0xFFFF;
    r->a = a;
    r->b = b;
}

uint32_t nmrh_trace_string(nmrh_world *w, const char *s)
{
    size_t n = strlen(s) + 1;
    if (w->text_len + n > w->text_cap) {
        size_t cap = w->text_cap ? w->text_cap * 2 : 1024;
        while (cap < w->text_len + n) cap *= 2;
        char *t = realloc(w->text, cap);
        if (!t) abort();
        w->text = t;
        w->text_cap = cap;
    }
    memcpy(w->text + w->text_len, s, n);
    uint32_t off = (uint32_t)w->text_len;
    w->text_len += n;
    return off;
}

const char *nmrh_status_name(int32_t status)
{
    switch ((uint32_t)status) {
    case 0x00000000u: return "STATUS_SUCCESS";
    case 0x00000102u: return "STATUS_TIMEOUT";
    case 0x00000103u: return "STATUS_PENDING";
    case 0xC0000001u: return "STATUS_UNSUCCESSFUL";
    case 0xC0000008u: return "STATUS_INVALID_HANDLE";
    case 0xC000000Du: return "STATUS_INVALID_PARAMETER";
    case 0xC0000017u: return "STATUS_NO_MEMORY";
    case 0xC000009Au: return "STATUS_INSUFFICIENT_RESOURCES";
    case 0xC00000A3u: return "STATUS_DEVICE_NOT_READY";
    case 0xC00000BBu: return "STATUS_NOT_SUPPORTED";
    case 0xC0000225u: return "STATUS_NOT_FOUND";
    case 0xC00002B9u: return "STATUS_NOINTERFACE";
    default: return NULL;
    }
}

static void print_status(FILE *out, uint64_t status)
{
    const char *n = nmrh_status_name((int32_t)(uint32_t)status);
    if (n)
        fputs(n, out);
    else
        fprintf(out, "0x%08X", (unsigned)(uint32_t)status);
}

static const char *const fn_names[NMRH_FN_COUNT] = {
    "NmrRegisterClient",   "NmrDeregisterClient",   "NmrWaitForClientDeregisterComplete",
    "NmrClientAttachProvider", "NmrClientDetachProviderComplete", "NmrRegisterProvider",
    "NmrDeregisterProvider", "NmrWaitForProviderDeregisterComplete", "NmrProviderDetachClientComplete",
};
static const char *const cb_names[NMRH_CB_COUNT] = {
    "ClientAttachProvider",  "ClientDetachProvider",  "ClientCleanupBindingContext",
    "ProviderAttachClient",  "ProviderDetachClient",  "ProviderCleanupBindingContext",
};
static const char *const wait_names[] = {"-",     "event", "spin lock", "fast mutex", "rundown", "NMR deregistration",
                                          "delay", "push lock", "executive resource", "an added shim primitive"};

const char *nmrh_fn_name(nmrh_nmr_fn fn) { return (unsigned)fn < NMRH_FN_COUNT ? fn_names[fn] : "Nmr?"; }

const char *nmrh_wait_name(nmrh_wait_kind k)
{
    return (unsigned)k < sizeof wait_names / sizeof wait_names[0] ? wait_names[k] : "?";
}

static void print_ref(FILE *out, uint64_t ref)
{
    uint32_t kind = (uint32_t)(ref >> 32), seq = (uint32_t)ref;
    switch (kind) {
    case NMRH_REF_CLIENT: fprintf(out, "client#%u", seq); break;
    case NMRH_REF_PROVIDER: fprintf(out, "provider#%u", seq); break;
    case NMRH_REF_BINDING: fprintf(out, "b%u", seq); break;
    case NMRH_REF_INVALID: fputs("<invalid handle>", out); break;
    default: fputs("-", out); break;
    }
}

static const char *thread_name(const nmrh_world *w, uint32_t id)
{
    return id < w->nthreads ? w->threads[id]->name : "scheduler";
}

void nmrh_world_print_trace(const nmrh_world *w, FILE *out)
{
    for (size_t i = 0; i < w->ntrace; i++) {
        const nmrh_trace_rec *r = &w->trace[i];
        if (r->thread == 0xFFFF)
            fprintf(out, "%5zu  %-24s ", i, "-");
        else
            fprintf(out, "%5zu  %-3s %-20.20s ", i, nmrh_thread_label(w, r->thread), thread_name(w, r->thread));
        switch ((nmrh_event_kind)r->kind) {
        case NMRH_EV_SPAWN: fprintf(out, "spawn %s '%s'", nmrh_thread_label(w, r->a), thread_name(w, r->a)); break;
        case NMRH_EV_END: fputs("thread ends", out); break;
        case NMRH_EV_SWITCH: fputs("-- switch --", out); break;
        case NMRH_EV_POINT: fputs(r->a == NMRH_POINTS_BOUNDARY ? "point (boundary)" : "point (primitive)", out); break;
        case NMRH_EV_BLOCK: fprintf(out, "blocks on %s", nmrh_wait_name((nmrh_wait_kind)r->a)); break;
        case NMRH_EV_WAKE:
            fprintf(out, "wakes %s ", nmrh_thread_label(w, r->a));
            print_status(out, r->b);
            break;
        case NMRH_EV_TIMEOUT: fprintf(out, "wait of %s times out", nmrh_thread_label(w, r->a)); break;
        case NMRH_EV_NMR_CALL:
            fprintf(out, "call %s(", nmrh_fn_name((nmrh_nmr_fn)r->a));
            print_ref(out, r->b);
            fputc(')', out);
            break;
        case NMRH_EV_NMR_RETURN:
            fprintf(out, "%s returns ", nmrh_fn_name((nmrh_nmr_fn)r->a));
            print_status(out, r->b);
            break;
        case NMRH_EV_CALLBACK:
            fprintf(out, "callback %s(", r->a < NMRH_CB_COUNT ? cb_names[r->a] : "?");
            print_ref(out, r->b);
            fputc(')', out);
            break;
        case NMRH_EV_CALLBACK_RETURN:
            fprintf(out, "%s returns", r->a < NMRH_CB_COUNT ? cb_names[r->a] : "?");
            if (r->a != NMRH_CB_CLIENT_CLEANUP && r->a != NMRH_CB_PROVIDER_CLEANUP) {
                fputc(' ', out);
                print_status(out, r->b);
            }
            break;
        case NMRH_EV_CHOICE:
            fprintf(out, "knob %s = %s", nmrh_knob_name((nmrh_knob)r->a),
                    nmrh_knob_value_name((nmrh_knob)r->a, (uint32_t)r->b));
            break;
        case NMRH_EV_FAULT:
            fprintf(out, "fault injected: %s",
                    r->a == 0 ? "pool allocation fails" : r->a == 1 ? "Nmr*Register* fails" : "NmrClientAttachProvider fails");
            break;
        case NMRH_EV_NOTE: fprintf(out, "DbgPrint: %s", w->text + r->a); break;
        case NMRH_EV_FINDING: fprintf(out, "FINDING %s", nmrh_rule_id((nmrh_rule)r->a)); break;
        case NMRH_EV_UNLOADED: fprintf(out, "module %s unloaded", nmrh_world_module_name(w, r->a)); break;
        case NMRH_EV_RECORD:
            fputs("== ", out);
            if (w->record_printer)
                w->record_printer(w->record_ctx, r->a, out);
            else
                fprintf(out, "record %u", r->a);
            break;
        case NMRH_EV_BIND: {
            char desc[160];
            nmrh_model_describe_binding(w, r->a, desc, sizeof desc);
            fprintf(out, "binding %s", desc);
            break;
        }
        default: fprintf(out, "event %u", r->kind); break;
        }
        fputc('\n', out);
    }
}
