/*
 * Concurrency SAL of the WDK (locks, guarded data, interlocked operands) for the user-mode build:
 * every annotation expands to nothing. Included by sal.h, as in the WDK.
 */
#ifndef NMRH_UM_CONCURRENCYSAL_H
#define NMRH_UM_CONCURRENCYSAL_H

#define _Acquires_exclusive_lock_(...)
#define _Acquires_lock_(...)
#define _Acquires_nonreentrant_lock_(...)
#define _Acquires_shared_lock_(...)
#define _Analysis_assume_lock_acquired_(...)
#define _Analysis_assume_lock_held_(...)
#define _Analysis_assume_lock_not_held_(...)
#define _Analysis_assume_lock_released_(...)
#define _Analysis_assume_same_lock_(...)
#define _Analysis_suppress_lock_checking_(...)
#define _Benign_race_begin_
#define _Benign_race_end_
#define _Create_lock_level_(...)
#define _Function_ignore_lock_checking_(...)
#define _Guarded_by_(...)
#define _Has_lock_kind_(...)
#define _Has_lock_level_(...)
#define _Interlocked_
#define _Internal_lock_level_order_(...)
#define _Lock_level_order_(...)
#define _No_competing_thread_
#define _No_competing_thread_begin_
#define _No_competing_thread_end_
#define _Post_same_lock_(...)
#define _Releases_exclusive_lock_(...)
#define _Releases_lock_(...)
#define _Releases_nonreentrant_lock_(...)
#define _Releases_shared_lock_(...)
#define _Requires_exclusive_lock_held_(...)
#define _Requires_lock_held_(...)
#define _Requires_lock_not_held_(...)
#define _Requires_no_locks_held_
#define _Requires_shared_lock_held_(...)
#define _Write_guarded_by_(...)
#define _Global_interlock_
#define _Global_cancel_spin_lock_
#define _Global_critical_region_
#define _Global_priority_region_
#define _Lock_kind_mutex_
#define _Lock_kind_event_
#define _Lock_kind_semaphore_
#define _Lock_kind_spin_lock_
#define _Lock_kind_critical_section_
#define _Internal_set_lock_count_(...)
#define _Analysis_assume_smart_lock_acquired_(...)
#define _Analysis_assume_smart_lock_released_(...)
#define _Moves_lock_(...)
#define _Replaces_lock_(...)
#define _Swaps_locks_(...)
#define _Detaches_lock_(...)

#endif /* NMRH_UM_CONCURRENCYSAL_H */
