"""Reduction primitives: sum (and the rest added beside it).

Attributes: ``dim`` is a tuple of non-negative dims (the front end
normalizes), ``keepdim`` a bool.  ``expand_reduced`` turns a reduced gradient
back into the input's shape; every reduction's rule uses it.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .registry import Spec, register


def reduced_shape(shape, dim, keepdim) -> tuple:
    """The shape left after reducing ``dim`` (a tuple of dims)."""
    if keepdim:
        return tuple(1 if i in dim else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in dim)


def expand_reduced(g, shape, dim, keepdim):
    """Broadcast a gradient of a reduced value back to the input ``shape``."""
    if not keepdim and dim:
        g = g.reshape(reduced_shape(shape, dim, True))
    return g.expand(tuple(shape))


def _sum_dtype(dt, dtype):
    if dtype is not None:
        return dtype
    return _dt.int64 if not dt.is_floating_point else dt


def _sum(x, dim, keepdim=False, dtype=None):
    out_dt = _sum_dtype(_dt.from_numpy_dtype(x.dtype), dtype).np
    return np.sum(x, axis=dim, keepdims=keepdim, dtype=out_dt)


def _sum_infer(s, dim, keepdim=False, dtype=None):
    return Spec(reduced_shape(s.shape, dim, keepdim), _sum_dtype(s.dtype, dtype))


def _sum_grad(ctx, g):
    x = ctx.inputs[0]
    return (expand_reduced(g, x.shape, ctx.attrs["dim"], ctx.attrs.get("keepdim", False)),)


register("sum", "reduction", kernel=_sum, infer=_sum_infer, grad=_sum_grad, saves="none")
