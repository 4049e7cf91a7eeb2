/*
 * A test double of netio.sys's NMR for the user-mode tests of the replay driver: the nine Nmr*
 * functions on real threads (one mutex, callbacks called without it), with the open choices of
 * the NMR contract (knobs K3-K5) set by the test. It is a legal NMR, not a model of Windows: what
 * real Windows does is what the driver is for. Defaults are the NMR model's first knob values.
 */
#ifndef NMRH_KTD_NMR_H
#define NMRH_KTD_NMR_H

typedef struct ktd_nmr_config {
    int handle_after_attach; /* K3: write *NmrHandle after the attach callbacks */
    int provider_first;      /* K4: the provider's detach callback first */
    int detach_on_worker;    /* K4: both detach callbacks on one thread of the NMR's own */
    int detach_per_side;     /* K4: each side's detach callback on a thread of its own (the two
                                threads started in detach order); wins over detach_on_worker */
    int detach_at_dispatch;  /* K4: detach callbacks at DISPATCH_LEVEL */
    int cleanup_deferred;    /* K5: cleanup on a thread of the NMR's own, not inside Complete */
    int never_release_waits; /* test only: NmrWaitFor*DeregisterComplete never returns (a hang) */
} ktd_nmr_config;

void ktd_nmr_configure(const ktd_nmr_config *cfg);
/* Registrations and bindings alive (not yet waited for / cleaned up): 0 after a clean run. */
int ktd_nmr_live_registrations(void);
int ktd_nmr_live_bindings(void);

#endif
