# Oracle-rule tests (label "rules"): for every rule of core/include/nmrh/rules.h a wrong module
# that triggers it and its correct twin under many schedules. docs/rules.md maps rules to tests.
# Included by tests/CMakeLists.txt.
target_sources(nmrh_test_support PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/support/rules_support.c)

foreach(area attach detach handles deregister register irql primitives pool liveness asan ubsan internal catalogue)
  nmrh_unit_test(test_rules_${area} LABELS rules)
endforeach()

# The catalogue test reads docs/rules.md.
target_compile_definitions(test_rules_catalogue PRIVATE NMRH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
