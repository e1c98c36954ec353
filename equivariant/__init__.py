"""equivariant: small, model-agnostic E(3)-equivariant building blocks (graphs, embeddings,
e3nn tensor-product convolutions, equivariance-test helpers). Knows nothing about proteins."""

__all__: list[str] = []
