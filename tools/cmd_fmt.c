/* nmrh fmt and nmrh convert: canonical text, and text <-> binary. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "seqfile.h"

static const char fmt_help[] =
    "usage: nmrh fmt [--target NAME] [--check | --write] FILE...\n"
    "\n"
    "Prints the canonical text of each sequence (text or binary input), keeping comments.\n"
    "  --check   print nothing; exit 1 if a file is not in canonical form\n"
    "  --write   rewrite text files in place in canonical form\n";

static char *canonical_text(const seqfile *f, size_t *len)
{
    char *buf = NULL;
    FILE *mem = open_memstream(&buf, len);
    if (!mem) return NULL;
    seqfile_print(f, mem);
    fclose(mem);
    return buf;
}

int cmd_fmt(int argc, char **argv)
{
    const char *target_name = "echo";
    bool check = false, write = false, bad = false;
    int status = EXIT_CLEAN, nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (tool_is_help(argv[i])) {
            fputs(fmt_help, stdout);
            return EXIT_CLEAN;
        }
        if (tool_option_value(argc, argv, &i, "--target", &target_name, &bad)) continue;
        if (strcmp(argv[i], "--check") == 0) check = true;
        else if (strcmp(argv[i], "--write") == 0) write = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nmrh fmt: unknown option '%s'\n", argv[i]);
            bad = true;
        } else nfiles++;
    }
    const nmrh_target *target = bad ? NULL : tool_target(target_name);
    if (bad || !target || nfiles == 0 || (check && write)) {
        if (!bad && target) fputs(nfiles ? "nmrh fmt: --check and --write exclude each other\n\n" : "nmrh fmt: no file given\n\n", stderr);
        fputs(fmt_help, stderr);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            if (strcmp(argv[i], "--target") == 0) i++;
            continue;
        }
        seqfile f;
        if (!seqfile_load(&f, argv[i], target)) {
            seqfile_free(&f);
            status = EXIT_USAGE;
            continue;
        }
        size_t len = 0;
        char *text = canonical_text(&f, &len);
        if (!text) {
            fprintf(stderr, "%s: error: out of memory\n", argv[i]);
            status = EXIT_USAGE;
        } else if (check) {
            if (!f.is_text || len != f.size || memcmp(text, f.data, len) != 0) {
                printf("%s: not in canonical form (run 'nmrh fmt --write %s')\n", argv[i], argv[i]);
                if (status == EXIT_CLEAN) status = EXIT_FINDING;
            }
        } else if (write) {
            if (!f.is_text) {
                fprintf(stderr, "%s: error: --write rewrites text files only; use nmrh convert for binary\n", argv[i]);
                status = EXIT_USAGE;
            } else if (len != f.size || memcmp(text, f.data, len) != 0) {
                FILE *out = fopen(argv[i], "wb");
                if (!out || fwrite(text, 1, len, out) != len || fclose(out) != 0) {
                    fprintf(stderr, "%s: error: cannot write\n", argv[i]);
                    status = EXIT_USAGE;
                }
            }
        } else {
            fwrite(text, 1, len, stdout);
        }
        free(text);
        seqfile_free(&f);
    }
    return status;
}

static const char convert_help[] =
    "usage: nmrh convert [--target NAME] [--to text|binary] IN [-o OUT]\n"
    "\n"
    "Converts a sequence between its text form (.nmrseq) and its binary form (4 bytes a record,\n"
    "what the fuzz targets consume). The input form is detected; the output form defaults to the\n"
    "other one. Text output goes to standard output unless -o is given; binary output needs -o.\n";

int cmd_convert(int argc, char **argv)
{
    const char *target_name = "echo", *to = NULL, *out_path = NULL, *in_path = NULL;
    bool bad = false;
    for (int i = 1; i < argc; i++) {
        if (tool_is_help(argv[i])) {
            fputs(convert_help, stdout);
            return EXIT_CLEAN;
        }
        if (tool_option_value(argc, argv, &i, "--target", &target_name, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "--to", &to, &bad)) continue;
        if (tool_option_value(argc, argv, &i, "-o", &out_path, &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "nmrh convert: unknown option '%s'\n", argv[i]);
            bad = true;
        } else if (in_path) {
            fprintf(stderr, "nmrh convert: one input file at a time\n");
            bad = true;
        } else in_path = argv[i];
    }
    if (to && strcmp(to, "text") != 0 && strcmp(to, "binary") != 0) {
        fprintf(stderr, "nmrh convert: --to takes 'text' or 'binary', not '%s'\n", to);
        bad = true;
    }
    const nmrh_target *target = bad ? NULL : tool_target(target_name);
    if (bad || !target || !in_path) {
        fputs(convert_help, stderr);
        return EXIT_USAGE;
    }
    seqfile f;
    if (!seqfile_load(&f, in_path, target)) {
        seqfile_free(&f);
        return EXIT_USAGE;
    }
    bool to_binary = to ? strcmp(to, "binary") == 0 : f.is_text;
    int status = EXIT_CLEAN;
    if (to_binary) {
        size_t need = nmrh_seq_encode(f.seq, NULL, 0);
        uint8_t *bytes = malloc(need ? need : 1);
        if (!out_path) {
            fputs("nmrh convert: binary output needs -o FILE\n", stderr);
            status = EXIT_USAGE;
        } else if (!bytes) {
            status = EXIT_USAGE;
        } else {
            nmrh_seq_encode(f.seq, bytes, need);
            FILE *out = fopen(out_path, "wb");
            if (!out || fwrite(bytes, 1, need, out) != need || fclose(out) != 0) {
                fprintf(stderr, "%s: error: cannot write\n", out_path);
                status = EXIT_USAGE;
            }
        }
        free(bytes);
    } else {
        FILE *out = out_path ? fopen(out_path, "wb") : stdout;
        if (!out) {
            fprintf(stderr, "%s: error: cannot write\n", out_path);
            status = EXIT_USAGE;
        } else {
            seqfile_print(&f, out);
            if (out != stdout && fclose(out) != 0) status = EXIT_USAGE;
        }
    }
    seqfile_free(&f);
    return status;
}
