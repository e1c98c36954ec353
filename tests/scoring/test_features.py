"""Whole-chain backbone features: invariance, known values on real chains and simple decoys."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from molgen.scoring import ideal_helix, mirror_decoy
from molgen.scoring.features import FEATURE_NAMES, chain_features


def _named(values: np.ndarray) -> dict[str, float]:
    assert values.shape == (len(FEATURE_NAMES),) and np.isfinite(values).all()
    return dict(zip(FEATURE_NAMES, values, strict=True))


def test_invariant_under_rigid_motion(val_backbones):
    """Rotating and translating a real chain leaves every feature unchanged."""
    atoms = val_backbones[3]
    moved = atoms @ Rotation.random(random_state=1).as_matrix().T + np.array([30.0, -12.0, 5.0])
    np.testing.assert_allclose(chain_features(moved), chain_features(atoms), atol=1e-6)


def test_real_chains_look_real(val_backbones):
    """Real val chains: mostly favoured Ramachandran, few positive phi, no bond outliers, packed."""
    features = [_named(chain_features(a)) for a in val_backbones[:20]]
    assert np.median([f["rama_favoured"] for f in features]) > 0.9
    assert np.median([f["positive_phi"] for f in features]) < 0.1
    assert np.median([f["length_outliers"] for f in features]) < 0.01
    assert 0.8 < np.median([f["rg_ratio"] for f in features]) < 1.3
    assert np.median([f["helix"] + f["strand"] for f in features]) > 0.4
    # Each histogram sums to one
    for f in features:
        for prefix in ("rama_", "ca_angle_", "ca_torsion_"):
            names = [n for n in FEATURE_NAMES if n.startswith(prefix) and n[len(prefix)].isdigit()]
            assert sum(f[n] for n in names) == pytest.approx(1.0)


def test_mirror_and_helix_decoys(val_backbones):
    """A mirror image has mostly positive phi; an ideal helix is all helix, stretched, no strand."""
    atoms = val_backbones[0]
    real, mirror = _named(chain_features(atoms)), _named(chain_features(mirror_decoy(atoms)))
    assert real["positive_phi"] < 0.15 and mirror["positive_phi"] > 0.85
    assert mirror["strand"] == pytest.approx(real["strand"])  # DSSP does not see handedness
    helix = _named(chain_features(ideal_helix(120)))
    assert helix["helix"] > 0.95 and helix["strand"] == 0.0 and helix["rg_ratio"] > 3.0
    assert helix["long_range"] == 0.0


def test_missing_residues_and_short_chains(val_backbones):
    """A residue without CA is left out (features stay finite); 3 residues still have
    features; a single residue is an error."""
    atoms = val_backbones[2].copy()
    atoms[10, 1] = np.nan
    _named(chain_features(atoms))
    _named(chain_features(val_backbones[2][:3]))
    with pytest.raises(ValueError, match="at least 2 residues"):
        chain_features(val_backbones[2][:1])
