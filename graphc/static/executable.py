"""``Executable``: a compiled graph, called with feeds.

    >>> exe = g.compile([y, loss])
    >>> y_val, loss_val = exe(x=batch)          # or exe.run({"x": batch})

Results are always eager graphc Tensors, in the structure given to ``compile``
(a tensor, or a tuple/list/dict of them), holding fresh memory: they never alias
a feed, a parameter or a constant of the graph.  Parameters bound to eager
tensors are read at each call, so updating those tensors needs no recompile.
"""
from __future__ import annotations

import importlib.util
import warnings

import numpy as np

from .. import dtypes as _dt
from ..eager.tensor import Tensor
from ..ir.graph import LEAVES, Graph, constant_storage
from ..ir.printer import format_node, format_spec
from ..ops.registry import Spec
from . import tree
from .interp import Plan
from .symbolic import SymbolicTensor
from .symsize import affine, resolve, symbolic_shape

__all__ = ["Executable", "resolve_backend", "optimize_graph", "DEFAULT_BACKEND"]

BACKENDS = ("interp", "llvm")
# native kernels unless asked otherwise; "interp" (the numpy reference) stays the oracle
DEFAULT_BACKEND = "llvm"
_warned_llvm = False


def resolve_backend(name: str) -> str:
    """The backend that will run: 'interp' (numpy reference) or 'llvm' (native kernels; falls back to
    'interp' with one warning when llvmlite cannot be imported)."""
    global _warned_llvm
    if name == "interp":
        return name
    if name == "llvm":
        if importlib.util.find_spec("llvmlite") is None:
            if not _warned_llvm:
                _warned_llvm = True
                warnings.warn("graphc: the 'llvm' backend needs llvmlite, which is not installed; running "
                              "graphs with the 'interp' backend instead", RuntimeWarning, stacklevel=3)
            return "interp"
        return name
    raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")


def _error_handler(plan: Plan):
    """``on_error(node, arrays, attrs, exc)`` for native plans: the interpreter's error for that node."""
    steps = {st.node: st for st in plan.steps}

    def on_error(node, arrays, attrs, exc):
        return plan._error(steps[node], arrays, attrs, exc)
    return on_error


def _data_dependent(graph: Graph) -> bool:
    """Whether a value's shape is known only when the graph runs (nonzero, masked_select, ...) in a
    graph whose feeds have concrete shapes: native buffers cannot be planned for it."""
    return any(None in s.shape for n in graph.nodes() if graph.op(n) not in LEAVES for s in graph.specs(n))


def _native_plan(graph: Graph, plan: Plan, fastmath: bool):
    """The llvm backend's runner: a NativePlan; for symbolic sizes a PerShape around one dynamic
    NativePlan (every size, one module) with plans per concrete shape where that one cannot serve.
    None when the graph has data-dependent shapes: the interpreter plan runs it."""
    from ..codegen.backend import NativePlan
    from .specialize import DynamicSizes, PerShape, example_specialization

    on_error = _error_handler(plan)
    concrete = example_specialization(graph) if _symbolic(graph) else graph
    if _data_dependent(concrete):
        return None

    def build(g: Graph):
        return NativePlan(g, fastmath=fastmath, on_error=on_error)

    if not _symbolic(graph):
        return build(graph)
    generic, why = None, None
    try:
        generic = NativePlan(concrete, fastmath=fastmath, on_error=on_error,
                             sizes=DynamicSizes())
    except Exception as e:  # noqa: BLE001 - sizes the dynamic plan cannot express: compile per size instead
        why = f"{type(e).__name__}: {e}"
    runner = PerShape(graph, build, generic=generic)
    runner.generic_error = why
    return runner


def _symbolic(graph: Graph) -> bool:
    return any(None in graph.specs(n)[0].shape for n in graph.placeholders())


def _compile_llvm(graph: Graph, optimize: bool, fastmath: bool) -> tuple:
    """``(optimized graph, pass stats, interpreter Plan, native runner)`` for the llvm backend: a
    static-shape graph's whole compiled plan comes from the plan cache (graphc.codegen.plan_cache)
    when an earlier compile, in any process, left it there."""
    from ..codegen import plan_cache

    key = None if _symbolic(graph) else plan_cache.plan_key(graph, optimize=optimize, fastmath=fastmath)
    parts = plan_cache.load_plan(key) if key is not None else None
    if parts is not None:
        opt, stats, native = parts
        plan = Plan(opt)
        if native is not None:
            native.set_error_handler(_error_handler(plan))
        return opt, stats, plan, native
    opt, stats = optimize_graph(graph) if optimize else (graph, [])
    plan = Plan(opt)
    native = _native_plan(opt, plan, fastmath)
    if key is not None:
        plan_cache.store_plan(key, (opt, stats, native))
    return opt, stats, plan, native


def optimize_graph(g: Graph) -> tuple:
    """``(optimized copy of g, per-pass stats)`` from graphc.static.passes when present, else ``(g, [])``.

    In a graph with symbolic sizes a rewrite must not fix a stand-in size (:mod:`.symsize`): specs
    that show one go back to None, and if a constant holds one the unoptimized graph runs instead."""
    try:
        from .passes import run_pipeline
    except ImportError:
        return g, []
    opt, stats = run_pipeline(g.copy())
    if any(None in g.specs(n)[0].shape for n in g.placeholders()):
        for n in opt.nodes():
            data = opt.node(n)
            if data["op"] == "constant" and any(affine(d) is not None for d in data["specs"][0].shape):
                warnings.warn(f"graphc: an optimization pass turned a symbolic size into a constant "
                              f"({format_node(opt, n)}); running the unoptimized graph", RuntimeWarning)
                return g, stats
            if data["specs"] and data["op"] not in LEAVES:
                data["specs"] = tuple(Spec(symbolic_shape(s.shape), s.dtype) for s in data["specs"])
    return opt, stats


class Executable:
    """A graph ready to run (see the module docstring).

    ``graph`` is the optimized IR that runs, ``source`` the graph as built, ``passes``
    the per-pass statistics, ``placeholders`` the feeds it takes (name -> Spec).
    """

    def __init__(self, graph: Graph, bound: dict, treedef, leaves: list, backend: str = DEFAULT_BACKEND,
                 optimize: bool = True, known: set = frozenset(), fastmath: bool = False) -> None:
        self.backend = resolve_backend(backend)
        self.fastmath = bool(fastmath)
        self.source = graph
        if self.backend == "llvm":
            self.graph, self.passes, self._plan, self._native = _compile_llvm(graph, optimize, self.fastmath)
        else:
            self.graph, self.passes = optimize_graph(graph) if optimize else (graph, [])
            self._plan = Plan(self.graph)
            self._native = None
        # run_arrays' inputs are checked against their specs already: a NativePlan need not check again
        self._native_run = None if self._native is None else getattr(self._native, "run_checked", self._native.run)
        if self.backend == "llvm" and self._native is None:
            self._no_native = ("this graph has data-dependent shapes (nonzero, masked_select, ...): it runs on the "
                               "interpreter, with no native code")
        else:
            self._no_native = (f"this executable runs with backend={self.backend!r}; compile with "
                               "backend='llvm' to get native code")
        self._bound = {n: src for n, src in bound.items() if n in self.graph}
        self._feeds = [(graph.name(n), n, graph.specs(n)[0]) for n in graph.placeholders() if n not in bound]
        self._feed_names = {name for name, _, _ in self._feeds}
        self._ignored = set(known) - self._feed_names  # placeholders of the builder these outputs do not need
        self._treedef = treedef
        self._leaves = leaves
        self._needs_size = self._plan.needs_size or any(
            src[0] == "size" and self.graph.users_of(n) for n, src in self._bound.items())

    @property
    def placeholders(self) -> dict:
        """The feeds this executable takes: name -> Spec (None in a shape is a symbolic size)."""
        return {name: spec for name, _, spec in self._feeds}

    def __repr__(self) -> str:
        feeds = ", ".join(f"{name}: {format_spec(spec)}" for name, _, spec in self._feeds)
        return f"<graphc.static.Executable ({feeds}) -> {len(self._plan.outputs)} output(s), backend={self.backend}>"

    def __call__(self, **feeds):
        """Run with feeds given by name: ``exe(x=array)``."""
        return self.run(feeds)

    def run(self, feeds: dict | None = None, **more):
        """Run with ``feeds`` ({placeholder name: array or tensor}); returns the outputs as Tensors."""
        feeds = dict(feeds or {}, **more)
        arrays = self.run_arrays(self.feed_arrays(feeds))
        tensors = iter([Tensor._make(a) for a in arrays])
        return tree.unflatten(self._treedef, [next(tensors) if isinstance(x, Tensor) else x for x in self._leaves])

    # ------------------------------------------------------------------ the steps of a run
    def feed_arrays(self, feeds: dict) -> dict:
        """{placeholder node: array} from {name: value}, checked against each placeholder's spec."""
        unknown = [k for k in feeds if k not in self._feed_names and k not in self._ignored]
        if unknown:
            expected = ", ".join(f"{n} ({format_spec(s)})" for n, _, s in self._feeds) or "none"
            raise TypeError(f"unknown feed(s) {', '.join(map(repr, unknown))}; the graph's placeholders are: "
                            f"{expected}")
        out = {}
        for name, n, spec in self._feeds:
            if name not in feeds:
                raise TypeError(f"missing feed for placeholder {name!r} ({format_spec(spec)})")
            out[n] = as_feed_array(name, feeds[name], spec)
        return out

    def run_arrays(self, feeds: dict) -> list:
        """Output arrays for checked feeds ({placeholder node: array}); bound parameters are read now."""
        inputs = dict(feeds) if self._bound else feeds  # never add to the caller's dict
        size = self._symbolic_size(feeds) if self._needs_size else None
        for n, (kind, t) in self._bound.items():
            inputs[n] = self._bound_array(n, kind, t, size)
        if self._native_run is not None:
            return self._native_run(inputs, size)  # fresh arrays already
        outs = self._plan.run(inputs, size)
        return _owned(outs, list(inputs.values()))

    # ------------------------------------------------------------------ the llvm backend's code
    def _native_for_inspection(self):
        if self._native is None:
            raise RuntimeError(self._no_native)
        if hasattr(self._native, "plan_for"):  # symbolic sizes: the dynamic plan, else the latest specialization
            if self._native.generic is not None:
                return self._native.generic
            if not self._native._plans:
                raise RuntimeError("this graph has symbolic sizes: it is compiled per concrete shape on its "
                                   "first call; run it once first")
            return next(reversed(self._native._plans.values()))
        return self._native

    def llvm_ir(self) -> str:
        """The optimized LLVM IR of the compiled module (backend='llvm')."""
        return self._native_for_inspection().llvm_ir()

    def asm(self) -> str:
        """The host assembly of the compiled module (backend='llvm')."""
        return self._native_for_inspection().asm()

    @property
    def kernels(self) -> list:
        """The native kernels (backend='llvm'): name, fused node ids, ops, domain and compile flags each."""
        return list(self._native_for_inspection().kernels)

    @property
    def numpy_nodes(self) -> list:
        """Nodes that the llvm backend still runs with their numpy kernels (between native segments)."""
        return self._native_for_inspection().numpy_nodes

    def _bound_array(self, n: int, kind: str, t, size: int | None) -> np.ndarray:
        spec = self.graph.specs(n)[0]
        if kind == "size":  # t is (k, b): the number k * S + b
            wrapped = bool(self.graph.attrs(n).get("wrapped"))
            return np.array(resolve(t, size), dtype=constant_storage(spec.dtype, wrapped))
        name = self.graph.name(n)
        if kind == "grad":
            g = t._grad
            if g is None:
                raise RuntimeError(f"input {name!r} reads the .grad of a tensor, which is None now")
            arr = g._data
        else:
            arr = t._data
        if arr.shape != spec.shape or arr.dtype != spec.dtype.np:
            got = f"{_dt.from_numpy_dtype(arr.dtype).short}{list(arr.shape)}".replace(" ", "")
            raise RuntimeError(f"parameter {name!r} was {format_spec(spec)} when the graph was built and is {got} "
                               "now; build or compile the graph again")
        return arr

    def _symbolic_size(self, feeds: dict) -> int:
        size, first = None, None
        for name, n, spec in self._feeds:
            shape = feeds[n].shape
            for d, want in enumerate(spec.shape):
                if want is None:
                    if size is None:
                        size, first = shape[d], (name, d)
                    elif shape[d] != size:
                        raise RuntimeError(
                            f"the symbolic sizes of this graph must agree: placeholder {first[0]!r} has size {size} "
                            f"in dim {first[1]} but {name!r} has size {shape[d]} in dim {d} (the graph computes "
                            "with that size, e.g. to reshape or to take a mean)")
        return size


def as_feed_array(name: str, value, spec: Spec) -> np.ndarray:
    """``value`` as the array a placeholder takes; errors name the placeholder and both specs."""
    if isinstance(value, Tensor):
        if isinstance(value, SymbolicTensor):
            raise TypeError(f"feed {name!r}: a symbolic tensor has no values to feed")
        arr = value._data
    elif isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, (list, tuple, int, float, bool, np.generic)):
        arr = np.asarray(value, dtype=spec.dtype.np)  # Python data takes the placeholder's dtype
    else:
        raise TypeError(f"feed {name!r}: expected an array or a Tensor, got {type(value).__name__}")
    try:
        dt = _dt.from_numpy_dtype(arr.dtype)
    except TypeError:
        dt = None
    shape = arr.shape
    ok = dt is spec.dtype and len(shape) == len(spec.shape) and all(
        w is None or w == d for w, d in zip(spec.shape, shape))
    if not ok:
        got = f"{dt.short if dt is not None else arr.dtype}[{','.join(map(str, shape))}]"
        what = "dtype" if dt is not spec.dtype else "shape"
        raise RuntimeError(f"feed {name!r} has the wrong {what}: placeholder {name!r} expects {format_spec(spec)} "
                           f"(? is any size), got {got}")
    return arr


def _owned(outs: list, inputs: list) -> list:
    """The outputs with any array that is read-only or aliases an input (or an earlier output) copied."""
    res = []
    for a in outs:
        if not a.flags.writeable or any(np.may_share_memory(a, b) for b in inputs) or \
                any(a is r for r in res):
            a = np.array(a, copy=True)
        res.append(a)
    return res
