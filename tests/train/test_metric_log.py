"""CSV metric log: fixed columns, appending across loggers, truncation before resume."""

from __future__ import annotations

from molgen.train import MetricLogger, read_log


def test_rows_and_columns(tmp_path):
    """Columns come from the first row; later rows fill missing keys with '' and drop extras."""
    log = MetricLogger(tmp_path, tensorboard=False)
    log.log({"step": 1, "loss": 0.5})
    log.log({"step": 2, "extra": 3.0})
    rows = read_log(tmp_path / "log.csv")
    assert rows == [{"step": "1", "loss": "0.5"}, {"step": "2", "loss": ""}]


def test_append_and_truncate(tmp_path):
    """A new logger appends under the old header; truncate_after(s) drops rows with step > s."""
    first = MetricLogger(tmp_path, tensorboard=False)
    for step in range(1, 6):
        first.log({"step": step, "loss": float(step)})
    second = MetricLogger(tmp_path, tensorboard=False)
    second.truncate_after(3)
    second.log({"step": 4, "loss": 40.0})
    rows = read_log(tmp_path / "log.csv")
    assert [(r["step"], r["loss"]) for r in rows] == [
        ("1", "1.0"), ("2", "2.0"), ("3", "3.0"), ("4", "40.0")
    ]  # fmt: skip


def test_disabled_logger_writes_nothing(tmp_path):
    """A logger on a non-zero rank (enabled=False) creates no file."""
    MetricLogger(tmp_path, enabled=False).log({"step": 1, "loss": 1.0})
    assert not (tmp_path / "log.csv").exists()
