"""Input and output: protein structures (PDB/mmCIF), the chain-set npz, molecules (SMILES/SDF).

Coordinates are in Angstrom. Bad input raises :class:`molgen.errors.InputError` with one
line naming the file (and line or record); writers never replace an existing file unless
``overwrite=True``.
"""

from molgen.io.chainset import ChainSet, backbone_dssp, load_chain_set, write_chain_set
from molgen.io.molecules import read_sdf, read_smiles, read_smiles_file, write_sdf
from molgen.io.structure import BACKBONE_ATOMS, Protein, read_structure, structure_format
from molgen.io.writers import write_mmcif, write_pdb

__all__ = [
    "BACKBONE_ATOMS",
    "ChainSet",
    "Protein",
    "backbone_dssp",
    "load_chain_set",
    "read_sdf",
    "read_smiles",
    "read_smiles_file",
    "read_structure",
    "structure_format",
    "write_chain_set",
    "write_mmcif",
    "write_pdb",
    "write_sdf",
]
