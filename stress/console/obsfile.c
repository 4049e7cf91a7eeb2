#include "obsfile.h"

#include <stdlib.h>
#include <string.h>

#include "nmrh/rules.h"

static void add(char *buf, size_t cap, size_t *len, const char *fmt_piece)
{
    size_t n = strlen(fmt_piece);
    if (*len + n + 1 > cap) n = cap > *len + 1 ? cap - *len - 1 : 0;
    memcpy(buf + *len, fmt_piece, n);
    *len += n;
    buf[*len] = '\0';
}

static const char *thread_text(uint8_t t, char *tmp, size_t cap)
{
    if (t == NMRH_OBS_THREAD_NONE) return "-";
    if (t & NMRH_OBS_THREAD_FOREIGN) snprintf(tmp, cap, "w%u", (unsigned)(t & 0x7F));
    else snprintf(tmp, cap, "t%u", (unsigned)t);
    return tmp;
}

void obs_format(const nmrh_obs *o, char *buf, size_t cap)
{
    char piece[96], tmp[16];
    size_t len = 0;
    if (cap == 0) return;
    buf[0] = '\0';
    add(buf, cap, &len, nmrh_obs_kind_name(o->kind));
    switch (o->kind) {
    case NMRH_OBS_RECORD:
        snprintf(piece, sizeof piece, " %u", (unsigned)o->status);
        add(buf, cap, &len, piece);
        return;
    case NMRH_OBS_NMR_CALL:
    case NMRH_OBS_NMR_RETURN:
        add(buf, cap, &len, " "), add(buf, cap, &len, nmrh_obs_fn_name(o->what));
        break;
    case NMRH_OBS_CALLBACK:
    case NMRH_OBS_CALLBACK_RETURN:
        add(buf, cap, &len, " "), add(buf, cap, &len, nmrh_obs_cb_name(o->what));
        break;
    case NMRH_OBS_FINDING:
        add(buf, cap, &len, " "), add(buf, cap, &len, nmrh_rule_id((nmrh_rule)(o->status < NMRH_RULE_COUNT ? o->status : 0)));
        if (o->what != NMRH_OBS_NONE8) {
            add(buf, cap, &len, " in=");
            add(buf, cap, &len, (o->what & NMRH_OBS_WHAT_CB) ? nmrh_obs_cb_name(o->what & 0x7Fu) : nmrh_obs_fn_name(o->what));
        }
        break;
    default:
        break;
    }
    add(buf, cap, &len, " "), add(buf, cap, &len, thread_text(o->thread, tmp, sizeof tmp));
    if (o->module != NMRH_OBS_NONE8) snprintf(piece, sizeof piece, " m%u", (unsigned)o->module), add(buf, cap, &len, piece);
    if (o->peer != NMRH_OBS_NONE8) snprintf(piece, sizeof piece, " peer=m%u", (unsigned)o->peer), add(buf, cap, &len, piece);
    if (o->binding) snprintf(piece, sizeof piece, " b%u", (unsigned)o->binding), add(buf, cap, &len, piece);
    snprintf(piece, sizeof piece, " irql=%u", (unsigned)o->irql), add(buf, cap, &len, piece);
    if (o->flags) {
        add(buf, cap, &len, " flags=");
        int first = 1;
        for (unsigned bit = 0; bit < 8; bit++) {
            if (!(o->flags & (1u << bit))) continue;
            if (!first) add(buf, cap, &len, ",");
            add(buf, cap, &len, nmrh_obs_flag_name(bit));
            first = 0;
        }
    }
    if (o->kind == NMRH_OBS_NMR_RETURN || o->kind == NMRH_OBS_CALLBACK_RETURN)
        snprintf(piece, sizeof piece, " status=0x%08X", (unsigned)o->status), add(buf, cap, &len, piece);
    if (o->aux) snprintf(piece, sizeof piece, " aux=0x%08X", (unsigned)o->aux), add(buf, cap, &len, piece);
}

/* ---- parsing ---- */

static int word_eq(const char *w, size_t n, const char *s) { return strlen(s) == n && memcmp(w, s, n) == 0; }

static int parse_u32(const char *s, size_t n, uint32_t *out)
{
    char tmp[24];
    if (n == 0 || n >= sizeof tmp) return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    unsigned long v = strtoul(tmp, &end, 0);
    if (*end != '\0' || v > 0xFFFFFFFFul) return 0;
    *out = (uint32_t)v;
    return 1;
}

static int parse_flags(const char *s, size_t n, uint8_t *flags)
{
    *flags = 0;
    while (n) {
        size_t k = 0;
        while (k < n && s[k] != ',') k++;
        int found = 0;
        for (unsigned bit = 0; bit < 8; bit++)
            if (word_eq(s, k, nmrh_obs_flag_name(bit))) *flags |= (uint8_t)(1u << bit), found = 1;
        if (!found) return 0;
        s += k, n -= k;
        if (n) s++, n--;
    }
    return 1;
}

int obs_parse(const char *line, nmrh_obs *o, char *err, size_t errcap)
{
    const char *words[16];
    size_t lens[16];
    int nw = 0;
    memset(o, 0, sizeof *o);
    o->thread = NMRH_OBS_THREAD_NONE;
    o->module = o->peer = NMRH_OBS_NONE8;
    for (const char *p = line; *p && *p != '\n' && *p != '\r';) {
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        if (*p == '#') break;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
        if (nw == 16) {
            snprintf(err, errcap, "too many fields");
            return -1;
        }
        words[nw] = w, lens[nw] = (size_t)(p - w), nw++;
    }
    if (nw == 0) return 0;
    int kind = nmrh_obs_kind_from_name(words[0], (uint32_t)lens[0]);
    if (kind <= 0) {
        snprintf(err, errcap, "unknown observation '%.*s'", (int)lens[0], words[0]);
        return -1;
    }
    o->kind = (uint8_t)kind;
    int i = 1;
    if (kind == NMRH_OBS_RECORD || kind == NMRH_OBS_NMR_CALL || kind == NMRH_OBS_NMR_RETURN || kind == NMRH_OBS_CALLBACK ||
        kind == NMRH_OBS_CALLBACK_RETURN || kind == NMRH_OBS_FINDING) {
        if (nw < 2) {
            snprintf(err, errcap, "'%s' needs a name or number", nmrh_obs_kind_name((uint32_t)kind));
            return -1;
        }
        const char *w = words[1];
        size_t n = lens[1];
        int v;
        char name[64];
        i = 2;
        if (kind == NMRH_OBS_RECORD) {
            if (!parse_u32(w, n, &o->status)) goto bad;
        } else if (kind == NMRH_OBS_NMR_CALL || kind == NMRH_OBS_NMR_RETURN) {
            if ((v = nmrh_obs_fn_from_name(w, (uint32_t)n)) < 0) goto bad;
            o->what = (uint8_t)v;
        } else if (kind == NMRH_OBS_FINDING) {
            if (n >= sizeof name) goto bad;
            memcpy(name, w, n), name[n] = '\0';
            nmrh_rule r = nmrh_rule_from_id(name);
            if (r == NMRH_RULE_NONE) goto bad;
            o->status = (uint32_t)r;
            o->what = NMRH_OBS_NONE8;
        } else {
            if ((v = nmrh_obs_cb_from_name(w, (uint32_t)n)) < 0) goto bad;
            o->what = (uint8_t)v;
        }
        if (0) {
        bad:
            snprintf(err, errcap, "bad name or number '%.*s'", (int)n, w);
            return -1;
        }
    }
    for (; i < nw; i++) {
        const char *w = words[i];
        size_t n = lens[i];
        uint32_t v;
        int v2;
        if (word_eq(w, n, "-")) {
            o->thread = NMRH_OBS_THREAD_NONE;
        } else if ((w[0] == 't' || w[0] == 'w') && parse_u32(w + 1, n - 1, &v) && v < 0x7F) {
            o->thread = (uint8_t)(w[0] == 't' ? v : (NMRH_OBS_THREAD_FOREIGN | v));
        } else if (w[0] == 'm' && parse_u32(w + 1, n - 1, &v) && v < 0xFF) {
            o->module = (uint8_t)v;
        } else if (w[0] == 'b' && parse_u32(w + 1, n - 1, &v) && v <= 0xFF) {
            o->binding = (uint8_t)v;
        } else if (n > 6 && memcmp(w, "peer=m", 6) == 0 && parse_u32(w + 6, n - 6, &v) && v < 0xFF) {
            o->peer = (uint8_t)v;
        } else if (n > 5 && memcmp(w, "irql=", 5) == 0 && parse_u32(w + 5, n - 5, &v) && v <= 0xFF) {
            o->irql = (uint8_t)v;
        } else if (n > 6 && memcmp(w, "flags=", 6) == 0 && parse_flags(w + 6, n - 6, &o->flags)) {
        } else if (n > 7 && memcmp(w, "status=", 7) == 0 && parse_u32(w + 7, n - 7, &v)) {
            o->status = v;
        } else if (n > 4 && memcmp(w, "aux=", 4) == 0 && parse_u32(w + 4, n - 4, &v)) {
            o->aux = v;
        } else if (kind == NMRH_OBS_FINDING && n > 3 && memcmp(w, "in=", 3) == 0) {
            if ((v2 = nmrh_obs_fn_from_name(w + 3, (uint32_t)(n - 3))) >= 0)
                o->what = (uint8_t)v2;
            else if ((v2 = nmrh_obs_cb_from_name(w + 3, (uint32_t)(n - 3))) >= 0)
                o->what = (uint8_t)(NMRH_OBS_WHAT_CB | (unsigned)v2);
            else
                goto badfield;
        } else {
        badfield:
            snprintf(err, errcap, "unknown field '%.*s'", (int)n, w);
            return -1;
        }
    }
    return 1;
}

int obsfile_append(obsfile *f, const nmrh_obs *o)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        nmrh_obs *p = realloc(f->obs, cap * sizeof *p);
        if (!p) return 0;
        f->obs = p;
        f->cap = cap;
    }
    f->obs[f->n++] = *o;
    return 1;
}

void obsfile_free(obsfile *f)
{
    free(f->obs);
    memset(f, 0, sizeof *f);
}

int obsfile_write(FILE *out, const obsfile *f)
{
    char line[256];
    fprintf(out, "nmrobs 1\ntarget %s\nsequence %016llx\n", f->target, (unsigned long long)f->seq_id);
    if (f->model_rule)
        fprintf(out, "verdict finding %s\n", nmrh_rule_id((nmrh_rule)f->model_rule));
    else
        fprintf(out, "verdict clean\n");
    for (size_t i = 0; i < f->n; i++) {
        obs_format(&f->obs[i], line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    return !ferror(out);
}

int obsfile_read(const char *path, obsfile *f, char *err, size_t errcap)
{
    memset(f, 0, sizeof *f);
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(err, errcap, "%s: cannot open", path);
        return 0;
    }
    char line[512], why[128];
    unsigned lineno = 0;
    int header = 0, ok = 1;
    while (ok && fgets(line, sizeof line, in)) {
        lineno++;
        char word[64], arg[64];
        if (header < 4) {
            int k = sscanf(line, "%63s %63s", word, arg);
            if (k <= 0 || word[0] == '#') continue;
            if (header == 0 && (k != 2 || strcmp(word, "nmrobs") != 0 || strcmp(arg, "1") != 0)) {
                snprintf(err, errcap, "%s:%u: not an nmrobs 1 file", path, lineno), ok = 0;
            } else if (header == 1 && k == 2 && strcmp(word, "target") == 0) {
                snprintf(f->target, sizeof f->target, "%.31s", arg);
            } else if (header == 2 && k == 2 && strcmp(word, "sequence") == 0) {
                f->seq_id = strtoull(arg, NULL, 16);
            } else if (header == 3 && k >= 2 && strcmp(word, "verdict") == 0) {
                char rule[64] = "";
                if (strcmp(arg, "clean") != 0 && !(strcmp(arg, "finding") == 0 && sscanf(line, "%*s %*s %63s", rule) == 1 &&
                                                   (f->model_rule = (uint32_t)nmrh_rule_from_id(rule)) != 0)) {
                    snprintf(err, errcap, "%s:%u: bad verdict line", path, lineno), ok = 0;
                }
            } else if (header > 0) {
                snprintf(err, errcap, "%s:%u: expected the header line '%s'", path, lineno,
                         header == 1 ? "target NAME" : header == 2 ? "sequence ID" : "verdict clean|finding RULE");
                ok = 0;
            }
            header++;
            continue;
        }
        nmrh_obs o;
        int r = obs_parse(line, &o, why, sizeof why);
        if (r < 0) snprintf(err, errcap, "%s:%u: %s", path, lineno, why), ok = 0;
        else if (r > 0 && !obsfile_append(f, &o)) snprintf(err, errcap, "%s: out of memory", path), ok = 0;
    }
    if (ok && header < 4) snprintf(err, errcap, "%s: incomplete header", path), ok = 0;
    fclose(in);
    if (!ok) obsfile_free(f);
    return ok;
}

uint64_t nmrh_sequence_id(const char *target, const uint8_t *bytes, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *s = target; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    h = (h ^ 0) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
    return h;
}
