"""Reshape-like views and the bookkeeping for in-place writes through views."""
from __future__ import annotations

from ... import dtypes as _dt
from ...ops import get as _get
from .._args import size_args
from ..dispatch import apply
from ..grad_mode import GRAD
from ..node import Node
from ..tensor import Tensor

__all__ = ["reshape", "view", "view_scatter_record"]

_RESHAPE, _VIEW, _VIEW_SCATTER = _get("reshape"), _get("view"), _get("view_scatter")


def _infer_minus_one(shape: tuple, numel: int, op: str) -> tuple:
    if -1 not in shape:
        n = 1
        for s in shape:
            n *= s
        if n != numel:
            raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
        return shape
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if known == 0 or numel % known:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(numel // known if s == -1 else s for s in shape)


def _shape(shape, op):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = tuple(shape[0])
    out = []
    for s in shape:
        if hasattr(s, "__index__"):
            s = s.__index__()
        else:
            raise TypeError(f"{op}(): shape must be a tuple of ints, got {s!r}")
        if s < -1:
            raise RuntimeError(f"{op}: invalid shape dimension {s}")
        out.append(s)
    return tuple(out)


def reshape(input: Tensor, *shape) -> Tensor:
    """Same data in a new shape (a view when the layout allows, else a copy); one size may be -1."""
    shape = _infer_minus_one(_shape(shape, "reshape"), input._data.size, "reshape")
    if shape == input._data.shape:
        return apply(_VIEW, (input,), {"shape": shape})
    return apply(_RESHAPE, (input,), {"shape": shape})


def view(input: Tensor, *shape) -> Tensor:
    """A view in a new shape; errors when the strides do not allow one (use reshape).

    ``view(dtype)`` reinterprets the bytes (no gradient), as torch: the last dim scales by the
    ratio of the element sizes and must then be contiguous."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and not hasattr(shape[0], "__index__"):
        return _view_as_dtype(input, shape[0])
    shape = _infer_minus_one(_shape(shape, "view"), input._data.size, "view")
    return apply(_VIEW, (input,), {"shape": shape})


def _view_as_dtype(input: Tensor, dtype) -> Tensor:
    dt = _dt.to_dtype(dtype)
    if input._symbolic:
        raise TypeError("view(dtype) is not supported on traced tensors; use .to(dtype)")
    data = input._data
    if dt.np.itemsize != data.dtype.itemsize:
        if data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {input.dtype} as {dt} (different element sizes)")
        if data.shape[-1] != 1 and data.strides[-1] != data.dtype.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {input.dtype} as {dt} (different element "
                               f"sizes), but got {data.strides[-1] // data.dtype.itemsize}")
    try:
        out = data.view(dt.np)
    except ValueError as e:
        raise RuntimeError(f"view(): cannot view {input.dtype} {list(input.shape)} as {dt}: {e}") from None
    r = Tensor._make(out)
    r._version = input._version   # one memory, one version counter (torch shares it too)
    return r


def view_scatter_record(base: Tensor, view: Tensor, result: Tensor) -> None:
    """Record, after ``view`` was overwritten with ``result`` in place, that ``base`` changed through it.

    The base takes a ``view_scatter`` node (torch's CopySlices) and the view is
    re-derived from the new base, so gradients reach both correctly.
    """
    if not GRAD.enabled:
        return
    node = Node(_VIEW_SCATTER, (base, result), {"chain": view._view_chain}, (base,))
    base.grad_fn = node
    base._out = 0
    base._requires_grad = True
    from ...ops.views import replay

    nv = replay(base, view._view_chain)
    view.grad_fn = nv.grad_fn
    view._out = nv._out
    view._requires_grad = True
    from ..view_tracking import refresh_views

    refresh_views(base, skip=view)  # sibling views also read the base's new history


def view_scatter(base: Tensor, src: Tensor, chain) -> Tensor:
    """Out-of-place form used by gradient rules: ``base`` with the viewed region set to ``src``."""
    return apply(_VIEW_SCATTER, (base, src), {"chain": chain})


METHODS = ["reshape", "view"]
INPLACE: list = []
