"""scripts/probe_partial_nll.py: the window oracle puts a chain's own local geometry back."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from tests.scripts.script_loader import load_script


def test_transplanted_windows_follow_the_output_and_carry_the_original_geometry(val_backbones):
    """On a rigidly moved copy the oracle returns the moved copy (each window superposes
    exactly); on a copy with noise it keeps the noisy CA trace's place but takes the original's
    local geometry, so its bonds are the original's to within the noise's leverage."""
    probe = load_script("probe_partial_nll")
    chain = next(c for c in val_backbones if np.isfinite(c).all() and len(c) >= 40)
    moved = chain @ Rotation.random(random_state=2).as_matrix().T + np.array([5.0, 0.0, -3.0])
    np.testing.assert_allclose(probe.transplant_windows(moved, chain, 7), moved, atol=1e-8)
    noisy = chain + np.random.default_rng(0).normal(0.0, 0.3, chain.shape)
    put_back = probe.transplant_windows(noisy, chain, 7)
    n_ca = [np.linalg.norm(a[:, 1] - a[:, 0], axis=-1) for a in (chain, noisy, put_back)]
    assert np.abs(n_ca[2] - n_ca[0]).mean() < 0.3 * np.abs(n_ca[1] - n_ca[0]).mean()
