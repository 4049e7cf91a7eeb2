# The seeded-bug benchmark (bench/bugbench.py, docs/benchmarks.md) in its quick mode, so that it
# cannot rot: one trial of each configuration, 10 s budget, bugs B2, B11 and B8. The test passes
# when the runner completes, writes its report, results and plot, and the full harness detected
# B2 and B11 (it finds both within a second today). Times are printed, never asserted.
# Needs the libFuzzer targets of the asan preset (NMRH_FUZZ_INSTRUMENT) and python3.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(NMRH_FUZZ_INSTRUMENT AND Python3_Interpreter_FOUND AND TARGET fuzz_echo-b2 AND TARGET random_echo-b2)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/bugbench-quick)
  add_test(NAME bugbench_quick
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/bugbench.py --quick --build ${PROJECT_BINARY_DIR}
                   --out ${out} --expect-detected B2,B11)
  set_tests_properties(bugbench_quick PROPERTIES LABELS bench TIMEOUT 300 RUN_SERIAL TRUE)
endif()
