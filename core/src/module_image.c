/*
 * Saving and restoring a module image's writable data (nmrh/module_image.h). User mode only.
 *
 * The ranges come from the shared object's section headers, read from its file: a whitelist of
 * the sections where a C compiler puts globals (.data, .bss, .data.* except .data.rel.ro*,
 * .bss.*). Restoring whole PT_LOAD segments instead would also rewind the GOT, the constructor
 * tables and the coverage counters libFuzzer reads, and the sanitizers' own bookkeeping.
 */
#include "nmrh/module_image.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct image_range {
    uintptr_t addr;
    size_t len;
    unsigned char *bytes;
} image_range;

typedef struct image_saved {
    unsigned count;
    unsigned long total;
    image_range ranges[];
} image_saved;

static void die(const char *what, const char *object)
{
    fprintf(stderr, "nmrh: module image %s: %s\n", object, what);
    exit(2);
}

static int read_at(int fd, off_t off, void *buf, size_t len)
{
    return pread(fd, buf, len, off) == (ssize_t)len;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Where a C compiler puts writable globals. */
static int is_globals_section(const char *name)
{
    if (strcmp(name, ".data") == 0 || strcmp(name, ".bss") == 0) return 1;
    if (starts_with(name, ".data.rel.ro")) return 0;
    return starts_with(name, ".data.") || starts_with(name, ".bss.");
}

/* The module's globals may sit next to AddressSanitizer redzones: the copies must not be checked
   (and must not become a memcpy call, which ASan intercepts). */
#if defined(__clang__)
__attribute__((no_sanitize("address", "thread")))
#elif defined(__GNUC__)
__attribute__((no_sanitize_address))
#endif
static void copy_unchecked(volatile unsigned char *dst, const volatile unsigned char *src, size_t len)
{
    while (len && ((uintptr_t)dst & (sizeof(uintptr_t) - 1))) *dst++ = *src++, len--;
    if (((uintptr_t)src & (sizeof(uintptr_t) - 1)) == 0) {
        for (; len >= sizeof(uintptr_t); len -= sizeof(uintptr_t), dst += sizeof(uintptr_t), src += sizeof(uintptr_t))
            *(volatile uintptr_t *)dst = *(const volatile uintptr_t *)src;
    }
    while (len) *dst++ = *src++, len--;
}

void nmrh_module_image_capture(nmrh_module_image *image, const void *address_in_image)
{
    Dl_info info;
    struct link_map *lm = NULL;
    if (!dladdr1(address_in_image, &info, (void **)&lm, RTLD_DL_LINKMAP) || lm == NULL)
        die("the address given is in no loaded object", "?");
    const char *path = lm->l_name;
    if (path == NULL || path[0] == '\0')
        die("is the executable itself: build the module as a shared object (nmrh_add_module), so that its "
            "globals can be told apart from the harness's",
            info.dli_fname ? info.dli_fname : "?");

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("cannot be opened to find its data sections", path);
    ElfW(Ehdr) eh;
    if (!read_at(fd, 0, &eh, sizeof eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_shentsize != sizeof(ElfW(Shdr)) ||
        eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum)
        die("is not an ELF object with section headers", path);
    ElfW(Shdr) *sh = calloc(eh.e_shnum, sizeof *sh);
    if (!sh || !read_at(fd, (off_t)eh.e_shoff, sh, (size_t)eh.e_shnum * sizeof *sh)) die("section headers unreadable", path);
    const ElfW(Shdr) *strsec = &sh[eh.e_shstrndx];
    char *names = malloc(strsec->sh_size + 1);
    if (!names || !read_at(fd, (off_t)strsec->sh_offset, names, strsec->sh_size)) die("section names unreadable", path);
    names[strsec->sh_size] = '\0';
    close(fd);

    image_saved *saved = calloc(1, sizeof *saved + eh.e_shnum * sizeof(image_range));
    if (!saved) die("out of memory", path);
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        const ElfW(Shdr) *s = &sh[i];
        if ((s->sh_flags & (SHF_ALLOC | SHF_WRITE)) != (SHF_ALLOC | SHF_WRITE) || (s->sh_flags & SHF_TLS)) continue;
        if (s->sh_type != SHT_PROGBITS && s->sh_type != SHT_NOBITS) continue;
        if (s->sh_name >= strsec->sh_size || !is_globals_section(names + s->sh_name) || s->sh_size == 0) continue;
        image_range *r = &saved->ranges[saved->count++];
        r->addr = lm->l_addr + s->sh_addr;
        r->len = s->sh_size;
        r->bytes = malloc(r->len);
        if (!r->bytes) die("out of memory", path);
        copy_unchecked(r->bytes, (const unsigned char *)r->addr, r->len);
        saved->total += r->len;
    }
    free(names);
    free(sh);
    image->saved = saved;
    image->restore = nmrh_module_image_restore;
}

void nmrh_module_image_restore(const nmrh_module_image *image)
{
    const image_saved *saved = image->saved;
    if (!saved) return;
    for (unsigned i = 0; i < saved->count; i++)
        copy_unchecked((unsigned char *)saved->ranges[i].addr, saved->ranges[i].bytes, saved->ranges[i].len);
}

unsigned long nmrh_module_image_saved_bytes(const nmrh_module_image *image)
{
    const image_saved *saved = image->saved;
    return saved ? saved->total : 0;
}
