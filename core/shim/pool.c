/*
 * Pool allocation for module code: every block is tracked with its tag and owning module so that
 * leaks are reported per tag when a module unloads, frees are checked (double free, wrong tag,
 * memory the NMR still references), and allocations can be made to fail on demand.
 * Blocks themselves come from malloc, so AddressSanitizer sees use after free in module code.
 */
#include <wdm.h>

#include <stdlib.h>

#include "../src/world_impl.h"

#define TOMBSTONE ((void *)1)

void nmrh_pool_init(nmrh_pool *p) { memset(p, 0, sizeof *p); }

static size_t slot_of(const nmrh_pool *p, const void *ptr)
{
    uint64_t h = ((uint64_t)(uintptr_t)ptr >> 4) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 20) & (p->capacity - 1);
}

static void grow(nmrh_pool *p)
{
    nmrh_pool old = *p;
    p->capacity = old.capacity ? old.capacity * 2 : 64;
    p->slots = calloc(p->capacity, sizeof *p->slots);
    if (!p->slots) abort();
    p->used = p->live = 0;
    for (size_t i = 0; i < old.capacity; i++) {
        nmrh_pool_block *b = &old.slots[i];
        if (!b->ptr || b->ptr == TOMBSTONE) continue;
        size_t s = slot_of(p, b->ptr);
        while (p->slots[s].ptr) s = (s + 1) & (p->capacity - 1);
        p->slots[s] = *b;
        p->used++;
        p->live++;
    }
    free(old.slots);
}

static nmrh_pool_block *find(const nmrh_pool *p, const void *ptr)
{
    if (!p->capacity) return NULL;
    for (size_t s = slot_of(p, ptr);; s = (s + 1) & (p->capacity - 1)) {
        nmrh_pool_block *b = &p->slots[s];
        if (!b->ptr) return NULL;
        if (b->ptr == ptr) return b;
    }
}

static void insert(nmrh_pool *p, void *ptr, size_t size, uint32_t tag, uint32_t module)
{
    if ((p->used + 1) * 2 > p->capacity) grow(p);
    size_t s = slot_of(p, ptr);
    while (p->slots[s].ptr && p->slots[s].ptr != TOMBSTONE) s = (s + 1) & (p->capacity - 1);
    if (!p->slots[s].ptr) p->used++;
    p->slots[s] = (nmrh_pool_block){ptr, size, tag, module, p->next_seq++};
    p->live++;
}

void nmrh_pool_release_all(nmrh_pool *p)
{
    for (size_t i = 0; i < p->capacity; i++)
        if (p->slots[i].ptr && p->slots[i].ptr != TOMBSTONE) free(p->slots[i].ptr);
    free(p->slots);
    memset(p, 0, sizeof *p);
}

const nmrh_pool_block *nmrh_pool_find_containing(const nmrh_pool *p, const void *ptr)
{
    const char *c = ptr;
    for (size_t i = 0; i < p->capacity; i++) {
        const nmrh_pool_block *b = &p->slots[i];
        if (!b->ptr || b->ptr == TOMBSTONE) continue;
        if (c >= (const char *)b->ptr && c < (const char *)b->ptr + (b->size ? b->size : 1)) return b;
    }
    return NULL;
}

static int by_seq(const void *a, const void *b)
{
    uint64_t x = (*(const nmrh_pool_block *const *)a)->seq, y = (*(const nmrh_pool_block *const *)b)->seq;
    return x < y ? -1 : x > y;
}

static void tag_text(uint32_t tag, char out[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((tag >> (8 * i)) & 0xFF);
        out[i] = (c >= 32 && c < 127) ? c : '.';
    }
    out[4] = '\0';
}

size_t nmrh_pool_module_leaks(const nmrh_pool *p, uint32_t module, char *summary, size_t size)
{
    const nmrh_pool_block **list = malloc((p->live + 1) * sizeof *list);
    if (!list) abort();
    size_t n = 0;
    for (size_t i = 0; i < p->capacity; i++) {
        const nmrh_pool_block *b = &p->slots[i];
        if (b->ptr && b->ptr != TOMBSTONE && b->module == module) list[n++] = b;
    }
    /* Allocation order, not address order, so the message is the same on every run. */
    qsort(list, n, sizeof *list, by_seq);
    size_t off = 0;
    summary[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++) seen |= list[j]->tag == list[i]->tag;
        if (seen) continue;
        size_t count = 0, bytes = 0;
        for (size_t j = i; j < n; j++)
            if (list[j]->tag == list[i]->tag) count++, bytes += list[j]->size;
        char tag[5];
        tag_text(list[i]->tag, tag);
        int k = snprintf(summary + off, off < size ? size - off : 0, "%s%zu x tag '%s' (%zu bytes)", off ? ", " : "",
                         count, tag, bytes);
        if (k > 0) off += (size_t)k;
        if (off >= size) break;
    }
    free(list);
    return n;
}

/* ---- the WDK entry points ---- */

static bool inject_alloc_failure(nmrh_world *w, uint32_t module)
{
    if (module < w->nmodules && w->modules[module].fail_skip) {
        w->modules[module].fail_skip--;
    } else if (module < w->nmodules && w->modules[module].fail_allocs) {
        w->modules[module].fail_allocs--;
        nmrh_trace(w, NMRH_EV_FAULT, 0, module);
        return true;
    }
    if (w->cfg.fault_choices && module != 0 && nmrh_sched_choose(w, 2) == 1) {
        nmrh_trace(w, NMRH_EV_FAULT, 0, module);
        return true;
    }
    return false;
}

static void *pool_alloc(bool paged, SIZE_T bytes, ULONG tag, bool zero)
{
    NMRH_HARNESS(w);
    if (!w) return zero ? calloc(1, bytes ? bytes : 1) : malloc(bytes ? bytes : 1);
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    nmrh_thread *t = w->current;
    uint32_t module = t ? t->cur_module : 0;
    if (t && paged && t->irql > APC_LEVEL) {
        char where[160];
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_PASSIVE_AT_DISPATCH, NULL, "paged pool allocation at IRQL %u on %s",
                         (unsigned)t->irql, where);
    }
    if (inject_alloc_failure(w, module)) return NULL;
    void *p = zero ? calloc(1, bytes ? bytes : 1) : malloc(bytes ? bytes : 1);
    if (!p) return NULL;
    insert(&w->pool, p, bytes, tag, module);
    return p;
}

PVOID ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_alloc((PoolType & 1) != 0, NumberOfBytes, Tag, false);
}

PVOID ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_alloc((PoolType & 1) != 0, NumberOfBytes, Tag, true);
}

PVOID ExAllocatePoolUninitialized(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_alloc((PoolType & 1) != 0, NumberOfBytes, Tag, false);
}

PVOID ExAllocatePoolQuotaZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    return pool_alloc((PoolType & 1) != 0, NumberOfBytes, Tag, true);
}

PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag)
{
    POOL_FLAGS kind = Flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED | POOL_FLAG_NON_PAGED_EXECUTE);
    /* The WDK requires exactly one pool kind and a non-zero tag; otherwise the call fails. */
    if (Tag == 0 || (kind != POOL_FLAG_NON_PAGED && kind != POOL_FLAG_PAGED && kind != POOL_FLAG_NON_PAGED_EXECUTE))
        return NULL;
    return pool_alloc(kind == POOL_FLAG_PAGED, NumberOfBytes, Tag, (Flags & POOL_FLAG_UNINITIALIZED) == 0);
}

static void pool_free(PVOID P, ULONG Tag, bool check_tag)
{
    NMRH_HARNESS(w);
    if (!w) {
        free(P);
        return;
    }
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
    char where[160];
    nmrh_pool_block *b = find(&w->pool, P);
    if (!b) {
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_POOL_BAD_FREE, NULL,
                         "ExFreePool%s of memory that is not an allocated pool block (double free?) on %s",
                         check_tag ? "WithTag" : "", where);
        return;
    }
    if (check_tag && b->tag != Tag) {
        char want[5], got[5];
        tag_text(b->tag, want);
        tag_text(Tag, got);
        nmrh_oracle_where(w, where, sizeof where);
        nmrh_oracle_fail(w, NMRH_RULE_POOL_BAD_FREE, NULL,
                         "ExFreePoolWithTag with tag '%s' of a block allocated with tag '%s' on %s", got, want, where);
        return;
    }
    nmrh_model_check_free(w, P, b->size);
    b->ptr = TOMBSTONE;
    w->pool.live--;
    free(P);
}

void ExFreePoolWithTag(PVOID P, ULONG Tag) { pool_free(P, Tag, true); }
void ExFreePool(PVOID P) { pool_free(P, 0, false); }
