#!/bin/bash
# Time to accuracy on one thread and on two, through the job system, one run at a time: the
# extended MANN of experiments/paper/table1-mann-extended.yaml with a budget of EPISODES, once with
# training.threads 1 (the fused recurrence on one thread) and once with 2 (its batch split over
# both), trained by `mannlab up --workers 1` in a scratch home; then the chart of held-out accuracy
# at the 2nd sight against the minutes each had trained, made with `mannlab plot`.
#   usage: benchmarks/time-to-accuracy-threads.sh OUT.png [EPISODES]   (default 150000; needs Omniglot: MANNLAB_OMNIGLOT)
set -euo pipefail
out=$(realpath "$1"); episodes=${2:-150000}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/mannlab-tta-threads-XXXXXX)
chmod 755 "$work"
export MANNLAB_HOME=$work MANNLAB_DB=
cleanup() {
  "$repo/mannlab" db stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/experiments"
for threads in 1 2; do
  # The spec as shipped, but for its name, budget and threads; priority normal, so they go first to last.
  sed -e "s/^name: .*/name: tta-threads-$threads/" -e "s/^  episodes: 400000$/  episodes: $episodes\n  threads: $threads/" \
      -e "/^priority:/d" "$repo/experiments/paper/table1-mann-extended.yaml" > "$work/experiments/tta-threads-$threads.yaml"
  grep -q "^  threads: $threads$" "$work/experiments/tta-threads-$threads.yaml"
done
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; code $(git -C "$repo" rev-parse --short HEAD); $(date -u +%FT%TZ)"
(cd "$work" && "$repo/mannlab" up --experiments experiments --workers 1 --port 0 --exit-when-done > "$work/up.log" 2>&1)
url=$("$repo/mannlab" db url)
psql "$url" -X -c "select r.name, m.step, round(m.value::numeric, 3) as eval_acc_2, round(t.value::numeric, 2) as minutes
  from mannlab.runs r join mannlab.metrics m on m.run_id = r.id and m.name = 'eval_acc_2'
  join mannlab.metrics t on t.run_id = r.id and t.step = m.step and t.name = 'training_minutes'
  where m.value >= 0.8 or m.step % 50000 = 0 order by r.name, m.step"
psql "$url" -X -c "select r.name, round(percentile_cont(0.5) within group (order by m.value)::numeric) as median_episodes_per_second
  from mannlab.metrics m join mannlab.runs r on r.id = m.run_id where m.name = 'episodes_per_second' and m.step > 8000 group by r.name order by r.name"
"$repo/mannlab" plot curves $(psql "$url" -XtAc "select string_agg(id, ' ' order by name) from mannlab.runs") --instance 2 --against minutes --out "$out"
echo "chart: $out"
