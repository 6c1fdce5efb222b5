"""Public reductions: ``gc.sum`` (more reductions are added beside it)."""
from __future__ import annotations

from ... import dtypes as _dt
from ...ops import get as _get
from .._args import canon_dims
from ..dispatch import apply
from ..tensor import Tensor
from .out import write_out

__all__ = ["sum"]

_SUM = _get("sum")


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, out=None) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all); integral inputs sum in int64."""
    dims = canon_dims(dim, input.ndim, "sum") if dim is not None and dim != () else tuple(range(input.ndim))
    attrs = {"dim": dims, "keepdim": bool(keepdim)}
    if dtype is not None:
        attrs["dtype"] = _dt.to_dtype(dtype)
    r = apply(_SUM, (input,), attrs)
    return r if out is None else write_out(r, out, "sum")


METHODS = ["sum"]
INPLACE: list = []
