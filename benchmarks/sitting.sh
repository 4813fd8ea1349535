#!/bin/bash
# One benchmark sitting, as BENCHMARKS.md's "The fused recurrence" records them: 5 rounds of
# MannLab's bench (MANN and extended MANN on both paths, the LSTM; the fused MANNs and the LSTM on 2 threads)
# and, in rounds 1-3, the PyTorch peer with OpenBLAS on 1 and 2 threads, interleaved so that a
# noisy machine slows every figure alike. One JSON line per run to OUT.
#   usage: benchmarks/sitting.sh OUT.jsonl
set -u
out=$1
cd "$(dirname "$0")/.."
: > "$out"
bench() { ./mannlab bench "$@" --iterations 20 --json 2>/dev/null | tail -1; }
for round in 1 2 3 4 5; do
  for model in mann mann-extended; do
    for path in fused modules; do
      echo "{\"run\":$round,\"kind\":\"bench\",\"r\":$(bench --model $model --path $path)}" >> "$out"
    done
  done
  echo "{\"run\":$round,\"kind\":\"bench\",\"r\":$(bench --model lstm)}" >> "$out"
  for model in mann mann-extended lstm; do
    echo "{\"run\":$round,\"kind\":\"bench2t\",\"r\":$(bench --model $model --threads 2)}" >> "$out"
  done
  if [ $round -le 3 ]; then
    for openblas in 1 2; do
      peer=$(OPENBLAS_NUM_THREADS=$openblas /usr/bin/python3 ../shared/bench/peer_pytorch_mann.py --threads 1 --controller mann 2>&1 | tr '\n' ' ')
      echo "{\"run\":$round,\"kind\":\"peer\",\"openblas\":$openblas,\"text\":\"$peer\"}" >> "$out"
    done
  fi
done
