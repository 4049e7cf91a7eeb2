# Knobs, determinism, the scheduler and the kernel-primitive shim.
nmrh_unit_test(test_knobs LABELS knobs)
nmrh_unit_test(test_determinism LABELS knobs)
nmrh_unit_test(test_sched LABELS knobs)
nmrh_unit_test(test_shim LABELS knobs)
nmrh_unit_test(test_threads LABELS knobs stress)
