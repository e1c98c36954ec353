"""Fuzz molgen's input paths with mutated real structures and molecules; print outcomes as JSON.

Usage::

    python scripts/fuzz_inputs.py [--n 10000] [--seed 0] [--workers 2] [--timeout 20]
        [--memory-mb 2048] [--classes NAME ...] [--out FILE.json]

Every input is made from real data (the PDB example 1s3v, val chains of the repository's
chain set written as PDB/mmCIF, the egfr ligands and QM9-like SMILES) by one mutation class
(:data:`CLASSES`): byte flips, truncations, NaN/huge coordinates, alt-locs with odd
occupancies, insertion codes, corrupt or truncated gzip, gzip bombs, bad SDF counts lines,
0-atom records, garbage and mutated SMILES. Each is written to a file and read the way
``molgen check`` and ``molgen score`` read it (:func:`molgen.checks.report.check_file`;
SMILES through :func:`molgen.io.read_smiles`), in a worker process with a wall-clock alarm
(``--timeout`` s) and an address-space cap. Outcomes: ``ok`` (records returned),
``input_error`` (:class:`molgen.errors.InputError`: the wanted refusal), ``exception``
(anything else: a bug), ``timeout``, ``memory`` (MemoryError, or resident memory grown past
``--memory-mb``). The JSON has counts per class and outcome and up to 5 examples of every
exception type.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PDB = REPO_ROOT / "data" / "examples" / "1s3v.pdb"
SMILES = (
    "CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "C1CCC(CC1)N",
    "O=C(O)[C@@H](N)Cc1ccccc1", "C/C=C/C(=O)O", "[NH4+].[Cl-]", "c1ccc2[nH]ccc2c1",
)  # fmt: skip
Sample = tuple[str, bytes]  # (file suffix, content)


class _Sources:
    """Real inputs the mutations start from (loaded once per worker)."""

    def __init__(self) -> None:
        from molgen.io import load_chain_set, write_mmcif, write_pdb
        from molgen.paths import default_data_path

        self.pdbs = [EXAMPLE_PDB.read_bytes()]
        self.cifs = []
        chains = load_chain_set(default_data_path("pdb_chains.npz"), "val")
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(0, 40, 8):
                pdb, cif = Path(tmp) / f"{i}.pdb", Path(tmp) / f"{i}.cif"
                write_pdb(chains[i], pdb)
                write_mmcif(chains[i], cif)
                self.pdbs.append(pdb.read_bytes())
                self.cifs.append(cif.read_bytes())
        self.sdfs = [_egfr_records(12)]


def _egfr_records(count: int) -> bytes:
    """The first ``count`` records of rdkit's bundled egfr.sdf (3D drug-like ligands)."""
    from rdkit import RDConfig

    text = (Path(RDConfig.RDContribDir) / "PBF" / "testData" / "egfr.sdf").read_text()
    records = text.split("$$$$\n")[:count]
    return ("$$$$\n".join(records) + "$$$$\n").encode()


def _flip(data: bytes, rng: random.Random, count: int) -> bytes:
    out = bytearray(data)
    for _ in range(count):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _atom_lines(text: str) -> list[int]:
    lines = text.splitlines()
    return [i for i, line in enumerate(lines) if line.startswith(("ATOM  ", "HETATM"))]


def _pdb_coordinates(src: _Sources, rng: random.Random) -> Sample:
    text = rng.choice(src.pdbs).decode()
    lines = text.splitlines()
    for i in rng.sample(_atom_lines(text), k=rng.randint(1, 3)):
        value = rng.choice(["     nan", "     inf", "1.0e+300", "********", "-9999999", "   1e9  "])
        col = rng.choice([30, 38, 46])
        lines[i] = lines[i][:col] + value[:8].rjust(8) + lines[i][col + 8 :]
    return ".pdb", ("\n".join(lines) + "\n").encode()


def _pdb_altloc(src: _Sources, rng: random.Random) -> Sample:
    text = rng.choice(src.pdbs).decode()
    lines = text.splitlines()
    out = []
    chosen = set(rng.sample(_atom_lines(text), k=min(40, len(_atom_lines(text)))))
    occupancy = rng.choice(["  0.50", "   nan", "      ", "  1.50", " -1.00", "  0.00"])
    for i, line in enumerate(lines):
        if i not in chosen:
            out.append(line)
            continue
        for alt in "AB":
            out.append(line[:16] + alt + line[17:54] + occupancy + line[60:])
    return ".pdb", ("\n".join(out) + "\n").encode()


def _pdb_insertion_codes(src: _Sources, rng: random.Random) -> Sample:
    text = rng.choice(src.pdbs).decode()
    lines = text.splitlines()
    for i in _atom_lines(text):
        if rng.random() < 0.3:
            lines[i] = lines[i][:26] + rng.choice("ABZ ") + lines[i][27:]
    return ".pdb", ("\n".join(lines) + "\n").encode()


def _gzip_corrupt(src: _Sources, rng: random.Random) -> Sample:
    packed = gzip.compress(rng.choice(src.pdbs))
    if rng.random() < 0.5:
        return ".pdb.gz", _flip(packed[:10], rng, 0) + _flip(packed[10:], rng, rng.randint(1, 8))
    return ".pdb.gz", packed[: rng.randrange(1, len(packed))]


def _gzip_bomb(src: _Sources, rng: random.Random) -> Sample:
    # A valid gzip stream that expands ~1000-fold: a size limit must refuse it early.
    pad = b"REMARK 999 " + b"X" * 68 + b"\n"
    return ".pdb.gz", gzip.compress(pad * rng.randint(900_000, 1_200_000) + src.pdbs[0], 1)


def _sdf_counts_line(src: _Sources, rng: random.Random) -> Sample:
    lines = src.sdfs[0].decode().splitlines()
    counts = [i for i, line in enumerate(lines) if line.rstrip().endswith("V2000")]
    for i in rng.sample(counts, k=min(3, len(counts))):
        na, nb = rng.choice([(0, 0), (999, 0), (-1, 3), (3, 999), (100000, 0)])
        lines[i] = f"{na:3d}{nb:3d}" + lines[i][6:]
    return ".sdf", ("\n".join(lines) + "\n").encode()


def _sdf_zero_atoms(src: _Sources, rng: random.Random) -> Sample:
    counts = b"  0  0  0  0  0  0  0  0  0  0999 V2000\n"
    empty = b"empty\n     RDKit          3D\n\n" + counts + b"M  END\n$$$$\n"
    return ".sdf", (empty * rng.randint(1, 3)) + (src.sdfs[0] if rng.random() < 0.5 else b"")


def _smiles_garbage(src: _Sources, rng: random.Random) -> Sample:
    alphabet = "CNOSPFIclBr()[]=#@+-123456789%/\\.*:$ \t"
    if rng.random() < 0.5:
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    else:
        base = list(rng.choice(SMILES))
        for _ in range(rng.randint(1, 4)):
            base.insert(rng.randrange(len(base) + 1), rng.choice(alphabet))
        text = "".join(base)
    return ".smiles", text.encode("utf-8", "replace")


def _byte_flips(kind: str) -> Callable[[_Sources, random.Random], Sample]:
    def make(src: _Sources, rng: random.Random) -> Sample:
        data = rng.choice({"pdb": src.pdbs, "cif": src.cifs, "sdf": src.sdfs}[kind])
        return f".{kind}", _flip(data, rng, rng.randint(1, 50))

    return make


def _truncations(kind: str) -> Callable[[_Sources, random.Random], Sample]:
    def make(src: _Sources, rng: random.Random) -> Sample:
        data = rng.choice({"pdb": src.pdbs, "cif": src.cifs, "sdf": src.sdfs}[kind])
        return f".{kind}", data[: rng.randrange(len(data))]

    return make


#: Mutation classes: name -> function(sources, rng) -> (suffix, bytes).
CLASSES: dict[str, Callable[[_Sources, random.Random], Sample]] = {
    "pdb_byte_flips": _byte_flips("pdb"),
    "pdb_truncated": _truncations("pdb"),
    "pdb_coordinates": _pdb_coordinates,
    "pdb_altlocs": _pdb_altloc,
    "pdb_insertion_codes": _pdb_insertion_codes,
    "cif_byte_flips": _byte_flips("cif"),
    "cif_truncated": _truncations("cif"),
    "gzip_corrupt": _gzip_corrupt,
    "gzip_bomb": _gzip_bomb,
    "sdf_byte_flips": _byte_flips("sdf"),
    "sdf_truncated": _truncations("sdf"),
    "sdf_counts_line": _sdf_counts_line,
    "sdf_zero_atoms": _sdf_zero_atoms,
    "smiles_garbage": _smiles_garbage,
}

_SOURCES: _Sources | None = None
_SETTINGS: dict = {}


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):  # noqa: ARG001 (signal handler signature)
    raise _Timeout


def _init(timeout: int, memory_mb: int) -> None:
    global _SOURCES
    _SETTINGS.update(timeout=timeout, memory_mb=memory_mb)
    # Room for the libraries (torch, rdkit) plus the cap, so a runaway input fails in Python.
    cap = (memory_mb + 6144) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.signal(signal.SIGALRM, _on_alarm)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    _SOURCES = _Sources()


def _consume(suffix: str, path: Path) -> None:
    """Read and check one input file as ``molgen check`` / ``molgen score`` / ``--smiles`` do."""
    if suffix == ".smiles":
        from molgen.io import read_smiles

        read_smiles(path.read_text(errors="replace"))
        return
    from molgen.checks.report import check_file

    check_file(path)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(case: tuple[str, int]) -> dict:
    """Make input ``case = (class, seed)``, consume it, and return its outcome record."""
    from molgen.errors import InputError

    name, seed = case
    rng = random.Random(f"{name}:{seed}")
    suffix, data = CLASSES[name](_SOURCES, rng)
    result = {"class": name, "seed": seed}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        before, started = _rss_mb(), time.perf_counter()
        signal.alarm(_SETTINGS["timeout"])
        try:
            _consume(suffix, path)
            result["outcome"] = "ok"
        except InputError as err:
            result["outcome"] = "input_error"
            result["message"] = str(err)[:200]
        except _Timeout:
            result["outcome"] = "timeout"
        except MemoryError:
            result["outcome"] = "memory"
        except Exception as err:  # a bug: anything but a clean InputError
            result["outcome"] = "exception"
            result["error"] = f"{type(err).__name__}: {str(err)[:160]}"
            result["where"] = traceback.format_exc().strip().splitlines()[-3][:200]
        finally:
            signal.alarm(0)
        result["seconds"] = round(time.perf_counter() - started, 3)
        if _rss_mb() > _SETTINGS["memory_mb"] and _rss_mb() > before:
            result["outcome"] = "memory"
    return result


def fuzz(n: int, seed: int, workers: int, timeout: int, memory_mb: int, classes: list[str]):
    """Run ``n`` cases spread evenly over ``classes``; returns the JSON-ready summary."""
    cases = [(classes[i % len(classes)], seed * 1_000_003 + i) for i in range(n)]
    counts: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list[dict]] = defaultdict(list)
    slowest = 0.0
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(timeout, memory_mb)) as pool:
        for result in pool.map(run_case, cases, chunksize=8):
            counts[result["class"]][result["outcome"]] += 1
            slowest = max(slowest, result["seconds"])
            if result["outcome"] in ("exception", "timeout", "memory"):
                key = result.get("error", result["outcome"]).split(":")[0]
                if len(examples[key]) < 5:
                    examples[key].append(result)
    totals = sum((c for c in counts.values()), Counter())
    return {
        "inputs": n,
        "totals": dict(totals),
        "per_class": {name: dict(c) for name, c in sorted(counts.items())},
        "slowest_seconds": slowest,
        "failures": dict(examples),
        "settings": {"seed": seed, "timeout_s": timeout, "memory_mb": memory_mb},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=20, help="seconds per input")
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--classes", nargs="+", default=list(CLASSES), choices=list(CLASSES))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    summary = fuzz(args.n, args.seed, args.workers, args.timeout, args.memory_mb, args.classes)
    text = json.dumps(summary, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(text)
    bad = sum(summary["totals"].get(k, 0) for k in ("exception", "timeout", "memory"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
