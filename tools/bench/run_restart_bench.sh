#!/usr/bin/env bash
# run_restart_bench.sh: gridd's restart after a SIGKILL under full intake
# load, with the log bound (the default --max-log-mb) and without it
# (--max-log-mb 0: the settings before the bound), side by side, printed as
# markdown for BENCHMARKS.md.
#
#   tools/bench/run_restart_bench.sh [BUILD_DIR]      (default: build)
#
# For each load length in LOADS (seconds; default "30 90 180"), runs
# tools/bench/restart_time once without the bound and once with it (in that
# order), each on a fresh data directory: the intake rate during the load,
# the write-ahead log found at the SIGKILL, and the median of RESTARTS
# restarts (default 3), each on its own copy of the killed directory.
# Environment: LOADS, RESTARTS, CONCURRENCY [64], BOUND_MB [64],
# BENCH_TMPDIR [$TMPDIR or /tmp].
set -euo pipefail

BUILD=${1:-build}
LOADS=${LOADS:-"30 90 180"}
RESTARTS=${RESTARTS:-3}
CONCURRENCY=${CONCURRENCY:-64}
BOUND_MB=${BOUND_MB:-64}
TMP_ROOT=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
BIN=$BUILD/tools/bench/restart_time
[[ -x $BIN ]] || { echo "run_restart_bench: $BIN is missing; build it first" >&2; exit 2; }
command -v jq >/dev/null || { echo "run_restart_bench: jq is required" >&2; exit 2; }

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for load in $LOADS; do
  for mb in 0 "$BOUND_MB"; do
    out=$("$BIN" --build "$BUILD" --work-dir "$TMP_ROOT" --load-s "$load" --max-log-mb "$mb" \
      --restarts "$RESTARTS" --concurrency "$CONCURRENCY" --json)
    echo "  $out" >&2
    rows+=("$out")
  done
done

echo "- Command: \`tools/bench/run_restart_bench.sh $BUILD\` (LOADS=\"$LOADS\" RESTARTS=$RESTARTS CONCURRENCY=$CONCURRENCY BOUND_MB=$BOUND_MB)"
echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), shared; load average before the runs: $LOADAVG"
echo "- Date: $(date -u)"
echo
echo "| load | --max-log-mb | intake cases/s | WAL at SIGKILL | WAL files | restart to serving, median (each) |"
echo "|---:|---:|---:|---:|---:|---|"
for row in "${rows[@]}"; do
  jq -r '"| \(.load_s) s | \(if .max_log_mb == 0 then "0 (no bound, as before)" else .max_log_mb end) | \(.cases_per_s | floor) | \(.wal_bytes / 1048576 | floor) MiB | \(.wal_files) | \(.restart_median_s * 1000 | floor) ms (\(.restart_s | map(. * 1000 | floor | tostring) | join(", ")) ms) |"' <<<"$row"
done
