/*
 * The text parser. It never accepts garbage silently: every error names the line and column and
 * says what was expected. Portable: no libc beyond mem*, no allocation.
 */
#include <string.h>

#include "nmrh/knobs.h"
#include "nmrh/seq.h"

typedef struct tok {
    const char *p;
    uint32_t n;
    uint32_t col; /* 1-based */
} tok;

typedef struct parser {
    nmrh_seq *s;
    const char *text;
    nmrh_seq_error *err;
    uint32_t line;
    const char *line_start;
    tok toks[24];
    uint32_t ntoks;
} parser;

static uint32_t cstr_len(const char *s)
{
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

static int tok_is(const tok *t, const char *word)
{
    uint32_t n = cstr_len(word);
    return t->n == n && memcmp(t->p, word, n) == 0;
}

static void put(char *dst, uint32_t *len, uint32_t cap, const char *s, uint32_t n)
{
    while (n-- && *len + 1 < cap) dst[(*len)++] = *s++;
    dst[*len] = '\0';
}

static void put_u32(char *dst, uint32_t *len, uint32_t cap, uint32_t v)
{
    char digits[10];
    uint32_t n = 0;
    do digits[n++] = (char)('0' + v % 10), v /= 10;
    while (v);
    while (n) put(dst, len, cap, &digits[--n], 1);
}

/* error(p, col, "expected ", "a number", " after ", tokentext...) : pieces are concatenated; a
   piece that is a token is passed through quote_tok. */
static int fail(parser *ps, uint32_t col, const char *a, const char *b, const tok *t, const char *c)
{
    nmrh_seq_error *e = ps->err;
    uint32_t len = 0, cap = sizeof e->message;
    e->line = ps->line;
    e->col = col;
    if (a == e->message) { /* extending the message an earlier call built: keep it */
        len = cstr_len(a);
        a = NULL;
    } else {
        e->message[0] = '\0';
    }
    if (a) put(e->message, &len, cap, a, cstr_len(a));
    if (b) put(e->message, &len, cap, b, cstr_len(b));
    if (t) {
        put(e->message, &len, cap, "'", 1);
        put(e->message, &len, cap, t->p, t->n > 40 ? 40 : t->n);
        put(e->message, &len, cap, "'", 1);
    }
    if (c) put(e->message, &len, cap, c, cstr_len(c));
    return 0;
}

static int is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* Splits one line (without comment) into tokens: words, '=' and "key=value" split in three. */
static int tokenize(parser *ps, const char *p, const char *end)
{
    ps->ntoks = 0;
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == '\r') {
            p++;
            continue;
        }
        if (ps->ntoks == sizeof ps->toks / sizeof ps->toks[0])
            return fail(ps, (uint32_t)(p - ps->line_start) + 1, "too many words on one line", NULL, NULL, NULL);
        tok *t = &ps->toks[ps->ntoks++];
        t->p = p;
        t->col = (uint32_t)(p - ps->line_start) + 1;
        if (*p == '=') {
            t->n = 1;
            p++;
            continue;
        }
        if (!is_word_char(*p)) {
            tok bad = {p, 1, t->col};
            return fail(ps, t->col, "unexpected character ", NULL, &bad, NULL);
        }
        while (p < end && is_word_char(*p)) p++;
        t->n = (uint32_t)(p - t->p);
    }
    return 1;
}

static int parse_uint(const tok *t, uint32_t max, uint32_t *out)
{
    uint32_t v = 0;
    if (t->n == 0 || t->n > 10) return 0;
    for (uint32_t i = 0; i < t->n; i++) {
        if (t->p[i] < '0' || t->p[i] > '9') return 0;
        v = v * 10 + (uint32_t)(t->p[i] - '0');
        if (v > max) return 0;
    }
    *out = v;
    return 1;
}

static int need(parser *ps, uint32_t i, const char *what)
{
    if (i < ps->ntoks) return 1;
    const tok *last = &ps->toks[ps->ntoks - 1];
    return fail(ps, last->col + last->n, "expected ", what, NULL, NULL);
}

static int no_more(parser *ps, uint32_t i)
{
    if (i >= ps->ntoks) return 1;
    return fail(ps, ps->toks[i].col, "unexpected ", NULL, &ps->toks[i], " at the end of the line");
}

/* m<N> or t<N> below `limit`. */
static int parse_ref(parser *ps, uint32_t i, char prefix, uint32_t limit, uint8_t *out)
{
    const char *what = prefix == 'm' ? "a module (m0, m1, ...)" : "a thread (t0, t1, ...)";
    if (!need(ps, i, what)) return 0;
    const tok *t = &ps->toks[i];
    tok num = {t->p + 1, t->n ? t->n - 1 : 0, t->col + 1};
    uint32_t v;
    if (t->n < 2 || t->p[0] != prefix || !parse_uint(&num, 255, &v)) return fail(ps, t->col, "expected ", what, NULL, NULL);
    if (v >= limit)
        return fail(ps, t->col, NULL, NULL, t,
                    prefix == 'm' ? " is not declared (declare modules first: m0 = KIND)"
                                  : " has not been started (start threads first: t0 = ACTION MODULE)");
    *out = (uint8_t)v;
    return 1;
}

static int parse_count(parser *ps, uint32_t i, uint32_t min, uint32_t max, const char *what, uint32_t *out)
{
    if (!need(ps, i, what)) return 0;
    if (!parse_uint(&ps->toks[i], max, out) || *out < min) return fail(ps, ps->toks[i].col, "expected ", what, NULL, NULL);
    return 1;
}

static int append(parser *ps, nmrh_record r)
{
    if (ps->s->count >= NMRH_SEQ_MAX_RECORDS)
        return fail(ps, 1, "too many records (the limit is 1024)", NULL, NULL, NULL);
    nmrh_seq_append(ps->s, r);
    ps->s->text[ps->s->count - 1].line = ps->line;
    return 1;
}

static int parse_action(parser *ps, uint32_t i, nmrh_op op)
{
    const tok *t = &ps->toks[i];
    int act = -1;
    for (int a = 0; a < NMRH_ACT_COUNT; a++)
        if (tok_is(t, nmrh_action_name((nmrh_action)a))) act = a;
    if (act < 0) return fail(ps, t->col, "expected an action (load, unload, call, complete), not ", NULL, t, NULL);
    if (ps->s->nthreads >= NMRH_SEQ_MAX_THREADS)
        return fail(ps, t->col, "too many threads (the limit is 32)", NULL, NULL, NULL);
    nmrh_record r = {(uint8_t)op, (uint8_t)act, 0, 0};
    if (!parse_ref(ps, i + 1, 'm', ps->s->nmodules, &r.b)) return 0;
    uint32_t next = i + 2;
    if (act == NMRH_ACT_CALL && next < ps->ntoks) {
        uint32_t v;
        if (!parse_count(ps, next, 0, 255, "a call value from 0 to 255", &v)) return 0;
        r.c = (uint8_t)v;
        next++;
    }
    return no_more(ps, next) && append(ps, r);
}

static int parse_module(parser *ps, uint32_t num)
{
    nmrh_seq *s = ps->s;
    if (num != s->nmodules) {
        char want[4] = {'m', (char)('0' + s->nmodules), 0, 0};
        return fail(ps, ps->toks[0].col, "modules are declared in order: expected ", want, NULL, NULL);
    }
    if (s->nmodules >= NMRH_SEQ_MAX_MODULES) return fail(ps, ps->toks[0].col, "too many modules (the limit is 8)", NULL, NULL, NULL);
    if (!need(ps, 2, "a module kind")) return 0;
    const tok *k = &ps->toks[2];
    int kind = -1;
    for (unsigned i = 0; i < s->target->nkinds; i++)
        if (tok_is(k, s->target->kinds[i]->name)) kind = (int)i;
    if (kind < 0) {
        char list[120];
        uint32_t len = 0;
        list[0] = '\0';
        for (unsigned i = 0; i < s->target->nkinds; i++) {
            if (i) put(list, &len, sizeof list, ", ", 2);
            put(list, &len, sizeof list, s->target->kinds[i]->name, cstr_len(s->target->kinds[i]->name));
        }
        put(list, &len, sizeof list, ")", 1);
        return fail(ps, k->col, "unknown module kind ", NULL, k, " (this target has: ") || fail(ps, k->col, ps->err->message, list, NULL, NULL);
    }
    const nmrh_module_kind *mk = s->target->kinds[kind];
    for (uint32_t i = 0; i < s->count && mk->image; i++)
        if (s->records[i].op == NMRH_OP_MODULE && s->records[i].a == (uint8_t)kind)
            return fail(ps, k->col, "a second instance of module kind ", NULL, k,
                        " is refused: it keeps its state in the driver's globals, which one instance owns");
    uint32_t options = 0, seen = 0;
    for (uint32_t i = 3; i < ps->ntoks; i += 3) {
        const tok *key = &ps->toks[i];
        if (i + 2 >= ps->ntoks || !tok_is(&ps->toks[i + 1], "="))
            return fail(ps, key->col, "expected an option KEY=VALUE, not ", NULL, key, NULL);
        int p = -1;
        for (unsigned j = 0; j < mk->nparams; j++)
            if (tok_is(key, mk->params[j].key)) p = (int)j;
        if (p < 0) return fail(ps, key->col, "unknown option ", NULL, key, mk->nparams ? " for this module kind" : " (this module kind takes none)");
        if (seen & (1u << p)) return fail(ps, key->col, "option ", NULL, key, " given twice");
        seen |= 1u << p;
        const nmrh_module_param *mp = &mk->params[p];
        const tok *val = &ps->toks[i + 2];
        int v = -1;
        for (unsigned j = 0; j < mp->nvalues; j++)
            if (tok_is(val, mp->values[j])) v = (int)j;
        if (v < 0) {
            char list[96];
            uint32_t len = 0;
            list[0] = '\0';
            for (unsigned j = 0; j < mp->nvalues; j++) {
                if (j) put(list, &len, sizeof list, ", ", 2);
                put(list, &len, sizeof list, mp->values[j], cstr_len(mp->values[j]));
            }
            fail(ps, val->col, "unknown value ", NULL, val, " (expected one of: ");
            return fail(ps, val->col, ps->err->message, list, NULL, ")");
        }
        options |= (uint32_t)v << mp->shift;
    }
    nmrh_record r = {NMRH_OP_MODULE, (uint8_t)kind, (uint8_t)options, (uint8_t)(options >> 8)};
    return append(ps, r);
}

static int parse_line(parser *ps)
{
    const tok *t0 = &ps->toks[0];
    uint32_t num;
    /* m<N> = ... and t<N> = ... */
    if (ps->ntoks >= 2 && tok_is(&ps->toks[1], "=") && t0->n >= 2 && (t0->p[0] == 'm' || t0->p[0] == 't')) {
        tok digits = {t0->p + 1, t0->n - 1, t0->col + 1};
        if (!parse_uint(&digits, 255, &num)) return fail(ps, t0->col, "expected m<number> or t<number> before '=', not ", NULL, t0, NULL);
        if (t0->p[0] == 'm') return parse_module(ps, num);
        if (num != ps->s->nthreads) {
            char want[8] = {'t', 0, 0, 0, 0, 0, 0, 0};
            uint32_t len = 1;
            put_u32(want, &len, sizeof want, ps->s->nthreads);
            return fail(ps, t0->col, "threads are started in order: expected ", want, NULL, NULL);
        }
        if (!need(ps, 2, "an action (load, unload, call, complete)")) return 0;
        return parse_action(ps, 2, NMRH_OP_START);
    }
    if (tok_is(t0, "step")) {
        nmrh_record r = {NMRH_OP_STEP, 0, 0, 0};
        if (!parse_ref(ps, 1, 't', ps->s->nthreads, &r.a)) return 0;
        if (ps->ntoks > 2) {
            if (!parse_count(ps, 2, 1, 16, "a step count from 1 to 16", &num)) return 0;
            r.b = (uint8_t)(num - 1);
        }
        return no_more(ps, 3) && append(ps, r);
    }
    if (tok_is(t0, "run")) {
        if (ps->ntoks == 1) {
            nmrh_record r = {NMRH_OP_RUN_ALL, 0, 0, 0};
            return append(ps, r);
        }
        nmrh_record r = {NMRH_OP_RUN, 0, 0, 0};
        return parse_ref(ps, 1, 't', ps->s->nthreads, &r.a) && no_more(ps, 2) && append(ps, r);
    }
    if (tok_is(t0, "decide")) {
        if (!need(ps, 1, "one or more decisions (numbers from 0 to 255)")) return 0;
        for (uint32_t i = 1; i < ps->ntoks; i++) {
            if (!parse_count(ps, i, 0, 255, "a decision from 0 to 255", &num)) return 0;
            nmrh_record r = {NMRH_OP_DECIDE, (uint8_t)num, 0, 0};
            if (!append(ps, r)) return 0;
        }
        return 1;
    }
    if (tok_is(t0, "knob")) {
        if (!need(ps, 1, "a knob name")) return 0;
        int k = -1;
        for (int i = 0; i < NMRH_KNOB_COUNT; i++)
            if (tok_is(&ps->toks[1], nmrh_knob_name((nmrh_knob)i))) k = i;
        if (k < 0)
            return fail(ps, ps->toks[1].col, "unknown knob ", NULL, &ps->toks[1],
                        " (knobs: handle-write, detach-order, detach-thread, detach-irql, cleanup, cleanup-irql)");
        if (!need(ps, 2, "a knob value or 'choose'")) return 0;
        uint32_t nv = nmrh_knob_values((nmrh_knob)k), v = nv;
        if (!tok_is(&ps->toks[2], "choose")) {
            v = nv + 1;
            for (uint32_t i = 0; i < nv; i++)
                if (tok_is(&ps->toks[2], nmrh_knob_value_name((nmrh_knob)k, i))) v = i;
            if (v > nv) {
                char list[96];
                uint32_t len = 0;
                list[0] = '\0';
                for (uint32_t i = 0; i < nv; i++) {
                    put(list, &len, sizeof list, nmrh_knob_value_name((nmrh_knob)k, i), cstr_len(nmrh_knob_value_name((nmrh_knob)k, i)));
                    put(list, &len, sizeof list, ", ", 2);
                }
                fail(ps, ps->toks[2].col, "unknown value ", NULL, &ps->toks[2], " (expected ");
                return fail(ps, ps->toks[2].col, ps->err->message, list, NULL, "or choose)");
            }
        }
        nmrh_record r = {NMRH_OP_KNOB, (uint8_t)k, (uint8_t)v, 0};
        return no_more(ps, 3) && append(ps, r);
    }
    if (tok_is(t0, "fail-allocs")) {
        nmrh_record r = {NMRH_OP_FAIL_ALLOCS, 0, 0, 0};
        if (!parse_ref(ps, 1, 'm', ps->s->nmodules, &r.a)) return 0;
        if (!parse_count(ps, 2, 0, 15, "a count from 0 to 15", &num)) return 0;
        r.b = (uint8_t)num;
        if (ps->ntoks > 3) {
            if (!tok_is(&ps->toks[3], "after")) return no_more(ps, 3);
            if (!parse_count(ps, 4, 0, 15, "a number of allocations from 0 to 15 after 'after'", &num)) return 0;
            r.c = (uint8_t)num;
            return no_more(ps, 5) && append(ps, r);
        }
        return no_more(ps, 3) && append(ps, r);
    }
    if (tok_is(t0, "fail-nmr")) {
        nmrh_record r = {NMRH_OP_FAIL_NMR, 0, 0, 0};
        if (!need(ps, 1, "'register' or 'attach'")) return 0;
        if (tok_is(&ps->toks[1], "attach"))
            r.a = 1;
        else if (!tok_is(&ps->toks[1], "register"))
            return fail(ps, ps->toks[1].col, "expected 'register' or 'attach', not ", NULL, &ps->toks[1], NULL);
        if (!parse_count(ps, 2, 0, 15, "a count from 0 to 15", &num)) return 0;
        r.b = (uint8_t)num;
        return no_more(ps, 3) && append(ps, r);
    }
    for (int a = 0; a < NMRH_ACT_COUNT; a++)
        if (tok_is(t0, nmrh_action_name((nmrh_action)a))) return parse_action(ps, 0, NMRH_OP_DO);
    return fail(ps, t0->col, "unknown statement ", NULL, t0,
                " (expected mN = KIND, tN = ACTION, load/unload/call/complete, step, run, decide, knob, fail-allocs or fail-nmr)");
}

int nmrh_seq_parse(nmrh_seq *s, const nmrh_target *target, const char *text, size_t size, nmrh_seq_error *err)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.s = s;
    ps.text = text;
    ps.err = err;
    nmrh_seq_init(s, target);
    err->line = err->col = 0;
    err->message[0] = '\0';

    uint32_t lead_off = 0, lead_len = 0;
    uint8_t blank = 0, any_lead = 0;
    const char *p = text, *end = text + size;
    for (ps.line = 1; p < end; ps.line++) {
        const char *eol = p;
        while (eol < end && *eol != '\n') eol++;
        ps.line_start = p;
        const char *hash = p;
        while (hash < eol && *hash != '#') hash++;
        for (const char *c = p; c < eol; c++)
            if (*c == '\0') {
                tok nul = {c, 0, (uint32_t)(c - p) + 1};
                return fail(&ps, nul.col, "unexpected NUL byte: this is not a text sequence (binary? use nmrh convert)", NULL, NULL, NULL);
            }
        if (!tokenize(&ps, p, hash)) return 0;
        if (ps.ntoks == 0) {
            if (hash < eol) { /* comment line */
                if (!any_lead) lead_off = (uint32_t)(p - text);
                any_lead = 1;
                lead_len = (uint32_t)(eol - text) - lead_off;
            } else if (!any_lead) {
                blank = 1;
            } else {
                lead_len = (uint32_t)(eol - text) - lead_off;
            }
        } else {
            uint32_t before = s->count;
            if (!parse_line(&ps)) return 0;
            if (s->count > before) {
                nmrh_record_text *first = &s->text[before], *last = &s->text[s->count - 1];
                first->blank_before = blank;
                if (any_lead) {
                    first->lead_off = lead_off;
                    first->lead_len = lead_len;
                }
                if (hash < eol) {
                    last->trail_off = (uint32_t)(hash - text);
                    last->trail_len = (uint32_t)(eol - hash);
                }
            }
            blank = any_lead = 0;
            lead_off = lead_len = 0;
        }
        p = eol < end ? eol + 1 : end;
    }
    if (any_lead) {
        s->tail_off = lead_off;
        s->tail_len = lead_len;
    }
    return 1;
}
