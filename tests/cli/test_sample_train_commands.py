"""Tests for ``molgen sample backbone`` and ``molgen train backbone`` on tiny models."""

from __future__ import annotations

import csv
import json

import pytest

from molgen.cli import main
from molgen.models import FrameScoreNetwork, FrameScoreNetworkConfig, save

TINY = {"hidden_irreps": "8x0e + 2x1o + 2x1e", "num_layers": 1, "k": 6, "mlp_dim": 16}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A randomly initialised, tiny FrameScoreNetwork checkpoint folder."""
    folder = tmp_path_factory.mktemp("model")
    return save(FrameScoreNetwork(FrameScoreNetworkConfig(**TINY)), folder, overwrite=True)


def _sample(tiny_model, out, *extra):
    args = ["sample", "backbone", "--length", "12", "--length", "20", "--num", "2"]
    return main([*args, "--steps", "3", "--model", str(tiny_model), "--out", str(out), *extra])


def test_sample_writes_pdbs_report_and_config(tiny_model, tmp_path):
    """One PDB per (length, index), report.csv with the public check columns, config.json."""
    out = tmp_path / "samples"
    assert _sample(tiny_model, out, "-q", "--seed", "5") == 0
    pdbs = sorted(p.name for p in out.glob("*.pdb"))
    assert pdbs == [f"sample_L{n}_{i:03d}.pdb" for n in (12, 20) for i in range(2)]
    rows = list(csv.DictReader((out / "report.csv").open()))
    assert [r["path"] for r in rows] == pdbs
    assert {"ca_break_fraction", "rama_favoured_fraction", "checks_passed"} <= set(rows[0])
    settings = json.loads((out / "config.json").read_text())
    assert settings["seed"] == 5 and settings["lengths"] == [12, 20]
    from molgen.io import read_structure

    protein = read_structure(out / pdbs[-1])[0]
    assert len(protein) == 20 and protein.sequence == "G" * 20 and protein.atom_mask.all()


def test_sample_is_reproducible_with_a_seed(tiny_model, tmp_path):
    """The same seed on the same device writes identical coordinates."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert _sample(tiny_model, a, "-q") == 0 and _sample(tiny_model, b, "-q") == 0
    for pdb in a.glob("*.pdb"):
        assert pdb.read_text() == (b / pdb.name).read_text()


def test_sample_refuses_non_empty_folder_and_keeps_files(tiny_model, tmp_path, capsys):
    """A non-empty --out without --overwrite exits 2 and leaves the folder as it was."""
    out = tmp_path / "busy"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert _sample(tiny_model, out, "-q") == 2
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    assert "not empty" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--device", "cuda:7"], "cuda"),
        (["--model", "no_such_model"], "no_such_model"),
        (["--length", "3"], "--length"),
    ],
)
def test_sample_bad_options_are_one_line_errors(tiny_model, tmp_path, capsys, args, message):
    """Unavailable device, unknown model, absurd length: exit 2 with one line."""
    base = ["sample", "backbone", "--length", "12", "--out", str(tmp_path / "o"), "-q"]
    if "--model" not in args:
        base += ["--model", str(tiny_model)]
    assert main([*base, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_train_runs_exports_and_resumes(tmp_path, chain_set_path, capsys):
    """Two steps write log, checkpoint and model/; re-running with more steps resumes."""
    config = tmp_path / "train.yaml"
    body = {
        "data": {
            "path": str(chain_set_path),
            "split": "val",
            "crop_length": 24,
            "max_residues": 48,
        },
        "model": TINY,
        "train": {"max_steps": 2, "log_every": 1, "checkpoint_every": 1, "device": "cpu"},
    }
    config.write_text(json.dumps(body))
    run = tmp_path / "run"
    assert main(["train", "backbone", "--config", str(config), "--out", str(run), "-q"]) == 0
    assert (run / "model" / "model.safetensors").exists() and (
        run / "checkpoints" / "last.pt"
    ).exists()
    body["train"]["max_steps"] = 3
    config.write_text(json.dumps(body))
    assert main(["train", "backbone", "--config", str(config), "--out", str(run), "-q"]) == 0
    steps = [int(r["step"]) for r in csv.DictReader((run / "log.csv").open())]
    assert steps == [1, 2, 3]


def test_train_bad_config_is_one_line_error(tmp_path, capsys):
    """Unknown settings in the YAML name the file and exit 2."""
    config = tmp_path / "bad.yaml"
    config.write_text("model:\n  no_such_setting: 3\n")
    assert main(["train", "backbone", "--config", str(config), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.yaml" in err[0]


@pytest.fixture(scope="module")
def tiny_ss_model(tmp_path_factory):
    """A tiny FrameScoreNetwork with blueprint input whose label embedding is non-zero."""
    import torch

    net = FrameScoreNetwork(FrameScoreNetworkConfig(**TINY, ss_condition=True))
    torch.nn.init.normal_(net.ss_embed.weight, std=2.0)
    return save(net, tmp_path_factory.mktemp("ss_model"), overwrite=True)


def test_sample_with_blueprints(tiny_ss_model, tmp_path):
    """--ss and --ss-file: num samples per blueprint, of its length, named by blueprint;
    report.csv carries the blueprint and its DSSP agreement in [0, 1]; config.json lists them;
    a different blueprint changes the coordinates (same seed)."""
    bp_file = tmp_path / "bp.txt"
    bp_file.write_text("LLEEEEELLLEEEEELL\n")
    out = tmp_path / "ss"
    args = ["sample", "backbone", "--ss", "LLHHHHHHHHHHLL", "--ss-file", str(bp_file)]
    args += ["--num", "2", "--steps", "3", "--model", str(tiny_ss_model), "-q"]
    assert main([*args, "--out", str(out)]) == 0
    pdbs = sorted(p.name for p in out.glob("*.pdb"))
    assert pdbs == [f"sample_ss{k:02d}_L{n}_{i:03d}.pdb" for k, n in ((0, 14), (1, 17))
                    for i in range(2)]  # fmt: skip
    rows = list(csv.DictReader((out / "report.csv").open()))
    assert [r["blueprint"] for r in rows] == ["LLHHHHHHHHHHLL"] * 2 + ["LLEEEEELLLEEEEELL"] * 2
    assert all(0.0 <= float(r["ss_agreement"]) <= 1.0 for r in rows)
    settings = json.loads((out / "config.json").read_text())
    assert settings["blueprints"] == ["LLHHHHHHHHHHLL", "LLEEEEELLLEEEEELL"]
    other = tmp_path / "other"
    assert main([*args[:3], "LLEEEEEEEEEELL", *args[6:], "--out", str(other)]) == 0
    a = (out / "sample_ss00_L14_000.pdb").read_text()
    assert a != (other / "sample_ss00_L14_000.pdb").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--ss", "LLHHQQ"], "'Q'"), ([], "--length, --ss or --ss-file"),
     (["--ss-file", "missing.txt"], "no such blueprint file"),
     (["--ss", "LEEEELLEEEEL 1-3A"], "strands 1-2"), (["--ss", "LEEEELLEEEEL 1:2"], "like 1-2A"),
     (["--ss", "LEEEELLEEEEL 1-2A", "--no-sheets"], "this one was not")],
)  # fmt: skip
def test_sample_blueprint_errors(tiny_ss_model, tmp_path, capsys, extra, message):
    """A bad letter, no length or blueprint at all, a missing blueprint file, a strand pair the
    blueprint lacks or cannot be read, pairs for a model trained without them when no sheet
    is built: one line, exit 2."""
    args = ["sample", "backbone", "--model", str(tiny_ss_model), "--out", str(tmp_path / "o")]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.fixture(scope="module")
def tiny_pair_model(tmp_path_factory):
    """A tiny FrameScoreNetwork with blueprint and strand-pair input and the pair head, their
    weights non-zero."""
    import torch

    config = FrameScoreNetworkConfig(**TINY, ss_condition=True, pair_condition=True, pair_head=True)
    net = FrameScoreNetwork(config)
    torch.nn.init.normal_(net.ss_embed.weight, std=2.0)
    torch.nn.init.normal_(net.pair_embed.weight, std=2.0)
    torch.nn.init.normal_(net.pair_head[-1].weight, std=2.0)
    return save(net, tmp_path_factory.mktemp("pair_model"), overwrite=True)


def test_sample_with_strand_pairs(tiny_pair_model, tmp_path):
    """A blueprint's strand pairs reach a pair model: the report shows the letters alone,
    config.json the blueprint as given, and a parallel pair gives other coordinates than the
    rule's antiparallel one (same seed), which equals giving 1-2A."""
    hairpin = "LEEEEELLLLEEEEEL"
    outs = {}
    for name, text in (("rule", hairpin), ("anti", f"{hairpin} 1-2A"), ("par", f"{hairpin} 1-2p")):
        out = tmp_path / name
        args = ["sample", "backbone", "--ss", text, "--num", "1", "--steps", "3", "-q"]
        assert main([*args, "--model", str(tiny_pair_model), "--out", str(out)]) == 0
        outs[name] = (out / "sample_ss00_L16_000.pdb").read_text()
        rows = list(csv.DictReader((out / "report.csv").open()))
        assert rows[0]["blueprint"] == hairpin
    assert json.loads((tmp_path / "par" / "config.json").read_text())["blueprints"] == [
        f"{hairpin} 1-2P"
    ]
    assert outs["rule"] == outs["anti"] != outs["par"]


def test_blueprint_refused_by_an_unconditional_model(tiny_model, tmp_path, capsys):
    """--ss with a model trained without blueprints exits 2 naming the problem."""
    args = ["sample", "backbone", "--ss", "LLHHHHHHHHLL", "--model", str(tiny_model)]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    assert "without blueprints" in capsys.readouterr().err


def test_ss_prior_default_follows_the_model(tiny_ss_model, tmp_path):
    """--length with a blueprint-trained model draws a blueprint per sample by default (in
    report.csv and config.json), --no-ss-prior samples without one."""
    args = ["sample", "backbone", "--length", "60", "--num", "2", "--steps", "2", "-q"]
    args += ["--model", str(tiny_ss_model)]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    rows = list(csv.DictReader((tmp_path / "a" / "report.csv").open()))
    assert all(len(r["blueprint"]) == 60 for r in rows)
    assert json.loads((tmp_path / "a" / "config.json").read_text())["blueprint_prior"] is True
    assert main([*args, "--no-ss-prior", "--out", str(tmp_path / "b")]) == 0
    rows = list(csv.DictReader((tmp_path / "b" / "report.csv").open()))
    assert "blueprint" not in rows[0]


def _tiny_run(chain_set_path, seed: int) -> dict:
    """A 3-step training configuration of the TINY network on 24-residue val crops."""
    return {
        "data": {"path": str(chain_set_path), "split": "val", "crop_length": 24,
                 "max_residues": 48},
        "model": TINY,
        "train": {"max_steps": 3, "log_every": 1, "checkpoint_every": 3, "device": "cpu",
                  "seed": seed},
    }  # fmt: skip


def test_training_from_scratch_is_reproducible(tmp_path, chain_set_path):
    """Two fresh runs of the same configuration export identical weights; another seed
    differs (the network is built under the configured seed)."""
    weights = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        config = tmp_path / f"{name}.yaml"
        config.write_text(json.dumps(_tiny_run(chain_set_path, seed)))
        args = ["train", "backbone", "--config", str(config), "--out", str(tmp_path / name)]
        assert main([*args, "-q"]) == 0
        weights.append((tmp_path / name / "model" / "model.safetensors").read_bytes())
    assert weights[0] == weights[1] != weights[2]


def test_training_leaves_the_process_group(tmp_path, chain_set_path, one_rank_group):
    """Training inside a process group, as under torchrun, exports and leaves the group."""
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps(_tiny_run(chain_set_path, seed=0)))
    args = ["train", "backbone", "--config", str(config), "--out", str(tmp_path / "r"), "-q"]
    assert main(args) == 0
    assert (tmp_path / "r" / "model" / "model.safetensors").exists()
    assert not one_rank_group.is_initialized()


def test_train_refuses_a_folder_that_is_not_a_run(tmp_path, chain_set_path, capsys):
    """--out naming a non-empty folder without checkpoints/last.pt exits 2 and leaves the
    user's config.json and log.csv untouched."""
    body = {"data": {"path": str(chain_set_path), "split": "val", "crop_length": 24,
                     "max_residues": 48}, "model": TINY, "train": {"max_steps": 1}}  # fmt: skip
    config = tmp_path / "train.yaml"
    config.write_text(json.dumps(body))
    out = tmp_path / "mine"
    out.mkdir()
    (out / "config.json").write_text('{"mine": true}')
    (out / "log.csv").write_text("a,b\n1,2\n")
    assert main(["train", "backbone", "--config", str(config), "--out", str(out), "-q"]) == 2
    assert "not a molgen run folder" in capsys.readouterr().err
    assert (out / "config.json").read_text() == '{"mine": true}'
    assert (out / "log.csv").read_text() == "a,b\n1,2\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--noise-scale", "nan"], "--noise-scale must be a finite number"),
     (["--noise-scale", "-1"], "--noise-scale must be a finite number"),
     (["--noise-scale", "inf"], "--noise-scale must be a finite number"),
     (["--rotation-noise-scale", "-0.5"], "--rotation-noise-scale"),
     (["--rotation-score-scale", "0"], "--rotation-score-scale must be > 0"),
     (["--time-warp", "-2"], "--time-warp must be > 0"),
     (["--guidance", "-1"], "--guidance must be a finite number >= 0"),
     (["--seed", str(2**70)], "--seed must be between 0 and 2^63 - 1")],
)  # fmt: skip
def test_sample_refuses_bad_numbers(tiny_model, tmp_path, capsys, extra, message):
    """NaN, infinite or negative noise scales and an overflowing seed: one line, exit 2, and
    no output folder is written."""
    out = tmp_path / "o"
    assert _sample(tiny_model, out, *extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_rotation_and_grid_settings_change_the_samples(tiny_model, tmp_path):
    """--rotation-noise-scale, --rotation-score-scale and --time-warp reach the sampler (same
    seed, other coordinates) and are recorded in config.json."""
    runs = {"a": [], "b": ["--rotation-noise-scale", "0"], "c": ["--rotation-score-scale", "1.5"],
            "d": ["--time-warp", "2"]}  # fmt: skip
    for name, extra in runs.items():
        assert _sample(tiny_model, tmp_path / name, "-q", *extra) == 0
    text = {n: (tmp_path / n / "sample_L20_000.pdb").read_text() for n in runs}
    assert len({text[n] for n in runs}) == len(runs)
    settings = json.loads((tmp_path / "c" / "config.json").read_text())
    assert settings["rotation_score_scale"] == 1.5 and settings["rotation_noise_scale"] is None
    assert json.loads((tmp_path / "d" / "config.json").read_text())["time_warp"] == 2.0


@pytest.fixture
def one_rank_group():
    """A one-rank gloo process group, as torchrun's ranks join; torn down if a test leaves it."""
    import socket

    import torch.distributed as dist

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    yield dist
    if dist.is_initialized():
        dist.destroy_process_group()


def test_sampling_leaves_the_process_group(tiny_model, tmp_path, one_rank_group):
    """A run inside a process group, as under torchrun, leaves the group at the end, so that
    the process exits without gloo's teardown abort."""
    assert _sample(tiny_model, tmp_path / "o", "-q") == 0
    assert not one_rank_group.is_initialized()


def test_wrong_kind_of_model_is_refused(tmp_path, capsys):
    """sample backbone --model conformer and sample conformers --model backbone: one line
    naming the model, exit 2 (no AttributeError, no silent success)."""
    args = ["sample", "backbone", "--length", "20", "--model", "conformer", "-q"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 2
    assert "not a backbone model" in capsys.readouterr().err
    args = ["sample", "conformers", "--smiles", "CCO", "--model", "backbone", "-q"]
    assert main([*args, "--out", str(tmp_path / "b.sdf")]) == 2
    assert "not a conformer model" in capsys.readouterr().err
    assert not (tmp_path / "b.sdf").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--length", "abc"], "Invalid value for '--length'"), ([], "Missing option '--out'"),
     (["--length", "20", "--bogus"], "No such option: --bogus")],
)  # fmt: skip
def test_usage_errors_are_one_line(capsys, tmp_path, args, message):
    """Typer's usage errors (bad value, missing option, unknown option): exactly one line on
    stderr, exit 2, no boxed panel."""
    out = [] if not args else ["--out", str(tmp_path / "o")]
    assert main(["sample", "backbone", *args, *out]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
    assert "╭" not in captured.err + captured.out
