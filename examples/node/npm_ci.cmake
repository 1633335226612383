# ctest node_gridclient_npm_ci: installs examples/node's packages (exactly
# package-lock.json) into DEST/node_modules with `npm ci`, unless DEST already
# holds those of this very lock file. Fails, saying why, when npm cannot fetch
# them, so that the Node test does not run without them.
#   cmake -DNPM=npm -DSOURCE=examples/node -DDEST=build/examples/node [-DWHAT=...] -P npm_ci.cmake
# WHAT: who needs the packages, for the message when npm fails (web/ uses it too).
if(NOT DEFINED WHAT)
  set(WHAT "the Node client test needs @grpc/grpc-js and @grpc/proto-loader")
endif()
file(SHA256 ${SOURCE}/package-lock.json lock_hash)
set(stamp ${DEST}/node_modules/.gridclient-lock-sha256)
if(EXISTS ${stamp})
  file(READ ${stamp} installed)
  if(installed STREQUAL lock_hash)
    message(STATUS "node_modules in ${DEST} match package-lock.json")
    return()
  endif()
endif()
file(MAKE_DIRECTORY ${DEST})
file(COPY ${SOURCE}/package.json ${SOURCE}/package-lock.json DESTINATION ${DEST})
execute_process(COMMAND ${NPM} ci --ignore-scripts --no-audit --no-fund --fetch-retries=1 --fetch-timeout=60000
                WORKING_DIRECTORY ${DEST} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "npm ci in ${DEST} failed (exit ${rc}): ${WHAT} from the npm registry; "
                      "is it reachable?\n${out}")
endif()
file(WRITE ${stamp} ${lock_hash})
message(STATUS "installed the packages of ${SOURCE} into ${DEST}/node_modules")
