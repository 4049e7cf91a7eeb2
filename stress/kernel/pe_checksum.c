/*
 * pe_checksum: computes a PE image's checksum and writes it into the optional header, which the
 * MSVC linker does with /RELEASE and lld (before LLVM 15) does not; Windows requires a correct
 * checksum in drivers. Build tool of stress/kernel/build_kernel.sh (host C).
 *
 * usage: pe_checksum [--verify] FILE
 *   writes the checksum; with --verify only checks it (exit 1 when it is wrong or 0).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int main(int argc, char **argv)
{
    int verify = argc == 3 && strcmp(argv[1], "--verify") == 0;
    const char *path = argv[argc - 1];
    if (argc != 2 && !verify) {
        fprintf(stderr, "usage: pe_checksum [--verify] FILE\n");
        return 2;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *img = len > 0 ? malloc((size_t)len + 1) : NULL;
    if (!img || fread(img, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "%s: cannot read\n", path);
        return 2;
    }
    fclose(f);
    img[len] = 0;
    if (len < 0x40 || img[0] != 'M' || img[1] != 'Z') {
        fprintf(stderr, "%s: not a PE image\n", path);
        return 2;
    }
    uint32_t pe = get32(img + 0x3C);
    if ((long)pe + 24 + 68 > len || memcmp(img + pe, "PE\0\0", 4) != 0) {
        fprintf(stderr, "%s: not a PE image\n", path);
        return 2;
    }
    size_t at = (size_t)pe + 24 + 64; /* CheckSum: optional header offset 64, for PE32 and PE32+ */
    uint32_t stored = get32(img + at);
    uint64_t sum = 0;
    for (long i = 0; i < len; i += 2) {
        if ((size_t)i >= at && (size_t)i < at + 4) continue;
        uint32_t word = img[i] | (i + 1 < len ? (uint32_t)img[i + 1] << 8 : 0);
        sum += word;
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    uint32_t checksum = (uint32_t)(sum + (uint64_t)len);
    if (verify) {
        if (stored != checksum || checksum == 0) {
            fprintf(stderr, "%s: checksum 0x%08X, should be 0x%08X\n", path, stored, checksum);
            return 1;
        }
        printf("%s: checksum 0x%08X correct\n", path, checksum);
        return 0;
    }
    img[at] = (unsigned char)checksum;
    img[at + 1] = (unsigned char)(checksum >> 8);
    img[at + 2] = (unsigned char)(checksum >> 16);
    img[at + 3] = (unsigned char)(checksum >> 24);
    f = fopen(path, "wb");
    if (!f || fwrite(img, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write\n", path);
        return 2;
    }
    free(img);
    return 0;
}
