"""Sampler settings: one default per value, model-dependent values from the checkpoint."""

from __future__ import annotations

import dataclasses
import math

import pytest

from molgen.diffusion import DEFAULT_MIN_T, TorusDiffuser
from molgen.sample.config import BackboneSamplerConfig, ConformerSamplerConfig, with_settings
from molgen.train.backbone_loss import BackboneLossConfig
from molgen.train.conformer_loss import ConformerLossConfig


class _Net:
    """A stand-in network: a config and the ``extra`` of its checkpoint."""

    def __init__(self, extra=None, ss_condition=False):
        self.config = type("C", (), {"ss_condition": ss_condition})()
        if extra is not None:
            self.extra = extra


def test_min_t_comes_from_the_checkpoint_else_the_trainer_default():
    """resolved(): extra["trained_with"]["min_t"] when saved, the loss default when not, and
    an explicit value over both."""
    assert BackboneSamplerConfig().resolved(_Net()).min_t == BackboneLossConfig().min_t
    assert DEFAULT_MIN_T == BackboneLossConfig().min_t
    saved = _Net({"trained_with": {"min_t": 0.02}})
    assert BackboneSamplerConfig().resolved(saved).min_t == 0.02
    assert BackboneSamplerConfig(min_t=0.05).resolved(saved).min_t == 0.05


def test_blueprint_prior_defaults_to_the_model_kind():
    """blueprint_prior None -> on exactly for ss_condition models; an explicit value stays."""
    assert BackboneSamplerConfig().resolved(_Net(ss_condition=True)).blueprint_prior is True
    assert BackboneSamplerConfig().resolved(_Net()).blueprint_prior is False
    off = BackboneSamplerConfig(blueprint_prior=False)
    assert off.resolved(_Net(ss_condition=True)).blueprint_prior is False


def test_torsion_noise_range_comes_from_the_checkpoint():
    """The conformer sampler's sigma range: saved values, else the training defaults."""
    plain = ConformerSamplerConfig().resolved(_Net())
    loss = ConformerLossConfig()
    assert (plain.min_sigma, plain.max_sigma) == (loss.min_sigma, loss.max_sigma)
    assert (loss.min_sigma, loss.max_sigma) == (TorusDiffuser.MIN_SIGMA, TorusDiffuser.MAX_SIGMA)
    saved = _Net({"trained_with": {"min_sigma": 0.1, "max_sigma": math.pi}})
    assert ConformerSamplerConfig().resolved(saved).min_sigma == 0.1


def test_settings_replace_fields_and_unknown_ones_fail():
    """with_settings copies the config with keyword fields replaced; a typo is a TypeError."""
    base = BackboneSamplerConfig(steps=5)
    out = with_settings(base, BackboneSamplerConfig, {"seed": 3})
    assert (out.steps, out.seed, base.seed) == (5, 3, 0)
    with pytest.raises(TypeError, match="stpes"):
        with_settings(None, BackboneSamplerConfig, {"stpes": 3})


def test_configs_round_trip_through_asdict():
    """config.json is asdict(config): it rebuilds the same config."""
    config = BackboneSamplerConfig(lengths=[50], blueprints=["LLHHHHLL"], min_t=0.01)
    assert BackboneSamplerConfig(**dataclasses.asdict(config)) == config
