# The sequence language (label "seq"), included by tests/CMakeLists.txt: the text and binary
# forms and their conversions (C tests on core/seq), and the nmrh tool on the scenario corpus,
# on malformed input and on deliberately wrong sequences (shell tests in tests/seq/).
find_program(NMRH_BASH bash REQUIRED)

nmrh_unit_test(test_seq_codec LABELS seq)
nmrh_unit_test(test_seq_parse LABELS seq)
target_compile_definitions(test_seq_codec PRIVATE NMRH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

# seq_tool_<name>: tests/seq/<name>.sh NMRH SOURCE_DIR WORK_DIR
foreach(script scenarios fmt_convert cli findings)
  add_test(NAME seq_tool_${script}
           COMMAND ${NMRH_BASH} ${PROJECT_SOURCE_DIR}/tests/seq/${script}.sh $<TARGET_FILE:nmrh>
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/seq-work/${script})
  set_tests_properties(seq_tool_${script} PROPERTIES LABELS seq TIMEOUT 300)
endforeach()
