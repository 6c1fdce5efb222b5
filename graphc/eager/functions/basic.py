"""expand, clone and the in-place basics (copy_, zero_, fill_) every tensor has."""
from __future__ import annotations

import numpy as np

from ...ops import get as _get
from .._args import as_tensor_arg, size_args
from ..dispatch import apply
from ..tensor import Tensor

__all__ = ["expand", "expand_as", "clone", "broadcast_to"]

_EXPAND, _CLONE = _get("expand"), _get("clone")


def expand(input: Tensor, *sizes) -> Tensor:
    """A broadcast view with ``sizes`` (-1 keeps a dimension); new leading dims may be added."""
    if len(sizes) == 1 and not isinstance(sizes[0], int):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}")
            out.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            out.append(cur)
        elif cur == 1 or cur == s:
            out.append(s)
        else:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
    out = tuple(out)
    return apply(_EXPAND, (input,), {"shape": out})


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


def broadcast_to(input: Tensor, size) -> Tensor:
    return expand(input, size)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy that stays on the tape (gradient flows back unchanged)."""
    return apply(_CLONE, (input,), {})


METHODS = ["expand", "expand_as", "clone", "broadcast_to"]
INPLACE: list = []
