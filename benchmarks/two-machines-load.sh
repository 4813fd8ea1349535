#!/bin/bash
# The job system under load, on two machines: this one runs `mannlab up --listen` (its workers and
# the shared embedded PostgreSQL), and a network namespace that this script creates plays a second
# machine with a home of its own, whose `mannlab worker` reaches the server over a veth pair on
# 198.18.0.0/15 (nothing else is reachable from it). Together they drain RUNS tiny runs. Then it
# checks, in SQL, that every run succeeded exactly once, that no run had overlapping attempts, that
# no run lacks a metric another has, and that Hangfire agrees; and it reports runs per minute,
# queue-to-start latency, connections in use and the database's size per run. Needs root (ip netns).
#   usage: benchmarks/two-machines-load.sh [RUNS [HOST_WORKERS [OTHER_WORKERS]]]   (defaults 200 2 2)
set -euo pipefail
runs=${1:-200}; host_workers=${2:-2}; other_workers=${3:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benchmarks/tiny-runs.sh"
work=$(mktemp -d /tmp/mannlab-load-XXXXXX)
chmod 755 "$work" # the server runs as postgres under root
ns=mannlab-load-$$; host_if=mlload$$; other_if=mlothr$$
host_ip=198.19.255.249; other_ip=198.19.255.250 # the last /30 of 198.18.0.0/15; the tests' slots start from their pid
host_if=${host_if:0:15}; other_if=${other_if:0:15}

cleanup() {
  [ -n "${other_pid:-}" ] && kill -KILL "$other_pid" 2>/dev/null || true
  [ -n "${up_pid:-}" ] && kill -TERM "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null || true
  MANNLAB_HOME=$work/host "$repo/mannlab" db stop >/dev/null 2>&1 || true
  ip link del "$host_if" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if ip -4 -o addr show to 198.19.255.248/30 | grep -q .; then echo "198.19.255.248/30 is in use on this machine" >&2; exit 1; fi
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$other_if" netns "$ns"
sysctl -q -w "net.ipv6.conf.$host_if.disable_ipv6=1"
ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$other_if.disable_ipv6=1"
ip addr add "$host_ip/30" dev "$host_if"
ip -n "$ns" addr add "$other_ip/30" dev "$other_if"
ip link set "$host_if" up; ip -n "$ns" link set "$other_if" up; ip -n "$ns" link set lo up

mkdir -p "$work/host/experiments" "$work/other"
tiny_runs load 48 "$runs" > "$work/host/experiments/load.yaml"
# A port free on both addresses of this machine: bound by the server alone.
while :; do port=$(shuf -i 20000-60000 -n 1); ss -ltn | grep -q ":$port " || break; done

"$repo/mannlab" --help >/dev/null # build before the clock starts
start=$(date +%s.%N)
(cd "$work/host" && MANNLAB_HOME=$work/host MANNLAB_DB= exec "$repo/mannlab" up --experiments experiments --workers "$host_workers" --port 0 \
  --listen "$host_ip:$port" --exit-when-done > "$work/up.log" 2>&1) &
up_pid=$!
until uri=$(grep -o "mannlab worker --db '[^']*'" "$work/up.log" | sed "s/.*--db '\(.*\)'/\1/"); [ -n "$uri" ]; do
  kill -0 "$up_pid" 2>/dev/null || { cat "$work/up.log" >&2; exit 1; }
  sleep 0.2
done
(cd "$work/other" && exec ip netns exec "$ns" env MANNLAB_HOME="$work/other" MANNLAB_DB= "$repo/mannlab" worker --db "$uri" --workers "$other_workers" \
  > "$work/other.log" 2>&1) &
other_pid=$!

local_port=$(sed -n 4p "$(find "$work/host/.mannlab" -name postmaster.pid | head -1)")
q() { psql -h 127.0.0.1 -p "$local_port" -U mannlab -d mannlab -tAX -c "$1"; }
peak=0
while kill -0 "$up_pid" 2>/dev/null; do
  n=$(q "select count(*) from pg_stat_activity where datname = 'mannlab'" 2>/dev/null || echo 0)
  [ "$n" -gt "$peak" ] && peak=$n
  sleep 1
done
wait "$up_pid" && up_exit=0 || up_exit=$?
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
up_pid=

echo "runs: $runs; workers: $host_workers here, $other_workers on the other machine; up exited $up_exit after $(printf "%.0f" "$elapsed") s"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%FT%TZ)"
q "select 'succeeded runs: ' || count(*) from mannlab.runs where status = 'succeeded'"
q "select 'runs not succeeded exactly once: ' || count(*) from (select r.id from mannlab.runs r left join mannlab.run_attempts a on a.run_id = r.id and a.outcome = 'succeeded' group by r.id having count(a.*) <> 1) x"
q "select 'attempts: ' || count(*) || ', of them on the other machine: ' || count(*) filter (where worker like '%:$other_pid:%') from mannlab.run_attempts"
q "select 'overlapping attempts: ' || count(*) from mannlab.run_attempts a join mannlab.run_attempts b on a.run_id = b.run_id and a.attempt < b.attempt and b.started_at < coalesce(a.finished_at, now())"
q "select 'metric rows per run: min ' || min(n) || ', max ' || max(n) from (select r.id, count(m.*) n from mannlab.runs r left join mannlab.metrics m on m.run_id = r.id group by r.id) x"
q "select 'hangfire jobs by state: ' || string_agg(statename || ' ' || n, ', ') from (select statename, count(*) n from hangfire.job group by statename) x"
q "select 'runs per minute: ' || round((count(*) / (extract(epoch from max(finished_at) - min(started_at)) / 60))::numeric, 1) from mannlab.run_attempts where outcome = 'succeeded'"
q "select 'queue to start, s: median ' || round(percentile_cont(0.5) within group (order by s)::numeric, 2) || ', 95th percentile ' || round(percentile_cont(0.95) within group (order by s)::numeric, 2) from (select extract(epoch from a.started_at - r.created_at) s from mannlab.runs r join mannlab.run_attempts a on a.run_id = r.id and a.attempt = 1) x"
echo "connections to the database, peak (sampled every second): $peak"
q "select 'database size: ' || pg_size_pretty(pg_database_size('mannlab')) || ', per run: ' || pg_size_pretty(pg_database_size('mannlab') / $runs)"
q "select 'tables (MannLab and Hangfire, with indexes and TOAST) per run: ' || pg_size_pretty(sum(pg_total_relation_size(c.oid)) / $runs) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('mannlab', 'hangfire') and c.relkind = 'r'"
