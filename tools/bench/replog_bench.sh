#!/usr/bin/env bash
# replog_bench.sh: etcd against NATS JetStream as the replicated log of a
# shard (BENCHMARKS.md, "Replication: etcd or JetStream"), side by side in one
# run; prints one markdown table of medians.
#
#   tools/bench/replog_bench.sh [BUILD_DIR]           (default: build)
#   tools/bench/replog_bench.sh --smoke [BUILD_DIR]   the CI variant (ctest replog_bench_smoke)
#
# Each run starts a fresh cluster in a temporary directory, on 127.0.0.1
# only, with the engine's default durability settings:
#   etcd   3 members (Debian's etcd-server 3.4): Raft, every member fsyncs
#          its WAL before acknowledging, the leader answers after a majority;
#   nats   3 nats-server 2.9 with JetStream and cluster routes, the stream
#          with 3 replicas: acknowledged once a majority holds the message;
#          2.9 has no sync_interval option: the stream's files are fsynced
#          every 2 minutes, its Raft log every 5 (BENCHMARKS.md);
# then runs build/tools/bench/replog_bench (--outstanding each of
# OUTSTANDING, --server-pid every member) and stops the cluster. Each
# repetition runs every record size for etcd and then for NATS, so drift in
# a shared machine's load hits both. Before the first repetition
# fsync_latency measures the temporary directory's disk (4 KiB append +
# fdatasync, vCPUs idle and kept busy).
#
# --smoke: one member of each (a single etcd; one nats-server, the stream
# R=1), 1 s, 4 KiB records, once; fails unless each engine acknowledged
# appends, none failed, the follower saw every one, and the result is
# well-formed JSON. Fails with "install nats-server/etcd-server" when a
# server binary is missing.
#
# Environment (defaults in brackets): REPEATS [3], DURATION_S [10],
# WARMUP_S [1], SIZES ["4096 65536 262144"], OUTSTANDING ["1"], ENGINES
# ["etcd nats"], BENCH_TMPDIR [$TMPDIR or /tmp], KEEP_WORK [unset: when set,
# the temporary directory with the servers' logs and each run's JSON is
# kept], ETCD [etcd on the PATH, or /usr/bin/etcd], NATS_SERVER [nats-server
# on the PATH, or /usr/sbin/nats-server]. Needs python3 and curl.
#
# Stops by itself: every server it started is stopped (SIGTERM, then SIGKILL
# after 10 s) and the temporary directory removed, also on error or Ctrl-C.
set -euo pipefail

SMOKE=0
if [[ ${1:-} == --smoke ]]; then
  SMOKE=1
  shift
fi
BUILD=${1:-build}
REPEATS=${REPEATS:-3}
DURATION_S=${DURATION_S:-10}
WARMUP_S=${WARMUP_S:-1}
SIZES=${SIZES:-"4096 65536 262144"}
OUTSTANDING=${OUTSTANDING:-1}
ENGINES=${ENGINES:-"etcd nats"}
MEMBERS=3
if ((SMOKE)); then
  REPEATS=1 DURATION_S=1 WARMUP_S=0.2 SIZES=4096 OUTSTANDING=1 MEMBERS=1
fi
TMP_ROOT=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
ETCD=${ETCD:-$(command -v etcd || echo /usr/bin/etcd)}
NATS_SERVER=${NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}  # Debian puts it in sbin
REPLOG_BENCH=$BUILD/tools/bench/replog_bench
FSYNC_LATENCY=$BUILD/tools/bench/fsync_latency

die() { echo "replog_bench: $*" >&2; exit 1; }
missing=()
[[ -x $ETCD ]] || missing+=("etcd ($ETCD)")
[[ -x $NATS_SERVER ]] || missing+=("nats-server ($NATS_SERVER)")
if ((${#missing[@]})); then
  die "missing ${missing[*]}: install nats-server/etcd-server (tools/deps.sh installs them: nats-server etcd-server etcd-client)"
fi
[[ -x $REPLOG_BENCH ]] || die "$REPLOG_BENCH is missing; build it first (ninja -C $BUILD replog_bench)"
command -v python3 >/dev/null || die "python3 is required"

WORK=$(mktemp -d "$TMP_ROOT/replog-bench.XXXXXX")
SERVER_PIDS=()
# stop_servers: SIGTERM to every server this script started, SIGKILL to
# those still there after 10 s.
stop_servers() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${SERVER_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${SERVER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "replog_bench: server $pid ignored SIGTERM for 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}
cleanup() {
  stop_servers
  if [[ -n ${KEEP_WORK:-} ]]; then echo "replog_bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_ports N: N distinct free TCP ports on 127.0.0.1, one per line.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# start_etcd DIR: MEMBERS etcd members on loopback; sets ENDPOINTS.
start_etcd() {
  local dir=$1 i cluster="" ports token="replog-$$-$RANDOM"
  mapfile -t ports < <(free_ports $((2 * MEMBERS)))
  for ((i = 0; i < MEMBERS; i++)); do
    cluster+="${cluster:+,}m$i=http://127.0.0.1:${ports[2 * i + 1]}"
  done
  ENDPOINTS=""
  for ((i = 0; i < MEMBERS; i++)); do
    local client=${ports[2 * i]} peer=${ports[2 * i + 1]}
    "$ETCD" --name "m$i" --data-dir "$dir/m$i" \
      --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
      --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
      --initial-cluster "$cluster" --initial-cluster-token "$token" --initial-cluster-state new \
      --logger zap --log-outputs stderr --log-level warn >"$dir.m$i.log" 2>&1 &
    SERVER_PIDS+=($!)
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:$client"
  done
  # Ready when every member says it is healthy (a leader is elected).
  local ep ok until=$((SECONDS + 30))
  while ((SECONDS < until)); do
    ok=1
    for ep in ${ENDPOINTS//,/ }; do
      curl -sf -m 2 "http://$ep/health" 2>/dev/null | grep -q '"health":"true"' || ok=0
    done
    ((ok)) && return 0
    sleep 0.1
  done
  tail -n 20 "$dir".m*.log >&2
  die "etcd did not become healthy in 30 s"
}

# start_nats DIR: MEMBERS nats-servers with JetStream, clustered when more
# than one; sets ENDPOINTS. The tool waits for JetStream's meta leader.
start_nats() {
  local dir=$1 i routes="" ports
  mapfile -t ports < <(free_ports $((2 * MEMBERS)))
  for ((i = 0; i < MEMBERS; i++)); do routes+="${routes:+, }nats-route://127.0.0.1:${ports[2 * i + 1]}"; done
  ENDPOINTS=""
  for ((i = 0; i < MEMBERS; i++)); do
    mkdir -p "$dir/n$i"
    {
      echo "server_name: n$i"
      echo "listen: 127.0.0.1:${ports[2 * i]}"
      echo "jetstream { store_dir: \"$dir/n$i\" }"
      if ((MEMBERS > 1)); then
        echo "cluster { name: replog, listen: 127.0.0.1:${ports[2 * i + 1]}, routes: [ $routes ] }"
      fi
    } >"$dir/n$i.conf"
    "$NATS_SERVER" -c "$dir/n$i.conf" >"$dir.n$i.log" 2>&1 &
    SERVER_PIDS+=($!)
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:${ports[2 * i]}"
  done
}

# run ENGINE SIZE OUTSTANDING REP: one run on a fresh cluster; its JSON goes
# to $WORK/runs.jsonl with the repetition added.
run() {
  local engine=$1 size=$2 outstanding=$3 rep=$4 dir=$WORK/$1-$2-$3-$4 pid_args=() pid out rc=0
  mkdir -p "$dir"
  if [[ $engine == etcd ]]; then start_etcd "$dir"; else start_nats "$dir"; fi
  for pid in "${SERVER_PIDS[@]}"; do pid_args+=(--server-pid "$pid"); done
  echo "replog_bench: $engine, $size bytes, $outstanding outstanding, repetition $rep (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  out=$("$REPLOG_BENCH" --engine "$engine" --endpoints "$ENDPOINTS" --replicas "$MEMBERS" --record-bytes "$size" \
    --outstanding "$outstanding" --duration-s "$DURATION_S" --warmup-s "$WARMUP_S" "${pid_args[@]}" --json) || rc=$?
  stop_servers
  if [[ -z $out ]]; then
    tail -n 20 "$dir".*.log >&2 || true
    die "replog_bench printed nothing for $engine (exit $rc)"
  fi
  echo "$out" >"$dir.json"
  python3 -c 'import json, sys; r = json.loads(sys.argv[1]); r["rep"] = int(sys.argv[2]); r["exit"] = int(sys.argv[3]); print(json.dumps(r))' \
    "$out" "$rep" "$rc" >>"$WORK/runs.jsonl"
  rm -rf "$dir"  # the servers' data: up to a few GB per run at 256 KiB
}

echo "replog_bench: $(nproc) vCPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $("$ETCD" --version 2>/dev/null | head -1), nats-server $("$NATS_SERVER" --version 2>/dev/null | awk '{print $NF}'), work in $WORK" >&2
FSYNC_JSON="[]"
if ((!SMOKE)) && [[ -x $FSYNC_LATENCY ]]; then
  FSYNC_JSON="[$("$FSYNC_LATENCY" --dir "$WORK" --count 500 --json), $("$FSYNC_LATENCY" --dir "$WORK" --count 500 --spin 2 --json)]"
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$WORK/runs.jsonl"
for rep in $(seq "$REPEATS"); do
  for engine in $ENGINES; do
    for size in $SIZES; do
      for outstanding in $OUTSTANDING; do run "$engine" "$size" "$outstanding" "$rep"; done
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$WORK/runs.jsonl" "$SMOKE" "$REPEATS" "$DURATION_S" "$MEMBERS" "$FSYNC_JSON" "$LOAD_BEFORE" "$LOAD_AFTER" <<'EOF'
import json, statistics as st, sys
path, smoke, repeats, duration, members, fsync, load_before, load_after = sys.argv[1:]
runs = [json.loads(line) for line in open(path) if line.strip()]
med = lambda xs: st.median(xs) if xs else float("nan")
if smoke == "1":
    need = {"engine", "appends", "appends_per_s", "mb_per_s", "p50_ms", "p99_ms", "max_ms", "failed",
            "follower_seen", "follower_missing", "lag_p50_ms", "lag_p99_ms", "server_cpu_us_per_append",
            "stale_append_refused", "ok"}
    bad = []
    for r in runs:
        if need - r.keys():
            bad.append(f"{r.get('engine')}: fields missing: {sorted(need - r.keys())}")
        elif not (r["appends"] > 0 and r["failed"] == 0 and r["follower_missing"] == 0 and r["ok"]
                  and r["server_cpu_us_per_append"] >= 0 and r["exit"] == 0):
            bad.append(f"{r['engine']}: {json.dumps(r)}")
    for r in runs:
        if not need - r.keys():
            print(f"{r['engine']}: {r['appends']} appends in {r['duration_s']} s, p50 {r['p50_ms']} ms, "
                  f"follower saw {r['follower_seen']}, missing {r['follower_missing']}, failed {r['failed']}")
    engines = sorted({r["engine"] for r in runs})
    if engines != ["etcd", "nats"]:
        bad.append(f"runs for {engines}, not etcd and nats")
    if bad:
        print("replog_bench smoke: FAILED\n  " + "\n  ".join(bad))
        sys.exit(1)
    print("replog_bench smoke: OK")
    sys.exit(0)

for f in json.loads(fsync):
    d = f["fdatasync"]
    print(f"fsync_latency {f['fs_type']} on {f['device']}, spin {f['spin']}: 4 KiB append + fdatasync "
          f"p50 {d['p50_ms']:.3f} p99 {d['p99_ms']:.3f} max {d['max_ms']:.3f} ms")
print(f"load average before {load_before}, after {load_after}")
print(f"{repeats} repetitions of {duration} s per row, {members} members per cluster; medians over the repetitions")
print()
print("| engine | record | outstanding | appends/s | MB/s | p50 ms | p99 ms | max ms | follower lag p50 / p99 ms "
      "| server CPU µs/append | failed | follower missing | stale append refused |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
keys = []
for r in runs:
    k = (r["engine"], r["record_bytes"], r["outstanding"])
    if k not in keys:
        keys.append(k)
for k in keys:
    rs = [r for r in runs if (r["engine"], r["record_bytes"], r["outstanding"]) == k]
    v = lambda f: med([r[f] for r in rs])
    size = f"{k[1] // 1024} KiB"
    print(f"| {k[0]} | {size} | {k[2]} | {v('appends_per_s'):,.0f} | {v('mb_per_s'):.2f} | {v('p50_ms'):.2f} "
          f"| {v('p99_ms'):.2f} | {v('max_ms'):.1f} | {v('lag_p50_ms'):.2f} / {v('lag_p99_ms'):.2f} "
          f"| {v('server_cpu_us_per_append'):,.0f} | {sum(r['failed'] for r in rs)} | {sum(r['follower_missing'] for r in rs)} "
          f"| {sum(r['stale_append_refused'] for r in rs)} of {len(rs)} |")
EOF
