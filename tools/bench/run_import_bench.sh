#!/usr/bin/env bash
# National import: time and peak memory of `gridctl import divisions` into a
# fresh gridd, then gridd's time from restart to serving with that directory.
#   tools/bench/run_import_bench.sh [BUILD_DIR] DIVISIONS_DIR
# Loopback only; stops gridd and removes its data directory when done.
set -euo pipefail
build=${1:-build}
divisions=${2:?usage: run_import_bench.sh [BUILD_DIR] DIVISIONS_DIR}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_gridd() {
  rm -f "$work/port"
  "$build/tools/gridd" --listen 127.0.0.1:0 --data "$work/data" --port-file "$work/port" --no-demo \
    >>"$work/gridd.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    [ -s "$work/port" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$work/gridd.log"; exit 1; }
    sleep 0.05
  done
  echo "gridd did not start" >&2
  exit 1
}

start_gridd
port=$(cat "$work/port")
/usr/bin/time -f "%e %M" -o "$work/ctl.time" "$build/tools/gridctl" --server "127.0.0.1:$port" \
  import divisions "$divisions" >"$work/ctl.out"
read -r import_s ctl_kb <"$work/ctl.time"
gridd_hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"; wait "$pid" || true; pid=""

t0=$(date +%s.%N)
start_gridd
t1=$(date +%s.%N)
serving_hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

echo "| what | figure |"
echo "|---|---|"
echo "| units imported | $(grep -o 'imported [0-9]* units' "$work/ctl.out" | awk '{print $2}') |"
echo "| import, wall (gridctl reads 5 files, streams, gridd validates, saves, swaps) | ${import_s} s |"
echo "| gridd peak RSS during the import | $((gridd_hwm_kb / 1024)) MiB |"
echo "| gridctl peak RSS | $((ctl_kb / 1024)) MiB |"
echo "| gridd restart to serving (load + build the directory) | $(echo "$t1 - $t0" | bc -l | cut -c1-5) s |"
echo "| gridd peak RSS after restart | $((serving_hwm_kb / 1024)) MiB |"
