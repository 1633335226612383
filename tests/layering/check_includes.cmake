# The dependency direction on the sources: fails (with every offending line)
# when a folder includes what it may not.
#   engine/   no storage/, services/, import/, tools/, no gRPC or RocksDB, no
#             POSIX file headers (files are reached through FileAccess), no
#             GEOS or GDAL (geometry repair and file formats are import/'s)
#   import/   no storage/, services/, tools/, gRPC or RocksDB
#   storage/  no services/, import/, tools/ or gRPC
#   port/     nothing of ours above it, no gRPC or RocksDB
#   cluster/  no storage/, services/, import/, tools/ or RocksDB (etcd's gRPC
#             API is its own)
# Run by ctest: cmake -DSOURCE_DIR=<tree> -P check_includes.cmake
# (the negative test adds -DEXTRA_ENGINE_FILE=<file> to check a bad file as
# if it were in engine/).
cmake_minimum_required(VERSION 3.25)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "SOURCE_DIR is not set")
endif()

set(grpc_rx "[<\"](grpc|grpcpp)/|\\.grpc\\.pb\\.h")
set(rocksdb_rx "[<\"]rocksdb/")
set(posix_files_rx "<(fcntl\\.h|sys/mman\\.h|unistd\\.h)>")
set(gis_rx "<(geos_c|gdal|ogr_[a-z_]*|cpl_[a-z_]*)\\.h>")  # GEOS and GDAL belong in import/
set(rule_engine "[\"<](storage|services|import|tools)/|${grpc_rx}|${rocksdb_rx}|${posix_files_rx}|${gis_rx}")
set(rule_import "[\"<](storage|services|tools)/|${grpc_rx}|${rocksdb_rx}")
set(rule_storage "[\"<](services|import|tools)/|${grpc_rx}")
set(rule_cluster "[\"<](storage|services|import|tools)/|${rocksdb_rx}")
set(rule_port "[\"<](engine|import|storage|services|tools)/|${grpc_rx}|${rocksdb_rx}")

set(violations "")
function(check_file folder file)
  file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include")
  set(found "${violations}")
  foreach(line IN LISTS lines)
    if(line MATCHES "${rule_${folder}}")
      file(RELATIVE_PATH rel "${SOURCE_DIR}" "${file}")
      string(APPEND found "\n  ${rel}: ${line}")
    endif()
  endforeach()
  set(violations "${found}" PARENT_SCOPE)
endfunction()

set(checked 0)
foreach(folder engine import storage port cluster)
  file(GLOB_RECURSE files "${SOURCE_DIR}/${folder}/*.h" "${SOURCE_DIR}/${folder}/*.cc" "${SOURCE_DIR}/${folder}/*.in")
  foreach(f IN LISTS files)
    check_file(${folder} "${f}")
    math(EXPR checked "${checked} + 1")
  endforeach()
endforeach()
if(EXTRA_ENGINE_FILE)
  check_file(engine "${EXTRA_ENGINE_FILE}")
endif()
if(checked LESS 20)
  message(FATAL_ERROR "only ${checked} files found under ${SOURCE_DIR}: wrong SOURCE_DIR?")
endif()
if(violations)
  message(FATAL_ERROR "includes against the dependency direction:${violations}")
endif()
message(STATUS "dependency direction: ${checked} files checked, no violation")
