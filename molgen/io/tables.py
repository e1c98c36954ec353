"""Write tables of records (one dict per structure) as JSON or CSV, never clobbering a file.

Records are flat dicts of Python scalars, lists or None. In CSV a list becomes one cell with
its items joined by ``;`` and None an empty cell; JSON keeps them as they are. Files are
written to a temporary name in the same folder and renamed, so an interrupted run never
leaves a half-written table, and an existing file is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from molgen.errors import InputError
from molgen.io.atomic import atomic_write_text as write_text_atomically

__all__ = ["ensure_writable", "write_records", "records_to_csv", "atomic_write_text"]


def ensure_writable(path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Check that ``path`` may be written: folder exists and is writable, no clobbering.

    Raises
    ------
    InputError
        If the file exists and ``overwrite`` is False, or its folder is missing or read-only.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory, expected an output file path", path)
    if path.exists() and not overwrite:
        raise InputError("already exists (pass --overwrite to replace it)", path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"output folder {parent} does not exist", path)
    if not os.access(parent, os.W_OK):
        raise InputError(f"output folder {parent} is not writable", path)
    return path


def atomic_write_text(path: str | os.PathLike, text: str, overwrite: bool = False) -> Path:
    """Write ``text`` to ``path`` (checked by :func:`ensure_writable`) atomically
    (:func:`molgen.io.atomic.atomic_write_text`)."""
    return write_text_atomically(ensure_writable(path, overwrite=overwrite), text)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def records_to_csv(records: Sequence[dict[str, Any]]) -> str:
    """CSV text with the union of the records' keys as columns, in first-seen order."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({key: _csv_cell(record.get(key)) for key in columns})
    return buffer.getvalue()


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/inf; null is what a pipeline can filter on
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_records(
    records: Sequence[dict[str, Any]],
    path: str | os.PathLike,
    fmt: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write records as ``json`` (a list of objects) or ``csv``; format from the suffix."""
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt == "json":
        rows = [{k: _json_safe(v) for k, v in r.items()} for r in records]
        text = json.dumps(rows, indent=1) + "\n"
    elif fmt == "csv":
        text = records_to_csv(records)
    else:
        raise InputError(f"unknown table format {fmt!r}; use json or csv", path)
    return atomic_write_text(path, text, overwrite=overwrite)
