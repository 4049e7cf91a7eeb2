/*
 * Work items: IoQueueWorkItem starts a new logical kernel thread at PASSIVE_LEVEL that runs the
 * routine as code of the queuing module. The item itself is module pool (tag 'IoWk'), so an item
 * never freed is reported as a leak like any other allocation.
 */
#include "shim_util.h"

typedef struct _IO_WORKITEM {
    PDEVICE_OBJECT device;
    PIO_WORKITEM_ROUTINE routine;
    PVOID context;
} IO_WORKITEM;

#define WORKITEM_TAG 0x6B576F49u /* 'IoWk' in memory order */

PIO_WORKITEM IoAllocateWorkItem(PDEVICE_OBJECT DeviceObject)
{
    PIO_WORKITEM item = ExAllocatePoolZero(NonPagedPoolNx, sizeof *item, WORKITEM_TAG);
    if (item) item->device = DeviceObject;
    return item;
}

void IoFreeWorkItem(PIO_WORKITEM IoWorkItem) { ExFreePoolWithTag(IoWorkItem, WORKITEM_TAG); }

static void run_work_item(void *arg)
{
    PIO_WORKITEM item = arg;
    PIO_WORKITEM_ROUTINE routine = item->routine;
    PDEVICE_OBJECT device = item->device;
    PVOID context = item->context;
    NMRH_HARNESS(w);
    uint32_t depth = w ? nmrh_harness_suspend(w) : 0; /* the routine is module code */
    routine(device, context);
    if (w) nmrh_harness_resume(w, depth);
}

void IoQueueWorkItem(PIO_WORKITEM IoWorkItem, PIO_WORKITEM_ROUTINE WorkerRoutine, WORK_QUEUE_TYPE QueueType,
                     PVOID Context)
{
    (void)QueueType;
    IoWorkItem->routine = WorkerRoutine;
    IoWorkItem->context = Context;
    NMRH_HARNESS(w);
    if (!w || !w->current) {
        WorkerRoutine(IoWorkItem->device, Context);
        return;
    }
    if (w->current->irql > DISPATCH_LEVEL)
        NMRH_SHIM_FAIL(w, NMRH_RULE_IRQL_MISUSE, "IoQueueWorkItem at IRQL %u", (unsigned)w->current->irql);
    char name[32];
    snprintf(name, sizeof name, "workitem-%u", ++w->worker_seq);
    if (!nmrh_sched_spawn_internal(w, name, w->current->cur_module, run_work_item, IoWorkItem))
        nmrh_oracle_fail(w, NMRH_RULE_INTERNAL, NULL, "out of memory starting a work item thread");
    nmrh_sched_point(w, NMRH_POINTS_PRIMITIVE);
}
