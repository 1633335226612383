#!/bin/bash
# The national geo benchmark's polygons and points in PostgreSQL 15 + PostGIS:
# a private server on localhost (a free port, a temp dir, removed at the end),
# the grid polygons loaded with COPY from `geo_bench --dump-wkt -`, a GiST
# index, then one batch ST_Contains join per point set, timed; prints points/s.
# Single core on the query side (max_parallel_workers_per_gather = 0), to
# compare with geo_bench's single-thread figures.
#
#   tools/geobench/run_postgis.sh BUILD_DIR DIVISIONS_DIR LA311_DIR [MAX_POINTS]
#
# Runs the server as the `postgres` user (created by the Debian package) when
# started as root, since PostgreSQL refuses to run as root.
set -euo pipefail

BUILD=${1:?build dir}
DIVISIONS=${2:?divisions dir}
LA=${3:?la311 dir}
MAX_POINTS=${4:-200000}
BENCH="$BUILD/tools/geobench/geo_bench"
PGBIN=/usr/lib/postgresql/15/bin
[ -x "$BENCH" ] || { echo "no $BENCH (build geo_bench first)" >&2; exit 1; }
[ -x "$PGBIN/initdb" ] || { echo "PostgreSQL 15 not found in $PGBIN" >&2; exit 1; }

WORK=$(mktemp -d /tmp/geobench-pg.XXXXXX)
chmod 755 "$WORK"
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$WORK" --shell /bin/false postgres
  chown postgres "$WORK"
  AS=(runuser -u postgres --)
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }

"${AS[@]}" "$PGBIN/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -o "-p $PORT -k $WORK \
  -c listen_addresses=localhost -c shared_buffers=1GB -c maintenance_work_mem=1GB -c work_mem=256MB \
  -c max_wal_size=16GB -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
  -c max_parallel_workers_per_gather=0 -c max_parallel_maintenance_workers=0 -c jit=off" start >/dev/null
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$PORT" -U postgres -d postgres)
"${PSQL[@]}" -c "SELECT version();" -tA
"${PSQL[@]}" -c "CREATE EXTENSION postgis;"
"${PSQL[@]}" -tA -c "SELECT 'PostGIS ' || postgis_lib_version();"
"${PSQL[@]}" -c "CREATE UNLOGGED TABLE grids (id integer, geom geometry);
                 CREATE UNLOGGED TABLE pts (set text, lng float8, lat float8);"

t0=$(now)
"$BENCH" --divisions "$DIVISIONS" --la "$LA" --dump-wkt - --dump-points "$WORK/points.tsv" \
  | "${PSQL[@]}" -c "COPY grids (id, geom) FROM STDIN"
t1=$(now)
"${PSQL[@]}" -c "CREATE INDEX grids_geom ON grids USING gist (geom); ANALYZE grids;"
t2=$(now)
"${PSQL[@]}" -c "\\copy pts FROM '$WORK/points.tsv'"
"${PSQL[@]}" -c "ALTER TABLE pts ADD COLUMN n bigserial;
  CREATE UNLOGGED TABLE q AS SELECT set, ST_MakePoint(lng, lat) AS geom FROM
    (SELECT *, row_number() OVER (PARTITION BY set ORDER BY n) AS k FROM pts) s WHERE k <= $MAX_POINTS;
  ANALYZE q;"
echo "grids: $("${PSQL[@]}" -tA -c "SELECT count(*) || ' polygons, ' || sum(ST_NPoints(geom)) || ' points, table '
  || pg_size_pretty(pg_total_relation_size('grids')) || ', GiST ' || pg_size_pretty(pg_relation_size('grids_geom')) FROM grids")"
echo "load (generate + COPY of WKT): $(elapsed "$t0" "$t1") s; GiST index + ANALYZE: $(elapsed "$t1" "$t2") s"
"${PSQL[@]}" -c "EXPLAIN SELECT count(*) FROM q JOIN grids g ON ST_Contains(g.geom, q.geom) WHERE q.set = 'uniform';"
for set in uniform community la; do
  npts=$("${PSQL[@]}" -tA -c "SELECT count(*) FROM q WHERE set = '$set'")
  [ "$npts" -gt 0 ] || continue
  # Warm the cache with the same query once, then time it.
  "${PSQL[@]}" -tA -c "SELECT count(*) FROM q JOIN grids g ON ST_Contains(g.geom, q.geom) WHERE q.set = '$set'" >/dev/null
  t0=$(now)
  hits=$("${PSQL[@]}" -tA -c "SELECT count(*) FROM q JOIN grids g ON ST_Contains(g.geom, q.geom) WHERE q.set = '$set'")
  t1=$(now)
  s=$(elapsed "$t0" "$t1")
  echo "$set: $npts points, $hits hits, one batch query $s s, $(python3 -c "print(f'{$npts / $s:.0f}')") points/s"
done
echo "server RSS (postgres processes, MiB): $(ps -o rss= -u postgres | awk '{s+=$1} END {printf "%.0f", s/1024}')"
