# A user's module plugged in with the documented CMake functions (docs/plugging-in-a-module.md).
add_library(hello_module STATIC plugin/hello_client.c)
target_link_libraries(hello_module PRIVATE nmrh_echo nmrh_core)
nmrh_add_tool(nmrh_hello TARGET_SYMBOL hello_target LIBRARIES hello_module)

foreach(seq hello hello-wrong-npi)
  add_test(NAME plugin_replay_${seq}
           COMMAND nmrh_hello replay --target hello --trace ${CMAKE_CURRENT_SOURCE_DIR}/plugin/${seq}.nmrseq)
  set_tests_properties(plugin_replay_${seq} PROPERTIES LABELS "plugin")
endforeach()
# The trace proves the client really attached and was detached and cleaned up.
set_tests_properties(plugin_replay_hello PROPERTIES
  PASS_REGULAR_EXPRESSION "NmrClientAttachProvider returns STATUS_SUCCESS.*ClientCleanupBindingContext returns")
set_tests_properties(plugin_replay_hello-wrong-npi PROPERTIES FAIL_REGULAR_EXPRESSION "binding b[0-9]|FINDING")

if(COMMAND nmrh_add_fuzz_target)
  nmrh_add_fuzz_target(fuzz_hello TARGET_SYMBOL hello_target LIBRARIES hello_module)
  add_test(NAME plugin_fuzz_smoke COMMAND fuzz_hello -runs=20000 -seed=1)
  set_tests_properties(plugin_fuzz_smoke PROPERTIES LABELS "plugin;fuzz")
endif()
