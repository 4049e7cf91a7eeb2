/*
 * libFuzzer target for one nmrh target (a set of module kinds), chosen at compile time with
 * -DNMRH_FUZZ_TARGET="echo". Each input is a binary sequence (docs/sequence-format.md); it is
 * replayed in a fresh deterministic world whose scheduling and knob decisions come from the
 * input's `decide` records. A finding is written to $NMRH_FINDINGS_DIR (default
 * ./nmrh-findings) before the process aborts, so libFuzzer records it as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nmrh/finding_file.h"
#include "nmrh/finding_policy.h"
#include "nmrh/oracle.h"
#include "nmrh/session.h"
#include "nmrh/targets.h"

/* The target: a built-in one by name (-DNMRH_FUZZ_TARGET="echo"), or a user's own nmrh_target
   object (-DNMRH_FUZZ_TARGET_SYMBOL=my_target). */
#if defined(NMRH_FUZZ_TARGET_SYMBOL)
extern const nmrh_target NMRH_FUZZ_TARGET_SYMBOL;
#define TARGET() (&NMRH_FUZZ_TARGET_SYMBOL)
#define TARGET_NAME (NMRH_FUZZ_TARGET_SYMBOL.name)
#elif defined(NMRH_FUZZ_TARGET)
#define TARGET() nmrh_target_find(NMRH_FUZZ_TARGET)
#define TARGET_NAME NMRH_FUZZ_TARGET
#else
#error "define NMRH_FUZZ_TARGET (a built-in target's name) or NMRH_FUZZ_TARGET_SYMBOL"
#endif

typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
    const nmrh_seq *seq;
    nmrh_finding_action action;
} fuzz_input;

/* Process-lifetime: where findings go, the suppression file, when a known signature continues. */
static nmrh_finding_policy policy;

static void save_finding(nmrh_world *w, const nmrh_finding *f, void *user)
{
    (void)w;
    fuzz_input *in = user;
    in->action = nmrh_finding_policy_record(&policy, f, in->seq, in->data, in->size);
    if (in->action == NMRH_FINDING_STOP) fprintf(stderr, "FINDING %s: %s\n", f->signature, f->message);
}

/* Process-lifetime caches, so that an execution in steady state makes no system call and no
   large allocation: the stacks and world objects of earlier runs (a run's result never depends on
   them: a reused stack reads as zeros and a reused world is reset) and the decoded sequence. */
static struct {
    nmrh_world_pool *pool;
    nmrh_seq *seq;
} cache;

static void cache_init(void)
{
    if (!cache.seq) cache.seq = malloc(sizeof *cache.seq);
    if (!cache.pool) cache.pool = nmrh_world_pool_create();
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
/* ASan keeps freed memory out of reuse in a quarantine, 256 MiB by default: until it is full, every
   execution's allocations land on fresh pages (page faults, allocator mappings). A run allocates
   and frees about 50 KiB (the largest seed, 243 blocks; -trace_malloc=1), so 8 MiB still catches
   any use after free within a run (and across the last hundred runs or so), and the process
   reaches its steady state within its first few hundred executions. Memory ASan
   has recycled stays with the process instead of going back to the kernel every few seconds
   (madvise, then page faults again). ASAN_OPTIONS overrides both. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=8:allocator_release_to_os_interval_ms=-1"; }
#endif
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    nmrh_oracle_install_asan_hook();
    if (!TARGET()) {
        fprintf(stderr, "nmrh: the fuzz target's nmrh target is not compiled in\n");
        abort();
    }
    char err[512];
    if (nmrh_finding_policy_init(&policy, TARGET_NAME, err, sizeof err) != 0) {
        fprintf(stderr, "nmrh: %s\n", err);
        exit(2);
    }
    cache_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cache_init(); /* drivers that skip LLVMFuzzerInitialize (random_driver.c calls it; others may not) */
    nmrh_seq *seq = cache.seq;
    if (!seq) return 0;
    nmrh_seq_decode(seq, TARGET(), data, size);
    fuzz_input in = {data, size, seq, NMRH_FINDING_STOP};
    nmrh_config cfg;
    nmrh_config_init(&cfg);
    cfg.pool = cache.pool; /* NULL when out of memory: every world then has its own stacks */
    cfg.on_finding = save_finding;
    cfg.user = &in;
    nmrh_session s;
    int clean = nmrh_session_run(&s, seq, &cfg);
    nmrh_session_destroy(&s);
    /* The finding is on disk; a crash is how libFuzzer learns that this input is special. A known
       or suppressed signature is not special any more: the input explores on (finding_policy.h). */
    if (clean == 0 && in.action == NMRH_FINDING_STOP) abort();
    return 0;
}
