# Every kept reproducer replays as a test (tests/regressions/replay_regression.sh says what passes).
file(GLOB NMRH_REGRESSIONS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/corpus/regressions/*.nmrseq)
find_program(NMRH_BASH bash REQUIRED)
foreach(f ${NMRH_REGRESSIONS})
  get_filename_component(name ${f} NAME_WE)
  add_test(NAME regression_${name}
           COMMAND ${NMRH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/regressions/replay_regression.sh $<TARGET_FILE:nmrh> ${f})
  set_tests_properties(regression_${name} PROPERTIES LABELS "regression")
endforeach()
