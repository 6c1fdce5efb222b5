"""Sizes that depend on the batch size: ``Sym(a, b)`` stands for ``a * S + b``.

A graph compiled with ``dynamic=True`` keeps one size S open (:mod:`graphc.static.symsize`).
To serve every S with one native module, the backend plans the graph once with its shapes
holding :class:`Sym` values: strides, offsets, trip counts and GEMM sizes become affine
functions of S, which the generated code computes from S at run time (:func:`emit_int`),
and only what depends on memory (arena offsets, thread ranges) is worked out per S in
Python.

Arithmetic that leaves the affine family (``S * S``, ``S // 3``) raises :class:`NonAffine`,
and so does any use of a Sym as a plain Python int (``int()``, ``range()``, ``np.prod``):
the backend then falls back to compiling per concrete size.  Comparisons answer for large
S (the order of ``(a, b)``): planning decisions that depend on a size take the branch a
large batch would, and the generated loops stay correct for every S >= 1 because their trip
counts are checked at run time.

    >>> s = Sym(1, 0)
    >>> (s * 12 + 3).at(10)
    123
"""
from __future__ import annotations

from typing import Any

from llvmlite import ir

__all__ = ["Sym", "NonAffine", "is_sym", "at", "prod", "from_example", "emit_int"]

_I64 = ir.IntType(64)


class NonAffine(TypeError):
    """A size computation that is not ``a * S + b`` (or a Sym used as a plain int)."""


class Sym:
    """``a * S + b`` with ``a != 0`` (an expression with ``a == 0`` is the plain int ``b``)."""

    __slots__ = ("a", "b")

    def __new__(cls, a: int, b: int = 0):
        if a == 0:
            return int(b)
        self = super().__new__(cls)
        self.a, self.b = int(a), int(b)
        return self

    def at(self, size: int) -> int:
        """The value for ``S = size``."""
        return self.a * size + self.b

    # -- affine arithmetic -------------------------------------------------
    def __add__(self, o):
        if isinstance(o, Sym):
            return Sym(self.a + o.a, self.b + o.b)
        if isinstance(o, int):
            return Sym(self.a, self.b + o)
        return NotImplemented

    __radd__ = __add__

    def __neg__(self):
        return Sym(-self.a, -self.b)

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, o):
        if isinstance(o, Sym):
            raise NonAffine(f"({self}) * ({o}) is not affine in S")
        if isinstance(o, int):
            return Sym(self.a * o, self.b * o)
        return NotImplemented

    __rmul__ = __mul__

    def __floordiv__(self, o):
        if isinstance(o, int) and o and self.a % o == 0 and self.b % o == 0:
            return Sym(self.a // o, self.b // o)
        raise NonAffine(f"({self}) // {o} is not affine in S")

    def __mod__(self, o):
        raise NonAffine(f"({self}) % {o} is not affine in S")

    # -- comparisons: equality is structural, order is the order for large S -----
    def _key(self):
        return (self.a, self.b)

    def __eq__(self, o):
        return isinstance(o, Sym) and self._key() == o._key()

    def __ne__(self, o):
        return not self == o

    def __hash__(self):
        return hash(("Sym", self.a, self.b))

    def _cmp(self, o) -> int:
        ka = self._key()
        kb = o._key() if isinstance(o, Sym) else (0, int(o))
        return (ka > kb) - (ka < kb)

    def __lt__(self, o):
        return self._cmp(o) < 0

    def __le__(self, o):
        return self._cmp(o) <= 0

    def __gt__(self, o):
        return self._cmp(o) > 0

    def __ge__(self, o):
        return self._cmp(o) >= 0

    # -- never a plain int -------------------------------------------------
    def __index__(self):
        raise NonAffine(f"{self} is a symbolic size, not a plain int")

    __int__ = __index__

    def __bool__(self):
        return True  # a size that is not identically 0

    def __repr__(self):
        if self.b == 0:
            return f"{self.a}*S" if self.a != 1 else "S"
        return f"{self.a}*S{self.b:+d}" if self.a != 1 else f"S{self.b:+d}"


def is_sym(v: Any) -> bool:
    """Whether ``v`` depends on S."""
    return isinstance(v, Sym)


def at(v: Any, size: int) -> Any:
    """``v`` (an int, a Sym, or a tuple/list of them) with S = ``size``."""
    if isinstance(v, Sym):
        return v.at(size)
    if isinstance(v, (tuple, list)):
        return type(v)(at(x, size) for x in v)
    return v


def prod(values) -> Any:
    """The product of ints and Syms (NonAffine when two factors depend on S)."""
    out = 1
    for v in values:
        out = out * v
    return out


def from_example(v: int, recognize) -> Any:
    """The value that ``v`` (computed with a stand-in size for S) stands for: ``Sym(a, b)`` when
    ``recognize(v)`` gives ``(a, b)`` (graphc.static.symsize.affine), else ``v``."""
    kb = recognize(v)
    return Sym(kb[0], kb[1]) if kb is not None else v


def emit_int(b: ir.IRBuilder, v: Any, size: ir.Value | None) -> ir.Value:
    """``v`` as an i64 IR value: a constant, or ``a * size + b`` computed from the i64 ``size``."""
    if not isinstance(v, Sym):
        return ir.Constant(_I64, int(v))
    if size is None:
        raise NonAffine(f"{v} needs the run-time size, which this function does not take")
    x = size if v.a == 1 else b.mul(size, ir.Constant(_I64, v.a), flags=("nsw",))
    return x if v.b == 0 else b.add(x, ir.Constant(_I64, v.b), flags=("nsw",))
