/*
 * Rule 9 (NMR-CALL-AFTER-DETACH) in builds without the NMR model: the counterparts call
 * nmrh_oracle_check_peer_call at the start of every NPI function (nmrh/oracle.h); here the
 * interposer answers from what it saw of the binding's detach.
 */
#include <ntddk.h>

#include "../../core/interpose/interpose.h"
#include "nmrh/oracle.h"

void nmrh_oracle_check_peer_call(void *binding, bool caller_is_client, const char *what)
{
    (void)what;
    nmrh_ip_check_peer_call(binding, caller_is_client);
}
