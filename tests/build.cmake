# Build checks (label "build"), included by tests/CMakeLists.txt. Both scripts exit 77 when their
# toolchain is missing, which CTest reports as skipped.
#   kernel_cross_compile: the portable files (tests/build/portable_sources.txt) compile for the
#                         Windows kernel with mingw-w64's DDK headers and link into a driver that
#                         imports only ntoskrnl.exe, HAL.dll and NETIO.SYS.
#   gcc_warnings:         every non-clang-only C source is warning-free under gcc as well.
find_program(NMRH_BASH bash REQUIRED)

add_test(NAME kernel_cross_compile
         COMMAND ${NMRH_BASH} ${PROJECT_SOURCE_DIR}/tests/build/kernel_cross_compile.sh
                 ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/kernel_cross_compile)
add_test(NAME gcc_warnings
         COMMAND ${NMRH_BASH} ${PROJECT_SOURCE_DIR}/tests/build/gcc_warnings.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(kernel_cross_compile gcc_warnings PROPERTIES
                     LABELS build
                     SKIP_RETURN_CODE 77
                     TIMEOUT 300)

# ClusterFuzzLite's build.sh, run here with the OSS-Fuzz variables (no Docker).
add_test(NAME clusterfuzzlite_build
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/build/clusterfuzzlite_local.sh ${PROJECT_SOURCE_DIR}
                 ${CMAKE_CURRENT_BINARY_DIR}/clusterfuzzlite)
set_tests_properties(clusterfuzzlite_build PROPERTIES LABELS "build;fuzz" SKIP_RETURN_CODE 77 TIMEOUT 900)
