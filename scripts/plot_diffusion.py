"""Figures of the noise processes: IGSO(3) angle densities with sample histograms, and more.

Usage: ``python scripts/plot_diffusion.py [OUT_DIR]`` (default ``figures/diffusion``). Writes

- ``igso3_angle_density.png``: the angle density f(w)(1 - cos w)/pi for several sigma, with
  histograms of 20,000 angles from ``sample_igso3`` and the Haar density for reference;
- ``igso3_score.png``: the angle score d log f / dw over [0, pi];
- ``torus_density.png``: wrapped-normal densities with sample histograms;
- ``schedules.png``: sigma(t) for SO(3) and the torus, alpha_t and sigma_t for R^3.

Needs matplotlib (the ``eval`` extra).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from molgen.diffusion import R3Diffuser, SO3Diffuser, TorusDiffuser  # noqa: E402

SIGMAS = [0.1, 0.25, 0.5, 1.0, 1.5]


def main(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    omega = torch.linspace(0.0, math.pi, 1000, dtype=torch.float64)
    colors = plt.cm.viridis(torch.linspace(0, 0.9, len(SIGMAS)).numpy())
    written = []

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for sigma, color in zip(SIGMAS, colors, strict=True):
        angles = SO3Diffuser.sample_igso3(sigma, 20000, generator=g, dtype=torch.float64).norm(
            dim=-1
        )
        ax.hist(angles.numpy(), bins=120, range=(0, math.pi), density=True, alpha=0.3, color=color)
        density = SO3Diffuser.angle_density(omega, sigma)
        ax.plot(omega.numpy(), density.numpy(), color=color, label=f"sigma = {sigma}")
    ax.plot(omega.numpy(), ((1 - torch.cos(omega)) / math.pi).numpy(), "k--", label="Haar")
    ax.set(xlabel="rotation angle (rad)", ylabel="density", title="IGSO(3) angle density")
    ax.legend()
    written.append(out_dir / "igso3_angle_density.png")
    fig.savefig(written[-1], dpi=120, bbox_inches="tight")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for sigma, color in zip(SIGMAS, colors, strict=True):
        score = SO3Diffuser.kernel_score(
            omega[:, None] * torch.tensor([1.0, 0, 0], dtype=omega.dtype), sigma
        )
        ax.plot(omega.numpy(), score[:, 0].numpy(), color=color, label=f"sigma = {sigma}")
    ax.set(xlabel="rotation angle (rad)", ylabel="d log f / d omega", title="IGSO(3) score")
    ax.set_ylim(-60, 5)
    ax.legend()
    written.append(out_dir / "igso3_score.png")
    fig.savefig(written[-1], dpi=120, bbox_inches="tight")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = torch.linspace(-math.pi, math.pi, 1000, dtype=torch.float64)
    for sigma, color in zip([0.2, 0.5, 1.0, 2.0], colors, strict=False):
        samples = TorusDiffuser.sample(sigma, 20000, generator=g, dtype=torch.float64)
        ax.hist(samples.numpy(), bins=120, density=True, alpha=0.3, color=color)
        ax.plot(
            x.numpy(),
            TorusDiffuser.log_density(x, sigma).exp().numpy(),
            color=color,
            label=f"sigma = {sigma}",
        )
    ax.set(xlabel="angle (rad)", ylabel="density", title="wrapped normal on the torus")
    ax.legend()
    written.append(out_dir / "torus_density.png")
    fig.savefig(written[-1], dpi=120, bbox_inches="tight")

    fig, ax = plt.subplots(figsize=(7, 4.5))
    t = torch.linspace(0, 1, 200, dtype=torch.float64)
    alpha, sigma_r3 = R3Diffuser().marginal(t)
    ax.plot(t, SO3Diffuser().sigma(t), label="SO(3) sigma(t) (logarithmic)")
    ax.plot(t, SO3Diffuser(schedule="exponential").sigma(t), label="SO(3) sigma(t) (exponential)")
    ax.plot(t, TorusDiffuser().sigma(t), label="torus sigma(t)")
    ax.plot(t, alpha, label="R3 alpha_t")
    ax.plot(t, sigma_r3, label="R3 sigma_t")
    ax.set(xlabel="t", title="noise schedules (t = 0 data, t = 1 prior)")
    ax.legend()
    written.append(out_dir / "schedules.png")
    fig.savefig(written[-1], dpi=120, bbox_inches="tight")
    plt.close("all")
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1] if len(sys.argv) > 1 else "figures/diffusion")):
        print(path)
