"""The symbolic tensor: a :class:`graphc.Tensor` that stands for one value of a graph being built.

Its ``_data`` is a zero-byte, read-only :class:`MetaArray` with the value's
example shape and dtype, so every front-end function validates its arguments
(shapes, dims, dtypes) on it exactly as in eager mode; ``dispatch.apply`` sees
``_symbolic`` and adds a graph node instead of running a kernel.  Anything that
needs the values (``bool(t)``, ``t.item()``, numpy ufuncs on ``_data`` ...)
raises :class:`~graphc.static.errors.TracingError` naming the user's line.

In-place ops are functionalized: ``x.add_(1)`` makes ``x`` stand for a new node
(a write through a view also makes its base stand for a ``view_scatter`` node).
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..eager.grad_mode import GRAD
from ..eager.tensor import Size, Tensor, _can_cast, _init
from ..ops.registry import Spec
from .errors import TracingError, needs_values_error, symbolic_size_error, user_location
from .symsize import StandInSize, affine, example_shape

__all__ = ["SymbolicTensor", "MetaArray", "meta_array"]


class MetaArray(np.ndarray):
    """A numpy array that has a shape and dtype but no values: reading them raises TracingError."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise needs_values_error(f"numpy.{ufunc.__name__}")

    def __array_function__(self, func, types, args, kwargs):
        if func in _SHAPE_ONLY:
            return super().__array_function__(func, types, args, kwargs)
        raise needs_values_error(f"numpy.{func.__name__}")

    def _no_values(self, *args, **kwargs):
        raise needs_values_error("reading the values of a symbolic tensor's data")

    __getitem__ = __setitem__ = __iter__ = __bool__ = __int__ = __float__ = __index__ = _no_values
    item = tolist = tobytes = copy = astype = fill = __array__ = __deepcopy__ = _no_values

    def __repr__(self) -> str:
        return f"<no values: a symbolic tensor's data, shape {tuple(self.shape)}, dtype {self.dtype}>"

    __str__ = __repr__


_SHAPE_ONLY = frozenset((np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory))


def meta_array(shape: tuple, dtype: _dt.DType, writeable: bool = False) -> MetaArray:
    """A zero-byte stand-in with ``shape`` (None -> the example size) and ``dtype``.

    ``writeable=True`` only sets the flag (eager in-place checks read it); writes still raise."""
    shape = example_shape(shape)
    arr = np.lib.stride_tricks.as_strided(np.zeros((), dtype.np), shape, (0,) * len(shape), writeable=writeable)
    return arr.view(MetaArray)


class SymbolicTensor(Tensor):
    """A value of a static graph under construction (see the module docstring).

    ``x.spec`` is its Spec (None for symbolic sizes); ``x.shape`` is the example shape
    the front end computes with (symbolic sizes show the stand-in size
    :data:`~graphc.static.symsize.EXAMPLE_SIZE`).
    """

    __slots__ = ("_graph", "_value", "_spec")
    _symbolic = True

    @staticmethod
    def _new(graph, value, spec: Spec, shape: tuple | None = None) -> "SymbolicTensor":
        """A symbolic tensor for ``value`` (a ``graphc.ir.Value``) of ``graph`` (a static Graph builder)."""
        t = SymbolicTensor.__new__(SymbolicTensor)
        _init(t, meta_array(spec.shape if shape is None else shape, spec.dtype))
        t._graph = graph
        t._value = value
        t._spec = Spec(tuple(spec.shape), spec.dtype)
        return t

    # ------------------------------------------------------------------ what it is
    @property
    def spec(self) -> Spec:
        """Shape (None for a symbolic size) and dtype."""
        return self._spec

    @property
    def graph(self):
        """The :class:`graphc.static.Graph` this tensor belongs to."""
        return self._graph

    @property
    def node(self) -> int:
        """The id of the IR node that computes this value."""
        return self._value.node

    def __repr__(self) -> str:
        from ..ir.printer import format_spec, format_value

        name = self._graph.ir.name(self._value.node) if self._value.node in self._graph.ir else None
        label = f' "{name}"' if name else ""
        grad = ", requires_grad=True" if self._requires_grad else ""
        return f"SymbolicTensor({format_value(self._value)}{label} : {format_spec(self._spec)}{grad})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    # ------------------------------------------------------------------ sizes user code sees
    @property
    def shape(self) -> Size:
        """The example shape; a symbolic size is a :class:`~graphc.static.symsize.StandInSize`
        (user code may add, subtract and multiply it by integers; other uses raise)."""
        return Size(self._user_sizes())

    def size(self, dim: int | None = None):
        sizes = self._user_sizes()
        if dim is None:
            return Size(sizes)
        from ..eager._args import canon_dim

        return sizes[canon_dim(dim, self.ndim, "size")]

    def numel(self) -> int:
        n = int(self._data.size)
        return StandInSize(n) if None in self._spec.shape and affine(n) is not None else n

    nelement = numel

    def _user_sizes(self) -> tuple:
        shape = self._data.shape
        if None not in self._spec.shape:
            return shape
        return tuple(StandInSize(d) if s is None and affine(d) is not None else d
                     for d, s in zip(shape, self._spec.shape))

    # ------------------------------------------------------------------ no values while building
    def numpy(self, force: bool = False):
        raise needs_values_error("Tensor.numpy()")

    def item(self):
        raise needs_values_error("Tensor.item()")

    def tolist(self):
        raise needs_values_error("Tensor.tolist()")

    def __array__(self, dtype=None, copy=None):
        raise needs_values_error("converting a symbolic tensor to a numpy array")

    def __bool__(self) -> bool:
        raise needs_values_error("bool(tensor) (an `if` or `while` on a tensor)")

    def __float__(self) -> float:
        raise needs_values_error("float(tensor)")

    def __int__(self) -> int:
        raise needs_values_error("int(tensor)")

    def __complex__(self) -> complex:
        raise needs_values_error("complex(tensor)")

    def __index__(self) -> int:
        raise needs_values_error("using a tensor as an index")

    def __len__(self) -> int:
        if not self._spec.shape:
            raise TypeError("len() of a 0-d tensor")
        n = self._spec.shape[0]
        if n is None:
            raise symbolic_size_error("len() of a tensor whose first dimension is symbolic")
        return n

    def __iter__(self):
        # unbinding a static dim needs no values; a symbolic one has no known length
        len(self)
        return iter(self.unbind(0))

    def __reduce_ex__(self, protocol):
        raise TracingError("a symbolic tensor cannot be pickled: it has no values (compile and run the graph)")

    def __deepcopy__(self, memo):
        raise TracingError("a symbolic tensor cannot be deep-copied: it has no values (compile and run the graph)")

    def stride(self, dim: int | None = None):
        st = []
        n = 1
        for s in reversed(self._data.shape):
            st.append(n)
            n *= s
        st = tuple(reversed(st))
        if dim is None:
            return st
        from ..eager._args import canon_dim

        return st[canon_dim(dim, self.ndim, "stride")]

    def is_contiguous(self, memory_format=None) -> bool:
        return True

    def data_ptr(self) -> int:
        raise TracingError("a symbolic tensor has no memory (data_ptr)")

    # ------------------------------------------------------------------ autograd views of the same value
    @property
    def data(self) -> "SymbolicTensor":
        return self.detach()

    @data.setter
    def data(self, other) -> None:
        if not isinstance(other, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(other).__name__}")
        self._rebind(self._graph.stage_input(other), history=False)

    def detach(self) -> "SymbolicTensor":
        """The same value without history; an in-place write to it also changes this tensor
        (eager detach shares memory)."""
        base = self if self._base is None else self._base
        return self.detach_alias(base, self._view_chain)

    def detach_alias(self, base: Tensor, chain: tuple = ()) -> "SymbolicTensor":
        """This value without history, written through to ``base`` (via the view ``chain``) by in-place ops."""
        t = SymbolicTensor._new(self._graph, self._value, self._spec, self._data.shape)
        t._version = base._version
        t._base = base
        t._view_chain = chain
        return t

    def _snapshot(self) -> "SymbolicTensor":
        """The value as of now (graph values never change, so no copy), with this tensor's history."""
        t = SymbolicTensor._new(self._graph, self._value, self._spec, self._data.shape)
        t._requires_grad = self._requires_grad
        t.grad_fn = self.grad_fn
        t._out = self._out
        t._accumulator = self._accumulator
        return t

    def _accumulate_grad(self, g: Tensor, create_graph: bool) -> None:
        # out of place: a symbolic gradient is a graph value, there is no memory to add into
        g = self._graph.stage_input(g)
        self._grad = g if self._grad is None else self._grad + g

    # ------------------------------------------------------------------ in place = rebinding
    def _check_inplace(self, fill: bool = False) -> None:
        # ``fill`` (eager: a fill may write through an expanded view) changes nothing here: a
        # graph write rebinds the value instead of writing memory
        if GRAD.enabled and self._requires_grad:
            nonleaf = getattr(self._graph, "_nonleaf_args", ())
            if id(self) in nonleaf or id(self._base) in nonleaf:
                # eagerly the argument's history would continue from this op; a compiled call
                # can only copy new values into it, so this call runs eagerly (fallback.py)
                raise TracingError(f"an in-place op on an argument that requires grad and is not a leaf "
                                   f"(or on a view of it) at {user_location()}")
            if self.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            base = self._base
            if base is not None and base.grad_fn is None and base._requires_grad:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place operation.")

    def _commit_inplace(self, result: Tensor, opname: str) -> "SymbolicTensor":
        """Make this tensor (and, through a view, its base) stand for ``result``."""
        check_commit(self, result, opname)
        if result._dtype is not self._dtype:
            result = result.to(self._dtype)
        result = self._graph.stage_input(result)
        base = self._base
        if base is None:
            self._rebind(result)
            _refresh_views(self, self, skip=None)
            return self
        from ..ops.views import replay

        chain = self._view_chain
        new_base = base._view_scatter(result, chain) if chain else result  # () is an alias (detach)
        if isinstance(base, SymbolicTensor):
            base._rebind(new_base)
        else:
            self._graph.rebind_eager(base, new_base)
        self._rebind(replay(new_base, chain) if chain else new_base)
        _refresh_views(base, new_base, skip=self)
        return self

    def _rebind(self, src: "SymbolicTensor", history: bool = True) -> None:
        """Stand for ``src``'s value from now on (and continue its autograd history)."""
        self._value = src._value
        self._spec = src._spec
        self._data = src._data
        self._version.v += 1
        if history and src.grad_fn is not None and GRAD.enabled:
            self.grad_fn = src.grad_fn
            self._out = src._out
            self._requires_grad = True

    # ------------------------------------------------------------------ factories that stay in the graph
    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "SymbolicTensor":
        return self._graph.full(size, 0, dtype or self._dtype).requires_grad_(requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "SymbolicTensor":
        return self._graph.full(size, 1, dtype or self._dtype).requires_grad_(requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> "SymbolicTensor":
        return self._graph.full((size,), fill_value, dtype or self._dtype).requires_grad_(requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "SymbolicTensor":
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)  # a graph has no garbage


def _refresh_views(base: Tensor, current: "SymbolicTensor", skip) -> None:
    """After ``base`` (now standing for ``current``) changed in place, every other live view of it is cut
    again from ``current``: in a graph a view is a value, not shared memory, so without this a view made
    before the write would keep reading the old values (eager views see the write through memory)."""
    from ..eager.view_tracking import live_views
    from ..ops.views import replay

    for v in live_views(base, skip):
        if isinstance(v, SymbolicTensor):
            v._rebind(replay(current, v._view_chain))


def check_commit(target: Tensor, result: Tensor, opname: str) -> None:
    """The checks eager ``_commit_inplace`` makes before writing ``result`` into ``target``."""
    if not _can_cast(result._dtype, target._dtype):
        raise RuntimeError(
            f"{opname}: result type {result._dtype} can't be cast to the desired output type {target._dtype}")
    if result._data.shape != target._data.shape:
        raise RuntimeError(f"{opname}: output with shape {list(Size(target._data.shape))} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
