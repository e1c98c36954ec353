"""Widen a trained backbone model by whole multiples of its channels, keeping its function.

Net2Net-style widening (Chen, Goodfellow & Shlens 2016), written for this network because no
library widens e3nn layers: every hidden channel (scalar, vector and pseudovector, and the
gate scalars with the vectors they gate) is copied ``--factor`` times. A copy carries
exactly the activations of its original, so a layer that reads copies must weigh them to sum
to the old weight: the copies' shares of each outgoing weight are drawn at random (positive,
summing to 1), so the widened network computes the old function (to float rounding) while
its copies receive different gradients and can drift apart in training. e3nn's ``o3.Linear``
divides by the square root of its fan-in, which widening changes; the weights absorb the
ratio of old to new path weights. The channel-wise tensor product's per-edge weights are
copied per channel (with the same ratio, 1 for its paths). The equivariant layer norm sees
the same channel statistics, since its mean and variance over copies equal those over
originals.

Purpose: a wider network trained from scratch (``backbone_v4w``) needs tens of thousands of
CPU steps to reach the bundled model's loss; a widened copy of the bundled model starts
there, so a fine-tune shows within a few thousand steps whether width lowers the plateau the
bundled model stopped on (backbone model card, "Session 23").

Usage: python scripts/widen_backbone.py MODEL OUT_DIR [--factor 2] [--seed 0] [--overwrite]
"""

from __future__ import annotations

import argparse
import sys

import torch
from e3nn import o3
from torch import Tensor, nn

from molgen.errors import InputError
from molgen.models import FrameScoreNetwork, load, save


def block_maps(old: o3.Irreps, new: o3.Irreps) -> list[Tensor]:
    """For each block of ``new``, the index in the matching ``old`` block of each channel
    (``arange(new_mul) % old_mul``): channel ``c`` of a widened block copies ``c % old_mul``."""
    if [ir for _, ir in old] != [ir for _, ir in new]:
        raise ValueError(f"irreps {new} do not widen {old} block by block")
    maps = []
    for (m_old, _), (m_new, _) in zip(old, new, strict=True):
        if m_new % m_old:
            raise ValueError(f"{m_new} channels are not a multiple of {m_old}")
        maps.append(torch.arange(m_new) % m_old)
    return maps


def instance_map(old: o3.Irreps, new: o3.Irreps) -> Tensor:
    """Index of the old irrep instance (channel) that each new instance copies."""
    offsets = [0]
    for mul, _ in old:
        offsets.append(offsets[-1] + mul)
    return torch.cat([off + m for off, m in zip(offsets, block_maps(old, new), strict=False)])


def gate_input_map(old_gate: nn.Module, new_gate: nn.Module) -> Tensor:
    """Instance map over an ``e3nn.nn.Gate``'s input (scalars, gates, gated, in that order):
    gate ``k`` belongs to gated instance ``k``, so it copies the gate of that instance's
    original."""
    scalars = instance_map(old_gate.irreps_scalars, new_gate.irreps_scalars)
    gated = instance_map(old_gate.irreps_gated, new_gate.irreps_gated)
    s, g = old_gate.irreps_scalars.num_irreps, old_gate.irreps_gates.num_irreps
    return torch.cat([scalars, s + gated, s + g + gated])


def local_maps(old: o3.Irreps, new: o3.Irreps, global_map: Tensor) -> list[Tensor]:
    """Split an instance map over ``new`` into per-block maps (indices within the old block)."""
    maps, at_new, at_old = [], 0, 0
    for (m_old, _), (m_new, _) in zip(old, new, strict=True):
        local = global_map[at_new : at_new + m_new] - at_old
        if local.min() < 0 or local.max() >= m_old:
            raise ValueError("the instance map crosses blocks")
        maps.append(local)
        at_new, at_old = at_new + m_new, at_old + m_old
    return maps


def random_shares(out_map: Tensor, in_map: Tensor, generator: torch.Generator) -> Tensor:
    """Random shares ``[out', in']`` of an old weight among the copies of its input: for every
    new output and old input they sum to 1 over that input's copies (between 1/4 and 3/4 for
    two copies; 1 where an input has a single copy)."""
    draws = 0.5 + torch.rand(len(out_map), len(in_map), generator=generator)  # [out', in']
    total = torch.zeros(len(out_map), int(in_map.max()) + 1).index_add_(1, in_map, draws)
    return draws / total[:, in_map]


@torch.no_grad()
def widen_linear(
    old: nn.Linear, new: nn.Linear, in_map: Tensor, out_map: Tensor, generator: torch.Generator
) -> None:
    """``W'[v', u'] = W[out(v'), in(u')] * share``, ``b' = b[out(v')]`` (``nn.Linear``)."""
    shares = random_shares(out_map, in_map, generator)
    new.weight.copy_(old.weight[out_map][:, in_map] * shares)
    new.bias.copy_(old.bias[out_map])


def _weight_views(linear: o3.Linear) -> list[tuple[object, Tensor]]:
    """(instruction, ``[mul_in, mul_out]`` view of the weight) of each weighted instruction
    (``o3.Linear.weight_views`` also walks the bias instructions, ``i_in == -1``, which hold no
    weight)."""
    views, at = [], 0
    for ins in linear.instructions:
        if ins.i_in == -1:
            continue
        size = ins.path_shape[0] * ins.path_shape[1]
        views.append((ins, linear.weight[at : at + size].view(ins.path_shape)))
        at += size
    if at != linear.weight.numel():
        raise ValueError(f"unexpected weight layout of {linear}")
    return views


@torch.no_grad()
def widen_e3nn_linear(
    old: o3.Linear,
    new: o3.Linear,
    in_maps: list[Tensor],
    out_maps: list[Tensor],
    generator: torch.Generator,
) -> None:
    """The same for an ``e3nn.o3.Linear``, per instruction (block to block), with the weights
    scaled by old over new path weight (the 1/sqrt(fan-in) that widening changes)."""
    pairs = zip(_weight_views(old), _weight_views(new), strict=True)
    for (ins_old, w_old), (ins_new, w_new) in pairs:
        if (ins_old.i_in, ins_old.i_out) != (ins_new.i_in, ins_new.i_out):
            raise ValueError(f"{new} does not widen {old}")
        in_map, out_map = in_maps[ins_new.i_in], out_maps[ins_new.i_out]
        shares = random_shares(out_map, in_map, generator).T  # [in', out']
        scale = ins_old.path_weight / ins_new.path_weight
        w_new.copy_(w_old[in_map][:, out_map] * shares * scale)
    if old.bias.numel():
        if old.bias.shape != new.bias.shape:
            raise ValueError("widening a biased e3nn Linear output is not supported")
        new.bias.copy_(old.bias)


@torch.no_grad()
def widen_conv(old: nn.Module, new: nn.Module, generator: torch.Generator) -> None:
    """Widen a :class:`equivariant.conv.TensorProductConv` (gate, residual and norm on)."""
    in_blocks = block_maps(old.irreps_in, new.irreps_in)
    scalars_in = scalar_map(old.irreps_in, new.irreps_in)  # the 0e block, read by the MLP
    # Weight MLP: reads [edge features, scalars of source, scalars of target].
    s_old = len(old.scalar_index)
    edge_dim = old.weight_mlp[0].in_features - 2 * s_old
    mlp_in = torch.cat([torch.arange(edge_dim), edge_dim + scalars_in,
                        edge_dim + s_old + scalars_in])  # fmt: skip
    hidden = torch.arange(old.weight_mlp[0].out_features)
    widen_linear(old.weight_mlp[0], new.weight_mlp[0], mlp_in, hidden, generator)
    # Its last layer emits the tensor product's per-edge weights, instruction by instruction.
    rows, scales, at = [], [], 0
    for ins_old, ins_new in zip(old.tp.instructions, new.tp.instructions, strict=True):
        rows.append(at + in_blocks[ins_new.i_in1])
        scales.append(torch.full((len(in_blocks[ins_new.i_in1]),),
                                 ins_old.path_weight / ins_new.path_weight))  # fmt: skip
        at += ins_old.path_shape[0] * ins_old.path_shape[1]
    rows, scales = torch.cat(rows), torch.cat(scales)
    new.weight_mlp[2].weight.copy_(old.weight_mlp[2].weight[rows] * scales[:, None])
    new.weight_mlp[2].bias.copy_(old.weight_mlp[2].bias[rows] * scales)
    # Mix: tensor-product outputs (one block per instruction) -> gate input.
    mid_maps = [in_blocks[ins.i_in1] for ins in new.tp.instructions]
    gate_global = gate_input_map(old.gate, new.gate)
    gate_blocks = local_maps(old.mix.irreps_out, new.mix.irreps_out, gate_global)
    widen_e3nn_linear(old.mix, new.mix, mid_maps, gate_blocks, generator)
    out_global = instance_map(old.irreps_out, new.irreps_out)
    out_blocks = block_maps(old.irreps_out, new.irreps_out)
    if old.self_interaction is not None:
        widen_e3nn_linear(old.self_interaction, new.self_interaction, in_blocks, out_blocks,
                          generator)  # fmt: skip
    new.norm.weight.copy_(old.norm.weight[out_global])
    scalar_out = out_global[: new.norm.bias.numel()]  # the 0e block comes first
    new.norm.bias.copy_(old.norm.bias[scalar_out])


def scalar_map(old: o3.Irreps, new: o3.Irreps) -> Tensor:
    """Instance map of the ``0e`` block (the network's scalars), asserted to come first."""
    if old[0].ir != o3.Irrep("0e"):
        raise ValueError(f"hidden irreps {old} do not start with 0e")
    return block_maps(old, new)[0]


@torch.no_grad()
def widen(old: FrameScoreNetwork, factor: int, seed: int = 0) -> FrameScoreNetwork:
    """A :class:`FrameScoreNetwork` with ``factor`` times ``old``'s hidden channels computing
    the same function (see the module docstring)."""
    cfg = old.config
    unsupported = [n for n in ("ladder_edges", "pair_condition") if getattr(cfg, n, False)]
    if unsupported or factor < 1:
        raise ValueError(f"cannot widen a network with {unsupported} by {factor}")
    hidden = o3.Irreps(cfg.hidden_irreps)
    wide = o3.Irreps([(mul * factor, ir) for mul, ir in hidden])
    new = FrameScoreNetwork.from_config({**cfg.to_dict(), "hidden_irreps": str(wide)})
    generator = torch.Generator().manual_seed(seed)
    scalars = scalar_map(hidden, wide)
    new.edge_embed.load_state_dict(old.edge_embed.state_dict())
    node_in = torch.arange(old.node_embed[0].in_features)
    widen_linear(old.node_embed[0], new.node_embed[0], node_in, scalars, generator)
    widen_linear(old.node_embed[2], new.node_embed[2], scalars, scalars, generator)
    if old.ss_embed is not None:
        new.ss_embed.weight.copy_(old.ss_embed.weight[:, scalars])
    for conv_old, conv_new in zip(old.convs, new.convs, strict=True):
        widen_conv(conv_old, conv_new, generator)
    if old.contexts is not None:
        for ctx_old, ctx_new in zip(old.contexts, new.contexts, strict=True):
            s_old = len(ctx_old.scalar_index)
            both = torch.cat([scalars, s_old + scalars])  # [pooled, own] scalars
            mid = torch.arange(ctx_old.mlp[0].out_features)
            widen_linear(ctx_old.mlp[0], ctx_new.mlp[0], both, mid, generator)
            widen_linear(ctx_old.mlp[2], ctx_new.mlp[2], mid, scalars, generator)
    blocks = block_maps(hidden, wide)
    for head_old, head_new in ((old.vector_head, new.vector_head), (old.psi_head, new.psi_head)):
        outs = [torch.arange(mul) for mul, _ in head_old.linear.irreps_out]
        widen_e3nn_linear(head_old.linear, head_new.linear, blocks, outs, generator)
    return new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a backbone model folder or bundled name")
    parser.add_argument("out", help="folder for the widened model")
    parser.add_argument("--factor", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    try:
        old = load(args.model)
        if not isinstance(old, FrameScoreNetwork):
            raise InputError("not a backbone model", args.model)
        new = widen(old, args.factor, args.seed)
        extra = {"task": "backbone", "widened_from": args.model, "factor": args.factor}
        save(new, args.out, overwrite=args.overwrite, extra=extra)
    except (InputError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    count = sum(p.numel() for p in new.parameters())
    print(f"{args.out}: {new.config.hidden_irreps}, {count:,} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
