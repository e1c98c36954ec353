"""Trainer: optimisation, logs, config files, checkpoints, exact resume after a kill."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from molgen.datasets import LengthBucketSampler
from molgen.train import TrainConfig, Trainer, load_training_state, read_log

W_TRUE = torch.tensor([[1.5, -2.0, 0.5, 3.0]])


def regression_data(n: int = 24, seed: int = 0) -> torch.utils.data.DataLoader:
    """y = x W^T + 0.3 with batches from a seeded LengthBucketSampler (set_epoch each epoch)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=gen)
    dataset = torch.utils.data.TensorDataset(x, x @ W_TRUE.T + 0.3)
    lengths = torch.randint(10, 50, (n,), generator=gen).numpy()
    sampler = LengthBucketSampler(lengths, batch_size=4, seed=seed)
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler)


def noisy_mse(model, batch, generator):
    """MSE with input noise drawn from the trainer's generator (so its state matters)."""
    x, y = batch
    pred = model(x + 0.01 * torch.randn(x.shape, generator=generator))
    loss = ((pred - y) ** 2).mean()
    return loss, {"mae": float((pred - y).detach().abs().mean())}


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    # dropout draws from torch's global RNG, which a resume must also restore
    return nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 1))


def make_trainer(out_dir, max_steps=10, **overrides) -> Trainer:
    settings = {"lr": 1e-2, "max_steps": max_steps, "checkpoint_every": 5, "log_every": 1}
    config = TrainConfig(device="cpu", ema_decay=0.9, **{**settings, **overrides})
    return Trainer(
        tiny_model(),
        noisy_mse,
        regression_data(),
        config,
        out_dir,
        quiet=True,
        run_config={"task": "regression"},
    )


def flat(state: dict) -> torch.Tensor:
    return torch.cat([v.flatten() for v in state.values()])


def test_linear_regression_converges(tmp_path):
    """A linear model trained with AdamW recovers W and b of noiseless data within 0.05."""
    model = nn.Linear(4, 1)
    config = TrainConfig(
        lr=5e-2,
        max_steps=400,
        log_every=100,
        checkpoint_every=1000,
        device="cpu",
        grad_clip=None,
        ema_decay=0.5,
    )

    def mse(m, batch, generator):
        x, y = batch
        return ((m(x) - y) ** 2).mean(), {}

    Trainer(model, mse, regression_data(), config, tmp_path, quiet=True).fit()
    assert torch.allclose(model.weight.detach(), W_TRUE, atol=0.05)
    assert abs(float(model.bias.detach()) - 0.3) < 0.05


def test_resume_after_kill_matches_straight_run(tmp_path):
    """10 steps straight == 5 steps, a new Trainer (the 'kill'), 5 more steps: model, EMA and
    optimiser state bitwise equal (crosses an epoch boundary mid-run)."""
    straight = make_trainer(tmp_path / "a")
    straight.fit()
    first = make_trainer(tmp_path / "b", max_steps=5)
    first.fit()
    resumed = make_trainer(tmp_path / "b", max_steps=10)
    resumed.fit()
    assert resumed.step == 10 and resumed.epoch == straight.epoch == 1
    assert torch.equal(flat(straight.model.state_dict()), flat(resumed.model.state_dict()))
    assert torch.equal(flat(straight.ema.shadow), flat(resumed.ema.shadow))
    exp_a = [s["exp_avg"] for s in straight.optimizer.state.values()]
    exp_b = [s["exp_avg"] for s in resumed.optimizer.state.values()]
    assert all(torch.equal(a, b) for a, b in zip(exp_a, exp_b, strict=True))
    log_a, log_b = read_log(tmp_path / "a" / "log.csv"), read_log(tmp_path / "b" / "log.csv")
    assert [r["loss"] for r in log_a] == [r["loss"] for r in log_b]


class CountingDataset(torch.utils.data.Dataset):
    """The regression items, counting how many were built (as an expensive dataset would)."""

    def __init__(self, data: torch.utils.data.TensorDataset) -> None:
        self.data, self.built = data, 0

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int):
        self.built += 1
        return self.data[i]


def test_resume_skips_seen_batches_without_building_them(tmp_path):
    """Resuming at batch 5 of a 6-batch epoch builds only the items of the steps it runs
    (batch 6, then epoch 1's first), not the 5 skipped batches."""
    make_trainer(tmp_path, max_steps=5).fit()
    loader = regression_data()
    counting = CountingDataset(loader.dataset)
    data = torch.utils.data.DataLoader(counting, batch_sampler=loader.batch_sampler)
    config = TrainConfig(device="cpu", ema_decay=0.9, lr=1e-2, max_steps=7, log_every=1)
    Trainer(tiny_model(), noisy_mse, data, config, tmp_path, quiet=True).fit()
    assert counting.built == 2 * 4


def test_resume_drops_log_rows_after_checkpoint(tmp_path):
    """Rows a killed run logged past its last checkpoint are replaced, not duplicated."""
    make_trainer(tmp_path, max_steps=7, checkpoint_every=5).fit()
    state = load_training_state(tmp_path / "checkpoints" / "last.pt")
    assert state["step"] == 7
    # simulate a kill at step 7 after the step-5 checkpoint: the step-7 checkpoint is "lost"
    early = make_trainer(tmp_path / "early", max_steps=5)
    early.fit()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(
        (tmp_path / "early" / "checkpoints" / "last.pt").read_bytes()
    )
    make_trainer(tmp_path, max_steps=9).fit()
    steps = [int(r["step"]) for r in read_log(tmp_path / "log.csv")]
    assert steps == list(range(1, 10))


def test_same_seed_same_weights_other_seed_differs(tmp_path):
    """Two runs with seed 0 give identical weights; seed 1 (other noise) gives different ones."""
    a, b = make_trainer(tmp_path / "a"), make_trainer(tmp_path / "b")
    c = make_trainer(tmp_path / "c", seed=1)
    for t in (a, b, c):
        t.fit()
    assert torch.equal(flat(a.model.state_dict()), flat(b.model.state_dict()))
    assert not torch.equal(flat(a.model.state_dict()), flat(c.model.state_dict()))


def test_checkpoint_and_config_files(tmp_path):
    """last.pt holds the state at the final step (loads with weights_only) and config.json the
    resolved configuration, both in the run directory and beside the checkpoint."""
    trainer = make_trainer(tmp_path, max_steps=6)
    trainer.fit()
    state = load_training_state(tmp_path / "checkpoints" / "last.pt")
    assert state["step"] == 6 and len(state["rng"]) == 1
    assert torch.equal(flat(state["model"]), flat(trainer.model.state_dict()))
    assert torch.equal(flat(state["ema"]["shadow"]), flat(trainer.ema.shadow))
    for path in (tmp_path / "config.json", tmp_path / "checkpoints" / "config.json"):
        config = json.loads(path.read_text())
        assert config["task"] == "regression" and config["train"]["max_steps"] == 6
        assert config["train"]["lr"] == 1e-2
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))


def test_log_rows_average_the_interval(tmp_path):
    """log.csv has one row per log_every steps; its loss is the mean of the steps' losses."""
    per_step = make_trainer(tmp_path / "a", max_steps=6)
    per_step.fit()
    grouped = make_trainer(tmp_path / "b", max_steps=6, log_every=3)
    grouped.fit()
    rows_a, rows_b = read_log(tmp_path / "a" / "log.csv"), read_log(tmp_path / "b" / "log.csv")
    assert [int(r["step"]) for r in rows_b] == [3, 6]
    assert set(rows_a[0]) >= {"step", "loss", "mae", "lr", "grad_norm", "seconds"}
    losses = np.array([float(r["loss"]) for r in rows_a])
    np.testing.assert_allclose([float(r["loss"]) for r in rows_b], losses.reshape(2, 3).mean(1))


def test_ema_is_exponential_average_of_steps(tmp_path):
    """With decay d, the EMA after n steps is d^n theta_0 + sum_k (1-d) d^(n-k) theta_k."""
    trainer = make_trainer(tmp_path, max_steps=1, checkpoint_every=100)
    expected = flat(trainer.model.state_dict()).clone()
    for step in range(1, 5):
        trainer.config.max_steps = step
        trainer.fit()
        expected = 0.9 * expected + 0.1 * flat(trainer.model.state_dict())
        assert torch.allclose(flat(trainer.ema.shadow), expected, atol=1e-6)


def test_gradient_clipping(tmp_path):
    """After a step with grad_clip c the gradients have global norm c (they were larger), and
    the reported grad_norm is the norm before clipping."""
    trainer = make_trainer(tmp_path, max_steps=1, grad_clip=1e-3)
    metrics = trainer.train_step(next(iter(regression_data())))
    grads = torch.cat([p.grad.flatten() for p in trainer.model.parameters()])
    assert metrics["grad_norm"] > 1e-2
    assert abs(float(torch.linalg.vector_norm(grads)) - 1e-3) < 1e-6


def test_empty_data_raises(tmp_path):
    """Data that yields no batch raises ValueError instead of looping forever."""
    trainer = Trainer(
        tiny_model(), noisy_mse, [], TrainConfig(device="cpu", max_steps=2), tmp_path, quiet=True
    )
    with pytest.raises(ValueError, match="no batches"):
        trainer.fit()


def test_train_config_round_trip_and_unknown_keys():
    """TrainConfig.from_dict(to_dict()) is the identity; unknown keys are named in the error."""
    config = TrainConfig(lr=3e-4, betas=(0.8, 0.95), grad_clip=None)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig.from_dict({"learning_rate": 1.0})


def test_resume_takes_the_configured_learning_rate(tmp_path):
    """A run resumed with another lr steps with that lr (past warm-up): after one more step,
    the optimiser's lr is the new one and the log row records it."""
    make_trainer(tmp_path, max_steps=5).fit()
    resumed = make_trainer(tmp_path, max_steps=6, lr=2.5e-3)
    resumed.fit()
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(2.5e-3)
    assert float(read_log(tmp_path / "log.csv")[-1]["lr"]) == pytest.approx(2.5e-3)


def test_cosine_decay_after_decay_start(tmp_path):
    """decay_start: the logged lr is constant up to it, then follows
    lr * (1 + cos(pi * (s - s0) / (max - s0))) / 2; a constant-rate run resumed with decay
    continues from its last step on that curve."""
    make_trainer(tmp_path, max_steps=4, lr=1e-2, log_every=1).fit()
    resumed = make_trainer(tmp_path, max_steps=12, lr=1e-2, log_every=1, decay_start=4)
    resumed.fit()
    rows = read_log(tmp_path / "log.csv")
    logged = {int(row["step"]): float(row["lr"]) for row in rows}
    assert logged[3] == pytest.approx(1e-2)
    for step in range(6, 13):
        # the lr a row shows is the one of the step it logs (scheduler before the step)
        expected = 0.5e-2 * (1 + np.cos(np.pi * (step - 1 - 4) / 8))
        assert logged[step] == pytest.approx(expected, rel=1e-6), step
    assert logged[12] < 0.05e-2 < logged[6]


def test_warm_start_copies_saved_weights_and_keeps_new_layers(tmp_path):
    """init_weights: a fresh run of an extended FrameScoreNetwork (blueprint input, pooled
    context) starts with every tensor of the saved smaller network, its EMA equal to the
    model, and the added tensors at their own initialisation; a model with tensors of other
    shapes is refused."""
    from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig, save

    small = {"k": 8, "num_layers": 2, "hidden_irreps": "8x0e + 2x1o + 2x1e", "mlp_dim": 16}
    torch.manual_seed(3)
    source = FrameScoreNetwork(FrameScoreNetworkConfig(**small))
    save(source, tmp_path / "source")
    config = FrameScoreNetworkConfig(**small, ss_condition=True, global_context=True)
    torch.manual_seed(4)
    model = FrameScoreNetwork(config)
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = Trainer(
        model, noisy_mse, [], TrainConfig(device="cpu", max_steps=0), tmp_path / "run", True
    )
    trainer.warm_start(str(tmp_path / "source"))
    for key, value in model.state_dict().items():
        expected = source.state_dict().get(key, fresh[key])
        assert torch.equal(value, expected), key
        assert torch.equal(trainer.ema.shadow[key], value), key
    wide = FrameScoreNetwork(FrameScoreNetworkConfig(**{**small, "mlp_dim": 24}))
    save(wide, tmp_path / "wide")
    with pytest.raises(ValueError, match="do not fit"):
        trainer.warm_start(str(tmp_path / "wide"))


def test_resume_on_another_device_type_reseeds(tmp_path):
    """A checkpoint whose generator state has another size (a CUDA generator's Philox state
    resumed by a CPU generator, or the reverse) resumes with a reseeded generator instead of
    failing, and trains on to max_steps."""
    make_trainer(tmp_path, max_steps=5).fit()
    path = tmp_path / "checkpoints" / "last.pt"
    state = load_training_state(path, "cpu")
    state["rng"][0]["generator"] = torch.zeros(16, dtype=torch.uint8)  # a Philox-sized state
    torch.save(state, path)
    trainer = make_trainer(tmp_path, max_steps=8)
    trainer.fit()
    assert trainer.step == 8
