"""Public autograd: ``backward``, ``grad``, custom ``Function``.

All three drive :func:`graphc.eager.engine.run_backward`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..ops.registry import OpDef
from .engine import run_backward
from .grad_mode import GRAD
from .node import Node
from .tensor import Tensor

__all__ = ["backward", "grad", "Function", "FunctionCtx"]


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _make_grads(outputs: tuple, grads: tuple, is_grads_batched: bool = False) -> list:
    if grads and len(grads) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs: got {len(grads)} gradients "
                           f"for {len(outputs)} outputs")
    out = []
    for i, t in enumerate(outputs):
        g = grads[i] if grads else None
        if g is None:
            if not t._requires_grad:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = Tensor._make(np.ones(t._data.shape, t._dtype.np))
        else:
            if not isinstance(g, Tensor):
                from .creation import tensor

                g = tensor(g, dtype=t._dtype)
            if g.shape != t.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a shape of {t.shape}."
                )
            if g._dtype.is_floating_point != t._dtype.is_floating_point:
                raise RuntimeError(
                    f"For complex Tensors, both grad_output and output are required to have the same dtype. "
                    f"Mismatch in dtype: grad_output[{i}] has a dtype of {g._dtype} and output[{i}] has a dtype of {t._dtype}."
                )
        out.append(g)
    return out


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves (or only of ``inputs``).

    >>> y = (x * x).sum(); gc.autograd.backward(y)   # x.grad == 2 * x
    """
    outputs = _as_tuple(tensors)
    if not outputs:
        raise RuntimeError("backward() needs at least one tensor")
    grads = _make_grads(outputs, _as_tuple(grad_tensors) if not isinstance(grad_tensors, Tensor) else (grad_tensors,))
    if retain_graph is None:
        retain_graph = create_graph
    ins = None
    if inputs is not None:
        ins = _as_tuple(inputs)
        if not ins:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(outputs, grads, retain_graph, create_graph, inputs=ins)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False, materialize_grads: bool = False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned as a tuple (nothing accumulates into .grad).

    >>> (gx,) = gc.autograd.grad((x ** 3).sum(), x, create_graph=True)   # gx = 3 x**2, itself differentiable
    """
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    gouts = grad_outputs
    gouts = (gouts,) if isinstance(gouts, Tensor) else _as_tuple(gouts)
    grads = _make_grads(outs, gouts)
    if retain_graph is None:
        retain_graph = create_graph
    res = run_backward(outs, grads, retain_graph, create_graph, inputs=ins, capture=True, allow_unused=allow_unused)
    if materialize_grads:
        res = tuple(Tensor._make(np.zeros(x._data.shape, x._dtype.np)) if g is None else g for g, x in zip(res, ins))
    if not create_graph:
        res = tuple(g if g is None or g.grad_fn is None else g.detach() for g in res)
    return res


# --------------------------------------------------------------------------- custom Function
class FunctionCtx:
    """The ``ctx`` a custom Function's forward and backward share."""

    def __init__(self):
        self._saved = ()
        self._saved_versions = ()
        self.needs_input_grad = ()
        self._non_diff = set()
        self._dirty = ()
        self.materialize_grads = True
        self._freed = False

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save tensors (or None)")
        self._saved = tensors
        self._saved_versions = tuple((t._version, t._version.v) if t is not None else None for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            from .node import FREED_MESSAGE

            raise RuntimeError(FREED_MESSAGE)
        for t, sv in zip(self._saved, self._saved_versions):
            if sv is not None and sv[0].v != sv[1]:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: saved tensor of shape {list(t.shape)} is at version {sv[0].v}; expected version {sv[1]} instead."
                )
        return self._saved

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_diff.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._opdef = OpDef(name, "opaque", kernel=None, grad=_function_grad, saves="none",
                           extra={"backward_name": f"{name}Backward", "function": cls})


def _function_grad(ctx, *grads):
    fctx = ctx.attrs["ctx"]
    cls = ctx.attrs["cls"]
    positions = ctx.attrs["positions"]
    if not fctx.materialize_grads:
        grads = tuple(grads)
    res = cls.backward(fctx, *grads)
    if not isinstance(res, tuple):
        res = (res,)
    nargs = ctx.attrs["nargs"]
    if len(res) < nargs:
        raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of gradients "
                           f"(expected {nargs}, got {len(res)})")
    if len(res) > nargs:
        if any(r is not None for r in res[nargs:]):
            raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of gradients "
                               f"(expected {nargs}, got {len(res)})")
    tensor_at = set(positions)
    for i in range(nargs):
        if i not in tensor_at and res[i] is not None:
            raise RuntimeError(f"function {cls.__name__}Backward returned a gradient different than None at position "
                               f"{i + 1}, but the corresponding forward input was not a Variable")
    out = []
    for p in positions:
        g = res[p]
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"{cls.__name__}.backward must return tensors or None, got {type(g).__name__}")
        out.append(g)
    return tuple(out)


class Function(metaclass=_FunctionMeta):
    """Define an op by its forward and backward, like ``torch.autograd.Function``.

    >>> class Square(gc.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * g
    >>> y = Square.apply(x)
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        return None

    @classmethod
    def apply(cls, *args, **kwargs):
        fctx = FunctionCtx()
        fctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        prev = GRAD.enabled
        GRAD.enabled = False
        try:
            if cls.setup_context is not Function.setup_context:
                result = cls.forward(*args, **kwargs)
                cls.setup_context(fctx, args, result)
            else:
                result = cls.forward(fctx, *args, **kwargs)
        finally:
            GRAD.enabled = prev
        is_tuple = isinstance(result, tuple)
        outs = result if is_tuple else (result,)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tin = tuple(args[i] for i in positions)
        if not (GRAD.enabled and any(t._requires_grad for t in tin)):
            return result
        dirty = {id(t) for t in fctx._dirty}
        fixed = []
        non_diff = set()   # ids of the outputs as returned, marked before an input is re-wrapped below
        for o in outs:
            if isinstance(o, Tensor) and id(o) in fctx._non_diff:
                non_diff.add(id(o))
            if isinstance(o, Tensor) and any(o is t for t in tin) and id(o) not in dirty:
                alias = Tensor._make(o._data)  # an input returned as is becomes a new tensor on the tape
                alias._version = o._version
                if id(o) in non_diff:
                    non_diff.add(id(alias))
                o = alias
            fixed.append(o)
        touts = tuple(o for o in fixed if isinstance(o, Tensor))
        node = Node(cls._opdef, tin, {"ctx": fctx, "cls": cls, "positions": positions, "nargs": len(args)}, touts)
        for i, o in enumerate(touts):
            if id(o) in non_diff or not o._dtype.is_floating_point:
                continue
            if id(o) in dirty:
                o._version.v += 1
            o.grad_fn = node
            o._out = i
            o._requires_grad = True
        fixed = tuple(fixed)
        return fixed if is_tuple else fixed[0]
