"""Training datasets and batching (coordinates in Angstrom).

:class:`PDBChains` reads the shared chain-set ``.npz`` with random contiguous crops;
:class:`LengthBucketSampler` groups chains of similar length (and shards them across
data-parallel ranks); :func:`collate_backbones` pads them into a :class:`BackboneBatch`.
"""

from molgen.datasets.pdb_chains import (
    BackboneBatch,
    BackboneItem,
    LengthBucketSampler,
    PDBChains,
    collate_backbones,
)
from molgen.datasets.prepare import PrepareSummary, prepare_chain_set
from molgen.datasets.qm9 import QM9Molecules

__all__ = [
    "BackboneBatch",
    "BackboneItem",
    "LengthBucketSampler",
    "PDBChains",
    "PrepareSummary",
    "QM9Molecules",
    "collate_backbones",
    "prepare_chain_set",
]
