"""molgen.io.atomic: whole files or none, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from molgen.io.atomic import atomic_write, atomic_write_text


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_get_the_umask_permissions(tmp_path, umask):
    """Under umask 022 a written file is 0644 (not mkstemp's 0600); under 077 it is 0600."""
    old = os.umask(umask)
    try:
        path = atomic_write_text(tmp_path / "out.csv", "a,b\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert path.read_text() == "a,b\n"


def test_failed_write_leaves_the_old_file(tmp_path):
    """An exception inside the writer keeps the previous content and no temporary file."""
    path = atomic_write_text(tmp_path / "keep.txt", "old")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
