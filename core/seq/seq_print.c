/*
 * Canonical text: one record a line (consecutive decisions merged, 16 a line), options in the
 * kind's order with defaults omitted, and, when the source text is given, its comments.
 */
#include <string.h>

#include "nmrh/knobs.h"
#include "nmrh/seq.h"

#define DECIDES_PER_LINE 16

static void out(nmrh_sink sink, void *ctx, const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    sink(ctx, s, n);
}

static void out_u32(nmrh_sink sink, void *ctx, uint32_t v)
{
    char digits[10], buf[10];
    uint32_t n = 0, i = 0;
    do digits[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n) buf[i++] = digits[--n];
    sink(ctx, buf, i);
}

static void out_ref(nmrh_sink sink, void *ctx, char prefix, uint32_t n)
{
    sink(ctx, &prefix, 1);
    out_u32(sink, ctx, n);
}

/* Thread number each START/DO record creates. */
static uint32_t thread_of(const nmrh_seq *s, uint32_t index)
{
    uint32_t t = 0;
    for (uint32_t i = 0; i < index; i++)
        if (s->records[i].op == NMRH_OP_START || s->records[i].op == NMRH_OP_DO) t++;
    return t;
}

static uint32_t module_of(const nmrh_seq *s, uint32_t index)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < index; i++)
        if (s->records[i].op == NMRH_OP_MODULE) m++;
    return m;
}

static void print_action(const nmrh_record *r, nmrh_sink sink, void *ctx)
{
    out(sink, ctx, nmrh_action_name((nmrh_action)r->a));
    out(sink, ctx, " ");
    out_ref(sink, ctx, 'm', r->b);
    if (r->a == NMRH_ACT_CALL && r->c) {
        out(sink, ctx, " ");
        out_u32(sink, ctx, r->c);
    }
}

void nmrh_seq_print_record(const nmrh_seq *s, uint32_t index, nmrh_sink sink, void *ctx)
{
    const nmrh_record *r = &s->records[index];
    switch ((nmrh_op)r->op) {
    case NMRH_OP_MODULE: {
        const nmrh_module_kind *k = s->target->kinds[r->a];
        uint32_t options = (uint32_t)r->b | ((uint32_t)r->c << 8);
        out_ref(sink, ctx, 'm', module_of(s, index));
        out(sink, ctx, " = ");
        out(sink, ctx, k->name);
        for (unsigned i = 0; i < k->nparams; i++) {
            const nmrh_module_param *p = &k->params[i];
            uint32_t v = (options >> p->shift) & ((1u << p->bits) - 1);
            if (v == 0) continue;
            out(sink, ctx, " ");
            out(sink, ctx, p->key);
            out(sink, ctx, "=");
            out(sink, ctx, p->values[v]);
        }
        break;
    }
    case NMRH_OP_START:
        out_ref(sink, ctx, 't', thread_of(s, index));
        out(sink, ctx, " = ");
        print_action(r, sink, ctx);
        break;
    case NMRH_OP_DO:
        print_action(r, sink, ctx);
        break;
    case NMRH_OP_STEP:
        out(sink, ctx, "step ");
        out_ref(sink, ctx, 't', r->a);
        if (r->b) {
            out(sink, ctx, " ");
            out_u32(sink, ctx, (uint32_t)r->b + 1);
        }
        break;
    case NMRH_OP_RUN:
        out(sink, ctx, "run ");
        out_ref(sink, ctx, 't', r->a);
        break;
    case NMRH_OP_RUN_ALL:
        out(sink, ctx, "run");
        break;
    case NMRH_OP_DECIDE:
        out(sink, ctx, "decide ");
        out_u32(sink, ctx, r->a);
        break;
    case NMRH_OP_KNOB:
        out(sink, ctx, "knob ");
        out(sink, ctx, nmrh_knob_name((nmrh_knob)r->a));
        out(sink, ctx, " ");
        out(sink, ctx, r->b == nmrh_knob_values((nmrh_knob)r->a) ? "choose" : nmrh_knob_value_name((nmrh_knob)r->a, r->b));
        break;
    case NMRH_OP_FAIL_ALLOCS:
        out(sink, ctx, "fail-allocs ");
        out_ref(sink, ctx, 'm', r->a);
        out(sink, ctx, " ");
        out_u32(sink, ctx, r->b);
        if (r->c) {
            out(sink, ctx, " after ");
            out_u32(sink, ctx, r->c);
        }
        break;
    case NMRH_OP_FAIL_NMR:
        out(sink, ctx, r->a ? "fail-nmr attach " : "fail-nmr register ");
        out_u32(sink, ctx, r->b);
        break;
    default:
        out(sink, ctx, "?");
        break;
    }
}

/* Comment lines of a source region, trimmed, with runs of blank lines folded into one. */
static void print_comments(const char *src, uint32_t off, uint32_t len, nmrh_sink sink, void *ctx)
{
    const char *p = src + off, *end = src + off + len;
    int pending_blank = 0, printed = 0;
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n') eol++;
        const char *a = p, *b = eol;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) b--;
        if (a == b) {
            pending_blank = printed;
        } else {
            if (pending_blank) sink(ctx, "\n", 1);
            pending_blank = 0;
            sink(ctx, a, (size_t)(b - a));
            sink(ctx, "\n", 1);
            printed = 1;
        }
        p = eol < end ? eol + 1 : end;
    }
}

static void print_trailing(const char *src, const nmrh_record_text *t, nmrh_sink sink, void *ctx)
{
    if (!src || !t->trail_len) return;
    const char *a = src + t->trail_off, *b = a + t->trail_len;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) b--;
    sink(ctx, "  ", 2);
    sink(ctx, a, (size_t)(b - a));
}

void nmrh_seq_print(const nmrh_seq *s, const char *source, nmrh_sink sink, void *ctx)
{
    for (uint32_t i = 0; i < s->count; i++) {
        const nmrh_record_text *t = &s->text[i];
        if (source) {
            if (t->blank_before && i > 0) sink(ctx, "\n", 1);
            if (t->lead_len) print_comments(source, t->lead_off, t->lead_len, sink, ctx);
        }
        if (s->records[i].op == NMRH_OP_DECIDE) {
            /* Merge the run of decisions that no comment or blank line interrupts. */
            out(sink, ctx, "decide");
            uint32_t n = 0;
            for (;;) {
                out(sink, ctx, " ");
                out_u32(sink, ctx, s->records[i].a);
                n++;
                const nmrh_record_text *cur = &s->text[i];
                if (n == DECIDES_PER_LINE || i + 1 >= s->count || s->records[i + 1].op != NMRH_OP_DECIDE) break;
                const nmrh_record_text *next = &s->text[i + 1];
                if (source && (cur->trail_len || next->lead_len || next->blank_before)) break;
                i++;
            }
        } else {
            nmrh_seq_print_record(s, i, sink, ctx);
        }
        print_trailing(source, &s->text[i], sink, ctx);
        sink(ctx, "\n", 1);
    }
    if (source && s->tail_len) {
        if (s->count) sink(ctx, "\n", 1); /* no blank line at the top of a comment-only file */
        print_comments(source, s->tail_off, s->tail_len, sink, ctx);
    }
}
