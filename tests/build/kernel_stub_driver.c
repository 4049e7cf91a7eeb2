/*
 * Kernel cross-compile check only (tests/build/kernel_cross_compile.sh): the smallest driver that
 * pulls every portable module into one linked .sys, so that each of their imports must resolve
 * against ntoskrnl.exe, HAL.dll or NETIO.SYS. It is never loaded; the real kernel replay driver
 * belongs under stress/.
 *
 * It also provides what a kernel driver built from the portable files has to provide itself:
 *   - the one definition of each NPI id (the WDK pattern: exactly one file of a driver includes
 *     <initguid.h> before the headers with DEFINE_GUID; the user-mode build makes them static);
 *   - the harness hooks the counterparts call (nmrh/oracle.h), implemented in user mode by
 *     core/src/oracle.c and in a kernel driver by the interposer.
 */
#include <ntddk.h>
#include <initguid.h>

#include "echo_modules.h"
#include "nmrh/oracle.h"
#include "nmrh/targets.h"

/* Rule 9 is checked by the user-mode oracle only; a kernel build may trace or assert here. */
void nmrh_oracle_check_peer_call(void *binding, bool caller_is_client, const char *what)
{
    UNREFERENCED_PARAMETER(binding);
    UNREFERENCED_PARAMETER(caller_is_client);
    UNREFERENCED_PARAMETER(what);
}

#define STUB_MAX_INSTANCES 16

static const nmrh_module_kind *StubKinds[STUB_MAX_INSTANCES];
static void *StubInstances[STUB_MAX_INSTANCES];
static ULONG StubCount;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD StubUnload;

static VOID NTAPI StubUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    while (StubCount > 0) {
        StubCount--;
        StubKinds[StubCount]->unload(StubInstances[StubCount]);
    }
}

static NTSTATUS StubLoad(const nmrh_module_kind *Kind)
{
    NTSTATUS status;
    if (StubCount == STUB_MAX_INSTANCES) return STATUS_INSUFFICIENT_RESOURCES;
    status = Kind->load(&StubInstances[StubCount], 0);
    if (NT_SUCCESS(status)) StubKinds[StubCount++] = Kind;
    return status;
}

/* Loads the echo pair, then every other kind of every target; calls into each; unload undoes it. */
NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    const nmrh_target *const *target;
    NTSTATUS status;
    ULONG i;
    UNREFERENCED_PARAMETER(RegistryPath);

    DriverObject->DriverUnload = StubUnload;
    status = StubLoad(&echo_provider_kind);
    if (NT_SUCCESS(status)) status = StubLoad(&echo_client_kind);
    for (target = nmrh_targets(); NT_SUCCESS(status) && *target != NULL; target++) {
        for (i = 0; NT_SUCCESS(status) && i < (*target)->nkinds; i++) {
            const nmrh_module_kind *kind = (*target)->kinds[i];
            if (kind != &echo_provider_kind && kind != &echo_client_kind) status = StubLoad(kind);
        }
    }
    if (!NT_SUCCESS(status)) {
        StubUnload(DriverObject);
        return status;
    }
    for (i = 0; i < StubCount; i++) {
        if (StubKinds[i]->call != NULL) (void)StubKinds[i]->call(StubInstances[i], i);
        if (StubKinds[i]->complete != NULL) (void)StubKinds[i]->complete(StubInstances[i]);
    }
    return STATUS_SUCCESS;
}
