"""Building modules in a chosen dtype.

e3nn computes some constants in torch's default dtype (Clebsch-Gordan coefficients when a
module is constructed, Wigner matrices in ``Irreps.D_from_matrix``), so a module built in
float32 and cast with ``.double()`` is accurate only to about 1e-7: build it under
:func:`default_dtype` instead (checkpoint loading and float64 tests both do).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["default_dtype"]


@contextmanager
def default_dtype(dtype: torch.dtype) -> Iterator[None]:
    """Temporarily set torch's default dtype (restored on exit, also after an error).

    Examples
    --------
    >>> with default_dtype(torch.float64):
    ...     torch.zeros(1).dtype
    torch.float64
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)
