#!/usr/bin/env bash
# Runs the EscalationFeed benchmarks of BENCHMARKS.md ("Streams") RUNS times
# each (default 3) and prints every result line; the section reports medians.
#   tools/bench/run_feed_bench.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-3}
bench="$build/tools/bench/feed_bench"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
  echo "## repetition $i"
  "$bench" --mode fanout --subscribers 1000 --rate 100000 --warmup-s 2 --duration-s 10 | tail -1
  "$bench" --mode fanout --subscribers 10000 --rate 100000 --warmup-s 3 --duration-s 10 | tail -1
  "$bench" --mode fanout --subscribers 1000 --rate 30000 --warmup-s 2 --duration-s 10 | tail -1
  echo -n "dispatch-threads=1 "
  "$bench" --mode fanout --subscribers 1000 --rate 30000 --warmup-s 2 --duration-s 10 --dispatch-threads 1 | tail -1
  "$bench" --mode fanout --subscribers 10000 --rate 30000 --warmup-s 3 --duration-s 10 | tail -1
  "$bench" --mode fanout --subscribers 1000 --rate 10000 --warmup-s 2 --duration-s 10 | tail -1
  "$bench" --mode fanout --subscribers 10000 --rate 10000 --warmup-s 3 --duration-s 10 | tail -1
  "$bench" --mode replay --events 2000000 | tail -1
  echo -n "compact "
  "$bench" --mode replay --events 2000000 --compact | tail -1
  "$bench" --mode replay --events 2000000 --scope-share 100 | tail -1
done
echo "# done $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
