/*
 * The Wine-only NETIO.SYS: the NMR test double (stress/kernel/test_double/ktd_nmr.c, the same code
 * the driver's user-mode tests run against) as a kernel-style DLL that exports the nine Nmr*
 * functions, so that the real nmrhstress.sys binary runs end to end under Wine (Wine's own
 * netio.sys stubs them). Loaded instead of Wine's with WINEDLLOVERRIDES="netio.sys=n" from the
 * driver's directory (stress/wine/run_wine.sh). Never for a Windows machine.
 *
 * This file: the entry point and the double's open choices. What Wine lacks is supplied by
 * wine_supply.c, the IRQL by wine_irql.c (wine_glue.h).
 */
#include <ntddk.h>
#include <netioddk.h>

#include "../kernel/test_double/ktd_nmr.h"
#include "wine_glue.h"

/* ---- the NMR double's open choices, from the registry ----
   HKLM\Software\nmrh, value WineNetioNmr (REG_SZ): words as nmrstress's loopback build takes in
   NMRH_LOOPBACK_NMR ("provider-first,cleanup-deferred", empty: the model's first knob values). Read
   whenever a registration starts with none alive, so that run_wine.sh can set it between
   nmrstress runs: each scenario is replayed with the double making the choices its knobs name. */

static int has_word(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, w, k) == 0) return 1;
    return 0;
}

static void read_config(void)
{
    UNICODE_STRING key_name, value_name;
    OBJECT_ATTRIBUTES oa;
    HANDLE key;
    union {
        KEY_VALUE_PARTIAL_INFORMATION info;
        UCHAR bytes[sizeof(KEY_VALUE_PARTIAL_INFORMATION) + 256];
    } buf;
    ULONG got = 0;
    char words[128];
    size_t n = 0;

    RtlInitUnicodeString(&key_name, L"\\Registry\\Machine\\Software\\nmrh");
    RtlInitUnicodeString(&value_name, L"WineNetioNmr");
    InitializeObjectAttributes(&oa, &key_name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    if (NT_SUCCESS(ZwOpenKey(&key, KEY_READ, &oa))) {
        if (NT_SUCCESS(ZwQueryValueKey(key, &value_name, KeyValuePartialInformation, &buf, sizeof buf, &got)) &&
            buf.info.Type == REG_SZ) {
            const WCHAR *w = (const WCHAR *)buf.info.Data;
            for (ULONG i = 0; i < buf.info.DataLength / 2 && w[i] && n < sizeof words; i++) words[n++] = (char)w[i];
        }
        ZwClose(key);
    }
    ktd_nmr_config cfg = {0};
    cfg.handle_after_attach = has_word(words, n, "handle-after-attach");
    cfg.provider_first = has_word(words, n, "provider-first");
    cfg.detach_on_worker = has_word(words, n, "detach-on-worker");
    cfg.detach_per_side = has_word(words, n, "detach-per-side");
    cfg.detach_at_dispatch = has_word(words, n, "detach-at-dispatch");
    cfg.cleanup_deferred = has_word(words, n, "cleanup-deferred");
    ktd_nmr_configure(&cfg);
}

static void refresh_config(void)
{
    if (ktd_nmr_live_registrations() == 0) read_config();
}

NTSTATUS NTAPI wine_NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS c, PVOID context, PHANDLE handle);
NTSTATUS NTAPI wine_NmrRegisterClient(PNPI_CLIENT_CHARACTERISTICS c, PVOID context, PHANDLE handle)
{
    refresh_config();
    return NmrRegisterClient(c, context, handle);
}

NTSTATUS NTAPI wine_NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS p, PVOID context, PHANDLE handle);
NTSTATUS NTAPI wine_NmrRegisterProvider(PNPI_PROVIDER_CHARACTERISTICS p, PVOID context, PHANDLE handle)
{
    refresh_config();
    return NmrRegisterProvider(p, context, handle);
}

/* The entry point Wine's loader calls (DllMain's signature; 1 is DLL_PROCESS_ATTACH). */
BOOLEAN NTAPI NetioWineEntry(PVOID Module, ULONG Reason, PVOID Reserved);
BOOLEAN NTAPI NetioWineEntry(PVOID Module, ULONG Reason, PVOID Reserved)
{
    UNREFERENCED_PARAMETER(Reserved);
    if (Reason == 1) {
        ktd_nmr_os_init();
        read_config();
        wine_irql_install();
        wine_supply_importers(Module);
        DbgPrint("netio (nmrh test double): loaded\n");
    }
    return TRUE;
}
