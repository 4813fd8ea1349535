# Sourced by the job-system benchmarks: tiny_runs NAME EPISODES RUNS prints a spec of RUNS tiny
# runs (LSTM 16 units on synthetic glyphs, seeds 1 to RUNS), the one of BENCHMARKS.md's "What the
# job system costs per run", so that what they measure is the job system's cost per run.
tiny_runs() {
  cat <<EOF_SPEC
name: $1
dataset: {source: synthetic, image_size: 12, synthetic: {alphabets: 6, characters: 10, drawers: 6}, augment: {translate: 0, rotate: 0}}
task: {classes: 3, instances: 4}
model: {kind: lstm, hidden: 16}
training: {optimizer: adam, lr: 3e-3, episodes: $2, batch_size: 16}
evaluation: {every: 48, episodes: 32, instances: [1, 2]}
checkpoint: {every: 48}
sweep: {training.seed: [$(seq -s, 1 "$3")]}
EOF_SPEC
}
