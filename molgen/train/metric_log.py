"""Training logs: one CSV row per logging step, and TensorBoard scalars when it is installed.

The CSV (``step, loss, <metrics...>, lr, grad_norm, seconds``) is appended to, so a resumed run
continues the same file; :meth:`MetricLogger.truncate_after` first drops rows written after the
checkpoint being resumed (a killed run may have logged past its last checkpoint).
TensorBoard is optional: used only if ``torch.utils.tensorboard`` imports.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

from molgen.io.atomic import atomic_write

__all__ = ["MetricLogger", "read_log"]


class MetricLogger:
    """Append metric rows to ``out_dir/log.csv`` (and TensorBoard events in ``out_dir/tb``).

    Parameters
    ----------
    out_dir : str or Path
        Run directory.
    enabled : bool
        False on non-zero ranks: nothing is written.
    tensorboard : bool
        Also write TensorBoard scalars if ``torch.utils.tensorboard`` is importable.
    """

    def __init__(self, out_dir: str | Path, enabled: bool = True, tensorboard: bool = True) -> None:
        self.path = Path(out_dir) / "log.csv"
        self.enabled = enabled
        self._fields: list[str] | None = None
        self._writer = None
        if enabled and self.path.exists():
            with open(self.path, newline="") as handle:
                self._fields = next(csv.reader(handle), None)
        if enabled and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is not a dependency
                SummaryWriter = None
            if SummaryWriter is not None:
                self._writer = SummaryWriter(str(Path(out_dir) / "tb"))

    def log(self, row: Mapping[str, float | int]) -> None:
        """Append one row; it must have ``step``. Columns are fixed by the first row written."""
        if not self.enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = self._fields is None
        if new_file:
            self._fields = list(row)
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, self._fields, restval="", extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)
        if self._writer is not None:
            for key, value in row.items():
                if key != "step" and isinstance(value, (int, float)) and math.isfinite(value):
                    self._writer.add_scalar(key, value, int(row["step"]))
            self._writer.flush()

    def truncate_after(self, step: int) -> None:
        """Drop rows whose step is greater than ``step`` (before resuming from ``step``)."""
        if not self.enabled or not self.path.exists():
            return
        rows = read_log(self.path)
        if all(int(r["step"]) <= step for r in rows):
            return
        kept = [r for r in rows if int(r["step"]) <= step]

        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="") as handle:
                writer = csv.DictWriter(handle, self._fields or [])
                writer.writeheader()
                writer.writerows(kept)

        atomic_write(self.path, write)

    def close(self) -> None:
        """Close the TensorBoard writer, if any."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def read_log(path: str | Path) -> list[dict[str, str]]:
    """Rows of a ``log.csv`` as dicts of strings."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))
