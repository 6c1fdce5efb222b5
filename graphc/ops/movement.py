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
