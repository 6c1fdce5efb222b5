"""``view_scatter``: the op an in-place write through a view records on its base.

``view_scatter(base, src, chain)`` is ``base`` with the region that the view
``chain`` (a tuple of (movement op, attrs) pairs) selects replaced by ``src``.
torch calls the node CopySlices.  Its gradient needs no saved values:
the base's gradient is ``g`` with that region zeroed, the source's is the
region of ``g``.
"""
from __future__ import annotations

import numpy as np

from .registry import Spec, register


def replay_numpy(a: np.ndarray, chain) -> np.ndarray:
    """Apply a view chain to an array (each step a numpy view)."""
    for op, attrs in chain:
        a = op.kernel(a, **attrs)
    return a


def replay(t, chain):
    """Apply a view chain to a tensor, through each op's tensor method."""
    from ..ops.registry import get  # noqa: F401  (chain entries carry their OpDef)

    for op, attrs in chain:
        t = t._apply_view(op, attrs)
    return t


def _kernel(base, src, chain):
    out = np.array(base, order="C", copy=True)
    region = replay_numpy(out, chain)
    if region.size and not np.may_share_memory(region, out):
        # a reshape in the chain copied here (this layout differs from the original base's):
        # replay the chain on flat positions instead and write through them
        region = replay_numpy(np.arange(out.size).reshape(out.shape), chain)
        out.reshape(-1)[region] = np.broadcast_to(src, region.shape)
        return out
    region[...] = src
    return out


def _infer(b, s, chain):
    return Spec(b.shape, b.dtype)


def _grad(ctx, g):
    base, src = ctx.inputs
    chain = ctx.attrs["chain"]
    gb = g._view_scatter(src.new_zeros(src.shape).to(g.dtype), chain) if ctx.needs_input_grad[0] else None
    gs = replay(g, chain) if ctx.needs_input_grad[1] else None
    return gb, gs


register("view_scatter", "movement", kernel=_kernel, infer=_infer, grad=_grad, saves="none",
         extra={"backward_name": "CopySlices"})
