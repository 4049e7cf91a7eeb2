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

# Generic counterparts of a declared NPI (plugin/ping_client.c): the declared dispatch shape and
# characteristics reach the client, a slot records the call and returns the chosen status, and a
# call after the caller's detach is reported.
add_library(ping_module STATIC plugin/ping_client.c)
target_link_libraries(ping_module PRIVATE nmrh_echo nmrh_core)
nmrh_add_tool(nmrh_ping TARGET_SYMBOL ping_target LIBRARIES ping_module)
add_test(NAME plugin_npi_slots COMMAND nmrh_ping replay --target ping --trace ${CMAKE_CURRENT_SOURCE_DIR}/plugin/ping.nmrseq)
set_tests_properties(plugin_npi_slots PROPERTIES LABELS "plugin"
  PASS_REGULAR_EXPRESSION "dispatch version 7 size 24.*NPI ping: client called provider slot 1 Ping.*Ping\\(9\\) returned 0xc0000001"
  FAIL_REGULAR_EXPRESSION "FINDING")
add_test(NAME plugin_npi_call_after_detach
         COMMAND nmrh_ping replay --target ping ${CMAKE_CURRENT_SOURCE_DIR}/plugin/ping-after-detach.nmrseq)
set_tests_properties(plugin_npi_call_after_detach PROPERTIES LABELS "plugin"
  PASS_REGULAR_EXPRESSION "FINDING NMR-CALL-AFTER-DETACH.*client side of binding .* called Ping after its detach callback returned STATUS_SUCCESS")
