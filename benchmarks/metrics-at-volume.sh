#!/bin/bash
# The pages at volume: a scratch MannLab home whose database gets RUNS generated runs, each with
# a row of every metric a run records (13 here) at each of STEPS steps 160 episodes apart, and its
# per-instance accuracies, copied from one real run trained first; then `mannlab serve` answers
# the runs list, a run page, compare and the Table 1 dashboard, 5 times each on 127.0.0.1, and the
# median and slowest request are printed. Then each page is asked once more with auto_explain on,
# and the plan of every statement the pages ran (as executed: EXPLAIN ANALYZE, with buffers) goes
# to PLANS. Generated rows, a benchmark, not a test.
#   usage: benchmarks/metrics-at-volume.sh [RUNS [STEPS [PLANS]]]   (defaults 10000 80 /dev/null: about 10 million metric rows)
set -euo pipefail
runs=${1:-10000}; steps=${2:-80}; plans=${3:-/dev/null}
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/benchmarks/tiny-runs.sh"
work=$(mktemp -d /tmp/mannlab-volume-XXXXXX)
chmod 755 "$work"
export MANNLAB_HOME=$work MANNLAB_DB=
cleanup() {
  [ -n "${serve_pid:-}" ] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  "$repo/mannlab" db stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/experiments"
tiny_runs template 96 2 > "$work/experiments/template.yaml"
(cd "$work" && "$repo/mannlab" up --experiments experiments --workers 1 --port 0 --exit-when-done > "$work/up.log" 2>&1)
"$repo/mannlab" db url > /dev/null # starts the server again and leaves it running
port=$(sed -n 4p "$(find "$work/.mannlab" -name postmaster.pid | head -1)")
q() { psql -h 127.0.0.1 -p "$port" -U mannlab -d mannlab -tAX -v ON_ERROR_STOP=1 -c "$1"; }

t0=$(date +%s.%N)
q "
insert into mannlab.runs (id, experiment_id, sweep_index, name, model, point, spec, status, queue, priority, attempt, worker,
                          episodes_done, episodes_total, created_at, started_at, finished_at)
select 'v' || lpad(i::text, 11, '0'), r.experiment_id, i, 'volume-' || (i % 100), r.model, jsonb_build_object('training.seed', i), r.spec,
       'succeeded', r.queue, r.priority, 1, r.worker, r.episodes_total, r.episodes_total, now(), now(), now()
from generate_series(1, $runs) i, (select * from mannlab.runs order by id limit 1) r;
insert into mannlab.run_summary (run_id, step, latest)
select 'v' || lpad(i::text, 11, '0'), s.step, s.latest from generate_series(1, $runs) i, (select * from mannlab.run_summary order by run_id limit 1) s;
insert into mannlab.instance_accuracy (run_id, step, split, instance, correct, total)
select 'v' || lpad(i::text, 11, '0'), a.step, a.split, a.instance, a.correct, a.total
from generate_series(1, $runs) i, (select * from mannlab.instance_accuracy where run_id = (select min(id) from mannlab.runs where id not like 'v%')) a;"
names=$(q "select string_agg(quote_literal(name), ',') from (select distinct name from mannlab.metrics) x")
q "
insert into mannlab.metrics (run_id, step, name, value)
select 'v' || lpad(i::text, 11, '0'), s * 160, n, random()
from generate_series(1, $runs) i, generate_series(1, $steps) s, unnest(array[$names]) n;
analyze;"
generated=$(echo "$(date +%s.%N) - $t0" | bc)
rows=$(q "select count(*) from mannlab.metrics")
echo "generated $runs runs, $rows metric rows in $(printf "%.0f" "$generated") s; database $(q "select pg_size_pretty(pg_database_size('mannlab'))")"
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%FT%TZ)"

pages=("/" "/?experiment=volume-7" "/runs/v00000004242" "/runs/$(q "select min(id) from mannlab.runs where id not like 'v%'")"
       "/compare?run=v00000000001&run=v00000000002" "/dashboards/table1-vs-paper" "/dashboards/run-health")
serve() {
  "$repo/mannlab" serve --port 0 --dashboards "$repo/dashboards" > "$work/serve.log" 2>&1 &
  serve_pid=$!
  until site=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1); [ -n "$site" ]; do sleep 0.2; done
}
serve
for path in "${pages[@]}"; do
  times=$(for k in 1 2 3 4 5; do curl --silent --noproxy '*' -o /dev/null -w '%{time_total}\n' "$site$path"; done | sort -n)
  code=$(curl --silent --noproxy '*' -o /dev/null -w '%{http_code}' "$site$path")
  echo "$path: HTTP $code, median $(echo "$times" | sed -n 3p | awk '{printf "%.0f", $1 * 1000}') ms, slowest $(echo "$times" | tail -1 | awk '{printf "%.0f", $1 * 1000}') ms"
done

# The plans, from a server that explains every statement of the pages' new sessions.
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=
log=$(dirname "$(find "$work/.mannlab" -name postmaster.pid | head -1)")/server.log
# One session, a statement per -c: ALTER SYSTEM runs outside a transaction, and knows auto_explain's settings once it is loaded.
settings=(-c "load 'auto_explain'")
for setting in "session_preload_libraries = 'auto_explain'" "auto_explain.log_min_duration = 0" "auto_explain.log_analyze = on" "auto_explain.log_buffers = on"; do
  settings+=(-c "alter system set $setting")
done
psql -h 127.0.0.1 -p "$port" -U mannlab -d mannlab -qtAX -v ON_ERROR_STOP=1 "${settings[@]}" -c "select pg_reload_conf()" > /dev/null
from=$(wc -l < "$log")
serve
{
  for path in "${pages[@]}"; do
    at=$(wc -l < "$log")
    curl --silent --noproxy '*' -o /dev/null "$site$path"
    sleep 0.5
    echo "=== $path"
    tail -n +"$((at + 1))" "$log" | sed -n '/LOG:  duration: .* ms  plan:/,$p'
  done
} > "$plans"
echo "plans of $(sed -n "$((from + 1)),\$p" "$log" | grep -c 'ms  plan:') statements: $plans"
