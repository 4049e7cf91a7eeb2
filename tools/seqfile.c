#include "seqfile.h"
#include "seqload.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *read_file(const char *path, size_t *size)
{
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) return NULL;
    char *buf = seqload_read_stream(in, size);
    int failed = ferror(in);
    if (in != stdin) fclose(in);
    if (!buf) errno = failed ? EIO : ENOMEM;
    return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Binary when the name says so, or when the bytes could not be text (a NUL or a control byte). */
static bool looks_binary(const char *path, const char *data, size_t size)
{
    if (ends_with(path, ".nmrseq") || ends_with(path, ".txt")) return false;
    if (ends_with(path, ".bin") || ends_with(path, ".nmrbin")) return true;
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == 0 || (c < 32 && c != '\n' && c != '\r' && c != '\t')) return true;
    }
    return false;
}

bool seqfile_load(seqfile *f, const char *path, const nmrh_target *target)
{
    memset(f, 0, sizeof *f);
    f->data = read_file(path, &f->size);
    if (!f->data) {
        fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(errno));
        return false;
    }
    f->seq = malloc(sizeof *f->seq);
    if (!f->seq) {
        fprintf(stderr, "%s: error: out of memory\n", path);
        return false;
    }
    f->is_text = !looks_binary(path, f->data, f->size);
    if (!f->is_text) {
        nmrh_seq_decode(f->seq, target, (const uint8_t *)f->data, f->size);
        return true;
    }
    nmrh_seq_error err;
    if (!nmrh_seq_parse(f->seq, target, f->data, f->size, &err)) {
        fprintf(stderr, "%s:%u:%u: error: %s\n", path, err.line, err.col, err.message);
        return false;
    }
    return true;
}

void seqfile_free(seqfile *f)
{
    free(f->data);
    free(f->seq);
    memset(f, 0, sizeof *f);
}

static void to_file(void *ctx, const char *s, size_t n) { fwrite(s, 1, n, (FILE *)ctx); }

void seqfile_print(const seqfile *f, FILE *out) { nmrh_seq_print(f->seq, f->is_text ? f->data : NULL, to_file, out); }
