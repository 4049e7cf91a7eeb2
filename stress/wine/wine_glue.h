/*
 * The parts of the Wine-only NETIO.SYS (netio_wine.c) besides the NMR double: what they do is
 * only for running the driver under Wine, never on Windows.
 */
#ifndef NMRH_WINE_GLUE_H
#define NMRH_WINE_GLUE_H

/* ktd_nmr_os_kernel.c: the double's lock and condition, before any Nmr* call. */
void ktd_nmr_os_init(void);
/* wine_supply.c: rewrites the import slots of every module (but self) that imports NETIO.SYS
   whose routine Wine lacks or stubs. */
void wine_supply_importers(PVOID self);
/* wine_irql.c: KeGetCurrentIrql/KeRaiseIrql/KeLowerIrql (cr8) per thread, ahead of Wine's
   emulation, which reads 0 whatever was written. */
void wine_irql_install(void);

#endif
