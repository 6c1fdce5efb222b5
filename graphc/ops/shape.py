"""Shape primitives that build a new array: ``cat`` (the one primitive behind stack, hstack,
roll ...) and the triangular masks ``tril`` / ``triu``.

``cat`` takes any number of inputs, promoted to their common dtype; the
front end has already checked the shapes and dropped the 1-d empty tensors
torch skips.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .registry import Spec, register


def _cat(*xs, dim):
    return np.concatenate(xs, axis=dim)


def _cat_infer(*specs, dim):
    shape = list(specs[0].shape)
    total = 0
    for s in specs:
        n = s.shape[dim]
        total = None if total is None or n is None else total + n
    shape[dim] = total
    dtype = _dt.result_type_of(*[(s.dtype, 2) for s in specs])
    return Spec(tuple(shape), dtype)


def _cat_grad(ctx, g):
    dim = ctx.attrs["dim"]
    grads = []
    start = 0
    for x, need in zip(ctx.inputs, ctx.needs_input_grad):
        n = x.shape[dim]
        grads.append(g.narrow(dim, start, n) if need else None)
        start += n
    return tuple(grads)


register("cat", "movement", kernel=_cat, infer=_cat_infer, grad=_cat_grad, promote="common", saves="none")


def _same(s, diagonal=0):
    return Spec(s.shape, s.dtype)


register("tril", "movement", kernel=lambda x, diagonal=0: np.tril(x, diagonal), infer=_same,
         grad=lambda ctx, g: (g.tril(ctx.attrs.get("diagonal", 0)),), saves="none")
register("triu", "movement", kernel=lambda x, diagonal=0: np.triu(x, diagonal), infer=_same,
         grad=lambda ctx, g: (g.triu(ctx.attrs.get("diagonal", 0)),), saves="none")
