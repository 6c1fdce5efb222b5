"""The op registry: one :class:`OpDef` per primitive, holding everything about it.

An entry is the single place an op's semantics live:

* ``kernel``   the numpy implementation, ``kernel(*arrays, **attrs)``;
* ``infer``    the shape/dtype rule, ``infer(*specs, **attrs) -> Spec`` (or a
  tuple of Specs for multi-output ops), used by the static builder and, in
  tests, checked against every eager result;
* ``grad``     the gradient rule, ``grad(ctx, *grad_outputs) -> tuple`` with one
  entry (or None) per input, written with ordinary tensor methods, so it builds
  backward nodes on the eager tape and in a static graph alike;
* ``category`` elementwise, reduction, movement, matmul, index or opaque;
* ``promote``  how inputs are cast before the kernel runs: None (the kernel
  takes them as they are), "common" (all to the torch result type) or
  "float" (the result type, then the default float if that is integral);
* ``saves``    which values the gradient reads ("inputs", "output", "both",
  "none"): those are version-checked at backward time.

Ops register with :func:`register` and are looked up with :func:`get`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np

from .. import dtypes as _dt

__all__ = ["OpDef", "Spec", "GradContext", "register", "get", "REGISTRY", "quiet", "call_kernel", "op_error"]


class Spec(NamedTuple):
    """What the static side knows of a value: its shape (ints, or None for a symbolic size) and dtype.

    ``wrapped`` marks a Python number (it promotes with the lowest priority, as in torch).
    """

    shape: tuple
    dtype: _dt.DType
    wrapped: bool = False


def wrapped_spec(shape: tuple, dtype: _dt.DType) -> Spec:
    """The spec of a wrapped Python number."""
    return Spec(shape, dtype, True)


@dataclass(eq=False)
class OpDef:
    name: str
    category: str
    kernel: Callable[..., Any]
    infer: Callable[..., Any] | None = None
    grad: Callable[..., Any] | None = None
    promote: str | None = None
    saves: str = "inputs"
    num_outputs: int = 1
    # indices of inputs that never take a gradient (index tensors, masks)
    nondiff_inputs: tuple = ()
    # outputs that are not differentiable (indices of max/sort)
    nondiff_outputs: tuple = ()
    # the result may alias its first input's memory (a numpy view)
    is_view: bool = False
    doc: str = ""
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # flags the eager hot path reads once per op call, precomputed
        self.saves_inputs = self.saves in ("inputs", "both")
        self.saves_output = self.saves in ("output", "both")
        self.reads = self.extra.get("reads")

    def __repr__(self) -> str:
        return f"<op {self.name}>"

    def __reduce__(self):
        # pickled by name (compiled plans in the disk cache refer to ops): loading gives the
        # registry's own entry back
        return (get, (self.name,))


class GradContext:
    """What a gradient rule sees: the op's inputs, outputs and attributes.

    ``ctx.inputs`` and ``ctx.outputs`` are tensors (eager or symbolic);
    ``ctx.attrs`` the op's keyword attributes; ``ctx.needs_input_grad`` one
    bool per input, so a rule can skip work nobody asked for.
    """

    __slots__ = ("inputs", "outputs", "attrs", "needs_input_grad")

    def __init__(self, inputs, outputs, attrs, needs_input_grad):
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs
        self.needs_input_grad = needs_input_grad

    @property
    def output(self):
        return self.outputs[0]


REGISTRY: dict[str, OpDef] = {}


def register(name: str, category: str, *, kernel, infer=None, grad=None, **kw) -> OpDef:
    """Add one primitive to the registry and return its OpDef."""
    if name in REGISTRY:
        raise ValueError(f"op {name!r} is registered twice")
    op = OpDef(name, category, kernel, infer, grad, **kw)
    REGISTRY[name] = op
    return op


def get(name: str) -> OpDef:
    """The OpDef registered under ``name`` (KeyError names the op)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"no op named {name!r} is registered") from None


try:  # numpy's errstate costs ~3 us a call; setting the context variable behind it costs ~0.3 us
    from numpy._core._ufunc_config import _extobj_contextvar as _ERR_CV, _make_extobj

    _IGNORE = _make_extobj(all="ignore")
    _FALLBACK = False
except ImportError:  # pragma: no cover - other numpy layouts: a variable that does nothing
    import contextvars

    _ERR_CV, _IGNORE, _FALLBACK = contextvars.ContextVar("graphc_no_errstate"), None, True


class quiet:
    """``with quiet():`` numpy's floating-point warnings off (torch returns inf/nan silently).

    Kernels run inside it: eager dispatch, the interpreter and constant folding enter it
    around kernel calls, so a kernel needs no errstate block of its own.
    """

    __slots__ = ("_token", "_fallback")

    def __enter__(self):
        if _FALLBACK:  # pragma: no cover
            self._fallback = np.errstate(all="ignore")
            self._fallback.__enter__()
        else:
            self._token = _ERR_CV.set(_IGNORE)
        return self

    def __exit__(self, *exc):
        if _FALLBACK:  # pragma: no cover
            self._fallback.__exit__(*exc)
        else:
            _ERR_CV.reset(self._token)
        return False


def call_kernel(op: OpDef, arrays, attrs: dict):
    """Run ``op``'s numpy kernel with floating-point warnings off."""
    if _FALLBACK:  # pragma: no cover
        with np.errstate(all="ignore"):
            return op.kernel(*arrays, **attrs)
    token = _ERR_CV.set(_IGNORE)
    try:
        return op.kernel(*arrays, **attrs)
    finally:
        _ERR_CV.reset(token)


class IndexOutOfBounds(IndexError, RuntimeError):
    """An index out of range: an IndexError, as Python indexing raises, that is also the
    RuntimeError torch's gather/scatter raise, so code written for either catches it."""


def op_error(cls: type, message: str) -> Exception:
    """An exception a kernel or rule raises on purpose: dispatch passes it through unchanged."""
    e = cls(message)
    e._graphc = True
    return e
