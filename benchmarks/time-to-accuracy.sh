#!/bin/bash
# Time to accuracy: trains SPEC with `mannlab train` and writes, for every held-out evaluation,
# "episodes accuracy-at-the-2nd-sight seconds-since-start" to LOG (the wall time is noted within
# 5 s of the evaluation reaching metrics.csv, so it includes data loading and evaluations: what a
# user waits). With STOP_AT=0.8 in the environment, training stops once that accuracy is reached.
#   usage: benchmarks/time-to-accuracy.sh SPEC OUT_DIR LOG
set -u
spec=$1; out=$2; log=$3
cd "$(dirname "$0")/.."
rm -rf "$out"; mkdir -p "$(dirname "$out")"
start=$(date +%s.%N)
./mannlab train "$spec" --out "$out" > "$log.train" 2>&1 &
trainer=$!
seen=0
echo "start $(date -u +%FT%TZ)" > "$log"
while kill -0 $trainer 2>/dev/null; do
  sleep 5
  [ -f "$out/metrics.csv" ] || continue
  rows=$(grep -c ",eval_acc_2," "$out/metrics.csv")
  [ "$rows" -gt "$seen" ] || continue
  now=$(date +%s.%N)
  grep ",eval_acc_2," "$out/metrics.csv" | tail -n +$((seen + 1)) | while IFS=, read -r episode _ accuracy; do
    echo "$episode $accuracy $(echo "$now - $start" | bc)" >> "$log"
  done
  seen=$rows
  last=$(grep ",eval_acc_2," "$out/metrics.csv" | tail -1 | cut -d, -f3)
  if [ -n "${STOP_AT:-}" ] && [ "$(echo "$last >= $STOP_AT" | bc)" = 1 ]; then
    echo "reached $last" >> "$log"
    # The trainer is the dotnet process under ./mannlab; SIGTERM stops it (a background job ignores SIGINT).
    pkill -TERM -f "mannlab.dll train $spec"
  fi
done
wait $trainer
echo "exit $? $(date -u +%FT%TZ)" >> "$log"
