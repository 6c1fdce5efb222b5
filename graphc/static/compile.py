"""``gc.compile``: trace a Python function into a static graph on its first call, then run the graph.

    >>> @gc.compile                       # or gc.compile(fn, backend="interp", dynamic=True)
    ... def step(x, y):
    ...     loss = gc.nn.functional.cross_entropy(model(x), y)
    ...     loss.backward()
    ...     with gc.no_grad():
    ...         for p in model.parameters():
    ...             p -= 0.1 * p.grad
    ...             p.grad = None
    ...     return loss
    >>> loss = step(x, y)                 # traces, compiles, runs; the parameters are updated

A call's signature is its tensor arguments' shapes, dtypes and requires_grad
(with ``dynamic=True`` the batch size, the most common leading size of the tensor
arguments, stays symbolic in the arguments that have it, so a new batch size runs the
same graph; batch sizes 0 and 1 trace graphs of their own, as torch specializes them),
its other arguments by value, and the state the function captures (parameters by identity, module train/eval flags,
optimizer hyperparameters and state, which ``.grad`` are None).  A known
signature runs its cached graph; a new one traces again, and the reason is kept
in ``fn.retraces`` (``"arg 0 shape (3, 4) -> (5, 4)"``; ``fn.history`` adds each
trace's timings, and ``gc.static.explain`` prints it all).  The cache keeps
``cache_size`` graphs (least recently used goes; a warning says so once).

``GRAPHC_DISABLE_COMPILE=1`` in the environment runs every compiled function eagerly.
Results are eager tensors without autograd history (call ``backward`` inside the
function); see :mod:`graphc.static.trace` for what happens to eager state.
"""
from __future__ import annotations

import functools
import inspect
import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable

from ..eager.grad_mode import GRAD
from ..eager.tensor import Tensor
from . import capture, tree
from .errors import TracingError
from .executable import BACKENDS, DEFAULT_BACKEND
from .fallback import EagerEntry, GraphBreakWarning
from .trace import Trace, trace, tracing_active

__all__ = ["compile", "CompiledFunction", "RecompileWarning", "TraceRecord"]

DEFAULT_CACHE_SIZE = 8
_FAST_ENTRIES = 64  # fast-path keys kept per function (dynamic=True makes one per batch size)


class RecompileWarning(UserWarning):
    """A compiled function traced more signatures than its cache holds."""


@dataclass
class TraceRecord:
    """One trace of a compiled function: why it happened and what it cost.

    ``trace_seconds``: running the function on symbolic tensors; ``compile_seconds``: the passes and
    the backend's preparation; ``ops``: op nodes of the graph that runs (the graph itself is not
    kept here: the cache alone decides how many graphs stay alive).
    """

    reason: str
    trace_seconds: float
    compile_seconds: float
    ops: int

    def __str__(self) -> str:
        return (f"{self.reason}: traced in {self.trace_seconds * 1e3:.1f} ms, compiled in "
                f"{self.compile_seconds * 1e3:.1f} ms ({self.ops} ops)")


class CompiledFunction:
    """What ``gc.compile(fn)`` returns: call it like ``fn`` (see the module docstring).

    ``retraces``: one reason per trace ("first call", then what changed); ``history``: a
    :class:`TraceRecord` per trace (reason and timings); ``traces``: the cached
    :class:`~graphc.static.trace.Trace` objects, most recently used last (``.graph`` on each).
    """

    def __init__(self, fn: Callable, backend: str = DEFAULT_BACKEND, dynamic: bool = False,
                 cache_size: int = DEFAULT_CACHE_SIZE, fastmath: bool = False, fullgraph: bool = False) -> None:
        if not callable(fn):
            raise TypeError(f"gc.compile expects a function or a module, got {type(fn).__name__}")
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        if not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"cache_size must be a positive int, got {cache_size!r}")
        if inspect.isfunction(fn) or inspect.ismethod(fn):
            functools.update_wrapper(self, fn)
        self.fn = fn
        self.backend = backend
        self.fastmath = bool(fastmath)
        self.dynamic = bool(dynamic)
        self.fullgraph = bool(fullgraph)
        self._warned_break = False
        self.cache_size = cache_size
        self.retraces: list = []
        self.history: list = []
        self._cache: list = []  # [(key, Trace)], least recently used first
        self._warned_full = False
        self._probe = capture.CaptureProbe(fn)
        # calls with only plain tensor arguments, to a function that captures nothing: the
        # arguments' (shape, dtype, requires_grad, grad is None) determine the full key, so
        # that tuple finds the Trace without building labels and the key
        self._fast: dict = {}

    def __repr__(self) -> str:
        name = getattr(self.fn, "__qualname__", type(self.fn).__name__)
        return f"<gc.compile({name}, backend={self.backend!r}, dynamic={self.dynamic}): {len(self._cache)} graph(s)>"

    @property
    def traces(self) -> list:
        return [t for _, t in self._cache]

    def __get__(self, obj, objtype=None):
        # compiling a method: bind like a function would
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if _disabled() or tracing_active():
            return self.fn(*args, **kwargs)  # eager; or inlined into the trace that is running
        fast = None if kwargs else _fast_key(args)
        if fast is not None:
            t = self._fast.get(fast)
            if t is not None and not self._probe() and (not t.guards or t.failed_guard() is None):
                if self._cache[-1][1] is not t:
                    self._touch(t)
                return t.run(list(args))
        leaves, treedef = tree.flatten((args, kwargs))
        t = self._entry(args, kwargs, leaves, treedef)
        if fast is not None and not self._probe():
            if len(self._fast) >= _FAST_ENTRIES:
                self._fast.clear()
            self._fast[fast] = t
        return t.run(leaves)

    def _touch(self, t: Trace) -> None:
        """Make ``t`` the most recently used cached trace."""
        for i in range(len(self._cache) - 1, -1, -1):
            if self._cache[i][1] is t:
                self._cache.append(self._cache.pop(i))
                return

    def trace_for(self, *args, **kwargs) -> Trace:
        """The cached trace a call with these arguments would run, tracing now if there is none;
        nothing runs (no results, no write-back).  ``gc.static.explain`` reports on it."""
        if tracing_active():
            raise RuntimeError("trace_for: a trace is already running")
        leaves, treedef = tree.flatten((args, kwargs))
        return self._entry(args, kwargs, leaves, treedef)

    def _entry(self, args: tuple, kwargs: dict, leaves: list, treedef) -> Trace:
        captures = self._probe()
        key = self._key(args, kwargs, leaves, treedef, captures)
        entry, reason = self._lookup(key)
        if entry is None:
            entry = self._trace(args, kwargs, leaves, treedef, captures, key, reason)
        return entry

    def _key(self, args: tuple, kwargs: dict, leaves: list, treedef, captures: list) -> tuple:
        # grad mode decides whether the outputs carry a backward (compiled_grad.py)
        return (capture.signature(_labels(args, kwargs), leaves, treedef, self.dynamic, captures)
                + (("grad mode", GRAD.enabled),))

    def _lookup(self, key: tuple) -> tuple:
        """(a cached Trace for ``key`` whose guards hold, None) or (None, why a trace is needed)."""
        guard_failure = None
        for i in range(len(self._cache) - 1, -1, -1):
            k, t = self._cache[i]
            if k == key:
                failed = t.failed_guard()
                if failed is None:
                    self._cache.append(self._cache.pop(i))
                    return t, None
                guard_failure = failed
        if guard_failure is not None:
            return None, guard_failure
        if not self._cache:
            return None, "first call"
        return None, capture.describe_diff(self._cache[-1][0], key)

    def _trace(self, args: tuple, kwargs: dict, leaves: list, treedef, captures: list, key: tuple,
               reason: str) -> Trace:
        names = _placeholder_names(self.fn, args, kwargs)
        # modules and optimizers passed as arguments are captured state too (names, .grad, optimizer state)
        captures = captures + [(name, x) for name, x in zip(names, leaves)
                               if capture.is_module(x) or capture.is_optimizer(x)]
        t, key, reason = self._trace_or_fall_back(args, kwargs, leaves, treedef, names, captures, key, reason)
        self.retraces.append(reason)
        if isinstance(t, EagerEntry):
            self.history.append(TraceRecord(reason, 0.0, 0.0, 0))
        else:
            self.history.append(TraceRecord(reason, t.trace_seconds, t.compile_seconds, len(t.graph)))
        self._cache.append((key, t))
        if len(self._cache) > self.cache_size:
            _, dropped = self._cache.pop(0)
            self._fast = {k: v for k, v in self._fast.items() if v is not dropped}
            if not self._warned_full:
                self._warned_full = True
                name = getattr(self.fn, "__qualname__", type(self.fn).__name__)
                warnings.warn(
                    f"gc.compile: {name} has been traced {len(self.retraces)} times, more than its cache holds "
                    f"({self.cache_size}); the oldest graph was dropped. Last retrace: {reason}. Every new "
                    "signature costs a trace: use dynamic=True for changing batch sizes, keep non-tensor "
                    "arguments fixed, or raise cache_size.", RecompileWarning, stacklevel=3)
        return t

    def _trace_or_fall_back(self, args, kwargs, leaves, treedef, names, captures, key, reason) -> tuple:
        """``(Trace or EagerEntry, key, reason)``: see :mod:`.fallback`."""
        # a dynamic call whose batch size is fixed (0 or 1, as in torch) traces like a static one
        symbolic = capture.symbolic_batch(leaves, self.dynamic) is not None
        try:
            return trace(self.fn, args, kwargs, names, self.dynamic, captures, self.backend,
                         self.fastmath), key, reason
        except Exception as e:
            if self.fullgraph or not (symbolic or isinstance(e, TracingError)):
                raise
            error = e
        if symbolic:
            self.dynamic = False  # from now on every call is keyed (and traced) by its full shapes
            self._fast.clear()
            key = self._key(args, kwargs, leaves, treedef, self._probe())
            reason = f"{reason}; dynamic trace failed ({type(error).__name__}: {error}), static shapes"
            self._warn(f"the dynamic=True trace failed, so it runs with static shapes (a new shape traces "
                       f"again): {type(error).__name__}: {error}")
            try:
                return trace(self.fn, args, kwargs, names, False, captures, self.backend,
                             self.fastmath), key, reason
            except TracingError as e:
                error = e
        self._warn(f"it cannot be traced, so this signature runs eagerly: {error}")
        return EagerEntry(self.fn, treedef, str(error)), key, f"{reason}; runs eagerly"

    def _warn(self, what: str) -> None:
        if not self._warned_break:
            self._warned_break = True
            name = getattr(self.fn, "__qualname__", type(self.fn).__name__)
            # stacklevel: _warn, _trace_or_fall_back, _trace, _entry, __call__, then the caller's line
            warnings.warn(f"gc.compile: {name}: {what} (fullgraph=True raises instead)", GraphBreakWarning,
                          stacklevel=6)


def compile(fn: Callable | None = None, *, backend: str = DEFAULT_BACKEND, dynamic: bool = False,
            cache_size: int = DEFAULT_CACHE_SIZE, fastmath: bool = False, fullgraph: bool = False):
    """Compile ``fn`` (a function or a module) by tracing it; also a decorator, with or without arguments.

    ``backend``: 'llvm' (the default: native kernels for the fused groups, see
    :mod:`graphc.codegen.backend`) or 'interp' (the numpy reference interpreter); ``dynamic=True``
    keeps the batch size (the most common leading size of the tensor arguments, unless 0 or 1)
    symbolic (the llvm backend compiles one module that serves every batch size); ``fastmath=True``
    lets the llvm backend reassociate float arithmetic (reductions vectorize; results may differ in the last bits).
    A function that cannot be traced runs eagerly (a dynamic one first retries with static shapes), with
    a warning, as torch.compile does at a graph break; ``fullgraph=True`` raises instead (see
    :mod:`graphc.static.fallback`).
    """
    if fn is None:
        return functools.partial(compile, backend=backend, dynamic=dynamic, cache_size=cache_size,
                                 fastmath=fastmath, fullgraph=fullgraph)
    return CompiledFunction(fn, backend=backend, dynamic=dynamic, cache_size=cache_size, fastmath=fastmath,
                            fullgraph=fullgraph)


_ENV_DATA = getattr(os.environ, "_data", None)  # os.environ's own dict: a lookup without encoding the name
_ENV_KEY = os.environ.encodekey("GRAPHC_DISABLE_COMPILE") if hasattr(os.environ, "encodekey") else None


def _disabled() -> bool:
    if _ENV_DATA is not None and _ENV_KEY is not None and _ENV_KEY not in _ENV_DATA:
        return False  # the common case, checked on every call
    return os.environ.get("GRAPHC_DISABLE_COMPILE", "").strip().lower() in ("1", "true", "yes", "on")


def _fast_key(args: tuple) -> tuple | None:
    """The arguments' (shape, dtype, requires_grad, grad is None, contiguous) when all are plain eager
    tensors, else None.

    Finer than :func:`capture.signature`'s entries for them (it also tells ``.grad`` apart when
    requires_grad is False, and keeps the leading dim under dynamic=True), so equal fast keys mean
    equal signatures for a function that captures nothing."""
    key = [GRAD.enabled]
    for a in args:
        if type(a) is not Tensor:
            return None
        key.append((a._data.shape, a._dtype, a._requires_grad, a._grad is None, a._data.flags.c_contiguous))
    return tuple(key)


def _labels(args: tuple, kwargs: dict) -> list:
    """A label per flattened argument: ``arg 0``, ``arg 1[0]``, ``kwarg lr``."""
    out = []
    for i, a in enumerate(args):
        out.extend(tree.leaf_paths(a, f"arg {i}"))
    for k, v in kwargs.items():
        out.extend(tree.leaf_paths(v, f"kwarg {k}"))
    return out


def _placeholder_names(fn: Any, args: tuple, kwargs: dict) -> list:
    """Graph input names from the function's parameter names where it has them (``x``, ``batch[0]``)."""
    if capture.is_module(fn):
        fn = fn.forward
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    out = []
    for i, a in enumerate(args):
        base = positional[i] if i < len(positional) else f"arg{i}"
        out.extend(tree.leaf_paths(a, base))
    for k, v in kwargs.items():
        out.extend(tree.leaf_paths(v, k))
    return out
