#!/usr/bin/env bash
# Issue-16 quick protocol for a backbone model (backbone model card, v2/v3 tables):
#   scripts/acceptance_protocol.sh MODEL OUT [SAMPLER OPTION ...]
# (options after OUT, e.g. --time-warp 2, go to every `molgen sample backbone` call)
# 1. drawn blueprints: 8 samples at each of L 60, 80, 100, 128, 200 (OUT/u1, OUT/u2);
# 2. the DSSP blueprints of 32 val chains (scripts/val_blueprints.py), one sample each (OUT/c);
# 3. scripts/probe_sheet_survival.py (OUT/survival.json).
# All with rotation score x 3, 200 steps, seed 0, on one thread per job (two jobs at once).
# Prints the report.csv means of 1 and of 2 (strand, helix, Ramachandran-favoured and
# blueprint agreement fractions, CA breaks and clashes) and the share passing every check.
set -euo pipefail
model=${1:?usage: acceptance_protocol.sh MODEL OUT}
out=${2:?usage: acceptance_protocol.sh MODEL OUT}
python=${PYTHON:-python}
molgen=${MOLGEN:-molgen}
options=("${@:3}")
here=$(dirname "$0")
mkdir -p "$out"
"$python" "$here/val_blueprints.py" > "$out/val_blueprints.txt"
export OMP_NUM_THREADS=1
sample() { "$molgen" sample backbone --model "$model" --rotation-score-scale 3 --quiet "${options[@]}" "$@"; }
(sample -l 60 -l 80 -l 100 -l 128 --num 8 --out "$out/u1"
 "$python" "$here/probe_sheet_survival.py" --model "$model" > "$out/survival.json") &
(sample -l 200 --num 8 --out "$out/u2"
 sample --ss-file "$out/val_blueprints.txt" --num 1 --out "$out/c") &
wait
summarize() {
  "$python" - "$@" <<'PY'
import csv, json, sys
import numpy as np
rows = [row for folder in sys.argv[1:] for row in csv.DictReader(open(f"{folder}/report.csv"))]
def mean(key):
    values = [float(row[key]) for row in rows if row.get(key) not in (None, "", "nan")]
    return round(float(np.mean(values)), 3) if values else None
keys = ("strand_fraction", "helix_fraction", "rama_favoured_fraction", "ss_agreement",
        "ca_break_fraction", "ca_clash_fraction")
summary = {"samples": len(rows), **{key: mean(key) for key in keys}}
summary["all_checks_passed"] = round(float(np.mean(
    [row["checks_passed"] in ("True", "true", "1") for row in rows])), 3)
print(json.dumps(summary))
PY
}
echo "drawn blueprints: $(summarize "$out/u1" "$out/u2")"
echo "val blueprints: $(summarize "$out/c")"
echo "sheet survival: $(cat "$out/survival.json")"
