"""Indexing functions: ``x[...]`` and ``x[...] = v``, gather/scatter, index_select/index_add/
index_fill/index_put, masked_select/masked_fill, take/take_along_dim, nonzero/argwhere.

Indexing follows torch, not numpy: an int (or a 0-d integer tensor) always
selects first, as a view, and only the tensor indices left over are
"advanced" (they decide where the indexed dims land).  Basic indexing is one
``basic_index`` view op; advanced indexing one ``index`` op on that view.
"""
from __future__ import annotations

import numbers

import numpy as np

from ... import dtypes as _dt
from ...ops import get as _get
from ...ops.indexing import indexed_shape, numpy_index
from ...ops.movement import _as_numpy_index
from .._args import canon_dim, fill_scalar
from .. import dispatch as _dispatch
from ..dispatch import apply
from ..node import named
from ..grad_mode import GRAD
from ..tensor import Tensor
from .basic import expand
from .pointwise import where
from .views import reshape, view_scatter_record

__all__ = [
    "gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_fill", "index_put",
    "masked_select", "masked_fill", "nonzero", "argwhere", "take", "take_along_dim",
]

_BASIC, _INDEX, _INDEX_PUT, _NONZERO, _VIEW = (_get(n) for n in ("basic_index", "index", "index_put", "nonzero",
                                                                  "view"))
_GATHER, _SCATTER, _SCATTER_ADD, _SCATTER_REDUCE, _CAST = (_get(n) for n in (
    "gather", "scatter", "scatter_add", "scatter_reduce", "cast"))
_INT_INDEX = (_dt.int64, _dt.int32)
_NoneType = type(None)


def _constant(value, dtype: _dt.DType) -> Tensor:
    """A 0-d tensor holding ``value`` converted to ``dtype`` (as torch converts fill values)."""
    return Tensor._make(np.array(fill_scalar(value, dtype, "fill")))


def _check_index(index, op: str, vector: bool = False) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._dtype not in _INT_INDEX:
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index._dtype}")
    if vector and index._data.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape {list(index.shape)}")


def _renamed(e: IndexError, kernel_name: str, op: str) -> IndexError:
    return IndexError(str(e).replace(f"{kernel_name}():", f"{op}():", 1))


# ----------------------------------------------------------------------------- gather / scatter
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` (for dim 0): values picked along ``dim``."""
    _check_index(index, "gather")
    d = canon_dim(dim, input._data.ndim, "gather")
    return apply(_GATHER, (input, index), {"dim": d})


def _src_tensor(input: Tensor, index: Tensor, src, op: str) -> Tensor:
    if isinstance(src, Tensor):
        if src._dtype is not input._dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got {input._dtype} and "
                               f"{src._dtype})")
        return src
    if not isinstance(src, (numbers.Number, np.generic)):
        raise TypeError(f"{op}(): src must be a Tensor or a number, got {type(src).__name__}")
    return expand(_constant(src, input._dtype), index.shape)


def scatter(input: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or the number ``value``) written at ``index`` along ``dim``.

    ``reduce='add'`` or ``'multiply'`` combines with the existing values instead of overwriting.
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): missing argument 'src' or 'value'")
    _check_index(index, "scatter")
    d = canon_dim(dim, input._data.ndim, "scatter")
    s = _src_tensor(input, index, src, "scatter")
    if reduce is None:
        return apply(_SCATTER, (input, index, s), {"dim": d})
    if reduce == "add":
        return apply(_SCATTER_ADD, (input, index, s), {"dim": d})
    if reduce == "multiply":
        return apply(_SCATTER_REDUCE, (input, index, s), {"dim": d, "reduce": "prod", "include_self": True})
    raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got {reduce!r}")


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices accumulate)."""
    _check_index(index, "scatter_add")
    d = canon_dim(dim, input._data.ndim, "scatter_add")
    return apply(_SCATTER_ADD, (input, index, _src_tensor(input, index, src, "scatter_add")), {"dim": d})


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce ``src`` into ``input`` at ``index`` along ``dim`` with sum, prod, mean, amax or amin."""
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"scatter_reduce(): reduce argument must be one of {list(_REDUCTIONS)}, got {reduce!r}")
    _check_index(index, "scatter_reduce")
    d = canon_dim(dim, input._data.ndim, "scatter_reduce")
    s = _src_tensor(input, index, src, "scatter_reduce")
    return apply(_SCATTER_REDUCE, (input, index, s), {"dim": d, "reduce": reduce, "include_self": bool(include_self)})


# ----------------------------------------------------------------------------- index_* along one dim
def _index_dims(input: Tensor, indices, dims: tuple, wrap: bool = True) -> Tensor:
    """``input`` with dim ``dims[k]`` indexed by integer tensor ``indices[k]`` (torch's aten.index)."""
    attrs = {"dims": tuple(dims)} if wrap else {"dims": tuple(dims), "wrap": False}
    return apply(_INDEX, (input, *indices), attrs)


def _index_put_dims(input: Tensor, values: Tensor, indices, dims: tuple, accumulate: bool = False,
                    wrap: bool = True) -> Tensor:
    """A copy of ``input`` with ``values`` written (or added) where ``_index_dims`` would read."""
    attrs = {"dims": tuple(dims), "accumulate": bool(accumulate)}
    if not wrap:
        attrs["wrap"] = False
    return apply(_INDEX_PUT, (input, values, *indices), attrs)


def _one_dim_index(input: Tensor, dim: int, index: Tensor, op: str):
    """(input viewed as >= 1-d, dim, index viewed as 1-d) for the index_* functions."""
    _check_index(index, op, vector=True)
    if input._data.ndim == 0:
        canon_dim(dim, 0, op)
        input, d = apply(_VIEW, (input,), {"shape": (1,)}), 0
    else:
        d = canon_dim(dim, input._data.ndim, op)
    if index._data.ndim == 0:
        index = apply(_VIEW, (index,), {"shape": (1,)})
    return input, d, index


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries at the 1-d ``index`` along ``dim`` (a copy; negative indices are out of range)."""
    x, d, idx = _one_dim_index(input, dim, index, "index_select")
    try:
        r = _index_dims(x, (idx,), (d,), wrap=False)
    except IndexError as e:
        raise _renamed(e, "index", "index_select") from None
    if input._data.ndim == 0:
        if idx._data.shape[0] != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.shape[0]} value(s)")
        r = apply(_VIEW, (r,), {"shape": ()})
    return named(r, "IndexSelectBackward0")


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim`` (repeats accumulate)."""
    x, d, idx = _one_dim_index(input, dim, index, "index_add")
    if not isinstance(source, Tensor):
        raise TypeError(f"index_add(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"index_add_(): self ({input._dtype}) and source ({source._dtype}) must have the same "
                           "scalar type")
    src = source if source._data.ndim else apply(_VIEW, (source,), {"shape": (1,)})
    want = x._data.shape[:d] + (idx._data.shape[0],) + x._data.shape[d + 1:]
    if src._data.shape != want:
        raise RuntimeError(f"index_add(): source tensor shape must match self tensor shape, excluding the specified "
                           f"dimension. Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    if alpha != 1:
        src = src * alpha
    try:
        r = _index_put_dims(x, src, (idx,), (d,), accumulate=True, wrap=False)
    except IndexError as e:
        raise _renamed(e, "index_put", "index_add") from None
    return r if input._data.ndim else apply(_VIEW, (r,), {"shape": ()})


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at ``index`` along ``dim``."""
    x, d, idx = _one_dim_index(input, dim, index, "index_fill")
    v = _fill_value(input, value, "index_fill")
    try:
        r = _index_put_dims(x, v, (idx,), (d,))
    except IndexError as e:
        raise _renamed(e, "index_put", "index_fill") from None
    return r if input._data.ndim else apply(_VIEW, (r,), {"shape": ()})


def _fill_value(input: Tensor, value, op: str) -> Tensor:
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        return value if value._dtype is input._dtype else apply(_CAST, (value,), {"dtype": input._dtype})
    if not isinstance(value, (numbers.Number, np.generic)):
        raise TypeError(f"{op}(): value must be a number or a 0-d Tensor, got {type(value).__name__}")
    return _constant(value, input._dtype)


def index_put(input: Tensor, indices, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``input[indices] = values`` (``+=`` with ``accumulate``, repeats adding up).

    ``indices`` is a tuple of integer or bool tensors, one per leading dim (None keeps a dim whole).
    """
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' must be Tensor, not {type(values).__name__}")
    if values._dtype is not input._dtype:
        raise RuntimeError(f"index_put(): Index put requires the source and destination dtypes match, got "
                           f"{input._dtype} for the destination and {values._dtype} for the source.")
    shape = input._data.shape
    adv = []
    d = 0
    for i in indices:
        if i is None:
            d += 1
            continue
        if not isinstance(i, Tensor):
            raise TypeError(f"index_put(): indices must be Tensors or None, got {type(i).__name__}")
        if i._dtype is _dt.bool or i._dtype is _dt.uint8:
            for t in _mask_indices(i, shape, d):
                adv.append((d, t))
                d += 1
        elif i._dtype in _INT_INDEX:
            adv.append((d, i))
            d += 1
        else:
            raise IndexError(f"index_put(): tensors used as indices must be long, int, byte or bool tensors (got "
                             f"{i._dtype})")
    if d > len(shape):
        raise IndexError(f"index_put(): too many indices for tensor of dimension {len(shape)}")
    if not adv:
        return input.clone()
    dims = tuple(p for p, _ in adv)
    return _index_put_dims(input, _fit_value(values, input, dims, adv), [t for _, t in adv], dims,
                           accumulate=accumulate)


# ----------------------------------------------------------------------------- masks
def _check_mask(mask, op: str) -> None:
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' must be Tensor, not {type(mask).__name__}")
    if mask._dtype is not _dt.bool:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype {mask._dtype}")


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``input`` with ``value`` (a number or a 0-d tensor, converted to input's dtype) where ``mask`` holds."""
    _check_mask(mask, "masked_fill")
    return named(where(mask, _fill_value(input, value, "masked_fill"), input), "MaskedFillBackward0")


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The 1-d tensor of the entries of ``input`` where ``mask`` holds (both broadcast first)."""
    _check_mask(mask, "masked_select")
    if input._symbolic or mask._symbolic:
        _dispatch.static.refuse_data_dependent((input, mask), "masked_select")
    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    x = input if input._data.shape == shape else expand(input, shape)
    m = mask if mask._data.shape == shape else expand(mask, shape)
    n = int(np.prod(shape))
    flat_mask = reshape(m, (n,))
    rows = apply(_NONZERO, (flat_mask,), {})  # (k, 1)
    # row 0 of the transpose, not column 0: no slice over k, whose size a traced graph knows
    # only when it runs
    rows = apply(_BASIC, (rows.t(),), {"index": (0,)})
    return named(_index_dims(reshape(x, (n,)), (rows,), (0,)), "MaskedSelectBackward0")


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero entries: an (n, ndim) int64 tensor, or a tuple of ndim 1-d tensors."""
    r = apply(_NONZERO, (input,), {})
    if not as_tuple:
        return r
    if input._data.ndim == 0:
        return (Tensor._make(np.zeros(r._data.shape[0], np.int64)),)
    rt = r.t()  # rows of the transpose: no slice over the count of non-zeros (see masked_select)
    return tuple(apply(_BASIC, (rt,), {"index": (j,)}) for j in range(input._data.ndim))


def argwhere(input: Tensor) -> Tensor:
    """Indices of the non-zero entries as an (n, ndim) int64 tensor."""
    return apply(_NONZERO, (input,), {})


# ----------------------------------------------------------------------------- take
def take(input: Tensor, index: Tensor) -> Tensor:
    """Entries of the flattened ``input`` at ``index`` (result shaped like ``index``; negatives count from the end)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"take(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._dtype is not _dt.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index._dtype}")
    try:
        return named(_index_dims(reshape(input, (input._data.size,)), (index,), (0,)), "TakeBackward0")
    except IndexError as e:
        raise _renamed(e, "index", "take") from None


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` after broadcasting ``input`` and ``indices`` except along ``dim`` (None: both flattened)."""
    if not isinstance(indices, Tensor):
        raise TypeError(f"take_along_dim(): argument 'indices' must be Tensor, not {type(indices).__name__}")
    if indices._dtype is not _dt.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be int64 but got {indices._dtype}")
    if dim is None:
        x, idx, d = reshape(input, (input._data.size,)), reshape(indices, (indices._data.size,)), 0
    else:
        nd = input._data.ndim
        if indices._data.ndim != nd:
            raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of "
                               f"dimensions, but got {nd} dimensions for input, and {indices.ndim} dimensions for "
                               f"indices")
        d = canon_dim(dim, nd, "take_along_dim")
        xs, js = list(input._data.shape), list(indices._data.shape)
        xs[d] = js[d] = 1
        try:
            b = np.broadcast_shapes(tuple(xs), tuple(js))
        except ValueError:
            raise RuntimeError(f"take_along_dim(): shapes {list(input.shape)} and {list(indices.shape)} are not "
                               f"broadcastable apart from dimension {d}") from None
        x_shape = b[:d] + (input._data.shape[d],) + b[d + 1:]
        i_shape = b[:d] + (indices._data.shape[d],) + b[d + 1:]
        x = input if input._data.shape == x_shape else expand(input, x_shape)
        idx = indices if indices._data.shape == i_shape else expand(indices, i_shape)
    n = x._data.shape[d]
    if idx._data.size and idx._data.min() < 0:
        idx = where(idx < 0, idx + n, idx)  # negative indices count from the end, like torch
    try:
        return apply(_GATHER, (x, idx), {"dim": d})
    except IndexError as e:
        raise _renamed(e, "gather", "take_along_dim") from None


# ----------------------------------------------------------------------------- x[index]
def _norm_slice(s: slice, n: int) -> tuple:
    step = s.step
    if step is not None:
        step = step.__index__()
        if step <= 0:
            raise ValueError("step must be greater than zero")
    start, stop, step = s.indices(n)
    return (start, stop if stop > start else start, step)


def _index_tensor_of(item) -> Tensor:
    """A list/tuple/array index as an int64 or bool tensor (IndexError for anything else)."""
    arr = np.asarray(item)
    if arr.dtype == np.bool_:
        return Tensor._make(arr)
    if arr.size == 0:
        return Tensor._make(arr.astype(np.int64))
    if arr.dtype.kind not in "iu":
        raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors (got {item!r})")
    return Tensor._make(arr.astype(np.int64, copy=False))


def _classify(items: tuple) -> tuple:
    """Each item as an int, slice, None, Ellipsis or tensor; and how many input dims they consume."""
    out = []
    consumed = 0
    for it in items:
        tp = type(it)
        if tp is int or tp is slice:
            consumed += 1
        elif it is None or it is Ellipsis:
            pass
        elif tp is bool:
            it = Tensor._make(np.array(it))
        elif isinstance(it, Tensor):
            dt = it._dtype
            if dt is _dt.bool or dt is _dt.uint8:
                consumed += it._data.ndim
            elif dt is _dt.int64 or dt is _dt.int32:
                if it._data.ndim == 0:
                    it = int(it._data)  # a 0-d integer tensor selects, like an int
                consumed += 1
            else:
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors (got {dt})")
        elif isinstance(it, (list, tuple, np.ndarray)):
            it = _index_tensor_of(it)
            consumed += it._data.ndim if it._dtype is _dt.bool else 1
        elif hasattr(it, "__index__") and not isinstance(it, float):
            it = it.__index__()
            consumed += 1
        else:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {type(it).__name__})")
        out.append(it)
    return out, consumed


def _mask_indices(mask: Tensor, shape: tuple, d: int) -> list:
    """The k index tensors (nonzero's columns) of a k-d bool mask over dims d..d+k-1 of ``shape``."""
    k = mask._data.ndim
    mshape = mask._data.shape
    if mshape != shape[d:d + k]:
        bad = next((j for j in range(k) if d + j >= len(shape) or mshape[j] != shape[d + j]), 0)
        raise IndexError(f"The shape of the mask {list(mshape)} at index {bad} does not match the shape of the "
                         f"indexed tensor {list(shape)} at index {d + bad}")
    m = mask if mask._dtype is _dt.bool else mask.to(_dt.bool)
    rows = apply(_NONZERO, (m,), {})._data
    return [Tensor._make(rows[:, j]) for j in range(k)]  # plain index tensors: nothing to record


def _parse(x: Tensor, idx) -> tuple:
    """Split an index into (basic index tuple, whether it is a no-op, [(view dim, int64 index tensor)])."""
    items, consumed = _classify(idx if type(idx) is tuple else (idx,))
    shape = x._data.shape
    nd = len(shape)
    if consumed > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd} (got {consumed} indices for shape "
                         f"{list(shape)})")
    basic: list = []
    adv: list = []
    trivial = True
    seen_ellipsis = False
    d = 0  # input dim
    p = 0  # dim of the basic view
    for it in items:
        tp = type(it)
        if tp is int:
            n = shape[d]
            if it < -n or it >= n:
                raise IndexError(f"index {it} is out of bounds for dimension {d} with size {n}")
            basic.append(it % n)
            trivial = False
            d += 1
        elif tp is slice:
            e = _norm_slice(it, shape[d])
            basic.append(e)
            if e != (0, shape[d], 1):
                trivial = False
            d += 1
            p += 1
        elif it is None:
            basic.append(None)
            trivial = False
            p += 1
        elif it is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            for _ in range(nd - consumed):
                basic.append((0, shape[d], 1))
                d += 1
                p += 1
        elif it._dtype is _dt.bool or it._dtype is _dt.uint8:
            k = it._data.ndim
            if k == 0:  # a 0-d mask adds a dim of size 1 (True) or 0 (False)
                basic.append(None)
                trivial = False
                adv.append((p, Tensor._make(np.zeros(1 if it._data else 0, np.int64))))
                p += 1
                continue
            for t in _mask_indices(it, shape, d):
                basic.append((0, shape[d], 1))
                adv.append((p, t))
                d += 1
                p += 1
        else:
            basic.append((0, shape[d], 1))
            adv.append((p, it))
            d += 1
            p += 1
    # trailing whole dims need no entry
    while basic and type(basic[-1]) is tuple and basic[-1] == (0, shape[d - 1], 1):
        basic.pop()
        d -= 1
    return tuple(basic), trivial, adv


def _basic_only(shape: tuple, idx: tuple):
    """The normalized index when ``idx`` holds only ints and slices (the common case), else None."""
    if len(idx) > len(shape):
        return None
    out = []
    for d, it in enumerate(idx):
        tp = type(it)
        if tp is int:
            n = shape[d]
            if it < -n or it >= n:
                raise IndexError(f"index {it} is out of bounds for dimension {d} with size {n}")
            out.append(it + n if it < 0 else it)
        elif tp is slice:
            out.append(_norm_slice(it, shape[d]))
        else:
            return None
    return tuple(out)


def _basic_name(basic: tuple, shape: tuple) -> str:
    """torch's grad_fn name for ints and slices: that of the last one not a whole dim (torch applies
    them in order and skips whole-dim slices)."""
    for d in range(len(basic) - 1, -1, -1):
        it = basic[d]
        if type(it) is int:
            return "SelectBackward0"
        if it != (0, shape[d], 1):
            return "SliceBackward0"
    return "AliasBackward0"


def __getitem__(self: Tensor, idx) -> Tensor:
    """``x[idx]``: ints, slices (step > 0), None and ``...`` give a view; integer/bool tensors and lists
    index the remaining dims (a copy), with torch's result shapes."""
    tp = type(idx)
    if tp is int:
        shape = self._data.shape
        if not shape:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        n = shape[0]
        if idx < -n or idx >= n:
            raise IndexError(f"index {idx} is out of bounds for dimension 0 with size {n}")
        return named(apply(_BASIC, (self,), {"index": (idx % n,)}), "SelectBackward0")
    if tp is slice and self._data.ndim:
        return apply(_BASIC, (self,), {"index": (_norm_slice(idx, self._data.shape[0]),)})
    if tp is tuple:
        basic = _basic_only(self._data.shape, idx)
        if basic is not None:
            return named(apply(_BASIC, (self,), {"index": basic}), _basic_name(basic, self._data.shape))
    basic, trivial, adv = _parse(self, idx)
    view = apply(_BASIC, (self,), {"index": basic}) if not (trivial and adv) else self
    if not adv:
        return view
    return _index_dims(view, [t for _, t in adv], tuple(p for p, _ in adv))


def _fit_value(value: Tensor, target_shape_of: Tensor, dims: tuple, adv: list) -> Tensor:
    """``value`` without the extra leading size-1 dims torch ignores when assigning."""
    if adv:
        want = len(indexed_shape(target_shape_of._data.shape, [t._data.shape for _, t in adv], dims))
    else:
        want = target_shape_of._data.ndim
    nd = value._data.ndim
    if nd > want:
        lead = value._data.shape[:nd - want]
        if any(s != 1 for s in lead):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
                               f"indexing result with {want} dimensions")
        value = apply(_VIEW, (value,), {"shape": value._data.shape[nd - want:]})
    return value


def _has_advanced(idx) -> bool:
    """Whether an index holds tensors or lists (advanced indexing: torch's index_put)."""
    parts = idx if isinstance(idx, tuple) else (idx,)
    return any(isinstance(p, (Tensor, list, np.ndarray)) for p in parts)


def __setitem__(self: Tensor, idx, value) -> None:
    """``x[idx] = value``: a number or a tensor (broadcast, converted to x's dtype), written in place.

    Basic indices write through a view (recorded as CopySlices on x); advanced indices go through
    ``index_put``.  Gradients reach both x's earlier value and ``value``.
    """
    if isinstance(value, Tensor) and value._dtype is not self._dtype and _has_advanced(idx):
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got {self._dtype} for "
                           f"the destination and {value._dtype} for the source.")
    if self._symbolic or (isinstance(value, Tensor) and value._symbolic):
        from .. import dispatch

        return dispatch.static.setitem(self, idx, value)  # a graph write (graphc.static), not a numpy one
    if isinstance(value, Tensor):
        v = value
    elif isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, complex):
        v = _constant(value, self._dtype)
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a Tensor (use a number or a Tensor)")
    basic, trivial, adv = _parse(self, idx)
    if not (GRAD.enabled and (self._requires_grad or v._requires_grad)):
        _write_without_grad(self, basic, adv, v)
        return
    target = self if trivial and adv else apply(_BASIC, (self,), {"index": basic})
    target._check_inplace()
    if not adv:
        v = _fit_value(v, target, (), adv)
        if v._requires_grad:
            target.copy_(v)
            return
        # a constant: write it, then record on the base that this region no longer depends on its old value
        _copy_into(target._data, v._data)
        target._version.v += 1
        if target._base is not None:
            view_scatter_record(target._base, target, v)
        return
    dims = tuple(p for p, _ in adv)
    if v._dtype is not self._dtype:
        v = apply(_CAST, (v,), {"dtype": self._dtype})
    v = _fit_value(v, target, dims, adv)
    r = _index_put_dims(target._snapshot(), v, [t for _, t in adv], dims)
    target._commit_inplace(r, "index_put_")


def _copy_into(dst: np.ndarray, src: np.ndarray) -> None:
    try:
        np.copyto(dst, src, casting="unsafe")
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(src.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(dst.shape)}") from None


def _write_without_grad(self: Tensor, basic: tuple, adv: list, v: Tensor) -> None:
    """``self[index] = v`` straight on the numpy arrays (nothing to record on the tape)."""
    self._check_inplace()
    region = self._data[_as_numpy_index(basic) + (Ellipsis,)]
    if adv:
        dims = tuple(p for p, _ in adv)
        v = _fit_value(v, Tensor._make(region), dims, adv)
        idx = numpy_index(region, [t._data for _, t in adv], dims, "index_put", True)
        try:
            region[idx] = v._data
        except ValueError:
            want = indexed_shape(region.shape, [t._data.shape for _, t in adv], dims)
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast to "
                               f"indexing result of shape {list(want)}") from None
    else:
        if v._data.ndim > region.ndim:
            v = _fit_value(v, Tensor._make(region), (), adv)
        _copy_into(region, v._data)
    self._version.v += 1


METHODS = __all__ + ["__getitem__", "__setitem__", "_index_dims", "_index_put_dims"]
INPLACE = ["scatter", "scatter_add", "scatter_reduce", "index_add", "index_fill", "index_put", "masked_fill"]
