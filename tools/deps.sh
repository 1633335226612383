# Sourced by tools/run and tools/test: installs the Debian 12 packages the
# project needs, only those missing, so a second run costs a dpkg query.
GRID_PACKAGES=(
  g++ cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libboost-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev
  prometheus-cpp-dev libspdlog-dev  # /metrics (prometheus-cpp core only), logs (services/logging)
  libabsl-dev clang clang-format  # thread annotations; the -Wthread-safety check (ctest); tools/format
  libgeos-dev libgdal-dev  # import/: polygon repair (GEOS C API), Shapefile and GeoPackage (GDAL/OGR); the dashboard map's unions (GEOS)
  libfuzzer-14-dev  # the libFuzzer harnesses, built with clang (tests/fuzz, ctest fuzz_*)
  python3-grpcio python3-grpc-tools nodejs  # the clients in examples/ and their ctests (docs/clients.md)
  chromium fonts-wqy-zenhei  # the dashboard's browser test and its screenshots (docs/dashboard.md)
  etcd-server etcd-client  # replication's coordinator (3.4); cluster/'s tests start real members, etcdctl to look
  nats-server libnats-dev  # tools/bench/replog_bench's JetStream side and its smoke test (BENCHMARKS.md)
)

grid_install_missing() {
  local missing=()
  for p in "${GRID_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  # npm: a nodejs from NodeSource bundles it and conflicts with Debian's npm
  # package, so that is installed only when no npm is there.
  if ! command -v npm >/dev/null; then
    missing+=(npm)
  fi
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "missing packages and not root: install them with apt-get: ${missing[*]}" >&2
      return 1
    fi
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
}

grid_build() {
  local build_dir=$1; shift
  if [ ! -f "$build_dir/build.ninja" ]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  fi
  cmake --build "$build_dir" -j "$(nproc)" "$@"
}
