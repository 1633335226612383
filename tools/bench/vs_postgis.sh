#!/usr/bin/env bash
# vs_postgis.sh: gridd's intake against the PostgreSQL + PostGIS peer, on the
# same workload, side by side in one run; prints one markdown table for
# BENCHMARKS.md.
#
#   tools/bench/vs_postgis.sh [BUILD_DIR]          (default: build)
#
# The workload, both sides: the 99 Los Angeles neighbourhood-council polygons
# (la_neighborhood_councils_2019_ncid_patched.geojson) and the 9,995 LA 311
# points with coordinates of la311_2018-12-27_to_12-31.csv; each case is one
# random point of those, routed to the polygon that contains it and stored
# durably (the peer: one transaction, INSERT ... SELECT ... ST_Contains on a
# GiST index, acknowledged after the WAL flush; gridd: SubmitCase,
# acknowledged after the fsynced commit), at each number of callers.
#
# Each repetition runs the peer (PEER_DIR/run.sh, all caller counts, its own
# fresh cluster) and then gridd (a fresh data directory; the same polygons
# imported with gridctl as grids; submit_load --points at each caller
# count), so drift in a shared machine's load hits both. Per caller count the
# table gives the medians over the repetitions of throughput, p50 and p99
# and of each side's server CPU per case (the peer: its server processes'
# cores / tps, as run.sh measures them; gridd: /proc/PID/stat utime+stime
# over the run / cases answered), and the median of the per-repetition
# ratios gridd / peer.
#
# Environment (defaults in brackets): PEER_DIR [../shared/peer-postgis from
# the repository], LA_DATA [../shared/data/la311], CLIENTS ["1 16 64"],
# DURATION_S [20], WARMUP_S [3], REPEATS [2], BENCH_TMPDIR [$TMPDIR or /tmp],
# KEEP_WORK [unset; when set, the temporary directory with both sides' logs is kept].
# Needs jq and python3; run.sh installs PostgreSQL 15 + PostGIS 3 when they
# are missing (root). Stops by itself; gridd is stopped with SIGTERM and the
# temporary directory removed, also on error or Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
PEER_DIR=${PEER_DIR:-$ROOT/../shared/peer-postgis}
LA_DATA=${LA_DATA:-$ROOT/../shared/data/la311}
CLIENTS=${CLIENTS:-"1 16 64"}
DURATION_S=${DURATION_S:-20}
WARMUP_S=${WARMUP_S:-3}
REPEATS=${REPEATS:-2}
TMP_ROOT=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

POLYGONS=$LA_DATA/la_neighborhood_councils_2019_ncid_patched.geojson
POINTS_CSV=$LA_DATA/la311_2018-12-27_to_12-31.csv
GRIDD=$BUILD/tools/gridd
GRIDCTL=$BUILD/tools/gridctl
SUBMIT_LOAD=$BUILD/tools/bench/submit_load
die() { echo "vs_postgis: $*" >&2; exit 2; }
for bin in "$GRIDD" "$GRIDCTL" "$SUBMIT_LOAD"; do [[ -x $bin ]] || die "$bin is missing; build it first"; done
[[ -r $PEER_DIR/run.sh ]] || die "no peer at $PEER_DIR (set PEER_DIR)"
[[ -r $POLYGONS && -r $POINTS_CSV ]] || die "LA data not found in $LA_DATA (set LA_DATA)"
command -v jq >/dev/null || die "jq is required"
read -r -a LEVELS <<<"$CLIENTS"

WORK=$(mktemp -d "$TMP_ROOT/vs-postgis.XXXXXX")
GRIDD_PID=""
cleanup() {
  if [[ -n $GRIDD_PID ]]; then kill -TERM "$GRIDD_PID" 2>/dev/null || true; wait "$GRIDD_PID" 2>/dev/null || true; fi
  [[ -n ${KEEP_WORK:-} ]] && echo "vs_postgis: kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The points both sides submit: "lat,lng" of every row with coordinates.
python3 - "$POINTS_CSV" "$WORK/points.csv" <<'EOF'
import csv, sys
n = 0
with open(sys.argv[1], newline='', encoding='utf-8-sig') as f, open(sys.argv[2], 'w') as out:
    for row in csv.DictReader(f):
        try:
            lat, lng = float(row['Latitude']), float(row['Longitude'])
        except (KeyError, ValueError):
            continue
        if lat != 0 and lng != 0:
            out.write(f"{lat},{lng}\n")
            n += 1
print(f"vs_postgis: {n} points", file=sys.stderr)
EOF

# The directory gridd routes with: one county, town and community, and the
# councils as its grids.
cat >"$WORK/la.json" <<'EOF'
{"units": [
  {"code": "la", "level": "UNIT_LEVEL_COUNTY", "name": "Los Angeles"},
  {"code": "la-city", "level": "UNIT_LEVEL_TOWN", "name": "City of Los Angeles", "parentCode": "la"},
  {"code": "la-nc", "level": "UNIT_LEVEL_COMMUNITY", "name": "Neighborhood councils", "parentCode": "la-city"}],
 "categories": [{"code": "sanitation.garbage", "name": "Garbage", "handling": "HANDLING_GRID",
                 "deadlineClass": "general"}]}
EOF

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# peer REP: runs the peer; appends "rep clients tps p50 p99 server_cores" rows.
peer() {
  local rep=$1 report=$WORK/peer-$1.md
  echo "vs_postgis: repetition $rep: the peer" >&2
  DURATION=$DURATION_S CLIENT_COUNTS="$CLIENTS" POLYGONS=$POLYGONS POINTS_CSV=$POINTS_CSV RESULTS=$report \
    bash "$PEER_DIR/run.sh" >"$WORK/peer-$rep.log" 2>&1 || { tail -20 "$WORK/peer-$rep.log" >&2; die "the peer failed"; }
  # | clients | **tps** | avg | p50 | p99 | max | transactions | failed | server/pgbench/rest |
  awk -v rep="$rep" '/^#+ Route \+ store durably/ {on = 1} on && /^\| [0-9]+ \|/ {
      gsub(/\*/, ""); split($0, f, "|"); split(f[10], cpu, "/");
      printf "%s %d %s %s %s %s\n", rep, f[2], f[3] + 0, f[5] + 0, f[6] + 0, cpu[1] + 0 }' "$report" >>"$WORK/peer.rows"
}

# gridd REP: a fresh gridd with the LA directory; appends "rep clients
# cases_per_s p50 p99 cpu_us_per_case" rows.
gridd_side() {
  local rep=$1 data=$WORK/gridd-$rep
  echo "vs_postgis: repetition $rep: gridd" >&2
  "$GRIDD" --no-demo --data "$data" --listen 127.0.0.1:0 --port-file "$WORK/port-$rep" >"$WORK/gridd-$rep.log" 2>&1 &
  GRIDD_PID=$!
  for _ in $(seq 100); do [[ -s $WORK/port-$rep ]] && break; sleep 0.1; done
  [[ -s $WORK/port-$rep ]] || { cat "$WORK/gridd-$rep.log" >&2; die "gridd did not start"; }
  local server=127.0.0.1:$(cat "$WORK/port-$rep")
  "$GRIDCTL" --server "$server" import json "$WORK/la.json" >/dev/null
  "$GRIDCTL" --server "$server" import geojson "$POLYGONS" --code-prop nc_id --name-prop name --parent la-nc \
    --level grid --code-prefix nc- >/dev/null
  local hz c before after out
  hz=$(getconf CLK_TCK)
  for c in "${LEVELS[@]}"; do
    before=$(cpu_ticks "$GRIDD_PID")
    out=$("$SUBMIT_LOAD" --server "$server" --points "$WORK/points.csv" --concurrency "$c" \
      --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" --json)
    after=$(cpu_ticks "$GRIDD_PID")
    jq -r --arg rep "$rep" --arg c "$c" --arg cpu "$((after - before))" --arg hz "$hz" \
      '"\($rep) \($c) \(.cases_per_s) \(.p50_ms) \(.p99_ms) \(($cpu | tonumber) / ($hz | tonumber) * 1e6 / ((.calls_started - .errors) | if . > 0 then . else 1 end))"' \
      <<<"$out" >>"$WORK/gridd.rows"
  done
  kill -TERM "$GRIDD_PID"
  wait "$GRIDD_PID" || true
  GRIDD_PID=""
}

for rep in $(seq "$REPEATS"); do
  peer "$rep"
  gridd_side "$rep"
done

# The table: medians per caller count, and the median of paired ratios.
python3 - "$WORK/peer.rows" "$WORK/gridd.rows" "$CLIENTS" "$REPEATS" "$DURATION_S" <<'EOF'
import statistics as st, sys
def rows(path):
    out = {}
    for line in open(path):
        rep, c, *v = line.split()
        out[(int(rep), int(c))] = [float(x) for x in v]
    return out
peer, gridd = rows(sys.argv[1]), rows(sys.argv[2])
clients = [int(c) for c in sys.argv[3].split()]
reps = range(1, int(sys.argv[4]) + 1)
med = lambda xs: st.median(xs) if xs else float('nan')
print(f"{sys.argv[4]} repetitions of {sys.argv[5]} s per row, peer then gridd; medians, ratios paired per repetition")
print()
print("| callers | peer tps | peer p50 / p99 ms | gridd cases/s | gridd p50 / p99 ms | gridd / peer tps "
      "| peer server CPU µs/case | gridd server CPU µs/case | CPU ratio |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in clients:
    p = [peer[(r, c)] for r in reps if (r, c) in peer]
    g = [gridd[(r, c)] for r in reps if (r, c) in gridd]
    p_cpu = [v[3] / v[0] * 1e6 for v in p if v[0] > 0]
    ratio = [gridd[(r, c)][0] / peer[(r, c)][0] for r in reps if (r, c) in peer and (r, c) in gridd]
    cpu_ratio = [gridd[(r, c)][3] / (peer[(r, c)][3] / peer[(r, c)][0] * 1e6)
                 for r in reps if (r, c) in peer and (r, c) in gridd and peer[(r, c)][0] > 0]
    print(f"| {c} | {med([v[0] for v in p]):,.0f} | {med([v[1] for v in p]):.3f} / {med([v[2] for v in p]):.3f} "
          f"| {med([v[0] for v in g]):,.0f} | {med([v[1] for v in g]):.3f} / {med([v[2] for v in g]):.3f} "
          f"| {med(ratio):.2f} | {med(p_cpu):.0f} | {med([v[3] for v in g]):.0f} | {med(cpu_ratio):.2f} |")
EOF
