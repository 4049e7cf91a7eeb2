# The kernel replay driver's user-mode builds (included from the top-level CMakeLists.txt, after
# fuzz/): the driver itself is cross-compiled by stress/kernel/build_kernel.sh (Linux) or built
# with the WDK (stress/kernel/CMakeLists.txt); what is built here runs its code in user mode.
#
#   nmrh_kdriver_um   the driver's code (IOCTL dispatch, kernel platform, replay scheduler,
#                     interposer, interpreter, interposed modules) against a pthread test double
#                     of the kernel thread/event/pool APIs and a test double of the NMR
#                     (stress/kernel/test_double). What the driver tests and the Linux build of
#                     the console tool (in-process "loopback" transport) link.
#   nmrh-kpredict     the NMR model's expected observations for sequences (.nmrobs files), made
#                     by the same interposer around the model: what nmrstress compares with.
#   nmrstress         the console tool; on Linux with the loopback transport (tests), on Windows
#                     (stress/kernel/build_kernel.sh or the WDK route) with DeviceIoControl.
#   fuzz_ioctl_request (clang) libFuzzer target of the IOCTL request validation.
# Tests: tests/stress_kernel.cmake.

find_package(Threads REQUIRED)
set(NMRH_SRC ${PROJECT_SOURCE_DIR})
set(NMRH_INTERPOSE_FORCED_INCLUDE -include ${NMRH_SRC}/core/interpose/interpose_nmr.h)

# nmrh_interposed_modules(PREFIX OUT_VAR INCLUDE_DIRS...): the module sources (echo pair, each
# seeded-bug variant, counterparts) compiled with the interposer's forced include, as object
# libraries PREFIX_*; OUT_VAR receives their $<TARGET_OBJECTS:...>.
function(nmrh_interposed_modules prefix out_var)
  set(objs)
  add_library(${prefix}_echo OBJECT ${NMRH_SRC}/modules/echo/echo_client.c ${NMRH_SRC}/modules/echo/echo_provider.c
              ${NMRH_SRC}/modules/counterparts/counterpart.c)
  list(APPEND objs $<TARGET_OBJECTS:${prefix}_echo>)
  set(libs ${prefix}_echo)
  # As modules/CMakeLists.txt builds them (echo_seeded_bug in the top-level CMakeLists.txt).
  foreach(bug ${ECHO_SEEDED_BUGS})
    echo_seeded_bug(${bug} name defs)
    add_library(${prefix}_echo_${name} OBJECT ${NMRH_SRC}/modules/echo/echo_client.c ${NMRH_SRC}/modules/echo/echo_provider.c)
    target_compile_definitions(${prefix}_echo_${name} PRIVATE ${defs})
    list(APPEND objs $<TARGET_OBJECTS:${prefix}_echo_${name}>)
    list(APPEND libs ${prefix}_echo_${name})
  endforeach()
  foreach(lib ${libs})
    target_include_directories(${lib} BEFORE PRIVATE ${ARGN})
    target_compile_options(${lib} PRIVATE ${NMRH_INTERPOSE_FORCED_INCLUDE})
  endforeach()
  set(${out_var} ${objs} PARENT_SCOPE)
endfunction()

# ---- the driver in user mode, on the test doubles ----
set(NMRH_KDRIVER_UM_INCLUDES
  ${NMRH_SRC}/stress/kernel/test_double/include ${NMRH_SRC}/core/km/um ${NMRH_SRC}/core/km/netio
  ${NMRH_SRC}/core/include ${NMRH_SRC}/modules/echo ${NMRH_SRC}/modules/counterparts)
nmrh_interposed_modules(nmrh_kdum NMRH_KDUM_MODULES ${NMRH_KDRIVER_UM_INCLUDES})
add_library(nmrh_kdriver_um STATIC
  ${NMRH_SRC}/core/seq/interp.c ${NMRH_SRC}/core/seq/seq_codec.c ${NMRH_SRC}/core/seq/seq_print.c
  ${NMRH_SRC}/core/seq/seq_text.c ${NMRH_SRC}/core/src/knobs.c
  ${NMRH_SRC}/modules/targets.c
  ${NMRH_SRC}/core/interpose/interpose.c ${NMRH_SRC}/core/interpose/obs.c
  ${NMRH_SRC}/stress/engine/kproto.c ${NMRH_SRC}/stress/engine/replay_sched.c
  ${NMRH_SRC}/stress/kernel/platform_kernel.c ${NMRH_SRC}/stress/kernel/dispatch.c
  ${NMRH_SRC}/stress/kernel/oracle_kernel.c
  ${NMRH_SRC}/stress/kernel/test_double/ktd_kernel.c ${NMRH_SRC}/stress/kernel/test_double/ktd_nmr.c
  ${NMRH_SRC}/stress/kernel/test_double/ktd_nmr_os_posix.c
  ${NMRH_KDUM_MODULES})
target_include_directories(nmrh_kdriver_um BEFORE PUBLIC ${NMRH_KDRIVER_UM_INCLUDES}
                           ${NMRH_SRC}/stress/kernel ${NMRH_SRC}/stress/kernel/test_double)
target_compile_definitions(nmrh_kdriver_um PRIVATE _GNU_SOURCE)
target_link_libraries(nmrh_kdriver_um PUBLIC Threads::Threads)

# ---- the model's prediction: the same interposer around the NMR model ----
nmrh_interposed_modules(nmrh_kpm NMRH_KPM_MODULES
  ${NMRH_SRC}/core/include ${NMRH_SRC}/core/km/um ${NMRH_SRC}/core/km/netio ${NMRH_SRC}/modules/echo ${NMRH_SRC}/modules/counterparts)
add_executable(nmrh-kpredict
  ${NMRH_SRC}/stress/predict/kpredict.c ${NMRH_SRC}/stress/console/obsfile.c ${NMRH_SRC}/stress/console/seqload.c
  ${NMRH_SRC}/core/interpose/interpose.c ${NMRH_SRC}/core/interpose/obs.c ${NMRH_SRC}/modules/targets.c
  ${NMRH_KPM_MODULES})
target_include_directories(nmrh-kpredict PRIVATE ${NMRH_SRC}/modules/echo ${NMRH_SRC}/modules/counterparts)
target_link_libraries(nmrh-kpredict PRIVATE nmrh_core)

# ---- the console tool, Linux build: the driver in-process (transport_loopback.c) ----
add_executable(nmrstress
  ${NMRH_SRC}/stress/console/nmrstress.c ${NMRH_SRC}/stress/console/compare.c ${NMRH_SRC}/stress/console/obsfile.c
  ${NMRH_SRC}/stress/console/report.c ${NMRH_SRC}/stress/console/seqload.c ${NMRH_SRC}/stress/console/targetdesc.c
  ${NMRH_SRC}/stress/console/os_posix.c ${NMRH_SRC}/stress/console/transport_loopback.c ${NMRH_SRC}/core/src/rules.c)
target_link_libraries(nmrstress PRIVATE nmrh_kdriver_um)
target_compile_definitions(nmrstress PRIVATE _GNU_SOURCE)

# ---- fuzz_ioctl_request (clang): the IOCTL request validation, as fuzz/CMakeLists.txt builds
# fuzz_parser: unless the whole build is instrumented, the code it fuzzes (kproto.c and the
# sequence codec) is compiled once more with coverage instrumentation and linked ahead of the
# uninstrumented libraries. Seeds: requests made from corpus/scenarios.
if(NMRH_IS_CLANG AND COMMAND nmrh_fuzz_link)
  set(NMRH_FUZZ_IOCTL_SOURCES ${NMRH_SRC}/stress/fuzz/fuzz_ioctl_request.c)
  if(NOT NMRH_FUZZ_INSTRUMENT AND NOT NMRH_FUZZ_ENGINE_FROM_ENV)
    add_library(nmrh_fuzz_kproto OBJECT ${NMRH_SRC}/stress/engine/kproto.c ${NMRH_SRC}/core/seq/seq_codec.c)
    target_link_libraries(nmrh_fuzz_kproto PRIVATE nmrh_core)
    target_compile_options(nmrh_fuzz_kproto PRIVATE -fsanitize=fuzzer-no-link)
    list(APPEND NMRH_FUZZ_IOCTL_SOURCES $<TARGET_OBJECTS:nmrh_fuzz_kproto>)
  else()
    list(APPEND NMRH_FUZZ_IOCTL_SOURCES ${NMRH_SRC}/stress/engine/kproto.c)
  endif()
  add_executable(fuzz_ioctl_request ${NMRH_FUZZ_IOCTL_SOURCES})
  target_compile_definitions(fuzz_ioctl_request PRIVATE _GNU_SOURCE)
  nmrh_fuzz_link(fuzz_ioctl_request)

  add_executable(make_ioctl_seeds ${NMRH_SRC}/stress/fuzz/make_ioctl_seeds.c ${NMRH_SRC}/stress/console/seqload.c)
  target_link_libraries(make_ioctl_seeds PRIVATE nmrh_echo nmrh_core)
  file(GLOB NMRH_IOCTL_SEED_SCENARIOS ${NMRH_SRC}/corpus/scenarios/*.nmrseq)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/stress-fuzz-seeds/.stamp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/stress-fuzz-seeds
    COMMAND make_ioctl_seeds ${CMAKE_BINARY_DIR}/stress-fuzz-seeds ${NMRH_IOCTL_SEED_SCENARIOS}
    COMMAND ${CMAKE_COMMAND} -E touch ${CMAKE_BINARY_DIR}/stress-fuzz-seeds/.stamp
    DEPENDS make_ioctl_seeds ${NMRH_IOCTL_SEED_SCENARIOS}
    COMMENT "IOCTL request seeds for fuzz_ioctl_request")
  add_custom_target(nmrh_ioctl_seeds ALL DEPENDS ${CMAKE_BINARY_DIR}/stress-fuzz-seeds/.stamp)
endif()

# nmrh_add_kpredict(NAME TARGET_SYMBOL symbol SOURCES files... [INCLUDES dirs...]): a copy of
# nmrh-kpredict that also knows `extern const nmrh_target symbol`, your own module kinds, compiled
# through the interposer as the driver compiles them (docs/kernel-stress.md, "Your own module").
function(nmrh_add_kpredict name)
  cmake_parse_arguments(K "" "TARGET_SYMBOL" "SOURCES;INCLUDES" ${ARGN})
  add_library(${name}_modules OBJECT ${K_SOURCES})
  target_include_directories(${name}_modules BEFORE PRIVATE ${K_INCLUDES} ${NMRH_SRC}/core/include ${NMRH_SRC}/core/km/um
                             ${NMRH_SRC}/core/km/netio)
  target_compile_options(${name}_modules PRIVATE ${NMRH_INTERPOSE_FORCED_INCLUDE})
  add_executable(${name}
    ${NMRH_SRC}/stress/predict/kpredict.c ${NMRH_SRC}/stress/console/obsfile.c ${NMRH_SRC}/stress/console/seqload.c
    ${NMRH_SRC}/core/interpose/interpose.c ${NMRH_SRC}/core/interpose/obs.c ${NMRH_SRC}/modules/targets.c
    ${NMRH_KPM_MODULES} $<TARGET_OBJECTS:${name}_modules>)
  target_include_directories(${name} PRIVATE ${NMRH_SRC}/modules/echo ${NMRH_SRC}/modules/counterparts)
  target_compile_definitions(${name} PRIVATE NMRH_KPREDICT_EXTRA_TARGET=${K_TARGET_SYMBOL})
  target_link_libraries(${name} PRIVATE nmrh_core)
endfunction()
