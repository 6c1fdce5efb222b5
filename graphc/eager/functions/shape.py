"""Shape and movement functions: permute/transpose, squeeze/unsqueeze, flatten, the cat and
split families, narrow/select, tile/repeat, flip/roll, diag/diagonal, tril/triu.

The primitives are few (permute, basic_index, diagonal, view/reshape/expand,
cat, flip, tril, triu); the rest are composites of them.  View functions
return tensors that share memory and the version counter with their input.
"""
from __future__ import annotations

from ... import dtypes as _dt
from ...ops import get as _get
from .._args import canon_dim, canon_dims
from .. import dispatch as _dispatch
from ..dispatch import apply, result_dtype
from ..tensor import Tensor
from .basic import expand
from ..node import named
from .out import write_out
from .views import reshape, view_scatter

__all__ = [
    "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "movedim", "moveaxis", "squeeze", "unsqueeze",
    "flatten", "unflatten", "cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
    "column_stack", "atleast_1d", "atleast_2d", "atleast_3d", "split", "chunk", "tensor_split", "hsplit", "vsplit",
    "dsplit", "unbind", "narrow", "select", "tile", "flip", "fliplr", "flipud", "roll", "diag", "diagonal",
    "diag_embed", "tril", "triu", "conj", "resolve_conj", "resolve_neg",
]

_PERMUTE, _VIEW, _BASIC_INDEX, _DIAGONAL = (_get(n) for n in ("permute", "view", "basic_index", "diagonal"))
_CAT, _FLIP, _TRIL, _TRIU, _CLONE = (_get(n) for n in ("cat", "flip", "tril", "triu", "clone"))


def _ints(args: tuple, op: str, what: str = "dims") -> tuple:
    """``f(0, 1)``, ``f((0, 1))`` and ``f([0, 1])`` all mean (0, 1)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for a in args:
        if isinstance(a, bool) or not hasattr(a, "__index__") or isinstance(a, float):
            raise TypeError(f"{op}(): argument '{what}' must be tuple of ints, but found element of type "
                            f"{type(a).__name__}")
    return tuple(a.__index__() for a in args)


def _view(input: Tensor, shape: tuple) -> Tensor:
    return apply(_VIEW, (input,), {"shape": shape})


# ----------------------------------------------------------------------------- permute family
def permute(input: Tensor, *dims) -> Tensor:
    """A view with the dimensions reordered: ``out.shape[i] == input.shape[dims[i]]``."""
    if len(dims) == 1 and type(dims[0]) in (tuple, list):
        dims = tuple(dims[0])
    nd = input._data.ndim
    if all(type(d) is int for d in dims) and len(dims) == nd and (not dims or -nd <= min(dims) and max(dims) < nd):
        dims = tuple([d + nd if d < 0 else d for d in dims])  # fast path: in-range ints
        if len(set(dims)) == nd:
            return apply(_PERMUTE, (input,), {"dims": dims})
    dims = _ints(dims, "permute")
    if len(dims) != nd:
        raise RuntimeError(f"permute(): number of dims don't match in permute: the tensor has {nd} dimensions "
                           f"({list(input.shape)}) but {len(dims)} were given ({list(dims)})")
    dims = tuple(canon_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError(f"permute(): duplicate dims are not allowed: {list(dims)}")
    return apply(_PERMUTE, (input,), {"dims": dims})


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with ``dim0`` and ``dim1`` swapped."""
    nd = input._data.ndim
    d0, d1 = canon_dim(dim0, nd, "transpose"), canon_dim(dim1, nd, "transpose")
    dims = list(range(nd))
    if nd:
        dims[d0], dims[d1] = d1, d0
    return named(apply(_PERMUTE, (input,), {"dims": tuple(dims)}), "TransposeBackward0")


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose a matrix; 0-d and 1-d tensors come back as (views of) themselves."""
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return named(apply(_PERMUTE, (input,), {"dims": (1, 0) if nd == 2 else tuple(range(nd))}), "TBackward0")


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (a plain transpose for real tensors)."""
    if input._data.ndim < 2:
        raise RuntimeError(f"adjoint() is only supported on matrices or batches of matrices. Got {input.ndim}-D tensor.")
    return transpose(input, -2, -1)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination``; the other dims keep their order."""
    nd = input._data.ndim
    src = (source,) if not isinstance(source, (tuple, list)) else tuple(source)
    dst = (destination,) if not isinstance(destination, (tuple, list)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                           f"the same number of dims as destination ({list(dst)} dims)")
    src = tuple(canon_dim(d, nd, "movedim") for d in src)
    dst = tuple(canon_dim(d, nd, "movedim") for d in dst)
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination)})")
    if nd == 0:
        return apply(_PERMUTE, (input,), {"dims": ()})
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    dims = tuple(o if o is not None else next(rest) for o in order)
    return apply(_PERMUTE, (input,), {"dims": dims})


moveaxis = movedim


# ----------------------------------------------------------------------------- squeeze family
def squeeze(input: Tensor, dim=None) -> Tensor:
    """A view without size-1 dims (all of them, or those in ``dim``, an int or a tuple)."""
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = set(canon_dims(dim, len(shape), "squeeze"))
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    kind = 0 if dim is None else 2 if isinstance(dim, (tuple, list)) else 1
    return named(_view(input, new), f"SqueezeBackward{kind}")


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A view with a size-1 dim inserted at ``dim`` (in [-ndim-1, ndim])."""
    shape = input._data.shape
    d = canon_dim(dim, len(shape) + 1, "unsqueeze")
    return named(_view(input, shape[:d] + (1,) + shape[d:]), "UnsqueezeBackward0")


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (a view when the layout allows); 0-d becomes (1,)."""
    shape = input._data.shape
    nd = len(shape)
    if nd == 0:
        canon_dim(start_dim, 0, "flatten")
        canon_dim(end_dim, 0, "flatten")
        return _view(input, (1,))
    s, e = canon_dim(start_dim, nd, "flatten"), canon_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for k in shape[s:e + 1]:
        n *= k
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """A view with dim ``dim`` split into ``sizes`` (one may be -1)."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("unflatten: Cannot unflatten a 0-dimensional tensor")
    d = canon_dim(dim, len(shape), "unflatten")
    sizes = _ints((sizes,), "unflatten", "sizes")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = shape[d]
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    if -1 in sizes:
        if known == 0 or n % known:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                               f"({n}) in the input tensor")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({n}) in the input tensor")
    return _view(input, shape[:d] + sizes + shape[d + 1:])


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """This tensor when its memory is C-contiguous, else a contiguous copy (still on the tape)."""
    if input._data.flags.c_contiguous or input._symbolic and _dispatch.static.contiguous_argument(input):
        return input
    return apply(_CLONE, (input,), {})


# ----------------------------------------------------------------------------- cat family
def _tensor_list(tensors, op: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' must be tuple of Tensors, not {type(tensors).__name__}")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}(): expected Tensor as element {i} in argument 0, but got {type(x).__name__}")
    return list(tensors)


def cat(tensors, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Join tensors along ``dim``; dtypes promote; 1-d empty tensors (shape (0,)) are skipped, like torch."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    kept = [x for x in tensors if x._data.shape != (0,)] or tensors[:1]
    ref = kept[0]
    nd = ref._data.ndim
    for i, x in enumerate(tensors):
        if x._data.ndim == 0:
            raise RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated")
    d = canon_dim(dim, nd, "cat")
    rshape = ref._data.shape
    for i, x in enumerate(kept):
        shape = x._data.shape
        if len(shape) != nd:
            raise RuntimeError(f"cat(): Tensors must have same number of dimensions: got {nd} and {len(shape)} "
                               f"(shapes {list(rshape)} and {list(shape)})")
        for k in range(nd):
            if k != d and shape[k] != rshape[k]:
                raise RuntimeError(f"cat(): Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{rshape[k]} but got size {shape[k]} for tensor number {i} in the list "
                                   f"(shapes {list(rshape)} and {list(shape)})")
    if len(kept) != len(tensors):
        dt = result_dtype(tuple(tensors))  # the skipped empties still take part in type promotion
        kept = [x if x._dtype is dt else x.to(dt) for x in kept]
    r = apply(_CAT, tuple(kept), {"dim": d})
    return r if out is None else write_out(r, out, "cat")


concat = concatenate = cat


def stack(tensors, dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Join same-shaped tensors along a new dim ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack(): expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                               f"{list(x.shape)} at entry {i}")
    d = canon_dim(dim, len(shape) + 1, "stack")
    new = shape[:d] + (1,) + shape[d:]
    r = named(apply(_CAT, tuple(_view(x, new) for x in tensors), {"dim": d}), "StackBackward0")
    return r if out is None else write_out(r, out, "stack")


def atleast_1d(*tensors):
    """Each tensor viewed with at least one dim (0-d becomes (1,))."""
    return _atleast(tensors, lambda s: (1,) if not s else s)


def atleast_2d(*tensors):
    """Each tensor viewed with at least two dims: (n,) becomes (1, n)."""
    return _atleast(tensors, lambda s: (1,) * (2 - len(s)) + s if len(s) < 2 else s)


def atleast_3d(*tensors):
    """Each tensor viewed with at least three dims: (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)."""
    def shape3(s):
        if len(s) == 0:
            return (1, 1, 1)
        if len(s) == 1:
            return (1, s[0], 1)
        if len(s) == 2:
            return s + (1,)
        return s
    return _atleast(tensors, shape3)


def _atleast(tensors, rule):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    items = tensors if not (len(tensors) == 1 and isinstance(tensors[0], (list, tuple))) else tensors[0]
    res = []
    for x in items:
        s = x._data.shape
        new = rule(s)
        res.append(x if new == s else _view(x, new))
    return res[0] if single else tuple(res)


def hstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Concatenate column-wise: along dim 0 for 1-d inputs, else dim 1."""
    ts = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Concatenate row-wise, after making every input at least 2-d."""
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0, out=out)


row_stack = vstack


def dstack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Concatenate depth-wise (dim 2), after making every input at least 3-d."""
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2, out=out)


def column_stack(tensors, *, out: Tensor | None = None) -> Tensor:
    """Stack as columns: 0-d and 1-d inputs become (n, 1) columns, then concatenate along dim 1."""
    ts = []
    for x in _tensor_list(tensors, "column_stack"):
        if x._data.ndim <= 1:
            x = _view(x, (x._data.size, 1))
        ts.append(x)
    return cat(ts, 1, out=out)


# ----------------------------------------------------------------------------- narrow / select / split family
def _slice_dim(input: Tensor, d: int, start: int, stop: int) -> Tensor:
    """The view ``input[..., start:stop, ...]`` on dim ``d`` (already clipped)."""
    index = ((0, s, 1) for s in input._data.shape[:d])
    return apply(_BASIC_INDEX, (input,), {"index": tuple(index) + ((start, stop, 1),)})


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The view of ``length`` entries of dim ``dim`` from ``start`` (negative counts from the end)."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = canon_dim(dim, nd, "narrow")
    n = input._data.shape[d]
    start, length = int(start), int(length)
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative, got {length}")
    if not -n <= start <= n:
        raise IndexError(f"narrow(): start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return _slice_dim(input, d, start, start + length)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view at ``index`` of dim ``dim`` (that dim removed)."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = canon_dim(dim, nd, "select")
    n = input._data.shape[d]
    i = int(index)
    if not -n <= i < n:
        raise IndexError(f"select(): index {i} out of range for tensor of size {list(input.shape)} at dimension {d}")
    full = tuple((0, s, 1) for s in input._data.shape[:d])
    return named(apply(_BASIC_INDEX, (input,), {"index": full + (i % n,)}), "SelectBackward0")


def _split_sizes(input: Tensor, d: int, sizes: list) -> tuple:
    out = []
    start = 0
    for s in sizes:
        out.append(_slice_dim(input, d, start, start + s))
        start += s
    return tuple(out)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Views of pieces of size ``split_size`` (the last may be smaller) or of the given list of sizes."""
    nd = tensor._data.ndim
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = canon_dim(dim, nd, "split")
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
        return _split_sizes(tensor, d, sizes)
    size = int(split_size_or_sections)
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0:
        if n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        return (_slice_dim(tensor, d, 0, 0),)
    sizes = [size] * (n // size) + ([n % size] if n % size or n == 0 else [])
    if len(sizes) > 1 and tensor._symbolic:
        _dispatch.static.refuse_size_split(tensor, d, "split")
    return _split_sizes(tensor, d, sizes)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Up to ``chunks`` views of equal size ``ceil(n / chunks)`` (the last may be smaller)."""
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = canon_dim(dim, nd, "chunk")
    n = input._data.shape[d]
    if n == 0:
        return _split_sizes(input, d, [0] * chunks)
    if chunks > 1 and input._symbolic:
        _dispatch.static.refuse_size_split(input, d, "chunk")
    return split(input, (n + chunks - 1) // chunks, d)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Views split into ``sections`` near-equal parts, or at the given ``indices`` (like numpy.array_split)."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = canon_dim(dim, nd, "tensor_split")
    n = input._data.shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg._dtype.is_floating_point or arg._dtype is _dt.bool or arg.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               "one-dimensional tensor of integers")
        arg = arg.item() if arg.ndim == 0 else arg.tolist()
    if isinstance(arg, (list, tuple)):
        bounds = [0] + [int(i) for i in arg] + [n]
        pieces = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            start, stop, _ = slice(a, b).indices(n)
            pieces.append(_slice_dim(input, d, start, max(start, stop)))
        return tuple(pieces)
    sections = int(arg)
    if sections <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
    if sections > 1 and input._symbolic:
        _dispatch.static.refuse_size_split(input, d, "tensor_split")
    q, r = divmod(n, sections)
    return _split_sizes(input, d, [q + 1] * r + [q] * (sections - r))


def _split_at(input: Tensor, arg, dim: int, op: str) -> tuple:
    if not isinstance(arg, (list, tuple, Tensor)):
        n = input._data.shape[dim]
        s = int(arg)
        if s == 0 or n % s:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{n} is not divisible by the split_size {s}!")
    return tensor_split(input, arg, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split column-wise: dim 1 (dim 0 for 1-d tensors)."""
    if input._data.ndim == 0:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with 0 dimensions!")
    return _split_at(input, indices_or_sections, 0 if input._data.ndim == 1 else 1, "hsplit")


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split row-wise (dim 0) a tensor of at least 2 dims."""
    if input._data.ndim < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got a tensor with "
                           f"{input.ndim} dimensions!")
    return _split_at(input, indices_or_sections, 0, "vsplit")


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split depth-wise (dim 2) a tensor of at least 3 dims."""
    if input._data.ndim < 3:
        raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got a tensor with "
                           f"{input.ndim} dimensions!")
    return _split_at(input, indices_or_sections, 2, "dsplit")


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """Views of each slice along ``dim`` (that dim removed)."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("unbind(): Dimension specified as 0 but tensor has no dimensions")
    d = canon_dim(dim, nd, "unbind")
    if input._symbolic:
        _dispatch.static.refuse_size_split(input, d, "unbind")   # as many pieces as rows
    full = tuple((0, s, 1) for s in input._data.shape[:d])
    return tuple(apply(_BASIC_INDEX, (input,), {"index": full + (i,)}) for i in range(input._data.shape[d]))


# ----------------------------------------------------------------------------- tile / repeat
def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along dim i (``len(sizes) >= ndim``; leading sizes add dims)."""
    reps = _ints(sizes, "repeat", "repeats")
    shape = input._data.shape
    if len(reps) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    for r in reps:
        if r < 0:
            raise RuntimeError(f"repeat(): Trying to create tensor with negative dimension {r}: {list(reps)}")
    shape = (1,) * (len(reps) - len(shape)) + shape
    # (s0, s1) -> (1, s0, 1, s1) -> expand (r0, s0, r1, s1) -> reshape (r0*s0, r1*s1)
    spread = tuple(k for s in shape for k in (1, s))
    big = tuple(k for r, s in zip(reps, shape) for k in (r, s))
    x = _view(input, spread)
    return reshape(expand(x, big), tuple(r * s for r, s in zip(reps, shape)))


def tile(input: Tensor, *dims) -> Tensor:
    """Like ``repeat``, but ``dims`` shorter than ndim is padded with leading ones (a tuple, or
    ints as the method takes them: ``x.tile(2, 1)``)."""
    reps = _ints(dims, "tile")
    reps = (1,) * (input._data.ndim - len(reps)) + reps
    return repeat(input, reps)


# ----------------------------------------------------------------------------- flip / roll
def flip(input: Tensor, *dims) -> Tensor:
    """A copy with the order of entries reversed along ``dims``."""
    dims = _ints(dims, "flip")
    nd = input._data.ndim
    dims = canon_dims(dims, nd, "flip")
    if nd == 0:
        dims = ()  # a 0-d tensor has nothing to reverse
    return apply(_FLIP, (input,), {"dims": dims})


def fliplr(input: Tensor) -> Tensor:
    """Flip left-right (dim 1); needs at least 2 dims."""
    if input._data.ndim < 2:
        raise RuntimeError("fliplr(): Input must be >= 2-d.")
    return apply(_FLIP, (input,), {"dims": (1,)})


def flipud(input: Tensor) -> Tensor:
    """Flip up-down (dim 0); needs at least 1 dim."""
    if input._data.ndim < 1:
        raise RuntimeError("flipud(): Input must be >= 1-d.")
    return apply(_FLIP, (input,), {"dims": (0,)})


def _roll_dim(x: Tensor, shift: int, d: int) -> Tensor:
    n = x._data.shape[d]
    s = shift % n if n else 0
    if s == 0:
        return x
    return apply(_CAT, (_slice_dim(x, d, n - s, n), _slice_dim(x, d, 0, n - s)), {"dim": d})


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Rotate entries along ``dims`` by ``shifts`` (without dims: over the flattened tensor)."""
    shifts = (shifts,) if not isinstance(shifts, (tuple, list)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims: 0")
        flat = reshape(input, (input._data.size,))
        r = _roll_dim(flat, int(shifts[0]), 0)
        r = input if r is flat else reshape(r, input._data.shape)
    else:
        dims = (dims,) if not isinstance(dims, (tuple, list)) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        nd = input._data.ndim
        if nd == 0:
            raise IndexError("roll(): Dimension specified as 0 but tensor has no dimensions")
        r = input
        for s, d in zip(shifts, dims):
            r = _roll_dim(r, int(s), canon_dim(d, nd, "roll"))
    return apply(_CLONE, (r,), {}) if r is input else r  # roll always returns a new tensor


# ----------------------------------------------------------------------------- diagonals and triangles
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """A view of the diagonal of the (dim1, dim2) planes, appended as the last dim."""
    nd = input._data.ndim
    d1, d2 = canon_dim(dim1, nd, "diagonal"), canon_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(_DIAGONAL, (input,), {"offset": int(offset), "dim1": d1, "dim2": d2})


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose (offset) diagonal, in the (dim1, dim2) planes, holds the last dim of ``input``."""
    nd = input._data.ndim + 1
    d1, d2 = canon_dim(dim1, nd, "diag_embed"), canon_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    n = (input._data.shape[-1] if input._data.ndim else 1) + abs(offset)
    rest = iter(input._data.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(nd))
    chain = ((_DIAGONAL, {"offset": offset, "dim1": d1, "dim2": d2}),)
    return view_scatter(input.new_zeros(shape), input, chain)


def diag(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
    """1-d input: a square matrix with it on the ``diagonal``-th diagonal; 2-d input: that diagonal (a copy)."""
    nd = input._data.ndim
    if nd == 1:
        r = diag_embed(input, diagonal, 0, 1)
    elif nd == 2:
        r = apply(_CLONE, (apply(_DIAGONAL, (input,), {"offset": int(diagonal), "dim1": 0, "dim2": 1}),), {})
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    return r if out is None else write_out(r, out, "diag")


def _triangle(op, name):
    def fn(input: Tensor, diagonal: int = 0, *, out: Tensor | None = None) -> Tensor:
        if input._data.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        r = apply(op, (input,), {"diagonal": int(diagonal)} if diagonal else {})
        return r if out is None else write_out(r, out, name)

    fn.__name__ = name
    return fn


tril = _triangle(_TRIL, "tril")
tril.__doc__ = "The lower triangle of the last two dims (entries with col - row <= diagonal); the rest zero."
triu = _triangle(_TRIU, "triu")
triu.__doc__ = "The upper triangle of the last two dims (entries with col - row >= diagonal); the rest zero."


def conj(input: Tensor) -> Tensor:
    """Complex conjugate: graphc has only real dtypes, so the tensor itself."""
    return input


resolve_conj = resolve_neg = conj


METHODS = [
    "permute", "transpose", "swapaxes", "swapdims", "t", "adjoint", "movedim", "moveaxis", "squeeze", "unsqueeze",
    "flatten", "unflatten", "contiguous", "split", "chunk", "tensor_split", "hsplit", "vsplit", "dsplit", "unbind",
    "narrow", "select", "repeat", "tile", "flip", "fliplr", "flipud", "roll", "diag", "diagonal", "diag_embed",
    "tril", "triu", "conj", "resolve_conj", "resolve_neg",
]
INPLACE = ["tril", "triu"]
