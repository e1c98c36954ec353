r"""Helpers that assert E(3) and permutation equivariance of a function or module.

A function :math:`f` is equivariant when :math:`f(g \cdot x) = g \cdot f(x)` for every group
element :math:`g`. :func:`assert_equivariant` draws random elements of each symmetry
separately (a rotation :math:`R \in SO(3)`, a translation, an improper rotation
:math:`-R` with determinant -1, and a permutation of the nodes), acts on each input
according to its *kind*, and compares both sides. Features of irreps :math:`\rho` transform
with e3nn's Wigner matrices :math:`D^\rho(Q)` (``Irreps.D_from_matrix``, which also applies the
parity :math:`p^{\,l}` factor for :math:`\det Q = -1`), so a ``1o`` vector flips under
inversion, a ``1e`` pseudovector does not and a ``0o`` pseudoscalar changes sign.

Kinds (one per input and output):

* an ``e3nn.o3.Irreps`` or irreps string (``"8x0e + 2x1o"``): node features ``[N, dim]``,
  rotated and permuted;
* ``"edge:<irreps>"`` or ``"global:<irreps>"``: features not indexed by nodes (edges, graphs),
  rotated but not permuted (edge order is kept under a node permutation);
* ``"positions"``: node positions ``[N, 3]``, rotated, translated and permuted;
* ``"edge_index"``: long ``[2, E]``, node indices remapped under a permutation;
* ``"batch"``: sorted graph index ``[N]``; permutations then stay inside each graph;
* ``"node"``: per-node data that only permutes (atom types, masks);
* ``"fixed"``: left alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import torch
from e3nn import o3
from torch import Tensor

from equivariant.dtype import default_dtype

__all__ = [
    "assert_equivariant",
    "permute_edge_index",
    "random_node_permutation",
]

_NODE_KINDS = ("positions", "batch", "node")


def random_node_permutation(
    n: int, batch: Tensor | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """A random permutation ``perm [N]`` of the nodes (``x_new = x[perm]``) that keeps each
    graph of a sorted ``batch`` in place, so that ``batch[perm] == batch``."""
    keys = torch.randperm(n, generator=generator)
    if batch is not None:
        keys = batch.cpu() * n + keys
    return torch.argsort(keys)


def permute_edge_index(edge_index: Tensor, perm: Tensor) -> Tensor:
    """Edges of the graph whose node ``k`` is old node ``perm[k]``: old index ``i`` becomes
    ``inv[i]`` with ``inv[perm] = arange(N)``; the edge order is kept. ``[2, E] -> [2, E]``."""
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(len(perm), device=perm.device)
    return inv.to(edge_index.device)[edge_index]


def _parse(kind: str | o3.Irreps) -> tuple[str, o3.Irreps | None]:
    """Split a kind into (role, irreps); role is 'node', 'edge' or one of the named kinds."""
    if isinstance(kind, o3.Irreps):
        return "node", kind
    if kind in (*_NODE_KINDS, "edge_index", "fixed"):
        return kind, o3.Irreps("1o") if kind == "positions" else None
    role, _, text = kind.rpartition(":")
    if role not in ("", "edge", "global"):
        raise ValueError(f"unknown kind {kind!r}")
    try:
        return (role or "node").replace("global", "edge"), o3.Irreps(text)
    except (ValueError, AssertionError) as err:
        raise ValueError(f"kind {kind!r} is neither a known kind nor an irreps") from err


def _act(x: Tensor, kind, q: Tensor | None, shift: Tensor | None, perm: Tensor | None) -> Tensor:
    """g . x for one tensor: rotate by q, then translate (positions), then permute nodes."""
    role, irreps = _parse(kind)
    if q is not None and irreps is not None:
        with default_dtype(torch.float64):  # e3nn's Wigner D is only float32-exact otherwise
            x = x @ irreps.D_from_matrix(q).to(x).T
    if shift is not None and role == "positions":
        x = x + shift.to(x)
    if perm is not None and role == "edge_index":
        x = permute_edge_index(x, perm)
    elif perm is not None and role in _NODE_KINDS:
        x = x[perm.to(x.device)]
    return x


#: The symmetries :func:`assert_equivariant` knows, in the order it tests them.
SYMMETRIES = ("rotation", "translation", "reflection", "permutation")


def assert_equivariant(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Sequence[tuple[Tensor, str | o3.Irreps]] | Mapping[str, tuple[Tensor, str | o3.Irreps]],
    outputs: str | o3.Irreps | Sequence[str | o3.Irreps],
    *,
    n_trials: int = 20,
    symmetries: Sequence[str] = SYMMETRIES,
    dtype: torch.dtype = torch.float64,
    atol: float | None = None,
    seed: int = 0,
) -> dict[str, list[float]]:
    r"""Assert :math:`\max |f(g \cdot x) - g \cdot f(x)| \le` ``atol`` for random ``g``.

    Each enabled symmetry is tested on its own, ``n_trials`` times: ``rotation``
    (:math:`Q = R`), ``translation`` (only if an input has kind ``"positions"``),
    ``reflection`` (:math:`Q = -R`, parity included) and ``permutation``.

    Parameters
    ----------
    fn : callable
        Called as ``fn(*tensors)`` (sequence inputs) or ``fn(**tensors)`` (mapping inputs);
        returns one tensor or a tuple. A module is deep-copied and cast to ``dtype``; its
        train/eval mode is kept (use eval for dropout). For float64 build e3nn modules under
        :func:`equivariant.dtype.default_dtype` (see there).
    inputs : sequence or mapping of (Tensor, kind)
        Example inputs; floating tensors are cast to ``dtype``.
    outputs : kind or sequence of kinds
        Kind of each output.
    n_trials : int
        Random group elements per symmetry.
    symmetries : sequence of str
        Which of ``"rotation"``, ``"translation"``, ``"reflection"``, ``"permutation"`` to
        test (default all; translation needs a ``"positions"`` input, permutation a node one).
    dtype : torch.dtype
        Floating dtype of the test.
    atol : float, optional
        Tolerance; default 1e-9 for float64 and 1e-4 otherwise.
    seed : int
        Seed of the random group elements (the global RNG is left untouched).

    Returns
    -------
    dict
        ``{symmetry: [max abs error of each output]}``.

    Raises
    ------
    AssertionError
        Listing the largest error of every output under every symmetry tested.
    """
    atol = (1e-9 if dtype == torch.float64 else 1e-4) if atol is None else atol
    names = list(inputs) if isinstance(inputs, Mapping) else None
    pairs = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
    tensors = [x.to(dtype) if torch.is_floating_point(x) else x for x, _ in pairs]
    kinds = [kind for _, kind in pairs]
    out_kinds = [outputs] if isinstance(outputs, (str, o3.Irreps)) else list(outputs)
    for x, kind in zip(tensors, kinds, strict=True):
        role, irreps = _parse(kind)
        if irreps is not None and x.shape[-1] != irreps.dim:
            raise ValueError(f"input of kind {kind!r} has shape {tuple(x.shape)}")
    if isinstance(fn, torch.nn.Module):
        fn = copy.deepcopy(fn).to(dtype)

    def call(xs: list[Tensor]) -> list[Tensor]:
        out = fn(**dict(zip(names, xs, strict=True))) if names else fn(*xs)
        return [out] if isinstance(out, Tensor) else list(out)

    batch = next((x for x, k in zip(tensors, kinds, strict=True) if k == "batch"), None)
    n = next(
        (len(x) for x, k in zip(tensors, kinds, strict=True) if _parse(k)[0] in _NODE_KINDS), 0
    )
    unknown = sorted(set(symmetries) - set(SYMMETRIES))
    if unknown:
        raise ValueError(f"unknown symmetries {unknown}; known: {SYMMETRIES}")
    possible = {"translation": "positions" in kinds, "permutation": n > 0}
    symmetries = [name for name in SYMMETRIES if name in symmetries and possible.get(name, True)]

    errors = {name: [0.0] * len(out_kinds) for name in symmetries}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        y = call(tensors)
        for _ in range(n_trials):
            for name in symmetries:
                q = shift = perm = None
                if name in ("rotation", "reflection"):
                    q = o3.rand_matrix(dtype=torch.float64) * (-1 if name == "reflection" else 1)
                elif name == "translation":
                    shift = 10 * torch.randn(3, dtype=torch.float64)
                else:
                    perm = random_node_permutation(n, batch)
                y_g = call(
                    [_act(x, k, q, shift, perm) for x, k in zip(tensors, kinds, strict=True)]
                )
                for i, (a, b, k) in enumerate(zip(y, y_g, out_kinds, strict=True)):
                    err = (_act(a, k, q, shift, perm) - b).abs().max().item() if a.numel() else 0.0
                    errors[name][i] = max(errors[name][i], err)
    failed = any(e > atol or e != e for errs in errors.values() for e in errs)
    if failed:
        lines = [
            f"  {name}: "
            + ", ".join(
                f"out[{i}] ({k}) {e:.3g}"
                for i, (e, k) in enumerate(zip(errs, out_kinds, strict=True))
            )
            for name, errs in errors.items()
        ]
        raise AssertionError(f"not equivariant (atol {atol:g}, {dtype}):\n" + "\n".join(lines))
    return errors
