# The CMake functions a user's project calls to put its driver under nmrh: the same file serves the
# nmrh tree itself, a project that add_subdirectory()s nmrh, and one that find_package(nmrh)s an
# installed nmrh (nmrh-config.cmake). docs/plugging-in-a-module.md shows them in use.
#
# Expected variables (set by the top-level CMakeLists.txt or by nmrh-config.cmake):
#   NMRH_CMAKE_DIR             this directory (the glue template is here)
#   NMRH_FUZZ_DIR              fuzz_target.c and mutator.c
#   NMRH_TOOL_SOURCES          the nmrh tool's sources; NMRH_TOOL_SHARED_DIR their extra include dir
#   NMRH_MODULE_COVERAGE_FLAGS coverage instrumentation for module code (empty: none)
#   NMRH_MSVC_DIALECT_FLAGS    flags for module sources written for MSVC (MSVC_DIALECT), unless
#                              nmrh_target_msvc_dialect() (core/km/msvc) is defined
#   NMRH_FUZZ_ENGINE_FROM_ENV  link the engine named by $LIB_FUZZING_ENGINE instead of -fsanitize=fuzzer
# and the targets nmrh::core (engine, WDK headers, sanitizer usage flags), nmrh::echo (example
# modules, counterparts, built-in targets), nmrh::headers (WDK headers and sanitizer flags only).

include_guard(GLOBAL)

# nmrh_add_module(NAME SOURCES src...
#   [MSVC_DIALECT]              the sources are written for MSVC (NMRH_MSVC_DIALECT_FLAGS)
#   [KIND symbol]               an adapter's `const nmrh_module_kind symbol` (in SOURCES); without it
#                               the module kind is the driver itself: DriverEntry at load,
#                               DriverUnload at unload
#   [CALL function]             driver route: `NTSTATUS function(ULONG Value)` of the driver that a
#                               sequence's `call` runs (without it `call` does nothing)
#   [KINDS symbol...]           more module kinds for the module's target (e.g. the generic
#                               counterparts of its NPI, NMRH_GENERIC_COUNTERPARTS), in SOURCES
#   [SEQUENCE_NAME name]        the kind's and the target's name in sequences (default NAME): a
#                               variant build of the same driver (a seeded bug, a feature flag)
#                               then replays the same sequence files
#   [INCLUDE_DIRECTORIES dir...] [COMPILE_DEFINITIONS def...] [COMPILE_OPTIONS opt...])
#
# Builds the module as a shared object NAME: the driver's sources as they are, with the sanitizer
# and coverage flags of the nmrh build, against nmrh's WDK headers, plus a generated glue file
# (nmrh_module_glue.c.in) that saves the object's globals at load and restores them before every
# load of the kind, and defines the target `nmrh_target_<NAME>` (target name NAME in sequences:
# the kind, the KINDS, generic-client, generic-provider). Programs linking NAME (nmrh_add_tool,
# nmrh_add_fuzz_target with MODULE NAME) export the harness's symbols to the object (-rdynamic).
function(nmrh_add_module name)
  cmake_parse_arguments(M "MSVC_DIALECT" "KIND;CALL;SEQUENCE_NAME"
                        "SOURCES;KINDS;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS;COMPILE_OPTIONS" ${ARGN})
  if(M_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "nmrh_add_module(${name}): unexpected arguments: ${M_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT M_SOURCES)
    message(FATAL_ERROR "nmrh_add_module(${name}): SOURCES is required (the driver's .c files)")
  endif()
  if(M_KIND AND M_CALL)
    message(FATAL_ERROR "nmrh_add_module(${name}): CALL is for the driver route; with KIND your adapter's call does it")
  endif()
  string(MAKE_C_IDENTIFIER "${name}" id)

  set(NMRH_GLUE_NAME ${name})
  if(M_SEQUENCE_NAME)
    set(NMRH_GLUE_NAME ${M_SEQUENCE_NAME})
  endif()
  set(NMRH_GLUE_ID ${id})
  set(NMRH_GLUE_DRIVER 1)
  set(NMRH_GLUE_KIND "")
  if(M_KIND)
    set(NMRH_GLUE_DRIVER 0)
    set(NMRH_GLUE_KIND ${M_KIND})
  endif()
  set(NMRH_GLUE_HAS_CALL 0)
  set(NMRH_GLUE_CALL "")
  if(M_CALL)
    set(NMRH_GLUE_HAS_CALL 1)
    set(NMRH_GLUE_CALL ${M_CALL})
  endif()
  set(NMRH_GLUE_EXTRA_DECLS "")
  set(NMRH_GLUE_EXTRA_REFS "")
  foreach(k ${M_KINDS})
    string(APPEND NMRH_GLUE_EXTRA_DECLS ", ${k}")
    string(APPEND NMRH_GLUE_EXTRA_REFS "&${k}, ")
  endforeach()
  set(glue ${CMAKE_CURRENT_BINARY_DIR}/nmrh_glue_${id}.c)
  configure_file(${NMRH_CMAKE_DIR}/nmrh_module_glue.c.in ${glue} @ONLY)

  add_library(${name} SHARED ${M_SOURCES} ${glue})
  set_target_properties(${name} PROPERTIES C_VISIBILITY_PRESET default POSITION_INDEPENDENT_CODE ON
                        NMRH_TARGET_SYMBOL nmrh_target_${id})
  set_property(TARGET ${name} APPEND PROPERTY EXPORT_PROPERTIES NMRH_TARGET_SYMBOL)
  # Headers and sanitizer flags, not the engine: the harness's functions come from the program
  # that loads the object, so that there is one world, one shim and one NMR model.
  target_link_libraries(${name} PRIVATE nmrh::headers)
  target_include_directories(${name} PRIVATE ${M_INCLUDE_DIRECTORIES})
  target_compile_definitions(${name} PRIVATE ${M_COMPILE_DEFINITIONS})
  target_compile_options(${name} PRIVATE ${NMRH_MODULE_COVERAGE_FLAGS} ${M_COMPILE_OPTIONS})
  if(M_MSVC_DIALECT)
    if(COMMAND nmrh_target_msvc_dialect)  # the WDK surface's MSVC dialect (core/km/msvc), when present
      nmrh_target_msvc_dialect(${name})
    else()
      target_compile_options(${name} PRIVATE ${NMRH_MSVC_DIALECT_FLAGS})
    endif()
  endif()
  target_link_options(${name} INTERFACE -rdynamic)
endfunction()

# Resolves MODULE into the target symbol and the library to link (for the two functions below).
function(_nmrh_module_target module symbol_var)
  if(NOT TARGET ${module})
    message(FATAL_ERROR "MODULE ${module}: no such target (define it with nmrh_add_module first)")
  endif()
  get_target_property(sym ${module} NMRH_TARGET_SYMBOL)
  if(NOT sym)
    message(FATAL_ERROR "MODULE ${module}: not a module of nmrh_add_module")
  endif()
  set(${symbol_var} ${sym} PARENT_SCOPE)
endfunction()

# libFuzzer targets need clang: with another compiler these two functions are not defined (the
# nmrh tree tests `if(COMMAND nmrh_add_fuzz_target)`).
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
# nmrh_fuzz_link(TARGET): link TARGET as a libFuzzer executable against the harness libraries.
# With NMRH_FUZZ_ENGINE_FROM_ENV the flags come from $CFLAGS and the engine from
# $LIB_FUZZING_ENGINE (OSS-Fuzz / ClusterFuzzLite).
function(nmrh_fuzz_link target)
  if(NMRH_FUZZ_ENGINE_FROM_ENV)
    separate_arguments(engine UNIX_COMMAND "$ENV{LIB_FUZZING_ENGINE}")
    target_link_options(${target} PRIVATE ${engine})
  else()
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  endif()
  target_link_libraries(${target} PRIVATE nmrh::echo nmrh::core)
endfunction()

# nmrh_add_fuzz_target(NAME
#   [TARGET name]            a target compiled into nmrh (echo, echo-b1, ...)
#   [TARGET_SYMBOL symbol]   or an nmrh_target object of your own (extern const nmrh_target symbol)
#   [MODULE module]          or the target of a module of nmrh_add_module
#   [LIBRARIES libs...]      libraries with your module kinds
#   [NAIVE])                 plain byte-level mutation: no structure-aware mutator (benchmark baseline)
function(nmrh_add_fuzz_target name)
  cmake_parse_arguments(F "NAIVE" "TARGET;TARGET_SYMBOL;MODULE" "LIBRARIES" ${ARGN})
  if(F_MODULE)
    _nmrh_module_target(${F_MODULE} F_TARGET_SYMBOL)
    list(APPEND F_LIBRARIES ${F_MODULE})
  endif()
  add_executable(${name} ${NMRH_FUZZ_DIR}/fuzz_target.c)
  if(NOT F_NAIVE)
    target_sources(${name} PRIVATE ${NMRH_FUZZ_DIR}/mutator.c)
  endif()
  if(F_TARGET_SYMBOL)
    target_compile_definitions(${name} PRIVATE NMRH_FUZZ_TARGET_SYMBOL=${F_TARGET_SYMBOL})
  else()
    target_compile_definitions(${name} PRIVATE NMRH_FUZZ_TARGET="${F_TARGET}")
  endif()
  target_link_libraries(${name} PRIVATE ${F_LIBRARIES})
  nmrh_fuzz_link(${name})
endfunction()
endif()

# nmrh_add_tool(NAME [TARGET_SYMBOL symbol | MODULE module] [LIBRARIES libs...]): the nmrh tool
# with one more target: your own `extern const nmrh_target symbol`, or a module's.
function(nmrh_add_tool name)
  cmake_parse_arguments(T "" "TARGET_SYMBOL;MODULE" "LIBRARIES" ${ARGN})
  if(T_MODULE)
    _nmrh_module_target(${T_MODULE} T_TARGET_SYMBOL)
    list(APPEND T_LIBRARIES ${T_MODULE})
  endif()
  if(NOT T_TARGET_SYMBOL)
    message(FATAL_ERROR "nmrh_add_tool(${name}): TARGET_SYMBOL or MODULE is required")
  endif()
  # Only options.c names the extra target: the rest is compiled once for every tool of the project.
  set(common ${NMRH_TOOL_SOURCES})
  list(FILTER common EXCLUDE REGEX "/options\\.c$")
  set(own ${NMRH_TOOL_SOURCES})
  list(FILTER own INCLUDE REGEX "/options\\.c$")
  if(NOT TARGET nmrh_tool_common)
    add_library(nmrh_tool_common OBJECT ${common})
    target_include_directories(nmrh_tool_common PRIVATE ${NMRH_TOOL_SHARED_DIR})
    target_link_libraries(nmrh_tool_common PRIVATE nmrh::core)
    target_compile_definitions(nmrh_tool_common PRIVATE _GNU_SOURCE)
  endif()
  add_executable(${name} ${own} $<TARGET_OBJECTS:nmrh_tool_common>)
  target_include_directories(${name} PRIVATE ${NMRH_TOOL_SHARED_DIR})
  target_link_libraries(${name} PRIVATE ${T_LIBRARIES} nmrh::echo nmrh::core)
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE NMRH_EXTRA_TARGET=${T_TARGET_SYMBOL})
endfunction()
