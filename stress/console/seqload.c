#include "seqload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *seqload_read_stream(FILE *in, size_t *size)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, in);
        len += n;
        if (len < cap) break;
        char *bigger = realloc(buf, cap * 2 + 1);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    if (buf && ferror(in)) {
        free(buf);
        buf = NULL;
    }
    if (!buf) return NULL;
    buf[len] = '\0';
    *size = len;
    return buf;
}

char *seqload_read(const char *path, size_t *size)
{
    FILE *in = fopen(path, "rb");
    if (!in) return NULL;
    char *buf = seqload_read_stream(in, size);
    fclose(in);
    return buf;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int seqload_is_sequence_name(const char *name) { return ends_with(name, ".nmrseq") || ends_with(name, ".nmrbin"); }

static int looks_binary(const char *path, const char *data, size_t size)
{
    if (ends_with(path, ".nmrseq") || ends_with(path, ".txt")) return 0;
    if (ends_with(path, ".nmrbin") || ends_with(path, ".bin")) return 1;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == 0 || (c < 32 && c != '\n' && c != '\r' && c != '\t')) return 1;
    }
    return 0;
}

int seqload_file(seqload *s, const char *path, const nmrh_target *target, char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    s->data = seqload_read(path, &s->size);
    if (!s->data) {
        snprintf(err, errcap, "%s: error: cannot read the file", path);
        return 0;
    }
    s->seq = malloc(sizeof *s->seq);
    if (!s->seq) {
        snprintf(err, errcap, "%s: error: out of memory", path);
        return 0;
    }
    s->is_text = !looks_binary(path, s->data, s->size);
    if (s->is_text) {
        nmrh_seq_error e;
        if (!nmrh_seq_parse(s->seq, target, s->data, s->size, &e)) {
            snprintf(err, errcap, "%s:%u:%u: error: %s", path, e.line, e.col, e.message);
            return 0;
        }
    } else {
        nmrh_seq_decode(s->seq, target, (const uint8_t *)s->data, s->size);
    }
    s->nbytes = nmrh_seq_encode(s->seq, NULL, 0);
    s->bytes = malloc(s->nbytes ? s->nbytes : 1);
    if (!s->bytes) {
        snprintf(err, errcap, "%s: error: out of memory", path);
        return 0;
    }
    nmrh_seq_encode(s->seq, s->bytes, s->nbytes);
    return 1;
}

void seqload_free(seqload *s)
{
    free(s->data);
    free(s->seq);
    free(s->bytes);
    memset(s, 0, sizeof *s);
}
