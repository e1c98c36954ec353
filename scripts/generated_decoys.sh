#!/usr/bin/env bash
# Generated backbones used as decoys by the plausibility classifier (issue 21).
#   scripts/generated_decoys.sh OUT train   # sampler settings the classifier is trained on
#   scripts/generated_decoys.sh OUT bench   # other settings, for scripts/bench_score.py only
# Each setting writes OUT/<setting>/ (PDBs + report.csv) with `molgen sample backbone`;
# lengths 60-200. "train" uses seeds 100+, "bench" seeds 200+, so no sample is shared.
set -euo pipefail
out=${1:?usage: generated_decoys.sh OUT train|bench}
which=${2:?usage: generated_decoys.sh OUT train|bench}
molgen=${MOLGEN:-molgen}
lengths=(-l 60 -l 80 -l 100 -l 128 -l 160 -l 200)
run() {  # name, extra arguments...
  local name=$1; shift
  [ -f "$out/$name/report.csv" ] && return 0
  "$molgen" sample backbone "${lengths[@]}" --out "$out/$name" --quiet --device cpu "$@"
}
case $which in
  train)
    run v1_s50 --steps 50 --num 8 --seed 101
    run v1_s50_noise05_rot1 --steps 50 --noise-scale 0.5 --rotation-score-scale 1 --num 8 --seed 102
    run v1_s30_ode --steps 30 --ode --num 8 --seed 103
    run v1_s50_raw --steps 50 --no-idealize --num 8 --seed 104
    if [ -n "${V2_MODEL:-}" ]; then
      run v2_s50_rot3 --model "$V2_MODEL" --steps 50 --rotation-score-scale 3 --num 8 --seed 105
    fi
    ;;
  bench)
    run v1_default_s100 --steps 100 --num 7 --seed 201
    run v1_s60_noise01 --steps 60 --noise-scale 0.1 --num 7 --seed 202
    run v1_s80_rot3 --steps 80 --rotation-score-scale 3 --num 7 --seed 203
    run v1_s100_ode --steps 100 --ode --num 7 --seed 204
    run v1_s60_unrestrained --steps 60 --no-restrain --num 7 --seed 205
    ;;
  *) echo "second argument must be train or bench" >&2; exit 2 ;;
esac
