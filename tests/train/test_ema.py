"""EMA: the exponential-average update, copy_to, buffers, state round trip."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from molgen.train import EMA


def test_update_is_exponential_average():
    """After updates with weights w_1..w_n: avg = d^n w_0 + sum_k (1 - d) d^(n-k) w_k."""
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    ema = EMA(model, decay=0.8)
    expected = model.weight.detach().clone()
    for _ in range(4):
        with torch.no_grad():
            model.weight.add_(torch.randn_like(model.weight))
        ema.update(model)
        expected = 0.8 * expected + 0.2 * model.weight.detach()
    torch.testing.assert_close(ema.shadow["weight"], expected, atol=1e-6, rtol=0)
    assert ema.num_updates == 4


def test_buffers_copied_not_averaged():
    """Batch-norm running statistics are copied from the live model each update."""
    model = nn.BatchNorm1d(3)
    ema = EMA(model, decay=0.9)
    model(torch.randn(8, 3) + 5.0)
    ema.update(model)
    assert torch.equal(ema.shadow["running_mean"], model.running_mean)
    assert ema.shadow["num_batches_tracked"] == 1


def test_copy_to_and_state_round_trip():
    """copy_to loads the averaged weights; load_state_dict(state_dict()) restores the average."""
    torch.manual_seed(1)
    model = nn.Linear(2, 2)
    ema = EMA(model, decay=0.5)
    with torch.no_grad():
        model.weight.mul_(3.0)
    ema.update(model)
    other = EMA(nn.Linear(2, 2), decay=0.1)
    other.load_state_dict(ema.state_dict())
    assert other.decay == 0.5 and other.num_updates == 1
    target = nn.Linear(2, 2)
    other.copy_to(target)
    torch.testing.assert_close(target.weight, 2.0 * model.weight / 3.0)  # (1 + 3) / 2 = 2


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_invalid_decay(decay):
    """Decay outside [0, 1) raises ValueError."""
    with pytest.raises(ValueError, match="decay"):
        EMA(nn.Linear(1, 1), decay)
