# The kernel replay driver (label "stress"), included by tests/CMakeLists.txt. The targets are
# defined in stress/stress.cmake. The driver itself only runs on Windows; what is tested here:
#   stress_kdriver            its code (dispatch, kernel platform, replay scheduler, interposer)
#                             on the pthread test double of the kernel APIs and an NMR test double
#   stress_kdriver_hang       a run that hangs: HANG verdict, the driver refuses further runs
#   stress_kproto             the IOCTL request validation and target description
#   stress_console_loopback   nmrstress + nmrh-kpredict on the scenario corpus through the
#                             in-process driver: results, divergences, JUnit XML, crash journal
#   stress_kernel_build       cross-builds nmrhstress.sys and nmrstress.exe with clang/lld/mingw-w64
#                             and checks the PE images (label "build"; skipped without mingw-w64),
#                             among them that imported variables are read with the WDK's
#                             indirection and that nothing is read through gs (the two defects
#                             the Wine run found)
#   stress_wine               the real driver under Wine: replay, stress, regressions, a seeded
#                             bug (label "wine"; skipped without wine64)
#   fuzz_ioctl_request_smoke  (clang) a short libFuzzer run of the request validation
find_program(NMRH_BASH bash REQUIRED)

add_executable(test_kdriver ${PROJECT_SOURCE_DIR}/stress/tests/test_kdriver.c ${PROJECT_SOURCE_DIR}/stress/tests/ktest.c
               ${PROJECT_SOURCE_DIR}/stress/console/obsfile.c ${PROJECT_SOURCE_DIR}/core/src/rules.c)
target_link_libraries(test_kdriver PRIVATE nmrh_kdriver_um)
target_compile_definitions(test_kdriver PRIVATE _GNU_SOURCE)
add_test(NAME stress_kdriver COMMAND test_kdriver)
add_test(NAME stress_kdriver_hang COMMAND test_kdriver hang)
set_tests_properties(stress_kdriver stress_kdriver_hang PROPERTIES LABELS "stress;unit" TIMEOUT 60)

add_executable(test_kproto ${PROJECT_SOURCE_DIR}/stress/tests/test_kproto.c ${PROJECT_SOURCE_DIR}/stress/tests/ktest.c
               ${PROJECT_SOURCE_DIR}/stress/console/obsfile.c ${PROJECT_SOURCE_DIR}/stress/console/targetdesc.c
               ${PROJECT_SOURCE_DIR}/stress/console/compare.c ${PROJECT_SOURCE_DIR}/core/src/rules.c)
target_link_libraries(test_kproto PRIVATE nmrh_kdriver_um)
target_compile_definitions(test_kproto PRIVATE _GNU_SOURCE)
add_test(NAME stress_kproto COMMAND test_kproto)
set_tests_properties(stress_kproto PROPERTIES LABELS "stress;unit" TIMEOUT 60)

add_test(NAME stress_console_loopback
         COMMAND ${NMRH_BASH} ${PROJECT_SOURCE_DIR}/stress/tests/console_loopback.sh $<TARGET_FILE:nmrstress>
                 $<TARGET_FILE:nmrh-kpredict> ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/stress-console)
set_tests_properties(stress_console_loopback PROPERTIES LABELS "stress" TIMEOUT 120)

add_test(NAME stress_kernel_build
         COMMAND ${NMRH_BASH} ${PROJECT_SOURCE_DIR}/stress/kernel/build_kernel.sh ${PROJECT_SOURCE_DIR}
                 ${CMAKE_CURRENT_BINARY_DIR}/stress-kernel-build --check)
# (About a minute on an idle 2-CPU machine; the timeout allows for a heavily loaded one.)
set_tests_properties(stress_kernel_build PROPERTIES LABELS "build;stress" SKIP_RETURN_CODE 77 TIMEOUT 600
                     FIXTURES_SETUP nmrh_kernel_build)

# The driver binary end to end under Wine (label "wine"): stress/wine/run_wine.sh on the build
# above, with the Wine-only NETIO.SYS; skipped where wine64 (or the cross-build) is missing.
add_test(NAME stress_wine
         COMMAND ${NMRH_BASH} ${PROJECT_SOURCE_DIR}/stress/wine/run_wine.sh --source ${PROJECT_SOURCE_DIR}
                 --kernel-out ${CMAKE_CURRENT_BINARY_DIR}/stress-kernel-build --kpredict $<TARGET_FILE:nmrh-kpredict>
                 --work ${CMAKE_CURRENT_BINARY_DIR}/stress-wine --stress-seconds 10 --threads 2)
set_tests_properties(stress_wine PROPERTIES LABELS "wine" SKIP_RETURN_CODE 77 TIMEOUT 400
                     FIXTURES_REQUIRED nmrh_kernel_build)

add_test(NAME stress_gcc_warnings
         COMMAND ${NMRH_BASH} ${PROJECT_SOURCE_DIR}/stress/tests/gcc_warnings.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(stress_gcc_warnings PROPERTIES LABELS "build;stress" SKIP_RETURN_CODE 77 TIMEOUT 300)

if(TARGET fuzz_ioctl_request)
  add_test(NAME fuzz_ioctl_request_smoke
           COMMAND ${NMRH_BASH} ${PROJECT_SOURCE_DIR}/tests/seq/fuzz_smoke.sh $<TARGET_FILE:fuzz_ioctl_request>
                   ${CMAKE_BINARY_DIR}/stress-fuzz-seeds ${CMAKE_CURRENT_BINARY_DIR}/fuzz_ioctl_request_smoke
                   -max_total_time=5 -seed=1)
  set_tests_properties(fuzz_ioctl_request_smoke PROPERTIES LABELS "fuzz;stress" TIMEOUT 120)
endif()

# A user's module (tests/plugin) in a copy of nmrh-kpredict: its prediction shows it bound.
nmrh_add_kpredict(nmrh_kpredict_hello TARGET_SYMBOL hello_target SOURCES ${PROJECT_SOURCE_DIR}/tests/plugin/hello_client.c
                  INCLUDES ${PROJECT_SOURCE_DIR}/modules/echo ${PROJECT_SOURCE_DIR}/modules/counterparts)
add_test(NAME stress_kpredict_plugin
         COMMAND nmrh_kpredict_hello --target hello -o ${CMAKE_CURRENT_BINARY_DIR} ${PROJECT_SOURCE_DIR}/tests/plugin/hello.nmrseq)
set_tests_properties(stress_kpredict_plugin PROPERTIES LABELS "stress;plugin"
  PASS_REGULAR_EXPRESSION "hello.nmrobs: [0-9]+ observations, model clean")
