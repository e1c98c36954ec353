"""Checkpoints: save -> load round trip; foreign, truncated or mismatched files are InputErrors."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from models_helpers import SMALL_CONFIG, noised_batch, short_chains, small_network

from molgen.errors import InputError
from molgen.models import FrameScoreNetwork, TorsionScoreNetwork, load, read_config, save


@pytest.fixture
def saved(tmp_path):
    """A small float32 FrameScoreNetwork saved to ``tmp_path / "ckpt"``."""
    net = small_network(torch.float32, seed=3)
    return net, save(net, tmp_path / "ckpt", extra={"step": 7})


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_round_trip_gives_identical_outputs(val_backbones, tmp_path, dtype):
    """load(save(net)) returns every output of net bit for bit on noised real chains, in the
    saved dtype, with the config and extra preserved."""
    net = small_network(dtype, seed=5)
    save(net, tmp_path / "ckpt", extra={"step": 7})
    again = load(tmp_path / "ckpt")
    assert isinstance(again, FrameScoreNetwork) and again.config == SMALL_CONFIG
    assert next(again.parameters()).dtype == dtype
    assert read_config(tmp_path / "ckpt")["extra"] == {"step": 7}
    inp = noised_batch(short_chains(val_backbones, 2), [0.1, 0.7], dtype)
    with torch.no_grad():
        a = net.scores(inp["R"], inp["x"], inp["t"], inp["mask"], inp["self_cond"])
        b = again.scores(inp["R"], inp["x"], inp["t"], inp["mask"], inp["self_cond"])
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_torsion_network_round_trip(tmp_path):
    """The conformer network is registered too: its reloaded weights equal the saved ones."""
    net = TorsionScoreNetwork()
    again = load(save(net, tmp_path / "tor"))
    assert isinstance(again, TorsionScoreNetwork)
    ref = net.state_dict()
    assert all(torch.equal(v, ref[k]) for k, v in again.state_dict().items())


def test_no_overwrite_without_flag(saved):
    """Saving onto an existing checkpoint is refused unless overwrite=True."""
    net, path = saved
    with pytest.raises(InputError, match="overwrite=True"):
        save(net, path)
    save(net, path, overwrite=True)
    assert read_config(path)["extra"] == {}


def _weights_bytes(path):
    return (path / "model.safetensors").read_bytes()


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b[:5], id="truncated-header"),
        pytest.param(
            lambda b: (
                torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0))
                .to(torch.uint8)
                .numpy()
                .tobytes()
            ),
            id="random-bytes",
        ),  # noqa: E501
        pytest.param(lambda b: pickle.dumps({"weight": torch.zeros(3)}), id="pickle"),
        pytest.param(lambda b: b"", id="empty"),
    ],
)
def test_bad_weights_file_is_input_error(saved, corrupt):
    """A truncated, random, pickled or empty model.safetensors is an InputError naming it."""
    _, path = saved
    (path / "model.safetensors").write_bytes(corrupt(_weights_bytes(path)))
    with pytest.raises(InputError, match="model.safetensors"):
        load(path)


def test_weights_of_another_shape_are_input_error(saved, tmp_path):
    """Weights of a wider network under this config: InputError, not a load_state_dict error."""
    _, path = saved
    wide = FrameScoreNetwork.from_config({**SMALL_CONFIG.to_dict(), "mlp_dim": 48})
    other = save(wide, tmp_path / "wide")
    (path / "model.safetensors").write_bytes(_weights_bytes(other))
    with pytest.raises(InputError, match="do not fit"):
        load(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"molgen_model": "SomeoneElsesNet"}, "unknown model class"),
        ({"format_version": 99}, "format_version"),
        ({"config": {"k": 8, "colour": "red"}}, "bad FrameScoreNetwork config"),
        ({"config": None}, "not a molgen checkpoint"),
    ],
)
def test_bad_config_is_input_error(saved, edit, message):
    """A config of an unknown class, future format or wrong keys is an InputError."""
    _, path = saved
    header = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**header, **edit}))
    with pytest.raises(InputError, match=message):
        load(path)


def test_missing_or_garbled_config_and_unknown_name(saved, tmp_path):
    """No config.json, a non-JSON one, or a name that is neither a directory nor bundled."""
    _, path = saved
    (path / "config.json").write_text("{not json")
    with pytest.raises(InputError, match="unreadable"):
        load(path)
    (path / "config.json").unlink()
    with pytest.raises(InputError, match="missing config.json"):
        load(path)
    with pytest.raises(InputError, match=r"no-such-model: .* \(bundled: "):
        load("no-such-model")


def test_bundled_name_wins_over_a_folder_of_that_name(tmp_path, monkeypatch):
    """With a folder named "backbone" in the working directory (e.g. an earlier --out),
    load("backbone") is still the bundled model; "./backbone" is the folder."""
    from molgen.models.checkpoint import WEIGHTS_DIR

    monkeypatch.chdir(tmp_path)
    (tmp_path / "backbone").mkdir()
    (tmp_path / "backbone" / "sample_L80_000.pdb").write_text("END\n")
    assert load("backbone").config == load(str(WEIGHTS_DIR / "backbone")).config
    with pytest.raises(InputError):
        load("./backbone")
