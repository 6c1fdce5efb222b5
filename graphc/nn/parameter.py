"""``gc.nn.Parameter``: a leaf tensor that a :class:`~graphc.nn.Module` registers as learnable.

A Parameter is a :class:`graphc.Tensor` whose ``_is_param`` flag is set; the
class only changes how the tensor is constructed and printed.  Ops on a
parameter return plain tensors because every op wraps its result with
``Tensor._make``.
"""
from __future__ import annotations

import graphc as gc

__all__ = ["Parameter"]


class _ParameterMeta(type):
    # torch: isinstance(t, Parameter) also holds for a tensor flagged as a parameter
    def __instancecheck__(cls, instance) -> bool:
        if super().__instancecheck__(instance):
            return True
        return cls is Parameter and isinstance(instance, gc.Tensor) and bool(getattr(instance, "_is_param", False))


class Parameter(gc.Tensor, metaclass=_ParameterMeta):
    """A tensor that is a module parameter: requires grad by default and is always a leaf.

    >>> p = gc.nn.Parameter(gc.ones(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __new__(cls, data: gc.Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        if data is None:
            data = gc.empty(0)
        if not isinstance(data, gc.Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        # shares memory with ``data`` (torch's _make_subclass) but is a fresh leaf
        p = data.detach()
        p.__class__ = cls
        p._is_param = True
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data: gc.Tensor | None = None, requires_grad: bool = True) -> None:
        # everything happens in __new__; Tensor.__init__ must not rebuild the data
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.detach(), self.requires_grad))

