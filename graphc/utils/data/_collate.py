"""How a list of samples becomes a batch: ``default_collate`` (stack) and ``default_convert`` (no batching)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

import graphc as gc

__all__ = ["default_collate", "default_convert"]

_BAD_TYPE = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _rebuild(like, items):
    """A container of ``like``'s type holding ``items``, or a plain list/dict when that type can't be built."""
    try:
        return type(like)(items)
    except TypeError:
        return items if not isinstance(items, dict) else dict(items)


def _stack_tensors(batch: list) -> gc.Tensor:
    """``gc.stack(batch)``; samples outside autograd are stacked in one numpy call (the common, hot case)."""
    if any(t.requires_grad for t in batch) or any(t.shape != batch[0].shape or t.dtype != batch[0].dtype
                                                  for t in batch):
        return gc.stack(batch, 0)  # records the graph, and reports mismatched shapes like torch
    return gc.from_numpy(np.stack([t.numpy() for t in batch]))


def default_collate(batch):
    """Stack a list of samples like torch: tensors and arrays along a new dim 0, numbers into a tensor
    (float64 for Python floats, int64 for ints), and recurse through dicts, tuples and lists."""
    elem = batch[0]
    if isinstance(elem, gc.Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_BAD_TYPE.format(elem.dtype))
        return gc.stack([gc.as_tensor(b) for b in batch], 0)
    if isinstance(elem, np.generic):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_BAD_TYPE.format(elem.dtype))
        return gc.tensor(np.array(batch))
    if isinstance(elem, float):
        return gc.tensor(batch, dtype=gc.float64)
    if isinstance(elem, int):  # bool included: a bool batch stays bool, like torch
        return gc.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _rebuild(elem, collated)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # torch returns a list for tuple samples
        return _rebuild(elem, columns)
    raise TypeError(_BAD_TYPE.format(type(elem)))


def default_convert(data):
    """Turn numpy arrays (and numpy scalars) inside ``data`` into tensors, leaving everything else alone."""
    if isinstance(data, gc.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "OSUV" else gc.as_tensor(data)
    if isinstance(data, np.generic):
        return data if data.dtype.kind in "OSUV" else gc.as_tensor(np.asarray(data))
    if isinstance(data, Mapping):
        return _rebuild(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data])
    return data
