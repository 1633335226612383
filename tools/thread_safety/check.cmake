# clang's thread-safety analysis (-Wthread-safety) over the translation units
# that use annotated mutexes (port/mutex.h): each is compiled with
# -fsyntax-only and the flags g++ builds it with (compile_commands.json), so a
# GUARDED_BY member touched without its lock, or a REQUIRES function called
# without it, fails.
#
#   cmake -DBUILD_DIR=build -DSOURCE_DIR=. -DCLANGXX=/usr/bin/clang++ [-DJOBS=2] -P check.cmake
#   ... -DONLY=feed_hub        only the units whose path matches
#   ... -DMUST_FAIL=tools/thread_safety/must_fail.cc   the self-test: passes only
#       when clang, given the same flags, rejects that deliberate violation
#
# A translation unit is checked when it, or the header of the same name next
# to it, includes port/mutex.h, absl/base/thread_annotations.h or
# absl/synchronization/.
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR SOURCE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "${var} is not set")
  endif()
  get_filename_component(${var} "${${var}}" ABSOLUTE)
endforeach()
if(NOT CLANGXX OR NOT EXISTS "${CLANGXX}")
  message(FATAL_ERROR "clang++ not found: install the Debian package clang (tools/deps.sh does)")
endif()
if(NOT JOBS)
  cmake_host_system_information(RESULT JOBS QUERY NUMBER_OF_LOGICAL_CORES)
endif()

set(db "${BUILD_DIR}/compile_commands.json")
if(NOT EXISTS "${db}")
  message(FATAL_ERROR "${db} is missing: configure with CMAKE_EXPORT_COMPILE_COMMANDS (the default here)")
endif()
file(READ "${db}" json)
string(JSON count LENGTH "${json}")

string(ASCII 31 sep)  # joins one command's arguments into one list entry
set(annotated_regex "#include [<\"](absl/(synchronization/|base/thread_annotations\\.h)|port/mutex\\.h)")

# The clang command for `file` from entry `i`: its flags without the
# compiler, the output, the warnings and -Werror, plus the analysis.
function(clang_command i file out)
  string(JSON command GET "${json}" ${i} command)
  separate_arguments(args UNIX_COMMAND "${command}")
  list(POP_FRONT args compiler)
  if(compiler MATCHES "(^|/)(ccache|sccache|distcc)$")
    list(POP_FRONT args compiler)  # a launcher, then the compiler
  endif()
  set(flags "")
  set(skip FALSE)
  foreach(arg IN LISTS args)
    if(skip)
      set(skip FALSE)
    elseif(arg STREQUAL "-o")
      set(skip TRUE)
    elseif(arg STREQUAL "-c" OR arg MATCHES "^-W" OR arg MATCHES "^-f(diagnostics-)?colou?r")
    elseif(IS_ABSOLUTE "${arg}" AND arg MATCHES "\\.(cc|cpp|cxx)$")
    else()
      list(APPEND flags "${arg}")
    endif()
  endforeach()
  set(${out} "${CLANGXX};-fsyntax-only;-fno-color-diagnostics;-Wthread-safety;-Werror=thread-safety;${flags};${file}"
      PARENT_SCOPE)
endfunction()

set(commands "")
set(files "")
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON file GET "${json}" ${i} file)
  get_filename_component(file "${file}" ABSOLUTE)
  cmake_path(IS_PREFIX SOURCE_DIR "${file}" NORMALIZE in_source)
  cmake_path(IS_PREFIX BUILD_DIR "${file}" NORMALIZE in_build)
  if(NOT in_source OR in_build OR NOT EXISTS "${file}")
    continue()  # generated code
  endif()
  file(READ "${file}" text)
  get_filename_component(stem "${file}" NAME_WLE)
  get_filename_component(dir "${file}" DIRECTORY)
  if(EXISTS "${dir}/${stem}.h")
    file(READ "${dir}/${stem}.h" header)
    string(APPEND text "${header}")
  endif()
  if(NOT text MATCHES "${annotated_regex}" OR (ONLY AND NOT file MATCHES "${ONLY}"))
    continue()
  endif()
  if(MUST_FAIL)
    # Any annotated unit's flags will do for the deliberate violation.
    get_filename_component(MUST_FAIL "${MUST_FAIL}" ABSOLUTE BASE_DIR "${SOURCE_DIR}")
    clang_command(${i} "${MUST_FAIL}" cmd)
    execute_process(COMMAND ${cmd} RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE err)
    if(rc EQUAL 0 OR NOT err MATCHES "-Werror,-Wthread-safety")
      message(FATAL_ERROR "clang accepted a deliberate thread-safety violation (exit ${rc}):\n${err}")
    endif()
    message(STATUS "clang rejects the deliberate violation in ${MUST_FAIL}, as it should")
    return()
  endif()
  clang_command(${i} "${file}" cmd)
  list(JOIN cmd "${sep}" joined)
  list(APPEND commands "${joined}")
  file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
  list(APPEND files "${rel}")
endforeach()

list(LENGTH files n)
if(n EQUAL 0)
  message(FATAL_ERROR "no translation unit in ${db} uses port/mutex.h: nothing checked")
endif()

# JOBS at a time: execute_process runs its COMMANDs concurrently (as a
# pipeline; clang reads no input and writes diagnostics to stderr only).
set(failed "")
math(EXPR last "${n} - 1")
foreach(first RANGE 0 ${last} ${JOBS})
  set(batch_args "")
  set(batch_files "")
  foreach(k RANGE ${first} ${last})
    math(EXPR end "${first} + ${JOBS}")
    if(k GREATER_EQUAL end)
      break()
    endif()
    list(GET commands ${k} joined)
    string(REPLACE "${sep}" ";" cmd "${joined}")
    list(APPEND batch_args COMMAND ${cmd})
    list(GET files ${k} f)
    list(APPEND batch_files "${f}")
  endforeach()
  execute_process(${batch_args} RESULTS_VARIABLE results OUTPUT_QUIET ERROR_QUIET)
  foreach(f rc IN ZIP_LISTS batch_files results)
    if(NOT rc EQUAL 0)
      list(APPEND failed "${f}")
    endif()
  endforeach()
endforeach()

if(failed)
  # Again one at a time, for diagnostics that do not interleave.
  foreach(f IN LISTS failed)
    list(FIND files "${f}" k)
    list(GET commands ${k} joined)
    string(REPLACE "${sep}" ";" cmd "${joined}")
    execute_process(COMMAND ${cmd} ERROR_VARIABLE err)
    message("${err}")
  endforeach()
  list(JOIN failed ", " failed)
  message(FATAL_ERROR "thread-safety analysis failed in: ${failed}")
endif()
list(JOIN files ", " files)
message(STATUS "thread-safety analysis clean in ${n} translation units: ${files}")
