#!/usr/bin/env bash
# One prepared GPU call (issue 16): CUDA tests, a batched sampling benchmark against the CPU,
# and a training burst that resumes a committed backbone run (BURST_RUN, default backbone_v4w,
# the wider network of session 21). Under 9 minutes in all.
#
#   scripts/device_burst.sh OUT_DIR
#
# For a machine with one NVIDIA GPU, PyTorch (with e3nn and torch-geometric) preinstalled
# and no package registry. Wheels in .whl/ (if any) are installed to /tmp/site first; molgen
# runs from this checkout through PYTHONPATH (pip would ask for our pinned torch), and the
# chemistry packages the burst never calls are stand-ins if missing
# (scripts/device_site/sitecustomize.py). OUT_DIR receives: tests.log, bench_sampling.json,
# burst.log and RUN/ (config.json, log.csv, checkpoints/last.pt): copy that folder over
# data/training_state/RUN to keep the steps. Settings: BURST_RUN (a folder of
# data/training_state/ with its config scripts/configs/RUN.yaml; default backbone_v4w),
# BURST_TRAIN_SECONDS (default 300), BURST_DEVICE (default cuda; cpu runs a tiny dry run of
# every stage).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/device_burst.sh OUT_DIR}
mkdir -p "$out"
device=${BURST_DEVICE:-cuda}
train_seconds=${BURST_TRAIN_SECONDS:-300}
run=${BURST_RUN:-backbone_v4w}
python=${PYTHON:-python3}
if compgen -G ".whl/*.whl" > /dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 2
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD:$PWD/scripts/device_site${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
status=0
if [ "$device" = cuda ] && ! "$python" -c "import torch; assert torch.cuda.is_available()"; then
  echo "burst: no CUDA device here; nothing to do (BURST_DEVICE=cpu for a dry run)" >&2
  exit 2
fi

echo "== 1/3 device tests ($device)" | tee "$out/burst.log"
timeout 120 "$python" -m pytest -q -o addopts="" -p no:cacheprovider \
  tests/test_devices.py tests/models/test_backbone_network.py > "$out/tests.log" 2>&1
echo "tests exit $?: $(tail -n 1 "$out/tests.log")" | tee -a "$out/burst.log"

echo "== 2/3 sampling benchmark" | tee -a "$out/burst.log"
if [ "$device" = cuda ]; then bench=(--num 64 --cpu-num 8 --steps 200 --devices cpu cuda)
else bench=(--num 2 --cpu-num 2 --steps 5 --devices cpu); fi
timeout 150 "$python" scripts/bench_sampling.py --length 100 "${bench[@]}" \
  > "$out/bench_sampling.json" 2>> "$out/burst.log" || status=1
cat "$out/bench_sampling.json" | tee -a "$out/burst.log"

echo "== 3/3 training burst (${train_seconds} s)" | tee -a "$out/burst.log"
rm -rf "${out:?}/$run"
cp -r "data/training_state/$run" "$out/$run" || exit 2
"$python" - "$device" "$out/burst_config.yaml" "scripts/configs/$run.yaml" <<'PY' || exit 2
import sys

import yaml

device, target, source = sys.argv[1:4]
with open(source) as handle:
    config = yaml.safe_load(handle)
config["train"].update(device=device, checkpoint_every=100)
config["data"]["path"] = "$MOLGEN_SHARED_DATA/pdb_chains.npz"
with open(target, "w") as handle:
    yaml.safe_dump(config, handle)
PY
# SIGINT lets the step in flight finish; the last checkpoint (every 100 steps) is kept.
timeout --signal=INT --kill-after=30 "$train_seconds" \
  "$python" -m molgen train backbone --config "$out/burst_config.yaml" --out "$out/$run" \
  --quiet >> "$out/burst.log" 2>&1
rm -f "$out/burst_config.yaml"
echo "last logged step: $(tail -n 1 "$out/$run/log.csv" | cut -d, -f1)" \
  | tee -a "$out/burst.log"
exit $status
