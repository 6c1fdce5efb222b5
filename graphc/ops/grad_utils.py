"""Helpers gradient rules share, written with tensor methods so both modes can use them."""
from __future__ import annotations

__all__ = ["unbroadcast", "sum_to_shape"]


def sum_to_shape(g, shape: tuple):
    """Sum ``g`` over the dimensions broadcasting added or stretched so it has ``shape``.

    >>> sum_to_shape(ones(2, 3), (1, 3)).shape   # (1, 3), each entry 2
    """
    shape = tuple(shape)
    gshape = tuple(g.shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:
        raise ValueError(f"cannot sum shape {gshape} to {shape}")
    dims = list(range(lead))
    for i, s in enumerate(shape):
        gs = gshape[lead + i]
        if s == 1 and gs != 1:
            dims.append(lead + i)
        elif s != gs:
            raise ValueError(f"cannot sum shape {gshape} to {shape}")
    if dims:
        g = g.sum(dim=tuple(dims), keepdim=True)
    if lead:
        g = g.reshape(shape)
    return g


unbroadcast = sum_to_shape
