"""Bind the function modules' method forms, in-place forms and operators onto :class:`Tensor`.

Each ``graphc.eager.functions`` module lists ``METHODS`` (``x.f(...)`` means
``f(x, ...)``) and ``INPLACE`` (``x.f_(...)`` computes ``f`` and writes it
back into ``x``), so an op is written once and bound here.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import dispatch as _dispatch
from .functions import basic, creation, extra, indexing, linalg, pointwise, reduction, shape, sorting, views
from .grad_mode import GRAD
from .tensor import Tensor

MODULES = [pointwise, reduction, views, basic, shape, indexing, linalg, creation, sorting, extra]


def _method(fn):
    def m(self, *args, **kwargs):
        return fn(self, *args, **kwargs)

    m.__name__ = fn.__name__
    m.__doc__ = fn.__doc__
    return m


def inplace_method(fn, name: str):
    """``x.name_(...)``: compute ``fn(x, ...)`` out of place, then write it into ``x`` and continue its history."""

    def m(self, *args, **kwargs):
        self._check_inplace()
        # the op may save its input for backward: give it a copy that the write-back will not touch
        src = self._snapshot() if GRAD.enabled and (self._requires_grad or _any_requires_grad(args, kwargs)) else self
        r = fn(src, *args, **kwargs)
        return self._commit_inplace(r, name + "_")

    m.__name__ = name + "_"
    m.__doc__ = f"In-place form of ``{name}``."
    return m


def _any_requires_grad(args, kwargs) -> bool:
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            return True
    for a in kwargs.values():
        if isinstance(a, Tensor) and a._requires_grad:
            return True
    return False


def bind_module(mod) -> None:
    for name in getattr(mod, "METHODS", ()):
        setattr(Tensor, name, _method(getattr(mod, name)))
    for name in getattr(mod, "INPLACE", ()):
        setattr(Tensor, name + "_", inplace_method(getattr(mod, name), name))


for _m in MODULES:
    bind_module(_m)


def _metadata_inplace(name: str):
    """``x.t_()``, ``x.squeeze_()`` ...: ``x`` takes the shape of the view op's result, in place."""
    fn = getattr(shape, name)

    def m(self, *args, **kwargs):
        if self._symbolic:
            raise RuntimeError(f"{name}_: shape-changing in-place ops are not supported on symbolic tensors; "
                               f"use {name}() instead")
        self._check_inplace()
        r = fn(self, *args, **kwargs)
        self._data = r._data
        self._version.v += 1
        if r.grad_fn is not None:
            self.grad_fn = r.grad_fn
            self._out = r._out
        return self

    m.__name__ = name + "_"
    m.__doc__ = f"In-place form of ``{name}``: this tensor takes the new shape (same memory)."
    return m


for _name in ("squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims"):
    setattr(Tensor, _name + "_", _metadata_inplace(_name))


# ------------------------------------------------------------------ operators
_FAST_OPERANDS = frozenset((Tensor, float, int, bool))


def _is_operand(x) -> bool:
    if type(x) in _FAST_OPERANDS:
        return True
    return isinstance(x, (Tensor, numbers.Number, np.generic)) and not isinstance(x, complex)


def _binop(fn, reflected: bool = False):
    if reflected:
        def op(self, other):
            if not _is_operand(other):
                return NotImplemented
            return fn(other, self)
    else:
        def op(self, other):
            if not _is_operand(other):
                return NotImplemented
            return fn(self, other)
    return op


def _iop(name):
    def op(self, other):
        if not _is_operand(other):
            return NotImplemented
        return getattr(self, name + "_")(other)
    return op


P = pointwise
Tensor.__add__, Tensor.__radd__ = _binop(P.add), _binop(P.add, True)
Tensor.__sub__, Tensor.__rsub__ = _binop(P.sub), _binop(P.sub, True)
Tensor.__mul__, Tensor.__rmul__ = _binop(P.mul), _binop(P.mul, True)
Tensor.__truediv__, Tensor.__rtruediv__ = _binop(P.div), _binop(P.div, True)
Tensor.__floordiv__, Tensor.__rfloordiv__ = _binop(P.floor_divide), _binop(P.floor_divide, True)
Tensor.__mod__, Tensor.__rmod__ = _binop(P.remainder), _binop(P.remainder, True)
Tensor.__pow__, Tensor.__rpow__ = _binop(P.pow), _binop(P.pow, True)
Tensor.__and__, Tensor.__rand__ = _binop(P.bitwise_and), _binop(P.bitwise_and, True)
Tensor.__or__, Tensor.__ror__ = _binop(P.bitwise_or), _binop(P.bitwise_or, True)
Tensor.__xor__, Tensor.__rxor__ = _binop(P.bitwise_xor), _binop(P.bitwise_xor, True)
Tensor.__lshift__, Tensor.__rlshift__ = _binop(P.bitwise_left_shift), _binop(P.bitwise_left_shift, True)
Tensor.__rshift__, Tensor.__rrshift__ = _binop(P.bitwise_right_shift), _binop(P.bitwise_right_shift, True)


def _matmul_op(reflected: bool):
    # only tensors: `t @ 2` is a TypeError, as in torch
    if reflected:
        return lambda self, other: linalg.matmul(other, self) if isinstance(other, Tensor) else NotImplemented
    return lambda self, other: linalg.matmul(self, other) if isinstance(other, Tensor) else NotImplemented


Tensor.__matmul__, Tensor.__rmatmul__ = _matmul_op(False), _matmul_op(True)
Tensor.__eq__ = _binop(P.eq)
Tensor.__ne__ = _binop(P.ne)
Tensor.__lt__ = _binop(P.lt)
Tensor.__le__ = _binop(P.le)
Tensor.__gt__ = _binop(P.gt)
Tensor.__ge__ = _binop(P.ge)
Tensor.__hash__ = lambda self: id(self)
for _name, _base in [("__iadd__", "add"), ("__isub__", "sub"), ("__imul__", "mul"), ("__itruediv__", "div"),
                     ("__ifloordiv__", "floor_divide"), ("__imod__", "remainder"), ("__ipow__", "pow"),
                     ("__iand__", "bitwise_and"), ("__ior__", "bitwise_or"), ("__ixor__", "bitwise_xor"),
                     ("__ilshift__", "bitwise_left_shift"), ("__irshift__", "bitwise_right_shift")]:
    setattr(Tensor, _name, _iop(_base))


def _invert(self):
    if self._dtype.is_floating_point:
        raise TypeError("~ (bitwise_not) is only supported for integer and bool tensors")
    return P.bitwise_not(self)


Tensor.__neg__ = lambda self: P.neg(self)
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = lambda self: P.abs(self)
Tensor.__invert__ = _invert


# ------------------------------------------------------------------ small methods with no function form
def _where_method(self, condition, other):
    """``x.where(cond, y)`` is ``where(cond, x, y)``."""
    return P.where(condition, self, other)


def _snapshot(self):
    """The value this tensor has now, for an op about to overwrite it (same history, copied data)."""
    if self._symbolic:  # gc.compile is tracing: the value is the tensor's current graph value
        return _dispatch.static.snapshot(self)
    if not self._requires_grad:
        return Tensor._make(self._data.copy())
    t = Tensor._make(self._data.copy())
    t._requires_grad = True
    t.grad_fn = self.grad_fn
    t._out = self._out
    t._accumulator = self._accumulator
    return t


def _apply_view(self, op, attrs):
    from .dispatch import apply

    return apply(op, (self,), attrs)


def _view_scatter(self, src, chain):
    return views.view_scatter(self, src, chain)


def copy_(self, src, non_blocking: bool = False, *, _fill: bool = False):
    """Copy ``src`` (broadcast and cast) into this tensor; gradients flow to ``src``, none to the old value."""
    from .creation import tensor
    from .grad_mode import GRAD

    src = src if isinstance(src, Tensor) else tensor(src)
    self._check_inplace(fill=_fill)
    if src.shape != self.shape:
        src = basic.expand(src, self.shape)
    r = P.cast(src, self._dtype) if src._dtype is not self._dtype else basic.clone(src)
    if GRAD.enabled and self._requires_grad:
        # keep a node (torch: CopyBackwards) that sends a zero gradient to the overwritten value
        r = P.zero_gradient_to(r, self._snapshot())
    return self._commit_inplace(r, "copy_")


def zero_(self):
    """Fill with zeros."""
    return self.fill_(0)


def fill_(self, value):
    """Fill with ``value`` (a number or a 0-d tensor)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
        return copy_(self, value, _fill=True)
    from ._args import fill_scalar

    return copy_(self, Tensor._make(np.array(fill_scalar(value, self._dtype, "fill_"))), _fill=True)


Tensor.where = _where_method
Tensor._snapshot = _snapshot
Tensor._apply_view = _apply_view
Tensor._view_scatter = _view_scatter
Tensor.copy_ = copy_
Tensor.zero_ = zero_
Tensor.fill_ = fill_
