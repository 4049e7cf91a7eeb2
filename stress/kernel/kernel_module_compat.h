/*
 * Second forced include for module sources in the kernel driver build only (after
 * core/interpose/interpose_nmr.h): adapts what the modules' user-mode harness lets them do that a
 * kernel would not. The example modules allocate work items without a device object, since the
 * user-mode harness has none (seeded bug echo-b4-b); in the driver they get the driver's own.
 */
#ifndef NMRH_KERNEL_MODULE_COMPAT_H
#define NMRH_KERNEL_MODULE_COMPAT_H

#include <ntddk.h>

/* The driver's device object (driver.c). */
PDEVICE_OBJECT nmrk_device_object(void);

#define IoAllocateWorkItem(DeviceObject) IoAllocateWorkItem((DeviceObject) ? (DeviceObject) : nmrk_device_object())

#endif
