"""``out=`` support shared by every function that takes it."""
from __future__ import annotations

import numpy as np

from ..grad_mode import GRAD
from ..tensor import Tensor, _can_cast

__all__ = ["write_out"]


def write_out(result: Tensor, out: Tensor, op: str) -> Tensor:
    """Copy ``result`` into ``out`` (resizing it if the shape differs, as torch does) and return ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if GRAD.enabled and (result._requires_grad or out._requires_grad):
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic differentiation, "
            "but one of the arguments requires grad."
        )
    if not _can_cast(result._dtype, out._dtype):
        raise RuntimeError(f"{op}: result type {result._dtype} can't be cast to the desired output type {out._dtype}")
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, out._dtype.np)
    np.copyto(out._data, result._data, casting="unsafe")
    out._version.v += 1
    return out
