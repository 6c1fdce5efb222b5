"""Public pointwise functions: ``gc.exp``, ``gc.add(alpha=)``, ``gc.where`` ... and their in-place forms.

Each function calls the registry through :func:`~graphc.eager.dispatch.apply`;
composites (lerp, clamp with tensor bounds, add with alpha) are written here once
on top of the primitives.
"""
from __future__ import annotations

import numbers

import numpy as np

from ... import dtypes as _dt
from ...ops import get as _get
from .._args import as_tensor_arg, fill_scalar, wrap
from ..dispatch import apply, result_dtype
from ..tensor import Tensor
from ..node import named
from .basic import clone
from .out import write_out

UNARY = [
    "neg", "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
    "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "relu", "erf",
    "erfc", "erfinv", "reciprocal", "floor", "ceil", "trunc", "frac", "sign", "isnan", "isinf", "isfinite",
    "signbit", "logical_not", "bitwise_not",
]
BINARY = [
    "mul", "floor_divide", "remainder", "fmod", "atan2", "maximum", "minimum", "eq", "ne", "lt", "le",
    "gt", "ge", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_left_shift", "bitwise_right_shift",
]
# ops whose in-place form keeps the tensor's dtype only when the result type allows it
INPLACE_UNARY = [n for n in UNARY if n not in ("isnan", "isinf", "isfinite", "signbit")]
INPLACE_BINARY = [n for n in BINARY if n not in ("maximum", "minimum")]

__all__ = UNARY + BINARY + [
    "add", "sub", "subtract", "multiply", "div", "divide", "true_divide", "pow", "where", "lerp", "clamp",
    "clip", "round", "cast", "gelu", "negative", "absolute", "arcsin", "arccos", "arctan", "arctan2", "fix",
    "float_power", "greater", "greater_equal", "less", "less_equal", "not_equal", "sgn", "xlogy", "hypot",
    "logaddexp", "copysign", "signbit", "nan_to_num", "positive", "deg2rad", "rad2deg", "heaviside",
    "fmax", "fmin", "logit", "sinc", "rsub",
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


def _scale_by_alpha(a: Tensor, b: Tensor, alpha, op: str) -> Tensor:
    """``alpha * b`` in the dtype ``a op b`` has (alpha takes no part in promotion, as in torch)."""
    dt = result_dtype((a, b))
    if isinstance(alpha, bool):
        if dt is not _dt.bool:
            raise RuntimeError(f"{op}: Boolean alpha only supported for Boolean results.")
    elif not dt.is_floating_point and isinstance(alpha, numbers.Real) and not isinstance(alpha, numbers.Integral):
        raise RuntimeError(f"{op}: For integral input tensors, argument alpha must not be a floating point number.")
    if dt is _dt.bool:
        return b if alpha else logical_and(b, False)
    if b._wrapped:
        return as_tensor_arg(b._data.item() * alpha, op)  # stays a Python number for promotion
    if b._dtype is not dt:
        b = cast(b, dt)
    return mul(b, alpha)


def add(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """``input + alpha * other``."""
    a, b = _t(input, "add"), _t(other, "add")
    if type(alpha) is not int or alpha != 1:
        b = _scale_by_alpha(a, b, alpha, "add")
    r = apply(_ADD, (a, b), {})
    return r if out is None else write_out(r, out, "add")


def _check_sub_bool(a: Tensor, b: Tensor) -> None:
    if a._dtype is _dt.bool or b._dtype is _dt.bool:
        which = "two bool tensors" if a._dtype is b._dtype else "a bool tensor"
        raise RuntimeError(
            f"Subtraction, the `-` operator, with {which} is not supported. "
            "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def sub(input, other, *, alpha=1, out: Tensor | None = None) -> Tensor:
    """``input - alpha * other``."""
    a, b = _t(input, "sub"), _t(other, "sub")
    if a._dtype is _dt.bool or b._dtype is _dt.bool:
        _check_sub_bool(a, b)
    if type(alpha) is not int or alpha != 1:
        b = _scale_by_alpha(a, b, alpha, "sub")
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
        elif dt is _dt.uint8:  # no negative quotients (a negative scalar divisor wraps first)
            r = floor_divide(a, b)
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
    if (isinstance(exponent, numbers.Integral) and exponent < 0 and not a._dtype.is_floating_point):
        # a tensor exponent gives 0 / +-1 there; a negative Python int is refused, as in torch
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if (isinstance(exponent, (float, int)) and not isinstance(exponent, bool) and exponent in (0.5, -0.5)
            and a._dtype.is_floating_point):
        # torch's fast paths, in both modes (traced code stages these nodes too): (-inf) ** 0.5 is
        # nan and (-0.0) ** -0.5 is -inf, not C pow's +inf and +inf
        r = named(sqrt(a) if exponent > 0 else rsqrt(a), "PowBackward0")
    else:
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
    if not dt.is_floating_point:
        for v in (a, b):
            if v._wrapped and v._data.ndim == 0:
                fill_scalar(v._data[()], dt, "where")  # a number the result dtype cannot hold
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
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"gelu: not implemented for '{input._dtype.name}'")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return apply(_GELU, (input,), {"approximate": approximate} if approximate != "none" else {})


def _float_pair(input, other, op: str, ints: bool = True) -> tuple:
    """Both operands in the float dtype torch computes ``op`` in (the promoted type, or the default
    float for integers; ``ints=False`` refuses integer results like torch's 'not implemented for')."""
    a, b = _t(input, op), _t(other, op)
    dt = result_dtype((a, b))
    if not dt.is_floating_point:
        if not ints:
            raise NotImplementedError(f"{op}: not implemented for '{dt.name}'")
        dt = _dt.get_default_dtype()
    if a._dtype is not dt and not a._wrapped:
        a = cast(a, dt)
    if b._dtype is not dt and not b._wrapped:
        b = cast(b, dt)
    return a, b


def lerp(input, end, weight, *, out=None) -> Tensor:
    """``input + weight * (end - input)``, computed from the nearer end like torch (exact at weight 1)."""
    a, b = _float_pair(input, end, "lerp", ints=False)
    d = sub(b, a)
    if isinstance(weight, Tensor):
        r = where(lt(abs(weight), 0.5), add(a, mul(weight, d)), sub(b, mul(d, rsub(weight, 1))))
    elif -0.5 < weight < 0.5:
        r = add(a, mul(d, weight))
    else:
        r = sub(b, mul(d, 1 - weight))
    return r if out is None else write_out(r, out, "lerp")


def rsub(input, other, *, alpha=1) -> Tensor:
    """``other - alpha * input`` (torch.rsub)."""
    return sub(other, input, alpha=alpha)


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
        if rdt is _dt.bool:   # a bool tensor with int bounds promotes to int64 and clamps (torch)
            raise NotImplementedError("clamp: not implemented for 'bool'")
        if not rdt.is_floating_point:
            for v in (min, max):
                if v is not None:
                    fill_scalar(v, rdt, "clamp")  # torch refuses a bound the dtype cannot hold
        x = input if rdt is dt else cast(input, rdt)
        r = apply(_CLAMP, (x,), attrs)
    else:
        # torch routes the gradient to x at a tie with a bound (maximum/minimum would split it) and
        # to a bound only where x is strictly outside; NaN in x or in a bound comes out as NaN
        r = input
        if min is not None:
            lo = _t(min, "clamp")
            r = where(logical_or(ge(r, lo), isnan(r)), r, lo)
        if max is not None:
            hi = _t(max, "clamp")
            r = where(logical_or(le(r, hi), isnan(r)), r, hi)
    return r if out is None else write_out(r, out, "clamp")


clip = clamp


# ---------------------------------------------------------------- numpy-style aliases and small composites
negative = globals()["neg"]
absolute = globals()["abs"]
arcsin, arccos, arctan, arctan2 = (globals()[n] for n in ("asin", "acos", "atan", "atan2"))
fix = globals()["trunc"]
greater, greater_equal, less, less_equal, not_equal = (globals()[n] for n in ("gt", "ge", "lt", "le", "ne"))
sgn = globals()["sign"]
_square_primitive = globals()["square"]


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input * input``; bool squares as int64, like torch."""
    if isinstance(input, Tensor) and input._dtype is _dt.bool:
        input = cast(input, _dt.int64)
    return _square_primitive(input, out=out)


def positive(input: Tensor) -> Tensor:
    """``input`` itself (``+x``); refused for bool like torch."""
    if input._dtype is _dt.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def fmax(input, other, *, out=None) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are NaN); ties send the gradient to ``input``."""
    a, b = _t(input, "fmax"), _t(other, "fmax")
    r = where(logical_or(ge(a, b), isnan(b)), a, b)
    return r if out is None else write_out(r, out, "fmax")


def fmin(input, other, *, out=None) -> Tensor:
    """Elementwise minimum that ignores NaN (NaN only where both are NaN); ties send the gradient to ``input``."""
    a, b = _t(input, "fmin"), _t(other, "fmin")
    r = where(logical_or(le(a, b), isnan(b)), a, b)
    return r if out is None else write_out(r, out, "fmin")


def xlogy(input, other, *, out=None) -> Tensor:
    """``input * log(other)``, 0 where ``input == 0`` (unless ``other`` is NaN)."""
    a, b = _float_pair(input, other, "xlogy")
    # log of a safe 1 where input is 0, so neither the value nor either gradient sees 0 * -inf
    zero = logical_and(eq(a, 0), isnan(b).logical_not())
    r = mul(a, log(where(zero, 1.0, b)))
    return r if out is None else write_out(r, out, "xlogy")


def hypot(input, other, *, out=None) -> Tensor:
    """``sqrt(input**2 + other**2)`` without overflow or underflow in the squares."""
    a, b = _float_pair(input, other, "hypot", ints=False)
    aa, ab = abs(a), abs(b)
    big, small = maximum(aa, ab), minimum(aa, ab)
    ratio = div(small, where(eq(big, 0), 1.0, big))
    r = mul(big, sqrt(add(mul(ratio, ratio), 1.0)))
    # inf beats nan, as in C hypot
    r = where(logical_or(isinf(a), isinf(b)), float("inf"), r)
    return r if out is None else write_out(r, out, "hypot")


def logaddexp(input, other, *, out=None) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow."""
    a, b = _float_pair(input, other, "logaddexp", ints=False)
    m = maximum(a, b).detach()
    m = where(isfinite(m), m, 0.0)
    r = add(m, log(add(exp(sub(a, m)), exp(sub(b, m)))))
    return r if out is None else write_out(r, out, "logaddexp")


def copysign(input, other, *, out=None) -> Tensor:
    """``|input|`` with the sign bit of ``other`` (the result is floating point)."""
    a, b = _float_pair(input, other, "copysign")
    m = abs(a)
    r = where(signbit(b), neg(m), m)
    return r if out is None else write_out(r, out, "copysign")


def nan_to_num(input: Tensor, nan: float = 0.0, posinf=None, neginf=None, *, out=None) -> Tensor:
    """Replace NaN with ``nan`` and +-inf with ``posinf``/``neginf`` (default: the dtype's extremes)."""
    if not input._dtype.is_floating_point:
        r = clone(input)
    else:
        info = np.finfo(input._dtype.np)
        pos = float(info.max) if posinf is None else posinf
        ngi = float(info.min) if neginf is None else neginf
        r = where(isnan(input), nan, input)
        r = where(eq(r, float("inf")), pos, r)
        r = where(eq(r, float("-inf")), ngi, r)
    return r if out is None else write_out(r, out, "nan_to_num")


def deg2rad(input, *, out=None) -> Tensor:
    """Degrees to radians (integers give the default float)."""
    r = mul(input, np.pi / 180.0)
    return r if out is None else write_out(r, out, "deg2rad")


def rad2deg(input, *, out=None) -> Tensor:
    """Radians to degrees (integers give the default float)."""
    r = mul(input, 180.0 / np.pi)
    return r if out is None else write_out(r, out, "rad2deg")


def heaviside(input: Tensor, values: Tensor, *, out=None) -> Tensor:
    """0 where ``input < 0``, ``values`` where it is 0, 1 where it is positive."""
    v = _t(values, "heaviside")
    if v._dtype is not input._dtype:
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes ({input._dtype} and {v._dtype})")
    r = where(eq(input, 0), v, cast(gt(input, 0), input._dtype))
    return r if out is None else write_out(r, out, "heaviside")


def logit(input: Tensor, eps=None, *, out=None) -> Tensor:
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    x = input if input._dtype.is_floating_point else cast(input, _dt.get_default_dtype())
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    r = log(div(x, rsub(x, 1)))
    return r if out is None else write_out(r, out, "logit")


def sinc(input: Tensor, *, out=None) -> Tensor:
    """``sin(pi x) / (pi x)``, 1 at 0 (with gradient 0 there)."""
    x = input if input._dtype.is_floating_point else cast(input, _dt.get_default_dtype())
    zero = eq(x, 0)
    px = mul(where(zero, 1.0, x), np.pi)  # a safe 1 at 0 keeps nan out of the gradient
    r = where(zero, 1.0, div(sin(px), px))
    return r if out is None else write_out(r, out, "sinc")


def zero_gradient_to(value: Tensor, t: Tensor) -> Tensor:
    """``value`` (broadcast to ``t``'s shape) with ``t`` kept in the graph at a zero gradient, nan in
    ``t`` ignored: what torch's CopyBackwards gives an overwritten tensor, and addmm a skipped term."""
    never = Tensor._make(np.zeros((), dtype=bool))
    return apply(_WHERE, (never, t, value), {})


def _threshold_backward(grad: Tensor, output: Tensor, threshold) -> Tensor:
    """relu's gradient rule: ``grad`` where ``output > threshold`` (see ops.pointwise)."""
    return apply(_THRESHOLD_BACKWARD, (grad, output), {"threshold": threshold})


_THRESHOLD_BACKWARD = _get("threshold_backward")


# ---------------------------------------------------------------- method forms (bound by eager/methods.py)
METHODS = UNARY + BINARY + [
    "add", "sub", "subtract", "multiply", "div", "divide", "true_divide", "pow", "lerp", "clamp", "clip",
    "round", "negative", "absolute", "arcsin", "arccos", "arctan", "arctan2", "fix", "float_power", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "sgn", "xlogy", "hypot", "logaddexp", "copysign",
    "nan_to_num", "deg2rad", "rad2deg", "heaviside", "fmax", "fmin", "logit", "sinc", "positive",
    "_threshold_backward",
]
INPLACE = INPLACE_UNARY + INPLACE_BINARY + [
    "add", "sub", "subtract", "multiply", "div", "divide", "true_divide", "pow", "lerp", "clamp", "clip",
    "round", "negative", "arcsin", "arccos", "arctan", "arctan2", "fix", "float_power", "sgn", "xlogy",
    "hypot", "copysign", "nan_to_num", "deg2rad", "rad2deg", "logit", "sinc", "absolute", "heaviside",
]
