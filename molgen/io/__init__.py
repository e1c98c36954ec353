"""Input and output: protein structures (PDB/mmCIF), the chain-set npz, molecules (SMILES/SDF).

Coordinates are in Angstrom. Bad input raises :class:`molgen.errors.InputError` with one
line naming the file (and line or record); writers never replace an existing file unless
``overwrite=True``.
"""

from molgen.io.blueprint import (
    BLUEPRINT_LETTERS,
    blueprint_from_dssp,
    encode_blueprint,
    parse_blueprint,
    read_blueprint_file,
)
from molgen.io.chainset import ChainSet, backbone_dssp, load_chain_set, write_chain_set
from molgen.io.molecules import read_sdf, read_smiles, read_smiles_file, write_sdf
from molgen.io.structure import BACKBONE_ATOMS, Protein, read_structure, structure_format
from molgen.io.writers import write_mmcif, write_pdb

__all__ = [
    "BACKBONE_ATOMS",
    "BLUEPRINT_LETTERS",
    "ChainSet",
    "Protein",
    "backbone_dssp",
    "blueprint_from_dssp",
    "encode_blueprint",
    "load_chain_set",
    "parse_blueprint",
    "read_blueprint_file",
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
