# 'nmrh stress': sequences on real threads (label "stress"), included by tests/CMakeLists.txt.
#   stress_threads_echo       the echo pair runs clean for 10 s of random sequences (ASan+UBSan)
#   stress_threads_scenarios  the scenario corpus runs clean on real threads
#   stress_threads_b6         a seeded logic bug (a detach never completed) is found on real threads
#   stress_threads_b2         a seeded use after free is found and its sequence saved before ASan ends
#                             the process
#   stress_tsan               (clang) the tsan tree: test_threads and the echo pair TSan-clean, the
#                             seeded race echo-b7-c reported as TSAN-data-race
# test_threads (tests/knobs.cmake) covers the real-thread scheduler itself.
find_program(NMRH_BASH bash REQUIRED)
set(stress_expect ${NMRH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/stress/stress_expect.sh $<TARGET_FILE:nmrh>)
add_test(NAME stress_threads_echo
         COMMAND ${stress_expect} ${CMAKE_CURRENT_BINARY_DIR}/stress-echo 0 - -- --target echo --time 10 --seed 3)
add_test(NAME stress_threads_scenarios
         COMMAND ${stress_expect} ${CMAKE_CURRENT_BINARY_DIR}/stress-scenarios 0 - --
                 --target echo --time 10 --seed 3 ${PROJECT_SOURCE_DIR}/corpus/scenarios)
add_test(NAME stress_threads_b6
         COMMAND ${stress_expect} ${CMAKE_CURRENT_BINARY_DIR}/stress-b6 1 NMR-HANG -- --target echo-b6 --time 60 --seed 1)
add_test(NAME stress_threads_b2
         COMMAND ${stress_expect} ${CMAKE_CURRENT_BINARY_DIR}/stress-b2 1 "ASAN-heap-use-after-free@EchoClient.*" --
                 --target echo-b2 --time 60 --seed 1)
set_tests_properties(stress_threads_echo stress_threads_scenarios stress_threads_b6 stress_threads_b2
                     PROPERTIES LABELS "stress;tool" TIMEOUT 120)
if(NMRH_IS_CLANG AND NOT NMRH_TSAN)
  add_test(NAME stress_tsan
           COMMAND ${NMRH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/stress/tsan_stress.sh ${PROJECT_SOURCE_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/tsan-tree)
  set_tests_properties(stress_tsan PROPERTIES LABELS "stress" TIMEOUT 600)
endif()
