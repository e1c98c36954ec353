"""DDP through torchrun: 2 CPU processes (gloo) train a tiny model and end identical."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from molgen.distributed import init_distributed, is_main_process, wrap_ddp
from molgen.train import TrainConfig, Trainer

SCRIPT = textwrap.dedent(
    """
    import sys
    import time
    import torch
    from torch import nn
    from molgen.datasets import LengthBucketSampler
    from molgen.distributed import cleanup_distributed, init_distributed
    from molgen.train import TrainConfig, Trainer

    out = sys.argv[1]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=gen)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    seen = []

    def loss_fn(model, batch, generator):
        seen.append(batch)
        return ((model(x[batch]) - y[batch]) ** 2).mean(), {}

    info = init_distributed("cpu")
    torch.manual_seed(100 + info.rank)  # a different initialisation on each rank
    model = nn.Linear(3, 1)
    sampler = LengthBucketSampler([1] * 32, batch_size=4, seed=0,
                                  num_replicas=info.world_size, rank=info.rank)
    config = TrainConfig(lr=0.05, max_steps=6, log_every=2, checkpoint_every=3, device="cpu")
    trainer = Trainer(model, loss_fn, sampler, config, out + "/run", quiet=True)
    rank, world = trainer.rank, trainer.dist.world_size
    if rank == 1:  # a slow rank must not take rank 0's fresh run files for the user's
        time.sleep(1.0)
    trainer.fit()
    torch.save({"state": model.state_dict(), "ema": trainer.ema.shadow,
                "batches": seen,
                "world": world}, f"{out}/rank{rank}.pt")
    cleanup_distributed()
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_ranks_end_identical_and_match_full_batch(tmp_path):
    """Two torchrun ranks with disjoint batches and different initial weights end with identical
    weights (DDP broadcasts rank 0's init and averages gradients), equal to one process
    training on the union of both ranks' batches (mean of equal-size batch losses)."""
    script = tmp_path / "train_tiny.py"
    script.write_text(SCRIPT)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
           "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(free_port()), str(script), str(tmp_path)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2
    for key in r0["state"]:
        assert torch.equal(r0["state"][key], r1["state"][key])
        assert torch.equal(r0["ema"][key], r1["ema"][key])
    items0 = {i for b in r0["batches"][:4] for i in b}  # epoch 0: 4 batches per rank
    items1 = {i for b in r1["batches"][:4] for i in b}
    assert not items0 & items1  # ranks saw disjoint data

    # single process, same init as rank 0, each step on the union of both ranks' batches
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=gen)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    torch.manual_seed(100)
    model = nn.Linear(3, 1)
    union = [b0 + b1 for b0, b1 in zip(r0["batches"], r1["batches"], strict=True)]

    def loss_fn(m, batch, generator):
        return ((m(x[batch]) - y[batch]) ** 2).mean(), {}

    config = TrainConfig(lr=0.05, max_steps=6, log_every=100, checkpoint_every=100, device="cpu")
    Trainer(model, loss_fn, union, config, tmp_path / "single", quiet=True).fit()
    for key, value in model.state_dict().items():
        torch.testing.assert_close(r0["state"][key], value, atol=1e-6, rtol=1e-5)
    assert (tmp_path / "run" / "checkpoints" / "last.pt").exists()


def test_single_process_is_rank_zero_without_wrapping():
    """Without torchrun variables: rank 0 of 1, main process, and wrap_ddp returns the model."""
    env_keys = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
    saved = {k: os.environ.pop(k) for k in env_keys if k in os.environ}
    try:
        info = init_distributed("cpu")
        model = nn.Linear(2, 2)
        assert (info.rank, info.world_size, info.device) == (0, 1, torch.device("cpu"))
        assert is_main_process() and wrap_ddp(model, info.device) is model
    finally:
        os.environ.update(saved)
