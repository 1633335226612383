#!/usr/bin/env bash
# run_submit_bench.sh: SubmitCase throughput and latency of gridd, with its
# in-run baselines, printed as markdown for BENCHMARKS.md.
#
#   tools/bench/run_submit_bench.sh [BUILD_DIR]      (default: build)
#
# Builds nothing: BUILD_DIR must hold tools/gridd, tools/bench/submit_load and
# tools/bench/fsync_latency.
#
# Two gridd processes run side by side on port 0, each on a fresh data
# directory: "synced" (the default: every commit is fsynced) and "nosync"
# (--unsafe-no-sync, what the server does without the fsync). Each
# repetition measures, in this order:
#   fsync      fsync_latency on the data directories' filesystem, once with
#              the vCPUs idle and once with them kept busy (--spin): on a VM
#              an idle vCPU can take a host tick (4 ms) to see the I/O
#              completion. 1 / p50 is the most a one-write-per-fsync design
#              could do;
#   synced-cN  submit_load at each concurrency level (default 1 and 64);
#   nosync-cN  submit_load at the highest level against the nosync gridd.
# Interleaving makes drift in a shared machine's load hit every variant
# alike. The table gives, per column, the median over the repetitions; the
# ratios are medians of the per-repetition (paired) ratios.
#
# Environment (defaults in brackets): DURATION_S [20], WARMUP_S [3],
# REPEATS [3], CONCURRENCY ["1 64"], BENCH_TMPDIR [$TMPDIR or /tmp] (where
# the data directories go), PERF [auto]: 1 (or auto, when it works) counts
# gridd's fdatasync + fsync calls in each measured window with `perf stat` on
# the syscall tracepoints (in-kernel counters, no measurable overhead),
# giving syncs/s and cases per sync; 0 does not.
#
# Stops by itself; the gridds are stopped with SIGTERM and the temporary
# directory is removed, also on error or Ctrl-C (their logs are shown then).
set -euo pipefail

BUILD=${1:-build}
DURATION_S=${DURATION_S:-20}
WARMUP_S=${WARMUP_S:-3}
REPEATS=${REPEATS:-3}
CONCURRENCY=${CONCURRENCY:-"1 64"}
TMP_ROOT=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
PERF=${PERF:-auto}

GRIDD=$BUILD/tools/gridd
SUBMIT_LOAD=$BUILD/tools/bench/submit_load
FSYNC_LATENCY=$BUILD/tools/bench/fsync_latency
for bin in "$GRIDD" "$SUBMIT_LOAD" "$FSYNC_LATENCY"; do
  [[ -x $bin ]] || { echo "run_submit_bench: $bin is missing; build it first" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "run_submit_bench: jq is required" >&2; exit 2; }
if [[ $PERF == auto ]]; then
  PERF=0
  perf stat -e syscalls:sys_enter_fdatasync -- true >/dev/null 2>&1 && PERF=1
fi
read -r -a LEVELS <<<"$CONCURRENCY"
LO=${LEVELS[0]}
HI=${LEVELS[${#LEVELS[@]}-1]}

WORK=$(mktemp -d "$TMP_ROOT/gridd-bench.XXXXXX")
declare -A PID=() PORT=()  # gridd name -> process id, port
COUNTER_PID=""
RUNS=()  # the runs' JSON files, in order

# stop_gridd NAME: SIGTERM, up to 30 s for a graceful shutdown, then SIGKILL.
stop_gridd() {
  local name=$1 pid=${PID[$1]:-} rc=0
  [[ -n $pid ]] || return 0
  unset "PID[$name]"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "run_submit_bench: gridd $name ($pid) ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "run_submit_bench: gridd $name exited with status $rc" >&2
    return 1
  fi
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e  # clean up as much as possible, whatever fails
  if [[ -n $COUNTER_PID ]]; then
    pkill -TERM -P "$COUNTER_PID" 2>/dev/null
    kill -TERM "$COUNTER_PID" 2>/dev/null
  fi
  for name in "${!PID[@]}"; do stop_gridd "$name" || rc=1; done
  if [[ $rc -ne 0 ]]; then
    for log in "$WORK"/*.log; do
      [[ -e $log ]] || continue
      echo "run_submit_bench: failed; the end of $(basename "$log"):" >&2
      tail -n 20 "$log" >&2
    done
  fi
  rm -rf -- "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_gridd NAME [FLAG...]: a gridd on the fresh data directory $WORK/NAME.
start_gridd() {
  local name=$1
  shift
  "$GRIDD" --listen 127.0.0.1:0 --data "$WORK/$name" --port-file "$WORK/$name.port" "$@" \
    >"$WORK/$name.log" 2>&1 &
  PID[$name]=$!
  for _ in $(seq 600); do  # up to 60 s to load the demo directory and listen
    [[ -s $WORK/$name.port ]] && break
    kill -0 "${PID[$name]}" 2>/dev/null || { echo "run_submit_bench: gridd $name did not start" >&2; return 1; }
    sleep 0.1
  done
  [[ -s $WORK/$name.port ]] || { echo "run_submit_bench: gridd $name did not start in 60 s" >&2; return 1; }
  PORT[$name]=$(<"$WORK/$name.port")
  echo "  gridd $name on port ${PORT[$name]} ($*)" >&2
}

# count_syncs NAME OUT: gridd NAME's fdatasync + fsync calls in the measured
# window of a run starting now (after WARMUP_S, for DURATION_S), into OUT.
count_syncs() {
  sleep "$WARMUP_S"
  perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync -p "${PID[$1]}" -- sleep "$DURATION_S" \
    2>&1 >/dev/null | awk -F, '/sys_enter_f/ { n += $1 } END { print n + 0 }' >"$2"
}

# run_load NAME CONCURRENCY OUT: one submit_load run against gridd NAME; OUT
# gets submit_load's JSON plus "syncs" (null when not counted).
run_load() {
  local name=$1 c=$2 out=$3 syncs=null load_rc=0 rc=0
  if [[ $PERF == 1 ]]; then
    count_syncs "$name" "$out.syncs" &
    COUNTER_PID=$!
  fi
  "$SUBMIT_LOAD" --server "127.0.0.1:${PORT[$name]}" --concurrency "$c" --duration-s "$DURATION_S" \
    --warmup-s "$WARMUP_S" --seed "$c" --json >"$out.load" || load_rc=$?
  if [[ -n $COUNTER_PID ]]; then
    wait "$COUNTER_PID" || true  # perf fails when gridd died; reported below
    COUNTER_PID=""
    syncs=$(<"$out.syncs")
  fi
  if ! kill -0 "${PID[$name]}" 2>/dev/null; then
    wait "${PID[$name]}" || rc=$?
    unset "PID[$name]"
    echo "run_submit_bench: gridd $name exited during $(basename "$out" .json) with status $rc" >&2
    return 1
  fi
  if [[ $load_rc -ne 0 ]]; then
    echo "run_submit_bench: submit_load failed in $(basename "$out" .json) with status $load_rc" >&2
    return 1
  fi
  jq --argjson syncs "$syncs" '. + {syncs: $syncs}' "$out.load" >"$out"
  RUNS+=("$out")
  echo "  $(basename "$out" .json): $(jq -r '"\(.cases_per_s) cases/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, errors \(.errors), syncs \(.syncs)"' "$out")" >&2
}

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
echo "run_submit_bench: build $BUILD, work dir $WORK, sync counting with perf: $PERF" >&2
start_gridd synced
start_gridd nosync --unsafe-no-sync
for rep in $(seq "$REPEATS"); do
  for mode in idle busy; do
    spin=0
    [[ $mode == busy ]] && spin=$(nproc)
    "$FSYNC_LATENCY" --dir "$WORK" --count 500 --spin "$spin" --json >"$WORK/fsync-$mode-r$rep.json"
    echo "  fsync-$mode-r$rep: $(jq -c '{fdatasync, fsync}' "$WORK/fsync-$mode-r$rep.json")" >&2
  done
  for c in "${LEVELS[@]}"; do run_load synced "$c" "$WORK/synced-c$c-r$rep.json"; done
  run_load nosync "$HI" "$WORK/nosync-c$HI-r$rep.json"
done
stop_gridd synced
stop_gridd nosync

# ---- Report ------------------------------------------------------------------

# median EXPR FILE...: the median over runs of a jq expression on each run.
median() {
  local expr=$1
  shift
  jq -s "[.[] | $expr] | if any(. == null) then null else sort |
         if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end end" "$@"
}
# paired_ratio A B: the median over repetitions of A-rN's cases/s / B-rN's.
paired_ratio() {
  local rep ratios=()
  for rep in $(seq "$REPEATS"); do
    ratios+=("$(jq -s '.[0].cases_per_s / .[1].cases_per_s' "$WORK/$1-r$rep.json" "$WORK/$2-r$rep.json")")
  done
  printf '%s\n' "${ratios[@]}" | jq -s 'sort | if length % 2 == 1 then .[length/2|floor]
                                        else (.[length/2-1] + .[length/2]) / 2 end'
}
fmt() { if [[ $2 == null ]]; then printf 'n/a'; else printf '%.*f' "$1" "$2"; fi; }
SYNCS_PER_S="if .syncs == null then null else .syncs / .duration_s end"
CASES_PER_SYNC="if .syncs == null or .syncs == 0 then null else .ok / .syncs end"

row() {  # row LABEL CALLERS FILE...
  local label=$1 c=$2
  shift 2
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$c" "$#" \
    "$(fmt 0 "$(median .cases_per_s "$@")")" "$(fmt 2 "$(median .p50_ms "$@")")" \
    "$(fmt 2 "$(median .p90_ms "$@")")" "$(fmt 2 "$(median .p99_ms "$@")")" "$(fmt 2 "$(median .p999_ms "$@")")" \
    "$(fmt 2 "$(median .max_ms "$@")")" "$(jq -s '[.[].errors] | add' "$@")" \
    "$(fmt 0 "$(median "$SYNCS_PER_S" "$@")")" "$(fmt 1 "$(median "$CASES_PER_SYNC" "$@")")"
}

# fsync_figure MODE EXPR: "median (min–max)" over the fsync measurements, ms.
fsync_figure() {
  local runs=("$WORK"/fsync-"$1"-r*.json) lo hi
  lo=$(jq -s "[.[] | $2] | min" "${runs[@]}")
  hi=$(jq -s "[.[] | $2] | max" "${runs[@]}")
  echo "$(fmt 3 "$(median "$2" "${runs[@]}")") ($(fmt 3 "$lo")–$(fmt 3 "$hi"))"
}
# fsync_line MODE: the fsync figures of one mode.
fsync_line() {
  echo "fdatasync p50 $(fsync_figure "$1" .fdatasync.p50_ms), p99 $(fsync_figure "$1" .fdatasync.p99_ms), mean $(fsync_figure "$1" .fdatasync.mean_ms); fsync p50 $(fsync_figure "$1" .fsync.p50_ms), p99 $(fsync_figure "$1" .fsync.p99_ms)"
}
idle_runs=("$WORK"/fsync-idle-r*.json)
busy_runs=("$WORK"/fsync-busy-r*.json)
idle_p50=$(median .fdatasync.p50_ms "${idle_runs[@]}")
busy_p50=$(median .fdatasync.p50_ms "${busy_runs[@]}")
idle_rate=$(jq -n "1000 / $idle_p50")
busy_rate=$(jq -n "1000 / $busy_p50")

echo "- Command: \`tools/bench/run_submit_bench.sh $BUILD\` (DURATION_S=$DURATION_S WARMUP_S=$WARMUP_S REPEATS=$REPEATS, sync counting $PERF)"
echo "- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), shared by gridd and submit_load; load average before the runs: $LOADAVG"
echo "- Data directory filesystem: $(jq -r '"\(.fs_type) (\(.device) at \(.mount_point))"' "${idle_runs[0]}")"
echo "- fsync latency, 4 KiB append + sync x 500, measured ${#idle_runs[@]} times each, median (min–max) ms:"
echo "  - vCPUs idle: $(fsync_line idle)"
echo "  - vCPUs busy (fsync_latency --spin $(nproc)): $(fsync_line busy)"
echo "- Date: $(date -u)"
echo
echo "| gridd | callers | runs | cases/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | syncs/s | cases/sync |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
echo "| baseline: raw fdatasync, vCPUs idle, 1 / p50 | – | – | $(fmt 0 "$idle_rate") | $(fmt 2 "$idle_p50") | | | | | | $(fmt 0 "$idle_rate") | 1 |"
echo "| baseline: raw fdatasync, vCPUs busy, 1 / p50 | – | – | $(fmt 0 "$busy_rate") | $(fmt 2 "$busy_p50") | | | | | | $(fmt 0 "$busy_rate") | 1 |"
for c in "${LEVELS[@]}"; do
  runs=("$WORK"/synced-c"$c"-r*.json)
  row "synced (default)" "$c" "${runs[@]}"
done
runs=("$WORK"/nosync-c"$HI"-r*.json)
row "baseline: --unsafe-no-sync" "$HI" "${runs[@]}"
echo
hi_runs=("$WORK"/synced-c"$HI"-r*.json)
sync_hi=$(median .cases_per_s "${hi_runs[@]}")
echo "Ratios (median of the per-repetition ratios; against the raw fdatasync rates: of the medians):"
echo
echo "- synced, $HI / $LO callers: $(fmt 2 "$(paired_ratio "synced-c$HI" "synced-c$LO")")x"
echo "- synced / --unsafe-no-sync, $HI callers: $(fmt 2 "$(paired_ratio "synced-c$HI" "nosync-c$HI")")x"
echo "- synced, $HI callers / raw fdatasync rate, vCPUs idle: $(fmt 2 "$(jq -n "$sync_hi / $idle_rate")")x; vCPUs busy: $(fmt 2 "$(jq -n "$sync_hi / $busy_rate")")x"
echo
echo "Runs, in order:"
echo
echo "| run | cases/s | p50 ms | p99 ms | max ms | errors | syncs |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for f in "${RUNS[@]}"; do
  run=$(basename "$f" .json)
  if [[ $run == synced-c${LO}-r* ]]; then  # first of a repetition: its fsync measurements came just before
    for mode in idle busy; do
      jq -r --arg run "fsync-$mode-${run##*-}" \
        '"| \($run): fdatasync p50 \(.fdatasync.p50_ms) ms, p99 \(.fdatasync.p99_ms) ms | | | | | | |"' \
        "$WORK/fsync-$mode-${run##*-}.json"
    done
  fi
  jq -r --arg run "$run" \
    '"| \($run) | \(.cases_per_s) | \(.p50_ms) | \(.p99_ms) | \(.max_ms) | \(.errors) | \(.syncs) |"' "$f"
done
