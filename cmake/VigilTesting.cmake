# Helpers to register tests with the labels DESIGN.md §6 asks for.
find_package(cmocka CONFIG REQUIRED)

# vigil_unit_test(NAME SOURCES file.c ...)
# A CMocka test executable built with the host compiler (ASan/UBSan on) and
# registered in ctest as unit.NAME with label "unit".
function(vigil_unit_test name)
  cmake_parse_arguments(T "" "" "SOURCES" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${VIGIL_SOURCE_DIR} ${VIGIL_SOURCE_DIR}/guest-svc/include ${CMOCKA_INCLUDE_DIR})
  target_link_libraries(${name} PRIVATE ${CMOCKA_LIBRARIES})
  target_compile_definitions(${name} PRIVATE VIGIL_HOST_TEST=1)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 60)
endfunction()
