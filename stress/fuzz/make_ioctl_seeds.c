/*
 * Seeds for fuzz_ioctl_request: well-formed replay and stress requests built from sequence files
 * (corpus/scenarios), as nmrstress builds them.
 * usage: make_ioctl_seeds OUT_DIR FILE.nmrseq...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../console/seqload.h"
#include "../engine/kproto.h"
#include "nmrh/targets.h"

static int write_request(const char *dir, const char *name, uint32_t mode, uint8_t *const *seqs, const size_t *sizes,
                         uint32_t n)
{
    size_t payload = 0;
    for (uint32_t i = 0; i < n; i++) payload += (mode == NMRK_MODE_STRESS ? 4 : 0) + sizes[i];
    nmrk_request r;
    nmrk_request_init(&r, mode, payload);
    r.seq_id = 0x5eed;
    memcpy(r.target, "echo", 5);
    memcpy(r.label, "seed", 5);
    r.settle_ms = mode == NMRK_MODE_REPLAY ? 1000 : 30000;
    r.wait_settle_ms = mode == NMRK_MODE_REPLAY ? 50 : 0;
    r.threads = mode == NMRK_MODE_REPLAY ? 0 : 4;
    r.duration_ms = mode == NMRK_MODE_REPLAY ? 0 : 60000;
    r.max_delay_us = mode == NMRK_MODE_REPLAY ? 0 : 200;
    r.nsequences = n;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(&r, sizeof r, 1, f);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t len[4];
        nmrk_put32(len, (uint32_t)sizes[i]);
        if (mode == NMRK_MODE_STRESS) fwrite(len, 4, 1, f);
        fwrite(seqs[i], 1, sizes[i], f);
    }
    return fclose(f) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: make_ioctl_seeds OUT_DIR FILE.nmrseq...\n");
        return 2;
    }
    const nmrh_target *t = nmrh_target_find("echo");
    uint8_t *all[NMRK_MAX_SEQUENCES];
    size_t sizes[NMRK_MAX_SEQUENCES];
    seqload loads[NMRK_MAX_SEQUENCES];
    uint32_t n = 0;
    for (int i = 2; i < argc && n < NMRK_MAX_SEQUENCES; i++) {
        char err[512], name[64];
        if (!seqload_file(&loads[n], argv[i], t, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        all[n] = loads[n].bytes;
        sizes[n] = loads[n].nbytes;
        snprintf(name, sizeof name, "replay-%02u", n);
        if (!write_request(argv[1], name, NMRK_MODE_REPLAY, &all[n], &sizes[n], 1)) return 2;
        n++;
    }
    if (!write_request(argv[1], "stress-all", NMRK_MODE_STRESS, all, sizes, n)) return 2;
    for (uint32_t i = 0; i < n; i++) seqload_free(&loads[i]);
    return 0;
}
