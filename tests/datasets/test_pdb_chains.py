"""PDBChains crops, LengthBucketSampler batches and collate_backbones on real val chains."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molgen.datasets import LengthBucketSampler, PDBChains, collate_backbones
from molgen.geometry import backbone_from_frames
from molgen.io.chainset import load_chain_set


@pytest.fixture(scope="module")
def val_chains(chain_set_path):
    return PDBChains(chain_set_path, split="val", crop_length=64, seed=3)


def test_crop_lengths(val_chains):
    """Each item has min(L, crop_length) residues, and lengths match the ``lengths`` array."""
    source = val_chains.chains.lengths[val_chains.indices]
    for i in range(0, len(val_chains), 37):
        item = val_chains[i]
        assert item.atoms.shape == (min(source[i], 64), 4, 3)
        assert item.atoms.dtype == torch.float32 and item.mask.all()
        assert len(item.sequence) == len(item.atoms) == val_chains.lengths[i]


def test_crop_is_contiguous_segment_recentred(val_chains):
    """A crop equals source[start:start+64] minus its CA mean, with residue_index its positions."""
    long_items = np.flatnonzero(val_chains.chains.lengths[val_chains.indices] > 100)[:10]
    for i in long_items:
        item = val_chains[int(i)]
        chain = int(val_chains.indices[i])
        start = int(item.residue_index[0])
        assert torch.equal(item.residue_index, torch.arange(start, start + 64))
        source = val_chains.chains.atoms(chain)[start : start + 64]
        expected = source - source[:, 1].mean(0)
        np.testing.assert_allclose(item.atoms.numpy(), expected, atol=1e-4)
        assert item.sequence == str(val_chains.chains.sequences[chain])[start : start + 64]
        np.testing.assert_allclose(item.atoms[:, 1].mean(0).numpy(), 0.0, atol=1e-4)


def test_crops_reproducible_and_vary_with_epoch(chain_set_path, val_chains):
    """Same seed and epoch -> identical crops; another epoch or seed -> different starts."""
    other = PDBChains(chain_set_path, split="val", crop_length=64, seed=3)
    reseeded = PDBChains(chain_set_path, split="val", crop_length=64, seed=4)
    long_items = np.flatnonzero(val_chains.lengths == 64)[:30]

    def starts(ds):
        return [int(ds[int(i)].residue_index[0]) for i in long_items]

    first = starts(val_chains)
    assert starts(other) == first
    assert starts(reseeded) != first
    other.set_epoch(1)
    assert starts(other) != first


def test_length_filters_and_split(chain_set_path):
    """min_length/max_length keep exactly the chains in range; splits follow the file."""
    ds = PDBChains(chain_set_path, split="val", crop_length=None, min_length=60, max_length=120)
    all_val = load_chain_set(chain_set_path, "val").lengths
    assert len(ds) == int(((all_val >= 60) & (all_val <= 120)).sum())
    assert ds.lengths.min() >= 60 and ds.lengths.max() <= 120
    assert set(ds.chains.splits.tolist()) == {"val"}


def test_sampler_covers_every_index_once(val_chains):
    """Without drop_last and with one replica, an epoch's batches partition all indices."""
    for kwargs in ({"batch_size": 7}, {"max_residues": 1000}):
        sampler = LengthBucketSampler(val_chains.lengths, seed=5, **kwargs)
        seen = np.concatenate(list(sampler))
        assert np.array_equal(np.sort(seen), np.arange(len(val_chains)))
        assert len(list(sampler)) == len(sampler)


def test_sampler_max_residues_respected(val_chains):
    """Every batch has items * longest <= max_residues."""
    sampler = LengthBucketSampler(val_chains.lengths, max_residues=1000, seed=0)
    for batch in sampler:
        assert len(batch) * val_chains.lengths[batch].max() <= 1000


def test_sampler_reproducible_and_epochs_differ(val_chains):
    """Same (seed, epoch) -> same batches; a new epoch reorders them."""
    a = LengthBucketSampler(val_chains.lengths, batch_size=8, seed=11)
    b = LengthBucketSampler(val_chains.lengths, batch_size=8, seed=11)
    assert list(a) == list(b)
    b.set_epoch(1)
    assert list(a) != list(b)


@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_ranks_disjoint_equal_counts(val_chains, drop_last):
    """Three ranks get equal batch counts; without padding duplicates their items are disjoint
    and (no drop_last) together cover everything."""
    kw = {"batch_size": 10, "seed": 2, "drop_last": drop_last, "num_replicas": 3}
    per_rank = [list(LengthBucketSampler(val_chains.lengths, rank=r, **kw)) for r in range(3)]
    assert len({len(p) for p in per_rank}) == 1
    assert len(per_rank[0]) == len(LengthBucketSampler(val_chains.lengths, rank=0, **kw))
    items = [set(np.concatenate(p).tolist()) for p in per_rank]
    total_batches = -(-len(val_chains) // 10)
    if drop_last or total_batches % 3 == 0:
        assert not (items[0] & items[1]) and not (items[1] & items[2]) and not (items[0] & items[2])
    if not drop_last:
        assert set.union(*items) == set(range(len(val_chains)))


def test_bucketing_reduces_padding(chain_set_path):
    """Bucketed batches pad under 5% and under a third of random batches' padding (uncropped)."""
    ds = PDBChains(chain_set_path, split="val", crop_length=None)

    def padding(batches):
        real = sum(ds.lengths[b].sum() for b in batches)
        padded = sum(len(b) * ds.lengths[b].max() for b in batches)
        return 1.0 - real / padded

    bucketed = list(LengthBucketSampler(ds.lengths, batch_size=16, seed=0))
    perm = torch.randperm(len(ds), generator=torch.Generator().manual_seed(0)).numpy()
    random_batches = [perm[i : i + 16] for i in range(0, len(ds), 16)]
    assert padding(bucketed) < 0.05
    assert padding(bucketed) < padding(random_batches) / 3


def test_collate_shapes_and_padding(val_chains):
    """Padded shapes, mask = real residues, zero atoms/translations and identity rotations in
    padding."""
    items = [val_chains[i] for i in (0, 1, 2, 3)]
    batch = collate_backbones(items)
    longest = max(len(it.mask) for it in items)
    assert batch.atoms.shape == (4, longest, 4, 3) and batch.mask.shape == (4, longest)
    assert batch.rotations.shape == (4, longest, 3, 3)
    assert batch.translations.shape == (4, longest, 3)
    assert batch.mask.sum(1).tolist() == [len(it.mask) for it in items]
    pad = ~batch.mask
    assert (batch.atoms[pad] == 0).all() and (batch.translations[pad] == 0).all()
    assert torch.equal(batch.rotations[pad], torch.eye(3).expand(int(pad.sum()), 3, 3))
    assert batch.names == [it.name for it in items]


def test_collate_frames_rebuild_backbone(val_chains):
    """backbone_from_frames(collated frames) reproduces real N, CA, C with RMS < 0.1 Angstrom
    per atom (N deviates by up to ~0.35 A where real N-CA-C angles differ from the ideal)."""
    batch = collate_backbones([val_chains[i] for i in range(8)])
    rebuilt = backbone_from_frames(*batch.frames, mask=batch.mask)
    err = torch.linalg.vector_norm(rebuilt[..., :3, :] - batch.atoms[..., :3, :], dim=-1)
    rms = err[batch.mask].square().mean(0).sqrt()  # [3]: N, CA, C
    assert (rms < 0.1).all() and err[batch.mask].max() < 0.5


def test_collate_frames_follow_convention(val_chains):
    """In each residue's frame: CA at the origin, C on +x, N in the xy-plane with y > 0; R is a
    proper rotation."""
    batch = collate_backbones([val_chains[i] for i in range(8)])
    rot, trans = batch.frames
    m = batch.mask
    local = (
        rot[..., None, :, :].transpose(-1, -2) @ (batch.atoms - trans[..., None, :])[..., None]
    )[..., 0][m]  # [N, 4, 3]
    assert local[:, 1].abs().max() < 1e-5
    assert local[:, 2, 1:].abs().max() < 1e-4 and (local[:, 2, 0] > 1.3).all()
    assert local[:, 0, 2].abs().max() < 1e-4 and (local[:, 0, 1] > 1.0).all()
    eye = torch.eye(3).expand(int(m.sum()), 3, 3)
    assert torch.allclose(rot[m].transpose(-1, -2) @ rot[m], eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(rot[m]), torch.ones(int(m.sum())), atol=1e-5)


def test_coil_filter_and_blueprint_labels(chain_set_path):
    """max_coil_fraction 0.5 keeps exactly the val chains whose DSSP has <= 50% loop letters,
    and every item carries its DSSP as blueprint codes (H 1, E 2, L 3), crop for crop."""
    from molgen.io.blueprint import blueprint_from_dssp, encode_blueprint

    data = PDBChains(chain_set_path, "val", crop_length=64, max_coil_fraction=0.5, seed=1)
    chains = data.chains
    coil = np.array([blueprint_from_dssp(str(d)).count("L") / len(d) for d in chains.dssp])
    assert np.array_equal(data.indices, np.flatnonzero(coil <= 0.5))
    assert 0 < len(data) < len(chains)
    for i in range(0, len(data), 53):
        item, chain = data[i], int(data.indices[i])
        start = int(item.residue_index[0])
        dssp = str(chains.dssp[chain])[start : start + len(item.ss)]
        assert item.ss.tolist() == encode_blueprint(blueprint_from_dssp(dssp)).tolist()
    batch = collate_backbones([data[0], data[1]])
    assert batch.ss.shape == batch.mask.shape and (batch.ss[~batch.mask] == 0).all()


def test_sampler_one_item_per_group_each_epoch(val_chains):
    """With groups (30% clusters), an epoch's batches hold exactly one item of every cluster,
    the chosen members change between epochs, and the same epoch repeats exactly."""
    groups = val_chains.clusters
    sampler = LengthBucketSampler(val_chains.lengths, max_residues=512, groups=groups, seed=2)
    items = [i for b in sampler for i in b]
    assert sorted(groups[items].tolist()) == sorted(np.unique(groups).tolist())
    sampler.set_epoch(1)
    other = [i for b in sampler for i in b]
    assert set(other) != set(items) and len(other) == len(items)
    sampler.set_epoch(0)
    assert [i for b in sampler for i in b] == items


def test_partners_index_the_crop_and_pad_with_minus_one(chain_set_path):
    """Strand partners of a crop point inside the crop at strand residues of the crop (the
    crop's own CA positions decide them), and padding has none."""
    chains = PDBChains(chain_set_path, split="val", crop_length=64, seed=3)
    items = [chains[i] for i in range(40)]
    assert sum(int((it.partners >= 0).sum()) for it in items) > 50
    for it in items:
        row, _ = np.nonzero(it.partners.numpy() >= 0)
        cols = it.partners[it.partners >= 0]
        assert (cols < len(it.mask)).all() and (it.ss[cols] == 2).all()
        assert (it.ss[torch.from_numpy(row)] == 2).all()
        d = torch.linalg.vector_norm(it.atoms[row, 1] - it.atoms[cols, 1], dim=-1)
        assert (d <= 5.5).all()
    batch = collate_backbones(items[:4])
    assert batch.partners.shape == (*batch.mask.shape, 2)
    assert (batch.partners[~batch.mask] == -1).all()


def test_strand_filter_keeps_strand_rich_chains(chain_set_path):
    """min_strand_fraction 0.25 keeps exactly the val chains whose DSSP has >= 25% strand
    letters (E/B), and combines with max_coil_fraction as an intersection."""
    from molgen.io.blueprint import blueprint_from_dssp

    chains = PDBChains(chain_set_path, "val", crop_length=None).chains
    blueprints = [blueprint_from_dssp(str(d)) for d in chains.dssp]
    strand = np.array([b.count("E") / len(b) for b in blueprints])
    coil = np.array([b.count("L") / len(b) for b in blueprints])
    rich = PDBChains(chain_set_path, "val", crop_length=None, min_strand_fraction=0.25)
    assert np.array_equal(rich.indices, np.flatnonzero(strand >= 0.25))
    assert 0 < len(rich) < len(chains)
    both = PDBChains(
        chain_set_path, "val", crop_length=None, min_strand_fraction=0.25, max_coil_fraction=0.5
    )
    assert np.array_equal(both.indices, np.flatnonzero((strand >= 0.25) & (coil <= 0.5)))
    assert len(both) < len(rich)
