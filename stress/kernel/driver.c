/*
 * nmrhstress.sys: the kernel replay driver (WDM). It creates \Device\NmrhStress (user mode opens
 * \\.\NmrhStress), answers the two METHOD_BUFFERED IOCTLs of stress/engine/kproto.h through
 * nmrk_dispatch (dispatch.c), and registers a bug-check callback whose buffer is the crash
 * breadcrumb (platform_kernel.h), so that a crash dump says which sequence was running:
 * `!bugdump NmrhStress` in WinDbg.
 *
 * The IOCTL that runs a sequence needs read and write access to the device; the device object's
 * default security gives that to Administrators and SYSTEM only (docs/kernel-stress.md).
 */
#include <ntddk.h>
/* The one file of the driver that defines the NPI ids declared with DEFINE_GUID (echo_npi.h). */
#include <initguid.h>

#include "../../modules/echo/echo_npi.h"
#include "dispatch.h"
#include "platform_kernel.h"

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD NmrhStressUnload;
static DRIVER_DISPATCH NmrhStressCreateClose;
static DRIVER_DISPATCH NmrhStressDeviceControl;

static PDEVICE_OBJECT g_device;

PDEVICE_OBJECT nmrk_device_object(void); /* kernel_module_compat.h */
PDEVICE_OBJECT nmrk_device_object(void) { return g_device; }
static KBUGCHECK_CALLBACK_RECORD g_bugcheck_record;
static BOOLEAN g_bugcheck_registered;

static VOID NTAPI NmrhStressBugCheck(PVOID Buffer, ULONG Length)
{
    /* The buffer is the breadcrumb itself: nothing to do but be there. */
    UNREFERENCED_PARAMETER(Buffer);
    UNREFERENCED_PARAMETER(Length);
}

static NTSTATUS NTAPI NmrhStressCreateClose(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    UNREFERENCED_PARAMETER(DeviceObject);
    Irp->IoStatus.Status = STATUS_SUCCESS;
    Irp->IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}

static NTSTATUS NTAPI NmrhStressDeviceControl(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    PIO_STACK_LOCATION stack = IoGetCurrentIrpStackLocation(Irp);
    ULONG code = stack->Parameters.DeviceIoControl.IoControlCode;
    size_t information = 0;
    NTSTATUS status;

    if ((code & 3u) != METHOD_BUFFERED) {
        status = STATUS_INVALID_DEVICE_REQUEST;
    } else {
        status = nmrk_dispatch(code, Irp->AssociatedIrp.SystemBuffer, stack->Parameters.DeviceIoControl.InputBufferLength,
                               stack->Parameters.DeviceIoControl.OutputBufferLength, &information);
    }
    /* A run that hung left threads inside this driver's code that may run again: the driver must
       never be unloaded now (sc stop fails; the lab reboots, docs/kernel-stress.md). */
    if (nmrk_wedged()) DeviceObject->DriverObject->DriverUnload = NULL;
    Irp->IoStatus.Status = status;
    Irp->IoStatus.Information = NT_SUCCESS(status) || status == STATUS_BUFFER_OVERFLOW ? information : 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
}

static VOID NTAPI NmrhStressUnload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link;
    UNREFERENCED_PARAMETER(DriverObject);
    RtlInitUnicodeString(&link, NMRK_DOS_DEVICE_NAME);
    IoDeleteSymbolicLink(&link);
    if (g_device) IoDeleteDevice(g_device);
    if (g_bugcheck_registered) KeDeregisterBugCheckCallback(&g_bugcheck_record);
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING name, link;
    NTSTATUS status;
    UNREFERENCED_PARAMETER(RegistryPath);

    RtlInitUnicodeString(&name, NMRK_NT_DEVICE_NAME);
    RtlInitUnicodeString(&link, NMRK_DOS_DEVICE_NAME);
    status = IoCreateDevice(DriverObject, 0, &name, NMRK_DEVICE_TYPE, FILE_DEVICE_SECURE_OPEN, FALSE, &g_device);
    if (!NT_SUCCESS(status)) return status;
    status = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(status)) {
        IoDeleteDevice(g_device);
        g_device = NULL;
        return status;
    }
    g_device->Flags |= DO_BUFFERED_IO;
    g_device->Flags &= ~DO_DEVICE_INITIALIZING;

    memcpy(nmrk_breadcrumb, "NMRH-BREADCRUMB state=idle\n", sizeof "NMRH-BREADCRUMB state=idle\n");
    {
        PKBUGCHECK_CALLBACK_RECORD record = &g_bugcheck_record; /* mingw-w64's macro wants a plain name */
        KeInitializeCallbackRecord(record);
    }
    g_bugcheck_registered = KeRegisterBugCheckCallback(&g_bugcheck_record, NmrhStressBugCheck, nmrk_breadcrumb,
                                                       sizeof nmrk_breadcrumb, (PUCHAR) "NmrhStress");

    DriverObject->MajorFunction[IRP_MJ_CREATE] = NmrhStressCreateClose;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = NmrhStressCreateClose;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = NmrhStressDeviceControl;
    DriverObject->DriverUnload = NmrhStressUnload;
    DbgPrintEx(DPFLTR_IHVNETWORK_ID, DPFLTR_INFO_LEVEL, "nmrhstress: loaded\n");
    return STATUS_SUCCESS;
}
