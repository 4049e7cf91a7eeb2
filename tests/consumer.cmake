# The out-of-tree consumer test (label "consumer"; tests/consumer/consumer.sh says what it checks).
# It needs the instrumented clang build (nmrh fuzz, coverage) and builds a project twice (about
# two minutes, plus one minute of fuzzing).
if(NMRH_FUZZ_INSTRUMENT)
  find_program(NMRH_BASH bash REQUIRED)
  add_test(NAME consumer_out_of_tree
           COMMAND ${NMRH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/consumer/consumer.sh ${PROJECT_SOURCE_DIR}
                   ${PROJECT_BINARY_DIR} ${CMAKE_CURRENT_BINARY_DIR}/consumer ${CMAKE_C_COMPILER})
  set_tests_properties(consumer_out_of_tree PROPERTIES LABELS "consumer" TIMEOUT 900)
endif()
