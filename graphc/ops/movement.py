"""Movement primitives: ops that only rearrange elements (most return numpy views).

Each rule's gradient is another movement op, so backward graphs stay cheap.
"""
from __future__ import annotations

import numpy as np

from .registry import Spec, op_error, register


def _numel(shape) -> int | None:
    n = 1
    for s in shape:
        if s is None:
            return None
        n *= s
    return n


def _reshape(x, shape):
    try:
        return x.reshape(shape)
    except ValueError:
        raise op_error(RuntimeError, f"shape '{list(shape)}' is invalid for input of size {x.size}") from None


def _reshape_infer(s, shape):
    return Spec(tuple(shape), s.dtype)


def _view(x, shape):
    try:
        return np.reshape(x, shape, copy=False)
    except ValueError:
        if x.size != _numel(shape):
            raise op_error(RuntimeError, f"shape '{list(shape)}' is invalid for input of size {x.size}") from None
        raise op_error(
            RuntimeError,
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            "two contiguous subspaces). Use .reshape(...) instead.",
        ) from None


register("reshape", "movement", kernel=_reshape, infer=_reshape_infer,
         grad=lambda ctx, g: (g.reshape(ctx.inputs[0].shape),), saves="none", is_view=True,
         extra={"backward_name": "ViewBackward0"})
register("view", "movement", kernel=_view, infer=_reshape_infer,
         grad=lambda ctx, g: (g.reshape(ctx.inputs[0].shape),), saves="none", is_view=True)


def _expand(x, shape):
    return np.broadcast_to(x, shape)


def _expand_infer(s, shape):
    return Spec(tuple(shape), s.dtype)


def _expand_grad(ctx, g):
    from .grad_utils import sum_to_shape

    return (sum_to_shape(g, ctx.inputs[0].shape),)


register("expand", "movement", kernel=_expand, infer=_expand_infer, grad=_expand_grad, saves="none", is_view=True)


def _clone(x):
    return np.array(x, copy=True, order="C")


register("clone", "movement", kernel=_clone, infer=lambda s: Spec(s.shape, s.dtype), grad=lambda ctx, g: (g,),
         saves="none")


# ----------------------------------------------------------------------------- permute
def _permute(x, dims):
    return np.transpose(x, dims)


def _permute_infer(s, dims):
    return Spec(tuple(s.shape[d] for d in dims), s.dtype)


def _permute_grad(ctx, g):
    dims = ctx.attrs["dims"]
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return (g.permute(*inverse),)


PERMUTE = register("permute", "movement", kernel=_permute, infer=_permute_infer, grad=_permute_grad, saves="none",
                   is_view=True)


# ----------------------------------------------------------------------------- basic indexing
# ``index`` is a normalized tuple, one entry per step: an int (select, non-negative),
# a (start, stop, step) triple (a slice already clipped to the size, step > 0) or None
# (a new axis of size 1).  Dims past the tuple are kept whole.
def normalized_index(index: tuple, shape: tuple) -> tuple:
    """``basic_index``'s ``index`` against an input of ``shape``: slice bounds clipped to the dim and
    ints checked (IndexError).  Front ends record indices already normalized (non-negative, in
    range); a graph specialized to a smaller symbolic size than it was traced with can give a bound
    below 0 (``x[-2:]`` recorded as ``S-2``, run at S = 1), which clips to 0 as the user's negative
    index would, or an int out of range (``x[-1]`` on an empty batch), which raises."""
    out, d = [], 0
    for e in index:
        if e is None:
            out.append(None)
            continue
        n = shape[d]
        if type(e) is tuple:
            start, stop, step = e
            if n is not None:
                start = min(max(start, 0), n)
                stop = min(max(stop, start), n)
            out.append((start, stop, step))
        else:
            if n is not None and not 0 <= e < n:
                raise IndexError(f"index {e - n if e < 0 else e} is out of bounds for dimension {d} with size {n}")
            out.append(e)
        d += 1
    return tuple(out)


def _as_numpy_index(index):
    return tuple(slice(*e) if type(e) is tuple else e for e in index)


def _basic_index(x, index):
    # the trailing Ellipsis keeps an all-int index a 0-d view instead of a numpy scalar copy
    return x[_as_numpy_index(index) + (Ellipsis,)]


def _basic_index_at_size(attrs: dict, shapes: list) -> dict:
    """``attrs`` after a symbolic size was substituted into them (see ``extra["attrs_at_size"]``)."""
    return {**attrs, "index": normalized_index(attrs["index"], shapes[0])}


def _basic_index_infer(s, index):
    out = []
    d = 0
    # checked against the shape: a plan for one size (x[2] traced at the stand-in size, specialized
    # to two rows) must refuse, not read past the input
    for e in normalized_index(index, s.shape):
        if e is None:
            out.append(1)
        elif type(e) is tuple:
            out.append(len(range(*e)))
            d += 1
        else:
            d += 1
    out.extend(s.shape[d:])
    return Spec(tuple(out), s.dtype)


def scatter_into_zeros(x, g, op, attrs):
    """The gradient of a view op: ``g`` written into the viewed region of zeros shaped like ``x``."""
    return x.new_zeros(x.shape, dtype=g.dtype)._view_scatter(g, ((op, attrs),))


BASIC_INDEX = register(
    "basic_index", "movement", kernel=_basic_index, infer=_basic_index_infer,
    grad=lambda ctx, g: (scatter_into_zeros(ctx.inputs[0], g, BASIC_INDEX, ctx.attrs),),
    saves="none", is_view=True,
    # attributes recorded at the stand-in size and then given a smaller one are normalized again
    extra={"backward_name": "SliceBackward0", "attrs_at_size": _basic_index_at_size},
)


# ----------------------------------------------------------------------------- diagonal
def _diag_len(rows, cols, offset):
    if rows is None or cols is None:
        return None
    return max(0, min(rows + min(offset, 0), cols - max(offset, 0)))


def _diagonal(x, offset, dim1, dim2):
    # np.diagonal returns a read-only view; build a writable one so in-place writes reach the base
    a = np.moveaxis(x, (dim1, dim2), (-2, -1))
    n = _diag_len(a.shape[-2], a.shape[-1], offset)
    r0, c0 = max(-offset, 0), max(offset, 0)
    if n == 0:
        r0, c0 = 0, 0
    a = a[..., r0:, c0:]
    shape = a.shape[:-2] + (n,)
    strides = a.strides[:-2] + (a.strides[-2] + a.strides[-1],)
    return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=a.flags.writeable)


def _diagonal_infer(s, offset, dim1, dim2):
    rest = tuple(d for i, d in enumerate(s.shape) if i != dim1 and i != dim2)
    return Spec(rest + (_diag_len(s.shape[dim1], s.shape[dim2], offset),), s.dtype)


DIAGONAL = register(
    "diagonal", "movement", kernel=_diagonal, infer=_diagonal_infer,
    grad=lambda ctx, g: (scatter_into_zeros(ctx.inputs[0], g, DIAGONAL, ctx.attrs),),
    saves="none", is_view=True,
)


# ----------------------------------------------------------------------------- flip
def _flip(x, dims):
    return np.flip(x, dims).copy()


register("flip", "movement", kernel=_flip, infer=lambda s, dims: Spec(s.shape, s.dtype),
         grad=lambda ctx, g: (g.flip(ctx.attrs["dims"]),), saves="none")
