"""The backbone denoising loss on real val chains, with an oracle in place of the network."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from molgen.datasets.pdb_chains import PDBChains, collate_backbones
from molgen.diffusion import SE3Diffuser
from molgen.geometry import backbone_dihedrals, center, matrix_to_rotvec
from molgen.train.backbone_loss import BackboneLossConfig, backbone_loss


class Oracle(torch.nn.Module):
    """Knows the clean chain; predicts it exactly, plus ``offset`` (Angstrom) on ``x0``."""

    def __init__(self, batch, offset: torch.Tensor | None = None) -> None:
        super().__init__()
        self.diffuser = SE3Diffuser()
        self.config = SimpleNamespace(self_condition=False, ss_condition=False)
        self.rot_0 = batch.rotations
        self.x_0 = center(batch.translations, batch.mask)
        _, psi, _ = backbone_dihedrals(batch.atoms, batch.mask)
        psi = torch.nan_to_num(psi)
        self.psi = torch.stack([torch.cos(psi), torch.sin(psi)], -1)
        self.offset = torch.zeros_like(self.x_0) if offset is None else offset
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, rot_t, x_t, t, mask, self_cond=None, residue_index=None, *_):
        v = matrix_to_rotvec(self.rot_0.transpose(-1, -2) @ rot_t)  # R_t = R_0 exp(v)
        sigma = self.diffuser.so3.sigma(t)[:, None].expand(mask.shape)
        x0 = self.scale * (self.x_0 + self.offset)
        return {
            "x0": x0,
            "R0": self.rot_0,
            "rot_score": self.diffuser.so3.kernel_score(v, sigma),
            "psi": self.psi,
            "trans_score": torch.zeros_like(x_t),
        }


@pytest.fixture(scope="module")
def batch(chain_set_path):
    chains = PDBChains(chain_set_path, split="val", crop_length=48, seed=0)
    return collate_backbones([chains[i] for i in (0, 7, 21)])


def _terms(model, batch, t: float, cfg: BackboneLossConfig | None = None) -> dict:
    times = torch.full((len(batch),), t, dtype=torch.float64)
    with torch.no_grad():
        return backbone_loss(model, batch, torch.Generator().manual_seed(0), cfg, t=times)[1]


def test_oracle_has_zero_loss(batch):
    """Exact clean frames and psi: zero translation, rotation and psi terms at any t."""
    model = Oracle(batch).double()
    for t in (0.02, 0.7):
        terms = _terms(model, batch, t)
        for name in ("trans", "rot", "psi", "x0_rmsd"):
            assert terms[name] == pytest.approx(0.0, abs=1e-6), name
    assert _terms(model, batch, 0.7)["aux"] == 0.0  # aux only below aux_max_t


def test_aux_term_has_edm_weight(batch):
    """Exact frames leave only the ideal-geometry atom residual in the aux term (t < 0.25),
    a t-independent error, so aux(t1) / aux(t2) = (1 + SNR(t1)) / (1 + SNR(t2))."""
    model = Oracle(batch).double()
    r3 = SE3Diffuser().r3

    def weight(t: float) -> float:
        alpha, sigma = r3.marginal(torch.tensor(t, dtype=torch.float64))
        return float(1 + alpha**2 / sigma**2)

    aux_small, aux_mid = _terms(model, batch, 0.01)["aux"], _terms(model, batch, 0.2)["aux"]
    assert aux_small > 0
    assert aux_small / aux_mid == pytest.approx(weight(0.01) / weight(0.2), rel=1e-6)


@pytest.mark.parametrize("t", [0.02, 0.3, 0.9])
def test_translation_term_has_edm_weight(batch, t):
    """An x0 error e (Angstrom) costs (1 + alpha_t^2 / sigma_t^2) |e|^2 / 10^2 at time t."""
    gen = torch.Generator().manual_seed(1)
    offset = center(torch.randn(batch.translations.shape, generator=gen, dtype=torch.float64))
    offset = center(offset * batch.mask[..., None], batch.mask) * batch.mask[..., None]
    model = Oracle(batch, offset).double()
    terms = _terms(model, batch, t, BackboneLossConfig(aux_max_t=0.0))
    alpha, sigma = SE3Diffuser().r3.marginal(torch.tensor(t, dtype=torch.float64))
    mean_sq = float((offset**2).sum(-1)[batch.mask].mean())
    assert terms["trans"] == pytest.approx(float(1 + alpha**2 / sigma**2) * mean_sq / 100, rel=1e-6)
    assert terms["x0_rmsd"] == pytest.approx(mean_sq**0.5, rel=1e-6)


def test_loss_gradient_is_finite_and_points_to_the_data(batch):
    """d loss / d scale of a scaled oracle (x0 = s x_0) is finite and positive at s > 1."""
    model = Oracle(batch).double()
    with torch.no_grad():
        model.scale.fill_(1.05)
    times = torch.tensor([0.01, 0.1, 0.5], dtype=torch.float64)
    loss, _ = backbone_loss(model, batch, torch.Generator().manual_seed(0), t=times)
    loss.backward()
    assert torch.isfinite(model.scale.grad) and float(model.scale.grad) > 0


def test_draw_times_focus_share():
    """draw_times: without focus U(min_t, 1) (mean 0.505 for min_t 0.01); with focus_rate 0.5
    and range (0.08, 0.4), half the times come from that range, so the share inside it is
    0.5 + 0.5 x 0.32 / 0.99 = 0.662 and the mean 0.5 x 0.24 + 0.5 x 0.505 = 0.3725."""
    from molgen.train.backbone_loss import draw_times

    plain = draw_times(20000, BackboneLossConfig(), torch.Generator().manual_seed(0))
    assert plain.min() >= 0.01 and plain.max() <= 1.0
    assert abs(plain.mean().item() - 0.505) < 0.01
    cfg = BackboneLossConfig(focus_rate=0.5, focus_min_t=0.08, focus_max_t=0.4)
    focused = draw_times(20000, cfg, torch.Generator().manual_seed(0))
    inside = ((focused >= 0.08) & (focused <= 0.4)).float().mean().item()
    assert abs(inside - 0.662) < 0.01
    assert abs(focused.mean().item() - 0.3725) < 0.01
    assert focused.min() >= 0.01 and focused.max() <= 1.0


def test_drop_labels_rates():
    """drop_labels: about ss_drop_chain_rate of chains lose every label; the others lose a
    fraction U(0, r_max) of theirs, so keep 1 - r_max / 2 on average; kept labels unchanged."""
    from molgen.train.backbone_loss import drop_labels

    cfg = BackboneLossConfig(ss_drop_chain_rate=0.3, ss_drop_residue_max=0.5)
    ss = torch.randint(1, 4, (4000, 100), generator=torch.Generator().manual_seed(0))
    out = drop_labels(ss, cfg, torch.Generator().manual_seed(1))
    kept = out != 0
    assert ((out == ss) | ~kept).all()
    empty = ~kept.any(1)
    assert abs(empty.float().mean().item() - 0.3) < 0.03
    assert abs(kept[~empty].float().mean().item() - 0.75) < 0.02


def test_drop_partners_drops_whole_chains():
    """drop_partners: about ``rate`` of the chains lose every partner, the others keep all."""
    from molgen.train.backbone_loss import drop_partners

    partners = torch.randint(0, 50, (4000, 50, 2), generator=torch.Generator().manual_seed(0))
    out = drop_partners(partners, 0.5, torch.Generator().manual_seed(1))
    dropped = (out == -1).all(-1).all(-1)
    assert abs(dropped.float().mean().item() - 0.5) < 0.03
    assert torch.equal(out[~dropped], partners[~dropped])
