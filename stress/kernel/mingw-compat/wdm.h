/*
 * The driver's cross-build only (stress/kernel/build_kernel.sh puts this directory first on the
 * include path): mingw-w64's <wdm.h> with the exported object types declared as the WDK declares
 * them.
 *
 * The WDK has `extern POBJECT_TYPE *PsThreadType;` with no import attribute: the name is the
 * import library's alias of the import address table slot, which holds the address of
 * ntoskrnl's variable, so `*PsThreadType` is the object type. mingw-w64 10 declares
 * `extern POBJECT_TYPE NTSYSAPI *PsThreadType;` (dllimport): there the name already is
 * ntoskrnl's variable, and `*PsThreadType` reads the first field of the OBJECT_TYPE instead: every
 * ObReferenceObjectByHandle(..., *PsThreadType, ...) fails on Windows with
 * STATUS_OBJECT_TYPE_MISMATCH. Here the names are bound to the slot (`__imp_NAME`, which the
 * import library defines), so the driver's `*PsThreadType` means what it means with the WDK.
 * build_kernel.sh --check verifies every data import of the driver against
 * stress/kernel/wdk_data_imports.txt.
 */
#ifndef NMRK_MINGW_COMPAT_WDM_H
#define NMRK_MINGW_COMPAT_WDM_H

/* mingw-w64's declarations go to names nothing uses... */
#define CmKeyObjectType nmrk_mingw_CmKeyObjectType
#define ExEventObjectType nmrk_mingw_ExEventObjectType
#define ExSemaphoreObjectType nmrk_mingw_ExSemaphoreObjectType
#define IoFileObjectType nmrk_mingw_IoFileObjectType
#define PsThreadType nmrk_mingw_PsThreadType
#define PsProcessType nmrk_mingw_PsProcessType
#define SeTokenObjectType nmrk_mingw_SeTokenObjectType

#include_next <wdm.h>

#undef CmKeyObjectType
#undef ExEventObjectType
#undef ExSemaphoreObjectType
#undef IoFileObjectType
#undef PsThreadType
#undef PsProcessType
#undef SeTokenObjectType

/* ... and the real names are the WDK's import aliases. */
extern POBJECT_TYPE *CmKeyObjectType __asm__("__imp_CmKeyObjectType");
extern POBJECT_TYPE *ExEventObjectType __asm__("__imp_ExEventObjectType");
extern POBJECT_TYPE *ExSemaphoreObjectType __asm__("__imp_ExSemaphoreObjectType");
extern POBJECT_TYPE *IoFileObjectType __asm__("__imp_IoFileObjectType");
extern POBJECT_TYPE *PsThreadType __asm__("__imp_PsThreadType");
extern POBJECT_TYPE *PsProcessType __asm__("__imp_PsProcessType");
extern POBJECT_TYPE *SeTokenObjectType __asm__("__imp_SeTokenObjectType");

#endif
