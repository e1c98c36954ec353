"""Protein backbone chains for training: random crops, length-bucketed batches, padded collate.

Coordinates are in Angstrom. A chain longer than ``crop_length`` is cut to a random contiguous
segment of that length; every item is re-centred on the CA mean of what it keeps. The crop
start comes from a ``torch.Generator`` seeded from ``(seed, epoch, index)``, so an item is the
same in any process, worker or run that asks for it with the same seed and epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from molgen.geometry import frames_from_backbone
from molgen.io.blueprint import blueprint_from_dssp, encode_blueprint
from molgen.io.chainset import load_chain_set
from molgen.io.strand_pairing import MAX_PARTNERS, strand_partners
from molgen.seeding import seeded_generator

__all__ = ["BackboneBatch", "BackboneItem", "LengthBucketSampler", "PDBChains", "collate_backbones"]


@dataclass
class BackboneItem:
    """One (cropped) chain: ``atoms`` float32 ``[L, 4, 3]`` (N, CA, C, O; Angstrom, CA-centred),
    ``mask`` bool ``[L]``, ``residue_index`` long ``[L]`` (positions in the source chain),
    ``ss`` long ``[L]`` (its DSSP as blueprint codes H 1, E 2, L 3; :mod:`molgen.io.blueprint`),
    ``partners`` long ``[L, MAX_PARTNERS]`` (strand partners within the crop, -1 none;
    :mod:`molgen.io.strand_pairing`)."""

    atoms: Tensor
    mask: Tensor
    residue_index: Tensor
    ss: Tensor
    partners: Tensor
    sequence: str
    name: str


class PDBChains(torch.utils.data.Dataset):
    """Chains of one split of a chain-set ``.npz`` (:mod:`molgen.io.chainset`) as training items.

    Parameters
    ----------
    path : str or Path
        Chain-set file (e.g. ``shared/data/pdb_chains.npz``).
    split : str
        Which chains to use; ``"train"`` by default (``"val"`` for tuning, any other split name
        present in the file is allowed).
    crop_length : int or None
        Chains longer than this are cut to a random contiguous segment of this many residues;
        ``None`` keeps whole chains.
    min_length, max_length : int or None
        Keep only chains with ``min_length <= L <= max_length`` (before cropping).
    max_coil_fraction : float or None
        Keep only chains whose DSSP has at most this fraction of loop (``L``) residues
        (FrameDiff and FrameFlow train on chains with at most 50% coil).
    min_strand_fraction : float or None
        Keep only chains whose DSSP has at least this fraction of strand (``E``) residues
        (a strand-rich training set: 39% E instead of 24% at 0.25 among the train chains of
        60-256 residues with at most 50% loop).
    seed : int
        Seed of the crop positions (with the epoch, see :meth:`set_epoch`, and the index).
    """

    def __init__(
        self,
        path: str | Path,
        split: str = "train",
        crop_length: int | None = 128,
        min_length: int = 40,
        max_length: int | None = None,
        max_coil_fraction: float | None = None,
        min_strand_fraction: float | None = None,
        seed: int = 0,
    ) -> None:
        if crop_length is not None and crop_length < 1:
            raise ValueError(f"crop_length must be positive, got {crop_length}")
        self.chains = load_chain_set(path, split)
        keep = self.chains.lengths >= min_length
        if max_length is not None:
            keep &= self.chains.lengths <= max_length
        if max_coil_fraction is not None or min_strand_fraction is not None:
            blueprints = [blueprint_from_dssp(d) for d in self.chains.dssp]
            share = {letter: np.array([b.count(letter) / max(len(b), 1) for b in blueprints])
                     for letter in "LE"}  # fmt: skip
            if max_coil_fraction is not None:
                keep &= share["L"] <= max_coil_fraction
            if min_strand_fraction is not None:
                keep &= share["E"] >= min_strand_fraction
        self.indices = np.flatnonzero(keep)
        #: ``(N,)`` 30%-identity cluster of each item (for :class:`LengthBucketSampler` groups).
        self.clusters = self.chains.clusters[self.indices]
        self.crop_length, self.seed, self.epoch = crop_length, seed, 0
        full = self.chains.lengths[self.indices]
        #: int64 ``(N,)`` item lengths after cropping (what :class:`LengthBucketSampler` needs).
        self.lengths = full if crop_length is None else np.minimum(full, crop_length)

    def set_epoch(self, epoch: int) -> None:
        """Draw new crop positions: items of different epochs are cropped independently."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> BackboneItem:
        if not 0 <= index < len(self):
            raise IndexError(f"item {index} out of range for {len(self)} chains")
        chain = int(self.indices[index])
        atoms = torch.from_numpy(self.chains.atoms(chain)).float()  # [L, 4, 3]
        length, start = len(atoms), 0
        if self.crop_length is not None and length > self.crop_length:
            gen = seeded_generator(self.seed, self.epoch, index)
            start = int(torch.randint(length - self.crop_length + 1, (1,), generator=gen))
            length = self.crop_length
        atoms = atoms[start : start + length]
        atoms = atoms - atoms[:, 1].mean(0)
        blueprint = blueprint_from_dssp(str(self.chains.dssp[chain])[start : start + length])
        return BackboneItem(
            atoms=atoms,
            mask=torch.ones(length, dtype=torch.bool),
            residue_index=torch.arange(start, start + length),
            ss=torch.from_numpy(encode_blueprint(blueprint)),
            partners=torch.from_numpy(strand_partners(atoms[:, 1].numpy(), blueprint)),
            sequence=str(self.chains.sequences[chain])[start : start + length],
            name=str(self.chains.names[chain]),
        )


class LengthBucketSampler(torch.utils.data.Sampler):
    """Batches of items of similar length, shuffled and sharded across data-parallel ranks.

    Each epoch, items are sorted by length with random tie-breaking, cut into consecutive
    batches (``batch_size`` items, or as many as fit ``max_residues >= n * longest``), and
    the batch order is shuffled. Every rank builds the same list from ``(seed, epoch)`` and
    takes every ``num_replicas``-th batch from ``rank``, so ranks see disjoint items and the
    same number of batches: the list is cut (``drop_last``) or padded by repeating its first
    batches to a multiple of ``num_replicas``. With ``groups`` (e.g. 30%-identity clusters),
    each epoch holds one item per group, drawn anew every epoch, so every group is seen
    equally often (FrameDiff's cluster sampling).

    Parameters
    ----------
    lengths : sequence of int
        Length of each item (cropped length, e.g. :attr:`PDBChains.lengths`).
    batch_size : int, optional
        Items per batch. Exactly one of ``batch_size`` and ``max_residues`` is given.
    max_residues : int, optional
        Largest padded batch, ``items * longest item`` (residues); an item longer than this
        forms a batch on its own.
    seed : int
        Seed; combined with the epoch (:meth:`set_epoch`).
    drop_last : bool
        Drop an incomplete last batch (``batch_size`` mode) and the batches left over after
        dividing by ``num_replicas``, instead of padding.
    num_replicas, rank : int
        Data-parallel world size and this process's rank.
    groups : sequence, optional
        A group label per item; one item per group and epoch.
    """

    def __init__(
        self,
        lengths: Sequence[int] | np.ndarray,
        batch_size: int | None = None,
        max_residues: int | None = None,
        seed: int = 0,
        drop_last: bool = False,
        num_replicas: int = 1,
        rank: int = 0,
        groups: Sequence | np.ndarray | None = None,
    ) -> None:
        if (batch_size is None) == (max_residues is None):
            raise ValueError("give exactly one of batch_size and max_residues")
        if (batch_size or max_residues) < 1:
            raise ValueError("batch_size / max_residues must be positive")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank {rank} not in [0, {num_replicas})")
        self.lengths = torch.as_tensor(np.asarray(lengths, dtype=np.int64))
        self.batch_size, self.max_residues = batch_size, max_residues
        self.seed, self.drop_last = seed, drop_last
        self.num_replicas, self.rank, self.epoch = num_replicas, rank, 0
        self.group_of = None
        if groups is not None:
            _, inverse = np.unique(np.asarray(groups), return_inverse=True)
            if len(inverse) != len(self.lengths):
                raise ValueError(f"{len(inverse)} group labels for {len(self.lengths)} items")
            self.group_of = torch.as_tensor(inverse.reshape(-1), dtype=torch.long)

    def _epoch_items(self, gen: torch.Generator) -> Tensor:
        """Items of this epoch: all of them, or one random member of every group."""
        n = len(self.lengths)
        if self.group_of is None:
            return torch.arange(n)
        # A random key per item; the smallest key of each group wins.
        key = torch.rand(n, generator=gen, dtype=torch.float64) + self.group_of
        order = torch.argsort(key)
        first = torch.ones(n, dtype=torch.bool)
        first[1:] = self.group_of[order[1:]] != self.group_of[order[:-1]]
        return order[first]

    def set_epoch(self, epoch: int) -> None:
        """Use the batches of this epoch (call before each epoch, as with DistributedSampler)."""
        self.epoch = int(epoch)

    def _all_batches(self) -> list[list[int]]:
        """This epoch's batches for all ranks together, before sharding."""
        gen = seeded_generator(self.seed, self.epoch)
        items = self._epoch_items(gen)
        n = len(items)
        order = items[torch.randperm(n, generator=gen)]
        order = order[torch.argsort(self.lengths[order], stable=True)].tolist()
        batches: list[list[int]] = []
        if self.batch_size is not None:
            batches = [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
            if self.drop_last and batches and len(batches[-1]) < self.batch_size:
                batches.pop()
        else:
            current: list[int] = []
            for i in order:  # sorted ascending, so the newest item is the longest
                if current and (len(current) + 1) * int(self.lengths[i]) > self.max_residues:
                    batches.append(current)
                    current = []
                current.append(i)
            if current:
                batches.append(current)
        return [batches[i] for i in torch.randperm(len(batches), generator=gen)]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._all_batches()
        if self.drop_last:
            batches = batches[: len(batches) - len(batches) % self.num_replicas]
        elif batches and len(batches) % self.num_replicas:
            extra = self.num_replicas - len(batches) % self.num_replicas
            batches = batches + (batches * math.ceil(extra / len(batches)))[:extra]
        return iter(batches[self.rank :: self.num_replicas])

    def __len__(self) -> int:
        total = len(self._all_batches())
        if self.drop_last:
            return total // self.num_replicas
        return math.ceil(total / self.num_replicas)


@dataclass
class BackboneBatch:
    """Padded backbones: ``atoms [B, L, 4, 3]`` (Angstrom), ``mask [B, L]`` bool,
    ``residue_index [B, L]`` long, ``ss [B, L]`` long blueprint codes (0 at padding),
    ``partners [B, L, MAX_PARTNERS]`` long strand partners (-1 none and at padding), frames
    ``rotations [B, L, 3, 3]`` and ``translations [B, L, 3]`` (CA, Angstrom; padding has
    identity rotations and zero translations)."""

    atoms: Tensor
    mask: Tensor
    residue_index: Tensor
    ss: Tensor
    partners: Tensor
    rotations: Tensor
    translations: Tensor
    sequences: list[str]
    names: list[str]

    @property
    def frames(self) -> tuple[Tensor, Tensor]:
        """``(R [B, L, 3, 3], x [B, L, 3])``."""
        return self.rotations, self.translations

    def __len__(self) -> int:
        return len(self.names)

    def to(self, device: torch.device | str) -> BackboneBatch:
        """The batch with every tensor moved to ``device``."""
        moved = {
            k: v.to(device, non_blocking=True) if isinstance(v, Tensor) else v
            for k, v in vars(self).items()
        }
        return BackboneBatch(**moved)


def collate_backbones(items: Sequence[BackboneItem]) -> BackboneBatch:
    """Pad items to the longest and compute residue frames (``frames_from_backbone``)."""
    if not items:
        raise ValueError("cannot collate an empty batch")
    size = (len(items), max(len(it.mask) for it in items))
    atoms = torch.zeros(*size, 4, 3, dtype=items[0].atoms.dtype)
    mask = torch.zeros(size, dtype=torch.bool)
    residue_index = torch.zeros(size, dtype=torch.long)
    ss = torch.zeros(size, dtype=torch.long)
    partners = torch.full((*size, MAX_PARTNERS), -1, dtype=torch.long)
    for b, it in enumerate(items):
        n = len(it.mask)
        atoms[b, :n], mask[b, :n], residue_index[b, :n] = it.atoms, it.mask, it.residue_index
        ss[b, :n], partners[b, :n] = it.ss, it.partners
    rot, trans = frames_from_backbone(atoms[..., 0, :], atoms[..., 1, :], atoms[..., 2, :])
    eye = torch.eye(3, dtype=rot.dtype).expand_as(rot)
    rot = torch.where(mask[..., None, None], rot, eye)
    trans = torch.where(mask[..., None], trans, torch.zeros_like(trans))
    return BackboneBatch(
        atoms=atoms,
        mask=mask,
        residue_index=residue_index,
        ss=ss,
        partners=partners,
        rotations=rot,
        translations=trans,
        sequences=[it.sequence for it in items],
        names=[it.name for it in items],
    )
