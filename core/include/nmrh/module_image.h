/*
 * Driver globals as they are (user mode): a module kind built into a shared object by
 * nmrh_add_module keeps its state wherever the driver keeps it, usually in globals. The object's
 * writable data sections (.data, .bss and their .data.* / .bss.* pieces, not the GOT, the
 * constructor tables or the sanitizers' counters) are saved once, right after the object is
 * loaded into the process and before any driver code ran, and put back before every load of the
 * kind (module.h: `image`), so every run starts from the driver's initial values.
 *
 * nmrh_add_module's glue calls nmrh_module_image_capture from a constructor of the shared object
 * and points its kind's `image` at the result; a hand-written adapter in such an object can do
 * the same (docs/plugging-in-a-module.md).
 */
#ifndef NMRH_MODULE_IMAGE_H
#define NMRH_MODULE_IMAGE_H

#include "nmrh/module.h"

/* Saves the writable data of the shared object that contains `address_in_image` into `image` and
   sets image->restore. Prints a message naming the object and exits the process with status 2
   when the address is in the executable itself (globals there cannot be told apart from the
   harness's) or the object's file cannot be read. */
void nmrh_module_image_capture(nmrh_module_image *image, const void *address_in_image);

/* In a module built by nmrh_add_module: the image of the module's own shared object (defined by
   the generated glue, one per object). A hand-written adapter's kind sets `.image = &nmrh_this_image`. */
extern nmrh_module_image nmrh_this_image __attribute__((visibility("hidden")));

/* Puts the saved bytes back (what image->restore does). */
void nmrh_module_image_restore(const nmrh_module_image *image);

/* Bytes of writable data saved for `image` (0 before capture): for tests and messages. */
unsigned long nmrh_module_image_saved_bytes(const nmrh_module_image *image);

#endif
