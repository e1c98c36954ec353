"""Reverse-time grids: even or warped spacing, partial runs at the full run's step size."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.sample.schedule import scaled_steps, time_grid


def test_time_grid_is_even_from_start_to_min_t():
    """5 steps from 0.5 to 0.0: 6 times, spaced 0.1; fewer than 1 step is refused."""
    np.testing.assert_allclose(time_grid(5, 0.0, 0.5), [0.5, 0.4, 0.3, 0.2, 0.1, 0.0], atol=1e-15)
    assert time_grid(20, 0.01)[0] == 1.0 and time_grid(20, 0.01)[-1] == 0.01
    with pytest.raises(ValueError, match="steps"):
        time_grid(0)


def test_partial_run_keeps_the_full_step_size():
    """From 0.3 to 0 with 20 full steps: 6 steps of 0.05; to min_t 0.01 with 200 full steps
    (0.00495 each): 59 steps over 0.29; a tiny share still takes one step."""
    assert scaled_steps(20, 0.3, 0.0) == 6
    assert scaled_steps(20, 1.0, 0.0) == 20
    assert scaled_steps(200, 0.3, 0.01) == 59
    grid = time_grid(scaled_steps(20, 0.3, 0.0), 0.0, 0.3)
    np.testing.assert_allclose(np.diff(grid), -0.05, atol=1e-12)
    assert scaled_steps(20, 0.011, 0.01) == 1


def test_warped_grid_crowds_steps_toward_min_t():
    """warp 2 on 200 steps from 1 to 0.01: t_k = 0.01 + 0.99 (1 - k/200)^2, so the share of
    times at most 0.01 + 0.099 is about sqrt(0.1) = 0.316 (64 of 201, against 21 when even);
    the ends stay put, the times fall strictly, and warp 1 is the even grid."""
    even, warped = np.array(time_grid(200, 0.01)), np.array(time_grid(200, 0.01, warp=2.0))
    assert warped[0] == 1.0 and warped[-1] == 0.01 and np.all(np.diff(warped) < 0)
    np.testing.assert_allclose(warped[100], 0.01 + 0.99 * 0.25, rtol=1e-12)
    assert int((even < 0.01 + 0.099 + 1e-12).sum()) == 21
    assert int((warped < 0.01 + 0.099 + 1e-12).sum()) == 64
    np.testing.assert_allclose(time_grid(200, 0.01, warp=1.0), even, atol=1e-15)
    with pytest.raises(ValueError, match="warp"):
        time_grid(10, warp=0.0)
