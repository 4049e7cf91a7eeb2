# Every kept reproducer replays as a test (tests/regressions/replay_regression.sh says what passes).
file(GLOB NMRH_REGRESSIONS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/corpus/regressions/*.nmrseq)
find_program(NMRH_BASH bash REQUIRED)
foreach(f ${NMRH_REGRESSIONS})
  get_filename_component(name ${f} NAME_WE)
  add_test(NAME regression_${name}
           COMMAND ${NMRH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/regressions/replay_regression.sh $<TARGET_FILE:nmrh> ${f})
  set_tests_properties(regression_${name} PROPERTIES LABELS "regression")
endforeach()

# Minimiser quality: for every seeded bug with a hand-written shortest reproducer
# (corpus/regressions/shortest/), a finding of it minimises to within 1.2x that length
# (tests/regressions/minimize_shortest.sh says which finding and what passes).
file(GLOB NMRH_SHORTEST CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/corpus/regressions/shortest/*.nmrseq)
foreach(f ${NMRH_SHORTEST})
  get_filename_component(name ${f} NAME_WE)
  add_test(NAME minimize_shortest_${name}
           COMMAND ${NMRH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/regressions/minimize_shortest.sh $<TARGET_FILE:nmrh> ${f} 90)
  set_tests_properties(minimize_shortest_${name} PROPERTIES LABELS "regression" TIMEOUT 180)
endforeach()
# ... and every seeded bug of the benchmark has one.
add_test(NAME minimize_shortest_complete
         COMMAND ${NMRH_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/regressions/shortest_complete.sh
                 ${PROJECT_SOURCE_DIR}/bench/bugs.tsv ${PROJECT_SOURCE_DIR}/corpus/regressions/shortest)
set_tests_properties(minimize_shortest_complete PROPERTIES LABELS "regression")
