r"""Motif scaffolding by replacement, and partial diffusion of an input backbone.

**Replacement** (the inpainting of score-based models, SALAD's "structure editing"): after
every reverse step to time :math:`t`, the frames of the motif residues are replaced by the
motif's own frames noised to :math:`t` by the forward marginal (the motif alone, centred on
its CA centroid), rigidly superposed (Kabsch on CA) onto where those residues are now, so the
motif's global pose follows the scaffold and the network sees a state consistent with the
noise level. It needs nothing from the network, so any frame model works, including one
trained without motif conditioning. After the last step, ``motif_harmonize_steps`` more
network calls at the final time each take the previous clean estimate with the motif frames
put back (the same replacement) as their state: a fixed-point iteration of the denoiser that
moves the scaffold into agreement with the motif (the network's own motif drifts less from
the input with every call). At the end the network's final motif CA is compared with
the input motif (:func:`motif_ca_rmsd`, after superposition) and the exact input motif atoms
are put in its place (:func:`place_motif`), with the free neighbour of each motif end rebuilt
across an ideal trans peptide (:func:`join_motif`); idealisation then holds the motif fixed.

**Partial diffusion** (RFdiffusion's ``partial_T``): the input backbone is noised to
``partial_t`` with :meth:`~molgen.diffusion.SE3Diffuser.sample_marginal` and denoised from
there; motif residues of the input may be held by replacement at the same time.

Output positions are 1-based; ``positions`` tensors here are 0-based rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from molgen.checks.bonds import ENGH_HUBER_ANGLES, ENGH_HUBER_LENGTHS
from molgen.errors import InputError
from molgen.geometry import Frames, center, dihedral, frames_from_backbone, kabsch, place_atom, rmsd
from molgen.io import read_structure
from molgen.io.structure import Protein
from molgen.sample.contig import Contig, Motif, MotifSegment, extract_motif

__all__ = [
    "Conditioning",
    "MotifGuide",
    "MotifPlacement",
    "motif_ca_rmsd",
    "place_motif",
    "position_spans",
    "read_conditioning",
    "join_motif",
    "replace_motif",
]


@dataclass(frozen=True)
class MotifPlacement:
    """Where a sample's motif went: 1-based output ``positions`` of each motif residue (contig
    order), their ``residues`` labels (``A24``) and one-letter ``letters``, the drawn
    ``scaffold_lengths`` (``None`` in partial diffusion) and ``ca_rmsd`` (Angstrom, the
    network's final motif CA against the input motif after superposition)."""

    positions: tuple[int, ...]
    residues: tuple[str, ...]
    letters: str
    scaffold_lengths: tuple[int, ...] | None
    ca_rmsd: float | None = None


def position_spans(positions: tuple[int, ...] | list[int]) -> str:
    """Runs of consecutive positions as ``9-25;40-47`` (single positions as ``9``).

    >>> position_spans([9, 10, 11, 40, 42, 43])
    '9-11;40;42-43'
    """
    runs: list[list[int]] = []
    for p in positions:
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ";".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs)


@dataclass(frozen=True)
class Conditioning:
    """What conditions every sample of a run: the ``contig`` and its ``motif`` (residues in
    contig order), and for partial diffusion the ``start`` backbone ``(L, 4, 3)`` (Angstrom)
    with the 0-based ``motif_rows`` of its held residues (``None`` without a contig)."""

    contig: Contig | None
    motif: Motif | None
    start: np.ndarray | None = None
    motif_rows: tuple[int, ...] | None = None

    def layout(
        self, index: int, seed: int, length_range: tuple[int, int] | None
    ) -> tuple[int, tuple[int, ...], tuple[int, ...] | None]:
        """Length, 0-based motif rows and scaffold lengths of sample ``index``; scaffold
        lengths are drawn by a numpy generator seeded with ``(seed, index)``."""
        if self.start is not None:
            return len(self.start), self.motif_rows or (), None
        lengths = self.contig.draw_lengths(np.random.default_rng([seed, index]), length_range)
        rows = [r - 1 for a, b in self.contig.layout(lengths) for r in range(a, b + 1)]
        return self.contig.motif_length + sum(lengths), tuple(rows), tuple(lengths)

    def placement(
        self, rows: tuple[int, ...], scaffold: tuple[int, ...] | None, ca_rmsd: float | None
    ) -> MotifPlacement | None:
        """The :class:`MotifPlacement` of a sample (``None`` without a motif)."""
        if self.motif is None:
            return None
        labels = tuple(
            f"{c}{n}" for c, n in zip(self.motif.chains, self.motif.numbers, strict=True)
        )
        return MotifPlacement(
            tuple(r + 1 for r in rows), labels, self.motif.sequence, scaffold, ca_rmsd
        )


def _read(path: str) -> list[Protein]:
    proteins = read_structure(path)
    if not proteins:
        raise InputError("holds no protein chain", path)
    return proteins


def read_conditioning(
    contig: str | None, motif: str | None, start: str | None
) -> Conditioning | None:
    """Parse the contig and read the motif file or the partial-diffusion input (files are
    user input: errors are :class:`~molgen.errors.InputError`); ``None`` without any."""
    if contig is None and start is None:
        if motif is not None:
            raise InputError("--motif needs --contig")
        return None
    parsed = None if contig is None else Contig.parse(contig)
    if start is None:
        if motif is None:
            raise InputError("--contig needs --motif (the file holding the motif residues)")
        return Conditioning(parsed, extract_motif(_read(motif), parsed, motif))
    if motif is not None:
        raise InputError("with --input the motif residues come from the input: drop --motif")
    proteins = _read(start)
    chain = proteins[0]
    if parsed is not None:
        if not all(isinstance(s, MotifSegment) for s in parsed.segments):
            raise InputError("with --input the contig lists motif residues only", "--contig")
        chains = {s.chain for s in parsed.motif_segments}
        if len(chains) > 1:
            raise InputError("with --input the motif residues must be from one chain", "--contig")
        chain = next((p for p in proteins if p.chain_id in chains), None)
        if chain is None:
            raise InputError(f"chain {chains.pop()} is not in the input", start)
    if not chain.atom_mask.all():
        raise InputError(f"chain {chain.chain_id} lacks backbone atoms of some residues", start)
    if parsed is None:
        return Conditioning(None, None, chain.atoms)
    found = extract_motif([chain], parsed, start)
    numbers = [int(n) for n in chain.residue_numbers]
    rows = tuple(numbers.index(n) for n in found.numbers)
    return Conditioning(parsed, found, chain.atoms, rows)


@dataclass
class MotifGuide:
    """A batch's motifs: centred frames ``rotations [B, M, 3, 3]``, ``translations [B, M, 3]``
    (Angstrom), the input ``atoms [B, M, 4, 3]`` (float64) and the 0-based ``positions
    [B, M]`` of the motif residues in each chain. Chains whose motif has fewer than ``M``
    residues repeat their last one; ``weights [B, M]`` is 0 on those repeats (left out of
    every superposition) and ``source [B, M]`` the entry each one repeats (its own index
    elsewhere), so every write to a residue carries the same value."""

    rotations: Tensor
    translations: Tensor
    atoms: Tensor
    positions: Tensor
    weights: Tensor
    source: Tensor

    @classmethod
    def build(cls, motif_atoms: np.ndarray, positions: list[tuple[int, ...]], device, dtype):
        """From one motif's atoms ``(M, 4, 3)`` and each chain's motif rows."""
        return cls.stack([(motif_atoms, rows) for rows in positions], device, dtype)

    @classmethod
    def stack(cls, motifs: list[tuple[np.ndarray, tuple[int, ...]]], device, dtype):
        """From each chain's motif atoms ``(M_b, 4, 3)`` and rows (``M_b >= 1``)."""
        size = max(len(rows) for _, rows in motifs)
        atoms, rows, source = [], [], []
        for motif_atoms, motif_rows in motifs:
            count = len(motif_rows)
            index = np.minimum(np.arange(size), count - 1)
            atoms.append(np.asarray(motif_atoms, dtype=np.float64)[index])
            rows.append(np.asarray(motif_rows)[index])
            source.append(index)
        atoms = torch.as_tensor(np.stack(atoms), dtype=torch.float64, device=device)
        source = torch.as_tensor(np.stack(source), dtype=torch.long, device=device)
        weights = (source == torch.arange(size, device=device)).to(dtype)
        rot, x = frames_from_backbone(atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :])
        positions = torch.as_tensor(np.stack(rows), dtype=torch.long, device=device)
        return cls(rot.to(dtype), center(x, weights > 0).to(dtype), atoms, positions, weights,
                   source)  # fmt: skip

    def fixed(self, shape: tuple[int, int]) -> Tensor:
        """Bool ``[B, L]``: True at the motif residues."""
        out = torch.zeros(shape, dtype=torch.bool, device=self.positions.device)
        return out.scatter(1, self.positions, True)


def _rows(guide: MotifGuide) -> Tensor:
    return torch.arange(guide.positions.shape[0], device=guide.positions.device)[:, None]


def replace_motif(
    frames: Frames, guide: MotifGuide, diffuser, t: float, generator: torch.Generator
) -> Frames:
    """``frames [B, L]`` with the motif residues' frames replaced by the motif noised to
    ``t`` (forward marginal of the motif alone) and superposed (Kabsch on CA) onto those
    residues' current CA; translations re-centred over the chain."""
    rows = _rows(guide)
    noisy = diffuser.sample_marginal(Frames(guide.rotations, guide.translations), t, generator)
    noisy_rot = noisy.rot_t[rows, guide.source]  # repeats take their source's draw
    noisy_x = noisy.trans_t[rows, guide.source]
    target = frames.translations[rows, guide.positions]  # [B, M, 3]
    turn, shift = kabsch(noisy_x, target, guide.weights)  # [B, 3, 3], [B, 3]
    rot = frames.rotations.clone()
    x = frames.translations.clone()
    rot[rows, guide.positions] = turn[:, None] @ noisy_rot
    x[rows, guide.positions] = noisy_x @ turn.transpose(-1, -2) + shift[:, None]
    return Frames(rot, center(x, frames.mask), frames.mask)


def motif_ca_rmsd(x0: Tensor, guide: MotifGuide) -> Tensor:
    """CA RMSD ``[B]`` (Angstrom) of the predicted motif CA in ``x0 [B, L, 3]`` against the
    input motif, after optimal superposition."""
    made = x0[_rows(guide), guide.positions].double()  # [B, M, 3]
    return rmsd(made, guide.atoms[..., 1, :], guide.weights.double())


def place_motif(atoms: Tensor, guide: MotifGuide) -> Tensor:
    """``atoms [B, L, 4, 3]`` (float64) with the input motif atoms superposed (Kabsch on CA)
    onto each chain's generated motif CA and put in place of its motif residues."""
    atoms = atoms.double().clone()
    rows = _rows(guide)
    made = atoms[rows, guide.positions, 1]  # [B, M, 3]
    motif = guide.atoms  # [B, M, 4, 3]
    turn, shift = kabsch(motif[:, :, 1], made, guide.weights.double())
    placed = motif @ turn[:, None].transpose(-1, -2) + shift[:, None, None]
    atoms[rows, guide.positions] = placed
    return join_motif(atoms, guide.fixed(atoms.shape[:2]))


_N_CA, _CA_C, _, _C_N = (float(v) for v in ENGH_HUBER_LENGTHS[:, 0])
_CA_C_N, _C_N_CA = float(ENGH_HUBER_ANGLES[1, 0]), float(ENGH_HUBER_ANGLES[2, 0])


#: Free residues over which the shift of a motif's joined neighbour fades out.
JOIN_REACH = 4


def join_motif(atoms: Tensor, fixed: Tensor) -> Tensor:
    r"""``atoms [B, L, 4, 3]`` with each free residue next to a fixed one moved (translated)
    so that the peptide between them is ideal and trans (Engh & Huber bonds and angles,
    :math:`\omega = \pi`).

    After a motif end (fixed i, free i+1) the fixed C=O fixes the peptide plane: N(i+1) goes
    in the plane of CA, C, O opposite O, CA(i+1) at :math:`\omega = \pi`. Before a motif
    start (free i, fixed i+1) C(i) keeps its current :math:`\phi_{i+1}` and CA(i) goes at
    :math:`\omega = \pi`. The moved residue's other atoms follow its CA, and the shift fades
    linearly over the next ``JOIN_REACH`` free residues away from the motif (a smooth start
    for idealisation); without this an end whose network-predicted neighbour sits near cis
    stays there under idealisation.
    """
    n, ca, c, o = atoms.unbind(-2)  # [B, L, 3] each
    length = atoms.shape[1]
    pi = torch.full_like(ca[:, :-1, 0], torch.pi)  # [B, L-1]
    free = ~fixed[..., None]  # [B, L, 1]
    # Motif end: peptide k joins fixed k to free k + 1.
    n_next = place_atom(o[:, :-1], ca[:, :-1], c[:, :-1], _C_N, _CA_C_N, pi)
    ca_next = place_atom(ca[:, :-1], c[:, :-1], n_next, _N_CA, _C_N_CA, pi)
    after = (fixed[:, :-1] & ~fixed[:, 1:])[..., None]  # [B, L-1, 1]
    delta_after = torch.where(after, ca_next - ca[:, 1:], 0.0)  # shift of residue k + 1
    # Motif start: peptide k joins free k to fixed k + 1.
    phi = dihedral(c[:, :-1], n[:, 1:], ca[:, 1:], c[:, 1:])
    c_prev = place_atom(c[:, 1:], ca[:, 1:], n[:, 1:], _C_N, _C_N_CA, phi)
    ca_prev = place_atom(ca[:, 1:], n[:, 1:], c_prev, _CA_C, _CA_C_N, pi)
    before = (~fixed[:, :-1] & fixed[:, 1:])[..., None]
    delta_before = torch.where(before, ca_prev - ca[:, :-1], 0.0)  # shift of residue k
    # Each shift fades over JOIN_REACH free residues away from the motif.
    shift = torch.zeros_like(ca)
    for m in range(min(JOIN_REACH, length - 1)):
        weight = (JOIN_REACH - m) / JOIN_REACH
        shift[:, 1 + m :] += weight * delta_after[:, : length - 1 - m]
        shift[:, : length - 1 - m] += weight * delta_before[:, m:]
    out = atoms + (shift * free)[:, :, None]
    out[:, 1:, 0] = torch.where(after, n_next, out[:, 1:, 0])
    out[:, :-1, 2] = torch.where(before, c_prev, out[:, :-1, 2])
    return out
