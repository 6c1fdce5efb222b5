"""Public pointwise functions: ``gc.exp``, ``gc.add(alpha=)``, ``gc.where`` ... and their in-place forms.

Each function calls the registry through :func:`~graphc.eager.dispatch.apply`;
composites (lerp, clamp with tensor bounds, add with alpha) are written here once
on top of the primitives.
"""
from __future__ import annotations

import numpy as np

from ... import dtypes as _dt
from ...ops import get as _get
from .._args import as_tensor_arg, wrap
from ..dispatch import apply, result_dtype
from ..tensor import Tensor
from .out import write_out

UNARY = [
    "neg", "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "relu", "erf",
    "reciprocal", "floor", "ceil", "trunc", "frac", "sign", "isnan", "isinf", "isfinite", "logical_not",
    "bitwise_not",
]
BINARY = [
    "mul", "floor_divide", "remainder", "fmod", "atan2", "maximum", "minimum", "eq", "ne", "lt", "le",
    "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_left_shift", "bitwise_right_shift",
]
# ops whose in-place form keeps the tensor's dtype only when the result type allows it
INPLACE_UNARY = [n for n in UNARY if n not in ("isnan", "isinf", "isfinite")]
INPLACE_BINARY = [n for n in BINARY if n not in ("maximum", "minimum")]

__all__ = UNARY + BINARY + [
    "add", "sub", "subtract", "multiply", "div", "divide", "true_divide", "pow", "where", "lerp", "clamp",
    "clip", "round", "cast", "gelu", "negative", "absolute", "arcsin", "arccos", "arctan", "arctan2", "fix",
    "float_power", "greater", "greater_equal", "less", "less_equal", "not_equal", "sgn", "xlogy", "hypot",
    "logaddexp", "copysign", "signbit", "nan_to_num", "positive", "deg2rad", "rad2deg", "heaviside",
    "fmax", "fmin", "logit", "sinc", "square",
]


def _t(x, op):
    if isinstance(x, Tensor):
        return x
    return as_tensor_arg(x, op)


def _make_unary(name: str):
    op = _get(name)

    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        r = apply(op, (input,), {})
        return r if out is None else write_out(r, out, name)

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` (torch.{name}); ``out=`` writes into a given tensor."
    return fn


def _make_binary(name: str):
    op = _get(name)

    def fn(input, other, *, out: Tensor | None = None) -> Tensor:
        a = input if isinstance(input, Tensor) else as_tensor_arg(input, name)
        b = other if isinstance(other, Tensor) else as_tensor_arg(other, name)
        r = apply(op, (a, b), {})
        return r if out is None else write_out(r, out, name)

    fn.__name__ = name
    fn.__doc__ = f"Elementwise ``{name}`` with broadcasting and torch type promotion."
    return fn


for _n in UNARY:
    globals()[_n] = _make_unary(_n)
for _n in BINARY:
    globals()[_n] = _make_binary(_n)

_ADD, _SUB, _DIV, _POW, _WHERE, _CAST, _ROUND, _GELU, _CLAMP = (
    _get(n) for n in ("add", "sub", "div", "pow", "where", "cast", "round", "gelu", "clamp"))


def add(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """``input + alpha * other``."""
    a, b = _t(input, "add"), _t(other, "add")
    if alpha != 1:
        b = mul(b, alpha)
    r = apply(_ADD, (a, b), {})
    return r if out is None else write_out(r, out, "add")


def sub(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """``input - alpha * other``."""
    a, b = _t(input, "sub"), _t(other, "sub")
    if alpha != 1:
        b = mul(b, alpha)
    r = apply(_SUB, (a, b), {})
    return r if out is None else write_out(r, out, "sub")


subtract = sub
multiply = globals()["mul"]


def div(input, other, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """True division, or ``rounding_mode='trunc'|'floor'`` (the result keeps the promoted dtype)."""
    a, b = _t(input, "div"), _t(other, "div")
    if rounding_mode is None:
        r = apply(_DIV, (a, b), {})
    elif rounding_mode == "floor":
        r = floor_divide(a, b)
    elif rounding_mode == "trunc":
        dt = result_dtype((a, b))
        if dt.is_floating_point:
            r = trunc(apply(_DIV, (a, b), {}))
        else:
            q = floor_divide(a, b)
            # floor and trunc differ where the signs differ and the division is inexact
            fix_mask = logical_and(ne(remainder(a, b), 0), ne(lt(a, 0), lt(b, 0)))
            r = where(fix_mask, add(q, 1), q)
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    return r if out is None else write_out(r, out, "div")


divide = div


def true_divide(input, other, *, out=None) -> Tensor:
    return div(input, other, out=out)


def pow(input, exponent, *, out: Tensor | None = None) -> Tensor:
    """``input ** exponent``; either may be a number."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("pow: at least one argument must be a Tensor")
    a, b = _t(input, "pow"), _t(exponent, "pow")
    r = apply(_POW, (a, b), {})
    return r if out is None else write_out(r, out, "pow")


def float_power(input, exponent, *, out=None) -> Tensor:
    a, b = _t(input, "float_power"), _t(exponent, "float_power")
    return pow(a.to(_dt.float64) if not a._wrapped else a, b.to(_dt.float64) if not b._wrapped else b, out=out)


def where(condition, input=None, other=None, *, out: Tensor | None = None):
    """``input`` where ``condition`` holds, else ``other``; ``where(cond)`` is ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    c = _t(condition, "where")
    if c._dtype is not _dt.bool:
        if c._dtype is _dt.uint8:
            c = c.to(_dt.bool)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {c._dtype}")
    a, b = _t(input, "where"), _t(other, "where")
    dt = result_dtype((a, b))
    a = cast(a, dt) if a._dtype is not dt or a._wrapped else a
    b = cast(b, dt) if b._dtype is not dt or b._wrapped else b
    r = apply(_WHERE, (c, a, b), {})
    return r if out is None else write_out(r, out, "where")


def cast(input: Tensor, dtype) -> Tensor:
    """Convert to ``dtype`` (recorded, so gradients flow back in the source dtype)."""
    dtype = _dt.to_dtype(dtype)
    if input._wrapped:
        t = Tensor._make(input._data.astype(dtype.np))
        return t
    return apply(_CAST, (input,), {"dtype": dtype})


def round(input: Tensor, *, decimals: int = 0, out=None) -> Tensor:
    """Round half to even, optionally to ``decimals`` places."""
    r = apply(_ROUND, (input,), {"decimals": int(decimals)} if decimals else {})
    return r if out is None else write_out(r, out, "round")


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return apply(_GELU, (input,), {"approximate": approximate} if approximate != "none" else {})


def lerp(input, end, weight, *, out=None) -> Tensor:
    """``input + weight * (end - input)``."""
    a, b = _t(input, "lerp"), _t(end, "lerp")
    r = add(a, mul(_t(weight, "lerp"), sub(b, a)))
    return r if out is None else write_out(r, out, "lerp")


def _is_number(x) -> bool:
    return x is None or (not isinstance(x, Tensor) and isinstance(x, (int, float, np.number)))


def clamp(input: Tensor, min=None, max=None, *, out=None) -> Tensor:
    """Limit values to ``[min, max]``; bounds may be numbers or tensors."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if _is_number(min) and _is_number(max):
        attrs = {}
        dt = input._dtype
        if min is not None:
            attrs["min"] = min
        if max is not None:
            attrs["max"] = max
        bounds = [wrap(v) for v in (min, max) if v is not None]
        rdt = result_dtype((input, *bounds))
        x = input if rdt is dt else cast(input, rdt)
        r = apply(_CLAMP, (x,), attrs)
    else:
        r = input
        if min is not None:
            r = maximum(r, _t(min, "clamp"))
        if max is not None:
            r = minimum(r, _t(max, "clamp"))
    return r if out is None else write_out(r, out, "clamp")


clip = clamp


# ---------------------------------------------------------------- numpy-style aliases and small composites
negative = globals()["neg"]
absolute = globals()["abs"]
arcsin, arccos, arctan, arctan2 = (globals()[n] for n in ("asin", "acos", "atan", "atan2"))
fix = globals()["trunc"]
greater, greater_equal, less, less_equal, not_equal = (globals()[n] for n in ("gt", "ge", "lt", "le", "ne"))
sgn = globals()["sign"]
fmax = globals()["maximum"]
fmin = globals()["minimum"]


def positive(input: Tensor) -> Tensor:
    return input


def signbit(input: Tensor) -> Tensor:
    return lt(input, 0) if not input._dtype.is_floating_point else Tensor._make(np.signbit(input._data))


def xlogy(input, other) -> Tensor:
    a, b = _t(input, "xlogy"), _t(other, "xlogy")
    return where(eq(a, 0), 0.0, mul(a, log(b)))


def hypot(input, other) -> Tensor:
    a, b = _t(input, "hypot"), _t(other, "hypot")
    return sqrt(add(mul(a, a), mul(b, b)))


def logaddexp(input, other) -> Tensor:
    a, b = _t(input, "logaddexp"), _t(other, "logaddexp")
    m = maximum(a, b).detach()
    m = where(isfinite(m), m, 0.0)
    return add(m, log(add(exp(sub(a, m)), exp(sub(b, m)))))


def copysign(input, other) -> Tensor:
    a, b = _t(input, "copysign"), _t(other, "copysign")
    neg_b = Tensor._make(np.signbit(np.broadcast_to(b._data, np.broadcast_shapes(a.shape, b.shape))))
    m = abs(a)
    return where(neg_b, neg(m), m)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    info = np.finfo(input._dtype.np) if input._dtype.is_floating_point else None
    if info is None:
        return input.clone()
    pos = info.max if posinf is None else posinf
    ngi = info.min if neginf is None else neginf
    r = where(isnan(input), nan, input)
    r = where(eq(r, float("inf")), pos, r)
    return where(eq(r, float("-inf")), ngi, r)


def deg2rad(input) -> Tensor:
    return mul(input, np.pi / 180.0)


def rad2deg(input) -> Tensor:
    return mul(input, 180.0 / np.pi)


def heaviside(input, values) -> Tensor:
    v = _t(values, "heaviside")
    return where(eq(input, 0), v, gt(input, 0).to(input.dtype))


def logit(input, eps=None) -> Tensor:
    x = input if eps is None else clamp(input, eps, 1 - eps)
    return log(div(x, sub(1, x)))


def sinc(input) -> Tensor:
    px = mul(input, np.pi)
    return where(eq(input, 0), 1.0, div(sin(px), px))


# ---------------------------------------------------------------- method forms (bound by eager/methods.py)
METHODS = UNARY + BINARY + [
    "add", "sub", "subtract", "multiply", "div", "divide", "true_divide", "pow", "lerp", "clamp", "clip",
    "round", "negative", "absolute", "arcsin", "arccos", "arctan", "arctan2", "fix", "float_power", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "sgn", "xlogy", "hypot", "logaddexp", "copysign",
    "signbit", "nan_to_num", "deg2rad", "rad2deg", "heaviside", "fmax", "fmin", "logit", "sinc", "positive",
]
INPLACE = INPLACE_UNARY + INPLACE_BINARY + [
    "add", "sub", "subtract", "multiply", "div", "divide", "true_divide", "pow", "lerp", "clamp", "clip",
    "round", "negative", "arcsin", "arccos", "arctan", "arctan2", "fix", "float_power", "sgn", "xlogy",
    "hypot", "copysign", "nan_to_num", "deg2rad", "rad2deg", "logit", "sinc", "absolute",
]
