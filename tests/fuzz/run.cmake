# The fuzz ctests (top-level CMakeLists.txt):
#
#   cmake -DBUILD_DIR=build -DSOURCE_DIR=. -DCLANGXX=/usr/bin/clang++ -DSTEP=build -P run.cmake
#       configures build/fuzz with clang and GRID_FUZZ=ON and builds every harness
#   ... -DSTEP=run -DHARNESS=request -DSECONDS=8
#       runs build/fuzz/tests/fuzz/request_fuzz over corpus/request/ (every
#       seed, then fuzzing for SECONDS); new inputs go to a scratch corpus in
#       build/fuzz/work/, a crash to build/fuzz/artifacts/ and fails the test
#
# A longer local run: build/fuzz/tests/fuzz/request_fuzz -max_total_time=300
#   build/fuzz/work/request tests/fuzz/corpus/request   (docs/security.md)
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR SOURCE_DIR STEP)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "${var} is not set")
  endif()
endforeach()
get_filename_component(BUILD_DIR "${BUILD_DIR}" ABSOLUTE)
get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)
set(fuzz_dir "${BUILD_DIR}/fuzz")

if(STEP STREQUAL "build")
  if(NOT CLANGXX OR NOT EXISTS "${CLANGXX}")
    message(FATAL_ERROR "clang++ not found: install the Debian packages clang and libfuzzer-14-dev (tools/deps.sh)")
  endif()
  if(NOT EXISTS "${fuzz_dir}/build.ninja")
    execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${fuzz_dir}" -G Ninja -DGRID_FUZZ=ON
                            -DCMAKE_CXX_COMPILER=${CLANGXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "configuring ${fuzz_dir} failed")
    endif()
  endif()
  set(targets request_fuzz geojson_fuzz divisions_fuzz address_fuzz page_token_fuzz feed_wire_fuzz)
  execute_process(COMMAND ${CMAKE_COMMAND} --build "${fuzz_dir}" --target ${targets} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building the fuzz harnesses failed")
  endif()
  return()
endif()

if(NOT STEP STREQUAL "run" OR NOT HARNESS)
  message(FATAL_ERROR "STEP is build, or run with HARNESS")
endif()
if(NOT SECONDS)
  set(SECONDS 8)
endif()
set(binary "${fuzz_dir}/tests/fuzz/${HARNESS}_fuzz")
set(seeds "${SOURCE_DIR}/tests/fuzz/corpus/${HARNESS}")
set(work "${fuzz_dir}/work/${HARNESS}")
if(NOT EXISTS "${binary}")
  message(FATAL_ERROR "${binary} is missing: the fuzz_build test builds it")
endif()
if(NOT IS_DIRECTORY "${seeds}")
  message(FATAL_ERROR "${seeds} is missing: every harness has a seed corpus")
endif()
file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}" "${fuzz_dir}/artifacts")
execute_process(COMMAND "${binary}" -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
                        -print_final_stats=1 -artifact_prefix=${fuzz_dir}/artifacts/${HARNESS}- "${work}" "${seeds}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${HARNESS}_fuzz found a failure (exit ${rc}); its input is in ${fuzz_dir}/artifacts/")
endif()
