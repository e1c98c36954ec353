"""equivariant: small, model-agnostic E(3)-equivariant building blocks (graphs, embeddings,
e3nn tensor-product convolutions, equivariance-test helpers). Knows nothing about proteins.

Lengths are in the unit of the positions given (Angstrom in molgen). Graph edges follow
torch-geometric: ``edge_index[0]`` is the source ``j``, ``edge_index[1]`` the target ``i``.
The test helpers live in :mod:`equivariant.testing` (not imported here).
"""

from equivariant.conv import TensorProductConv
from equivariant.dtype import default_dtype
from equivariant.embeddings import RadialEmbedding, polynomial_envelope, sinusoidal_embedding
from equivariant.graphs import edge_vectors, knn_graph, radius_graph, random_distance_graph
from equivariant.heads import BondPseudoscalarHead, PseudoscalarHead, ScalarHead, VectorHead
from equivariant.norm import EquivariantLayerNorm

__all__ = [
    "BondPseudoscalarHead",
    "EquivariantLayerNorm",
    "PseudoscalarHead",
    "RadialEmbedding",
    "ScalarHead",
    "TensorProductConv",
    "VectorHead",
    "default_dtype",
    "edge_vectors",
    "knn_graph",
    "polynomial_envelope",
    "radius_graph",
    "random_distance_graph",
    "sinusoidal_embedding",
]
