"""Chemistry helpers on RDKit molecules: seed conformers for torsional diffusion (Angstrom)."""

from molgen.chem.conformers import seed_conformers, stereo_labels

__all__ = ["seed_conformers", "stereo_labels"]
