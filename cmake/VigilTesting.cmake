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

# VIGIL_PYTHON: the python3 that runs the integration tests (pytest) and the
# status generator. Debian's /usr/bin/python3 first: tools/deps installs
# python3-pytest and python3-pexpect for it (a python3 earlier on PATH, e.g.
# pyenv's, may lack them). Any python3 that imports both will do.
if(NOT VIGIL_PYTHON)
  find_program(vigil_python_on_path python3 NO_CACHE)
  foreach(candidate /usr/bin/python3 ${vigil_python_on_path})
    if(EXISTS ${candidate})
      execute_process(COMMAND ${candidate} -c "import pytest, pexpect"
        RESULT_VARIABLE vigil_python_missing OUTPUT_QUIET ERROR_QUIET)
      if(vigil_python_missing EQUAL 0)
        set(VIGIL_PYTHON ${candidate} CACHE FILEPATH "python3 with pytest and pexpect")
        break()
      endif()
    endif()
  endforeach()
  if(NOT VIGIL_PYTHON)
    message(FATAL_ERROR "no python3 with pytest and pexpect: run tools/deps "
                        "(Debian python3-pytest python3-pexpect)")
  endif()
endif()
