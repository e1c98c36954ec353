"""Tests for molgen.io.blueprint: DSSP -> H/E/L mapping, codes, user input errors."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.errors import InputError
from molgen.io import load_chain_set
from molgen.io.blueprint import (
    blueprint_from_dssp,
    encode_blueprint,
    parse_blueprint,
    read_blueprint_file,
)


def test_dssp_mapping_on_real_val_chains(chain_set_path):
    """On 50 real val chains the blueprint's H count equals DSSP's H+G+I count, E equals E+B,
    and L everything else, residue by residue."""
    chains = load_chain_set(chain_set_path, "val")
    for dssp in chains.dssp[:50]:
        bp = blueprint_from_dssp(str(dssp))
        arr, d = np.array(list(bp)), np.array(list(str(dssp)))
        assert len(bp) == len(dssp)
        assert (np.isin(d, list("HGI")) == (arr == "H")).all()
        assert (np.isin(d, list("EB")) == (arr == "E")).all()
        assert (np.isin(d, list("HGIEB")) != (arr == "L")).all()


def test_codes_round_trip_and_bad_letters():
    """encode_blueprint maps X H E L to 0 1 2 3; other letters raise ValueError."""
    assert encode_blueprint("LLHHEEX").tolist() == [3, 3, 1, 1, 2, 2, 0]
    with pytest.raises(ValueError, match="letters"):
        encode_blueprint("HHZ")


@pytest.mark.parametrize(("text", "message"), [("H", "at least 2"), ("HHQLL", "'Q'")])
def test_parse_refuses_bad_blueprints(text, message):
    """A one-letter or a bad-letter blueprint is an InputError naming --ss and the problem."""
    with pytest.raises(InputError, match=message) as err:
        parse_blueprint(text)
    assert str(err.value).startswith("--ss:")
    assert parse_blueprint(" lleeh ") == "LLEEH"
    assert parse_blueprint("leeellleeel  1-2a ") == "LEEELLLEEEL 1-2A"
    with pytest.raises(InputError, match=r"^--ss: strand pair '1-3A'"):
        parse_blueprint("LEEELLLEEEL 1-3A")


def test_blueprint_file(tmp_path):
    """One blueprint per line, comments and blank lines skipped; a bad line names file:line."""
    path = tmp_path / "bp.txt"
    path.write_text("# two designs\nLLHHHHLL\n\nLEEEELLEEEEL  # hairpin\n")
    assert read_blueprint_file(path) == ["LLHHHHLL", "LEEEELLEEEEL"]
    path.write_text("LLHH\nLLXQ\n")
    with pytest.raises(InputError, match=r"bp.txt:2"):
        read_blueprint_file(path)
    with pytest.raises(InputError, match="no such"):
        read_blueprint_file(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(InputError, match="no blueprint"):
        read_blueprint_file(tmp_path / "empty.txt")
