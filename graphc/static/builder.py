"""``gc.static.Graph``: build a graph first, run it later (define-then-run).

    >>> g = gc.static.Graph()
    >>> x = g.placeholder("x", (None, 784), gc.float32)     # None: a symbolic (batch) size
    >>> w = g.parameter("w", gc.randn(784, 10))
    >>> y = gc.relu(x @ w)                                   # ordinary ops add nodes
    >>> exe = g.compile(y)
    >>> exe(x=np.ones((32, 784), np.float32)).shape
    graphc.Size([32, 10])

Eager tensors used with symbolic ones become graph leaves: a leaf that requires
grad (or one given to :meth:`Graph.parameter`) a ``parameter`` node whose data the
executable reads at each run (so updates to it are seen), anything else a constant.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes as _dt
from ..eager._args import size_args
from ..eager.tensor import Tensor, _Version
from ..ir.graph import Graph as IRGraph, Value
from ..ops.registry import Spec
from . import tree
from .errors import TracingError, user_location
from .executable import DEFAULT_BACKEND
from .symbolic import SymbolicTensor, check_commit
from .symsize import affine

__all__ = ["Graph"]


class Graph:
    """A static graph under construction: placeholders, parameters and ops on symbolic tensors.

    ``g.ir`` is the :class:`graphc.ir.Graph` being built (``print(g)`` shows its text form).
    """

    def __init__(self) -> None:
        self.ir = IRGraph()
        self._eager: dict = {}      # id(eager tensor) -> (tensor, the SymbolicTensor standing for it now)
        self._bound: dict = {}      # IR node -> ("data" | "grad", eager tensor) read at each run
        self._names: set = set()
        self._symbolic = False      # some placeholder has a symbolic size
        self._sizes: dict = {}      # ((k, b), dtype, wrapped) -> Value of a size input (see _size_input)

    # ------------------------------------------------------------------ public building API
    def placeholder(self, name: str, shape, dtype=None, requires_grad: bool = False) -> SymbolicTensor:
        """A graph input called ``name`` (fed at run time) with ``shape``; None in it is a symbolic size."""
        self._claim_name(name)
        shape = _check_shape(shape, name)
        dt = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
        nid = self.ir.add_placeholder(name, (shape, dt), loc=user_location())
        if None in shape:
            self._symbolic = True
        t = SymbolicTensor._new(self, Value(nid, 0), Spec(shape, dt))
        if requires_grad:
            t.requires_grad_(True)
        return t

    def parameter(self, name: str, tensor: Tensor, requires_grad: bool | None = None) -> SymbolicTensor:
        """A ``parameter`` node bound to the eager ``tensor``: each run reads its current data.

        The result is a symbolic leaf (requiring grad when ``tensor`` is floating point, unless
        ``requires_grad=False``); using ``tensor`` itself in ops reads the same node.
        """
        if not isinstance(tensor, Tensor) or isinstance(tensor, SymbolicTensor):
            raise TypeError(f"parameter(): expected an eager graphc Tensor, got {type(tensor).__name__}")
        if id(tensor) in self._eager:
            raise ValueError(f"parameter(): this tensor is already in the graph as "
                             f"{self._eager[id(tensor)][1]!r}")
        self._claim_name(name)
        t = self._bind(tensor, "parameter", name, ("data", tensor))
        if requires_grad is None:
            requires_grad = tensor._dtype.is_floating_point
        if requires_grad:
            t.requires_grad_(True)
        return t

    def constant(self, value, dtype=None) -> SymbolicTensor:
        """A constant node holding ``value`` (a tensor, array or nested list; numbers keep torch's typing)."""
        from ..eager.creation import tensor as make_tensor

        t = value if isinstance(value, Tensor) else make_tensor(value, dtype=dtype)
        if isinstance(t, SymbolicTensor):
            raise TypeError("constant(): the value is already symbolic")
        if dtype is not None and t._dtype is not _dt.to_dtype(dtype):
            t = Tensor._make(t._data.astype(_dt.to_dtype(dtype).np))
        return self._new_constant(t)

    def compile(self, outputs, backend: str = DEFAULT_BACKEND, optimize: bool = True, fastmath: bool = False):
        """An :class:`~graphc.static.executable.Executable` computing ``outputs`` (a tensor, or a
        tuple/list/dict of them; results keep that structure).  ``optimize=False`` skips the passes;
        ``backend="llvm"`` (the default) runs native kernels, ``backend="interp"`` the numpy reference
        interpreter; ``fastmath=True`` lets native kernels reassociate float math."""
        from .executable import Executable

        leaves, treedef = tree.flatten(outputs)
        tensors = [x for x in leaves if isinstance(x, Tensor)]
        if not tensors:
            raise ValueError("compile(): outputs hold no tensor")
        values = [self.stage_input(t)._value for t in tensors]  # eager outputs become constants first
        return Executable(self.program(values), self._bound, treedef, leaves, backend=backend, optimize=optimize,
                          known=self._placeholder_names(), fastmath=fastmath)

    def program(self, values: list) -> IRGraph:
        """A copy of the graph computing ``values``: only the nodes they need, ``values`` as its outputs."""
        g = self.ir.copy()
        g.set_outputs(values)
        keep = g.ancestors(values)
        keep.add(g.output_node)
        symbolic = [n for n in g.placeholders() if None in g.specs(n)[0].shape]
        if not any(n in keep for n in symbolic) and any(
                None in s.shape for n in keep if n != g.output_node for s in g.specs(n)):
            # values with symbolic sizes (``ones_like(x)`` under dynamic=True) but no symbolic feed
            # kept: the feeds are where a run finds its size, so they stay
            keep.update(symbolic)
        for n in [n for n in g.nx.nodes if n not in keep]:
            g.remove_node(n, force=True)
        return g

    def _placeholder_names(self) -> set:
        return {self.ir.name(n) for n in self.ir.placeholders() if n not in self._bound}

    def __str__(self) -> str:
        return str(self.ir)

    def __repr__(self) -> str:
        return f"<graphc.static.Graph: {len(self.ir)} ops>"

    def print(self, locs: bool = False) -> None:
        """Print the IR text (``locs=True`` adds each node's ``# file:line``)."""
        self.ir.print(locs=locs)

    # ------------------------------------------------------------------ staging internals
    def stage_input(self, t: Tensor) -> SymbolicTensor:
        """The symbolic tensor standing for ``t`` in this graph (eager tensors become leaves)."""
        if isinstance(t, SymbolicTensor):
            if t._graph is not self:
                if getattr(t._graph, "closed", False):  # a finished branch of gc.static.cond/while_loop
                    from .staging import escaped_error

                    raise escaped_error(t._graph)
                raise TracingError(f"{t!r} belongs to another graph: an op cannot mix tensors of two graphs "
                                   f"(at {user_location()})")
            return t
        if t._wrapped:
            return self._wrapped_constant(t)
        hit = self._eager.get(id(t))
        if hit is not None:
            return hit[1]
        return self._stage_eager(t)

    def _stage_eager(self, t: Tensor) -> SymbolicTensor:
        """A new leaf for an eager tensor: a parameter when it is a leaf that requires grad, else a constant."""
        if t._requires_grad and t.grad_fn is None:
            return self._bind(t, "parameter", self._param_name(t), ("data", t))
        return self._new_constant(t, memo=True)

    def _param_name(self, t: Tensor, prefix: str = "p") -> str:
        own = t.__dict__.get("name")
        if isinstance(own, str) and own and own not in self._names:
            self._names.add(own)
            return own
        return self._fresh_name(prefix)

    def _bind(self, t: Tensor, kind: str, name: str, source: tuple) -> SymbolicTensor:
        """A leaf node ``kind`` (parameter or placeholder) fed from ``source`` at each run."""
        spec = Spec(tuple(t._data.shape), t._dtype)
        loc = user_location()
        nid = (self.ir.add_parameter(name, spec, loc=loc) if kind == "parameter"
               else self.ir.add_placeholder(name, spec, loc=loc))
        self._bound[nid] = source
        s = SymbolicTensor._new(self, Value(nid, 0), spec)
        self._eager[id(t)] = (t, s)
        return s

    def _wrapped_constant(self, t: Tensor) -> SymbolicTensor:
        kb = affine(t._data[()]) if self._symbolic and t._dtype is not _dt.bool else None
        if kb is None and self._symbolic and t._dtype.is_floating_point:
            _refuse_reciprocal(float(t._data[()]))
        if kb is not None:
            s = self._size_input(kb, t._dtype, wrapped=True)
        else:
            nid = self.ir.add_constant(t._data, t._dtype, wrapped=True, loc=user_location())
            s = SymbolicTensor._new(self, Value(nid, 0), Spec((), t._dtype))
        s._wrapped = True
        return s

    def _size_input(self, kb: tuple, dtype: _dt.DType, wrapped: bool) -> SymbolicTensor:
        """A number computed from the symbolic size (``x.shape[0]``, a mean's count): an input that
        the executable sets to ``k * S + b`` at each run, so no pass can fold it into a constant."""
        key = (kb, dtype, wrapped)
        hit = self._sizes.get(key)
        if hit is None:
            k, b = kb
            name = ("?" if k == 1 else f"{k}*?") + (f"{b:+d}" if b else "")
            name = name if name not in self._names else self._fresh_name(name + "#")
            self._names.add(name)
            nid = self.ir.add_placeholder(name, ((), dtype), loc=user_location(), wrapped=wrapped)
            self._bound[nid] = ("size", kb)
            hit = self._sizes[key] = Value(nid, 0)
        return SymbolicTensor._new(self, hit, Spec((), dtype))

    def _new_constant(self, t: Tensor, memo: bool = False) -> SymbolicTensor:
        shape = tuple(t._data.shape)
        if self._symbolic and any(affine(d) is not None for d in shape):
            s = self._symbolic_constant(t)
        elif self._symbolic and not shape and t._dtype is not _dt.bool and affine(t._data[()]) is not None:
            s = self._size_input(affine(t._data[()]), t._dtype, wrapped=False)
        else:
            nid = self.ir.add_constant(t._data, t._dtype, loc=user_location())
            s = SymbolicTensor._new(self, Value(nid, 0), Spec(shape, t._dtype))
        if memo:
            self._eager[id(t)] = (t, s)
        return s

    def _symbolic_constant(self, t: Tensor) -> SymbolicTensor:
        """An eager tensor whose shape holds a symbolic size (``zeros_like(x)`` of a symbolic ``x``):
        fine when all its values are equal (it becomes ``full``), an error otherwise."""
        flat = t._data.reshape(-1)
        if flat.size and bool((flat == flat[0]).all()):
            return self.full((tuple(t._data.shape),), flat[0].item(), t._dtype)
        raise TracingError(
            f"a tensor of shape {list(t._data.shape)} was made with concrete values from a symbolic size at "
            f"{user_location()} (e.g. gc.arange(x.shape[0]) or gc.rand_like(x)): the graph cannot hold it for "
            "other sizes. Build it from symbolic tensors, or keep that size static (dynamic=False)."
        )

    def full(self, size: tuple, value, dtype: _dt.DType) -> SymbolicTensor:
        """A new tensor of ``size`` filled with ``value`` (``new_zeros`` of a symbolic tensor): a 0-d
        constant expanded, so a symbolic size stays symbolic."""
        shape = size_args(size, "new_full")
        c = self._new_constant(Tensor._make(np.array(value, dtype=dtype.np)))
        if not shape:
            return c
        r = c.expand(shape)
        r._base = None  # a fresh tensor, not a view of the constant
        r._view_chain = ()
        r._version = _Version()
        return r

    def _fresh_name(self, prefix: str) -> str:
        i = 0
        while f"{prefix}{i}" in self._names:
            i += 1
        name = f"{prefix}{i}"
        self._names.add(name)
        return name

    def _claim_name(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a graph input needs a non-empty name, got {name!r}")
        if name in self._names:
            raise ValueError(f"the graph already has an input named {name!r}")
        self._names.add(name)

    # ------------------------------------------------------------------ writes into eager tensors
    def commit_eager(self, target: Tensor, result: Tensor, opname: str) -> Tensor:
        """``target.f_(...)`` gave a symbolic ``result`` for an eager ``target``."""
        check_commit(target, result, opname)
        if result._dtype is not target._dtype:
            result = result.to(target._dtype)
        self.rebind_eager(target, self.stage_input(result))
        return target

    def rebind_eager(self, target: Tensor, value: SymbolicTensor) -> None:
        """An eager tensor takes a graph value.  Only a traced function can write it back (gc.compile)."""
        raise TracingError(
            f"an in-place op at {user_location()} writes a symbolic value into an eager tensor of shape "
            f"{list(target.shape)}; a graph built with gc.static.Graph cannot change eager tensors. Use an "
            "out-of-place op (or return the new value as an output), or trace the code with gc.compile."
        )

    def accumulate_eager_grad(self, target: Tensor, g: Tensor) -> None:
        """backward() reached an eager leaf with a symbolic gradient."""
        raise TracingError(
            f"backward() at {user_location()} would put a symbolic gradient into the .grad of an eager tensor "
            f"of shape {list(target.shape)}. In a gc.static.Graph use gc.static.grad(loss, [tensors]) and make "
            "the gradients outputs; inside gc.compile, backward() works as in eager mode."
        )

    def note_grad(self, target: Tensor) -> None:
        """``target.grad`` is about to change (only a traced function tracks that)."""

    def setitem(self, target: Tensor, idx, value) -> None:
        """``target[idx] = value`` as graph ops (the target then stands for the new value)."""
        from ..eager.dispatch import apply
        from ..eager.functions import indexing as ix
        from ..ops import get

        if isinstance(value, Tensor):
            v = value
        elif isinstance(value, (int, float, bool, np.number, np.bool_)):
            v = Tensor._make(np.asarray(value, dtype=target._dtype.np))
        else:
            raise TypeError(f"can't assign a {type(value).__name__} to a Tensor (use a number or a Tensor)")
        basic, trivial, adv = ix._parse(target, idx)
        region = target if trivial and adv else apply(get("basic_index"), (target,), {"index": basic})
        if not adv:
            region.copy_(ix._fit_value(v, region, (), adv))
            return
        dims = tuple(p for p, _ in adv)
        if v._dtype is not target._dtype:
            v = v.to(target._dtype)
        v = ix._fit_value(v, region, dims, adv)
        r = ix._index_put_dims(region._snapshot(), v, [t for _, t in adv], dims)
        region._commit_inplace(r, "index_put_")


def _refuse_reciprocal(v: float) -> None:
    """``1 / x.shape[0]`` computed in Python: the graph would keep it for every size, so refuse it."""
    if v == 0 or not np.isfinite(v):
        return
    r = 1.0 / v
    n = round(r)
    if affine(n) is not None and abs(r - n) <= 1e-6 * abs(r):
        raise TracingError(
            f"the number {v!r} at {user_location()} looks like 1 / (a symbolic size): Python arithmetic on a "
            "symbolic size is fixed in the graph for every size. Divide by the size itself (x / x.shape[0]) "
            "or use a reduction (x.mean()), or keep that size static (dynamic=False).")


def _check_shape(shape: Any, name: str) -> tuple:
    if isinstance(shape, (int, np.integer)) or shape is None:
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"placeholder {name!r}: shape must be a tuple of ints or None, got {shape!r}") from None
    out = []
    for d in dims:
        if d is None:
            out.append(None)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
            out.append(int(d))
        else:
            raise TypeError(f"placeholder {name!r}: each size must be a non-negative int or None, got {d!r}")
    return tuple(out)
