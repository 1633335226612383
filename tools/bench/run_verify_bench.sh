#!/usr/bin/env bash
# run_verify_bench.sh: how fast `gridd --verify` checks a store, and its peak
# memory, printed as markdown for BENCHMARKS.md.
#
#   tools/bench/run_verify_bench.sh BUILD_DIR DATA_DIR [CASES]
#
# Builds nothing: BUILD_DIR must hold tools/gridd and tools/bench/submit_load.
# When DATA_DIR does not exist it is filled first: a gridd (demo directory,
# --unsafe-no-sync: the fill is not what is measured) on DATA_DIR takes
# submit_load at 64 callers until it holds at least CASES cases (default
# 100000; each has its SUBMITTED and ROUTED events, index entries, figures,
# feed entries and an idempotency key), then stops with SIGTERM. An existing
# DATA_DIR is verified as it is (it must not be in use).
#
# Then REPEATS [3] runs of `gridd --verify --data DATA_DIR` under
# /usr/bin/time: wall seconds, CPU seconds and peak RSS each; the first run
# reads the files from disk (or the page cache the fill left), the others
# from the page cache. Every run must exit 0 (clean).
set -euo pipefail

BUILD=${1:?usage: run_verify_bench.sh BUILD_DIR DATA_DIR [CASES]}
DATA=${2:?usage: run_verify_bench.sh BUILD_DIR DATA_DIR [CASES]}
CASES=${3:-100000}
REPEATS=${REPEATS:-3}
GRIDD=$BUILD/tools/gridd
SUBMIT_LOAD=$BUILD/tools/bench/submit_load
for bin in "$GRIDD" "$SUBMIT_LOAD"; do
  [[ -x $bin ]] || { echo "run_verify_bench: $bin is missing; build it first" >&2; exit 2; }
done

# Cases in DATA_DIR, from the verifier's summary line ("N cases, ...").
count_cases() { "$GRIDD" --verify --data "$DATA" | tail -1 | sed -n 's/^\([0-9]*\) cases,.*/\1/p'; }

if [[ ! -e $DATA ]]; then
  PID=
  trap '[[ -n $PID ]] && kill -TERM "$PID" 2>/dev/null; true' EXIT
  "$GRIDD" --listen 127.0.0.1:0 --data "$DATA" --port-file "$DATA.port" --unsafe-no-sync >"$DATA.log" 2>&1 &
  PID=$!
  for _ in $(seq 600); do [[ -s $DATA.port ]] && break; sleep 0.1; done
  [[ -s $DATA.port ]] || { echo "run_verify_bench: gridd did not start" >&2; cat "$DATA.log" >&2; exit 1; }
  PORT=$(cat "$DATA.port")
  done_cases=0
  seed=1
  while ((done_cases < CASES)); do
    # Each run submits new cases (its own nonce in the keys); ~8,000/s unsynced.
    out=$("$SUBMIT_LOAD" --server "127.0.0.1:$PORT" --concurrency 64 --duration-s 10 --warmup-s 0 --seed $seed --json)
    seed=$((seed + 1))
    ok=$(echo "$out" | sed -n 's/.*"ok": *\([0-9]*\).*/\1/p' | head -1)
    done_cases=$((done_cases + ${ok:-0}))
    echo "  filled ~$done_cases cases" >&2
  done
  kill -TERM "$PID"
  wait "$PID" || true
  PID=
  rm -f "$DATA.port"
fi

echo "| run | cases | wall s | CPU s (user+sys) | peak RSS MiB | cases/s |"
echo "|---|---|---|---|---|---|"
for i in $(seq "$REPEATS"); do
  /usr/bin/time -f '%e %U %S %M' -o "$DATA.time" "$GRIDD" --verify --data "$DATA" >"$DATA.verify" || {
    echo "run_verify_bench: gridd --verify did not find the store clean:" >&2
    cat "$DATA.verify" >&2
    exit 1
  }
  read -r wall user sys rss <"$DATA.time"
  cases=$(tail -1 "$DATA.verify" | sed -n 's/^\([0-9]*\) cases,.*/\1/p')
  awk -v i="$i" -v c="$cases" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
    'BEGIN { printf "| %d | %d | %.2f | %.2f | %.0f | %.0f |\n", i, c, w, u + s, r / 1024, (w > 0 ? c / w : 0) }'
done
echo
echo "summary: $(tail -1 "$DATA.verify")"
rm -f "$DATA.time" "$DATA.verify"
