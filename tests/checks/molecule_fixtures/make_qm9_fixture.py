"""Write qm9_val.sdf: DFT geometries of QM9 validation molecules (run once, output committed).

Needs the PyPI package ``qm9pack`` (only its CSV files are read, so its import-time
dependency on ``pkg_resources`` does not matter) and the repository's ``data/qm9_split.npz``
(or the split file given as the argument). Bonds and bond orders are perceived from the
coordinates with RDKit's ``DetermineBonds``; molecules whose perceived graph differs from the
QM9 SMILES are skipped.

    python tests/checks/molecule_fixtures/make_qm9_fixture.py [data/qm9_split.npz]
"""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import rdDetermineBonds

from molgen.paths import default_data_path

NUM_MOLECULES = 60


def main(split_path: str) -> None:
    data = Path(importlib.util.find_spec("qm9pack").submodule_search_locations[0]) / "data"
    frame = pd.read_csv(data / "qm9_part1.csv", usecols=["Index", "SMILES", "Elements", "XYZ_Ang"])
    val = np.load(split_path)["val_index"]
    frame = frame[frame["Index"].isin(val)]
    rows = frame.sample(n=4 * NUM_MOLECULES, random_state=0)
    out = Path(__file__).with_name("qm9_val.sdf")
    written = 0
    with Chem.SDWriter(str(out)) as writer:
        for _, row in rows.iterrows():
            elements = json.loads(row["Elements"].replace("'", '"'))
            xyz = np.array(json.loads(row["XYZ_Ang"]))
            lines = [
                f"{e} {x:.10f} {y:.10f} {z:.10f}"
                for e, (x, y, z) in zip(elements, xyz, strict=True)
            ]
            block = f"{len(elements)}\n\n" + "\n".join(lines)
            mol = Chem.MolFromXYZBlock(block)
            try:
                rdDetermineBonds.DetermineBonds(mol, charge=0)
            except ValueError:
                continue
            expected = Chem.MolFromSmiles(row["SMILES"])
            if expected is None or Chem.MolToSmiles(Chem.RemoveHs(mol), isomericSmiles=False) != (
                Chem.MolToSmiles(expected, isomericSmiles=False)
            ):
                continue
            mol.SetProp("_Name", f"qm9_{int(row['Index'])}")
            writer.write(mol)
            written += 1
            if written == NUM_MOLECULES:
                break
    print(f"wrote {written} molecules to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(default_data_path("qm9_split.npz")))
