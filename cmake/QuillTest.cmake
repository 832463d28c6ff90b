# Test helpers shared by every folder.
#
# quill_add_check_test(NAME SOURCES src... LIBS lib... [DATA dir])
#   builds a Check test executable and registers it twice:
#   label "unit" (plain run) and label "valgrind" (memcheck, any error or
#   leak fails the test). Check's fork mode is off under valgrind so the
#   whole test runs inside one checked process.
find_program(VALGRIND_EXECUTABLE valgrind)

function(quill_add_check_test name)
  if(QUILL_FUZZ)
    return() # fuzz builds build and run only the fuzz targets
  endif()
  cmake_parse_arguments(T "" "DATA" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CHECK)
  if(T_DATA)
    target_compile_definitions(${name} PRIVATE QUILL_TEST_DATA="${T_DATA}")
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "unit" TIMEOUT 300)
  if(VALGRIND_EXECUTABLE AND NOT QUILL_SANITIZE AND NOT QUILL_FUZZ)
    add_test(NAME valgrind.${name}
      COMMAND ${VALGRIND_EXECUTABLE} --error-exitcode=99 --leak-check=full
              --show-leak-kinds=definite,indirect,possible
              --errors-for-leak-kinds=definite,indirect,possible
              --track-fds=no --quiet $<TARGET_FILE:${name}>)
    set_tests_properties(valgrind.${name} PROPERTIES LABELS "valgrind"
      ENVIRONMENT "CK_FORK=no" TIMEOUT 900)
  endif()
endfunction()
