# `cmake --install` of nmrh: the tool, the engine and the example modules as static libraries
# (exported as nmrh::core, nmrh::echo, nmrh::headers), the headers module code compiles against,
# the sources of the tool and the fuzz entry point (nmrh_add_tool and nmrh_add_fuzz_target compile
# them with the user's target), and the CMake package: find_package(nmrh) then gives the same
# functions as add_subdirectory (cmake/NmrhFunctions.cmake). Included at the end of the top-level
# CMakeLists.txt. Layout under the prefix:
#   bin/nmrh, lib/libnmrh_core.a, lib/libnmrh_echo.a
#   include/nmrh/{include/nmrh,km/um,km/netio,counterparts,echo}
#   lib/cmake/nmrh/  nmrh-config.cmake, nmrh-config-version.cmake, nmrh-targets.cmake,
#                    NmrhFunctions.cmake, nmrh_module_glue.c.in
#   share/nmrh/src/  {tools,fuzz,stress/console} sources
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NMRH_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/nmrh)
set(NMRH_INSTALL_SRCDIR ${CMAKE_INSTALL_DATADIR}/nmrh/src)

set_target_properties(nmrh_core PROPERTIES EXPORT_NAME core)
set_target_properties(nmrh_echo PROPERTIES EXPORT_NAME echo)
set_target_properties(nmrh_headers PROPERTIES EXPORT_NAME headers)
install(TARGETS nmrh_core nmrh_echo nmrh_headers EXPORT nmrhTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS nmrh RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT nmrhTargets NAMESPACE nmrh:: FILE nmrh-targets.cmake DESTINATION ${NMRH_INSTALL_CMAKEDIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nmrh/include)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/km/um/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nmrh/km/um)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/km/netio/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nmrh/km/netio)
if(EXISTS ${PROJECT_SOURCE_DIR}/core/km/msvc)  # the MSVC dialect: forced include and its CMake function
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/km/msvc/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nmrh/km/msvc)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/modules/counterparts/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nmrh/counterparts
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/modules/echo/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nmrh/echo
        FILES_MATCHING PATTERN "*.h")

# The tool's and the fuzz entry point's sources, with the list the package compiles.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/ DESTINATION ${NMRH_INSTALL_SRCDIR}/tools
        FILES_MATCHING PATTERN "*.c" PATTERN "*.h")
install(DIRECTORY ${NMRH_TOOL_SHARED_DIR}/ DESTINATION ${NMRH_INSTALL_SRCDIR}/tool_shared
        FILES_MATCHING PATTERN "seqload.[ch]")
install(FILES ${PROJECT_SOURCE_DIR}/fuzz/fuzz_target.c ${PROJECT_SOURCE_DIR}/fuzz/mutator.c
        DESTINATION ${NMRH_INSTALL_SRCDIR}/fuzz)
set(NMRH_PACKAGE_TOOL_SOURCES)
foreach(src ${NMRH_TOOL_SOURCES})
  get_filename_component(file ${src} NAME)
  if(src MATCHES "^${PROJECT_SOURCE_DIR}/tools/")
    list(APPEND NMRH_PACKAGE_TOOL_SOURCES "tools/${file}")
  else()
    list(APPEND NMRH_PACKAGE_TOOL_SOURCES "tool_shared/${file}")
  endif()
endforeach()

# What the installed libraries were built with, for the user's module code.
set(NMRH_PACKAGE_SANITIZE ${NMRH_SANITIZE})
set(NMRH_PACKAGE_COMPILER_ID ${CMAKE_C_COMPILER_ID})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nmrh-config.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/nmrh-config.cmake
                              INSTALL_DESTINATION ${NMRH_INSTALL_CMAKEDIR}
                              PATH_VARS NMRH_INSTALL_SRCDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/nmrh-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/nmrh-config.cmake ${CMAKE_CURRENT_BINARY_DIR}/nmrh-config-version.cmake
              ${PROJECT_SOURCE_DIR}/cmake/NmrhFunctions.cmake ${PROJECT_SOURCE_DIR}/cmake/nmrh_module_glue.c.in
        DESTINATION ${NMRH_INSTALL_CMAKEDIR})
