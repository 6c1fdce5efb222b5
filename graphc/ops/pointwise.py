"""Elementwise primitives: unary math, binary arithmetic, comparisons, logic, where, cast.

Every entry broadcasts like numpy/torch.  Gradient rules are written with
tensor methods and reduce broadcast dimensions with :func:`sum_to_shape`.
``extra["reads"]`` (optional) maps an input to the inputs its gradient reads;
the tape then saves (version-checks) only those, as torch saves ``other`` of
``self * other`` only when ``self`` needs a gradient.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from . import erf_kernels
from .grad_utils import sum_to_shape
from .registry import Spec, op_error, quiet, register

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ----------------------------------------------------------------------------- shape rules
def broadcast_shapes(*shapes) -> tuple:
    """numpy/torch broadcasting of shapes that may hold None (a symbolic size)."""
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(nd):
        size = 1
        for s in shapes:
            j = i - (nd - len(s))
            if j < 0:
                continue
            d = s[j]
            if d == 1:
                continue
            if size == 1:
                size = d
            elif d is None or size is None:
                size = size if d is None else d
            elif d != size:
                raise op_error(
                    RuntimeError,
                    f"The size of tensor a ({size}) must match the size of tensor b ({d}) at non-singleton "
                    f"dimension {i}: shapes {', '.join(str(tuple(x)) for x in shapes)}",
                )
        out.append(size)
    return tuple(out)


def _priority(s: Spec) -> int:
    if len(s) > 2 and s[2]:
        return 0
    return 1 if len(s.shape) == 0 else 2


def spec_result_dtype(*specs: Spec) -> _dt.DType:
    """Torch's result type of the specs (a Spec's third field marks a wrapped Python number)."""
    return _dt.result_type_of(*[(s.dtype, _priority(s)) for s in specs])


def _infer(kind: str):
    """Shape rule for an elementwise op whose result dtype is ``kind``:
    "same" (promoted inputs), "float" (promoted, integral -> default float), "bool"."""

    def infer(*specs, **attrs):
        shape = broadcast_shapes(*(s.shape for s in specs))
        if kind == "bool":
            return Spec(shape, _dt.bool)
        dt = spec_result_dtype(*specs)
        if kind == "float" and not dt.is_floating_point:
            dt = _dt.get_default_dtype()
        return Spec(shape, dt)

    return infer


def _dtype_name(a: np.ndarray) -> str:
    return _dt.from_numpy_dtype(a.dtype).name


def _refuse(op: str, kinds: str):
    """A kernel wrapper that raises torch's 'not implemented for <dtype>' on the listed numpy kinds
    ('b' bool, 'i'/'u' integers)."""

    def wrap(fn):
        def kernel(x, **attrs):
            if x.dtype.kind in kinds:
                raise op_error(NotImplementedError, f"{op}: not implemented for '{_dtype_name(x)}'")
            return fn(x, **attrs)

        kernel.__name__ = getattr(fn, "__name__", "kernel")
        return kernel

    return wrap


def _unary(name, fn, grad=None, *, kind="float", saves="inputs", **kw):
    promote = "float" if kind == "float" else "common"
    return register(name, "elementwise", kernel=fn, infer=_infer(kind),
                    grad=grad, promote=promote, saves=saves, **kw)


def _binary(name, fn, grad=None, *, kind="same", saves="inputs", **kw):
    promote = "float" if kind == "float" else "common"
    return register(name, "elementwise", kernel=fn, infer=_infer(kind),
                    grad=grad, promote=promote, saves=saves, **kw)


def _zero_grad(ctx, g):
    return tuple(g.new_zeros(x.shape) if need else None for x, need in zip(ctx.inputs, ctx.needs_input_grad))


# ----------------------------------------------------------------------------- unary math
_erf = erf_kernels.erf


def _sigmoid(x):
    # e = exp(-|x|) <= 1 never overflows; e / (1 + e) for x < 0 keeps the relative accuracy that
    # 0.5 + 0.5 tanh(x / 2) loses to cancellation there (it gave 0 for sigmoid(-20) in float32)
    one = x.dtype.type(1)
    e = np.exp(-np.abs(x))
    return np.where(x < 0, e, one) / (one + e)


@_refuse("relu", "b")
def _relu(x):
    return np.maximum(x, x.dtype.type(0))


def _rsqrt(x):
    return np.reciprocal(np.sqrt(x))


def _reciprocal(x):
    return np.reciprocal(x)


@_refuse("frac", "biu")
def _frac(x):
    return x - np.trunc(x)


def _sign(x):
    if x.dtype == np.bool_:
        return x.copy()
    if x.dtype.kind == "f":
        # torch: sign(nan) is 0
        return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)
    return np.sign(x)


@_refuse("abs", "b")
def _abs(x):
    return np.abs(x)


def _neg(x):
    if x.dtype == np.bool_:
        raise op_error(RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. "
                                     "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return np.negative(x)


@_refuse("round", "b")
def _round(x, decimals: int = 0):
    if x.dtype.kind in "iu":
        if decimals:
            raise op_error(NotImplementedError, f"round: not implemented for '{_dtype_name(x)}' with decimals")
        return x.copy()
    if decimals == 0:
        return np.round(x)
    # torch scales by 10**decimals in the tensor's dtype, rounds half to even and scales back
    if decimals > 0:
        f = x.dtype.type(10.0 ** decimals)
        return (np.round(x * f) / f).astype(x.dtype, copy=False)
    f = x.dtype.type(10.0 ** -decimals)
    return (np.round(x / f) * f).astype(x.dtype, copy=False)


def _keep_int(fn, name):
    # floor/ceil/trunc of an integer tensor is the tensor itself, as in torch; bool is refused
    @_refuse(name, "b")
    def kernel(x):
        if x.dtype.kind in "iu":
            return x.copy()
        return fn(x)

    return kernel


def _square(x):
    # bool never reaches here: the front end squares bool as int64, like torch
    return np.square(x)


def _gelu(x, approximate: str = "none"):
    t = x.dtype.type
    if approximate == "tanh":
        inner = t(math.sqrt(2.0 / math.pi)) * (x + t(0.044715) * x * x * x)
        return (t(0.5) * x * (t(1) + np.tanh(inner))).astype(x.dtype, copy=False)
    return (t(0.5) * x * (t(1) + _erf(x * t(1 / math.sqrt(2.0))))).astype(x.dtype, copy=False)


def _gelu_grad(ctx, g):
    x = ctx.inputs[0]
    if ctx.attrs.get("approximate", "none") == "tanh":
        k = math.sqrt(2.0 / math.pi)
        x3 = x * x * x
        th = ((x + 0.044715 * x3) * k).tanh()
        dinner = (1 + 3 * 0.044715 * x * x) * k
        return (g * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * dinner),)
    cdf = 0.5 * (1 + (x * (1 / math.sqrt(2.0))).erf())
    pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
    return (g * (cdf + x * pdf),)


_unary("neg", _neg, lambda ctx, g: (-g,), kind="same", saves="none")
_unary("abs", _abs, lambda ctx, g: (g * ctx.inputs[0].sign(),), kind="same")
_unary("exp", np.exp, lambda ctx, g: (g * ctx.output,), saves="output")
_unary("exp2", np.exp2, lambda ctx, g: (g * ctx.output * _LN2,), saves="output")
_unary("expm1", np.expm1, lambda ctx, g: (g * (ctx.output + 1),), saves="output")
_unary("log", np.log, lambda ctx, g: (g / ctx.inputs[0],))
_unary("log2", np.log2, lambda ctx, g: (g / (ctx.inputs[0] * _LN2),))
_unary("log10", np.log10, lambda ctx, g: (g / (ctx.inputs[0] * _LN10),))
_unary("log1p", np.log1p, lambda ctx, g: (g / (ctx.inputs[0] + 1),), extra={"backward_name": "Log1PBackward0"})
_unary("sqrt", np.sqrt, lambda ctx, g: (g / (ctx.output * 2),), saves="output")
_unary("rsqrt", _rsqrt, lambda ctx, g: (g * ctx.output.pow(3) * -0.5,), saves="output")
_unary("square", _square, lambda ctx, g: (g * ctx.inputs[0] * 2,), kind="same",
       extra={"backward_name": "PowBackward0"})
_unary("sin", np.sin, lambda ctx, g: (g * ctx.inputs[0].cos(),))
_unary("cos", np.cos, lambda ctx, g: (g * -ctx.inputs[0].sin(),))
_unary("tan", np.tan, lambda ctx, g: (g * (ctx.output * ctx.output + 1),), saves="output")
_unary("asin", np.arcsin, lambda ctx, g: (g * (1 - ctx.inputs[0] * ctx.inputs[0]).rsqrt(),))
_unary("acos", np.arccos, lambda ctx, g: (-g * (1 - ctx.inputs[0] * ctx.inputs[0]).rsqrt(),))
_unary("atan", np.arctan, lambda ctx, g: (g / (ctx.inputs[0] * ctx.inputs[0] + 1),))
_unary("sinh", np.sinh, lambda ctx, g: (g * ctx.inputs[0].cosh(),))
_unary("cosh", np.cosh, lambda ctx, g: (g * ctx.inputs[0].sinh(),))
_unary("tanh", np.tanh, lambda ctx, g: (g * (1 - ctx.output * ctx.output),), saves="output")
_unary("sigmoid", _sigmoid, lambda ctx, g: (g * ctx.output * (1 - ctx.output),), saves="output")
_unary("relu", _relu, lambda ctx, g: (g._threshold_backward(ctx.output, 0),), kind="same", saves="output")
_unary("erf", _erf, lambda ctx, g: (g * (ctx.inputs[0] * ctx.inputs[0] * -1).exp() * _TWO_OVER_SQRT_PI,))
_unary("erfc", erf_kernels.erfc,
       lambda ctx, g: (g * (ctx.inputs[0] * ctx.inputs[0] * -1).exp() * -_TWO_OVER_SQRT_PI,))
_unary("erfinv", erf_kernels.erfinv,
       lambda ctx, g: (g * (ctx.output * ctx.output).exp() * (math.sqrt(math.pi) / 2),), saves="output")
_unary("gelu", _gelu, _gelu_grad)
_unary("reciprocal", _reciprocal, lambda ctx, g: (g * -(ctx.output * ctx.output),), saves="output")
_unary("floor", _keep_int(np.floor, "floor"), _zero_grad, kind="same", saves="none")
_unary("ceil", _keep_int(np.ceil, "ceil"), _zero_grad, kind="same", saves="none")
_unary("trunc", _keep_int(np.trunc, "trunc"), _zero_grad, kind="same", saves="none")
_unary("round", _round, _zero_grad, kind="same", saves="none")
_unary("frac", _frac, lambda ctx, g: (g,), kind="same", saves="none")
_unary("sign", _sign, _zero_grad, kind="same", saves="none")
_unary("isnan", np.isnan, None, kind="bool")
_unary("isinf", np.isinf, None, kind="bool")
_unary("isfinite", np.isfinite, None, kind="bool")
_unary("signbit", np.signbit, None, kind="bool")
_unary("logical_not", np.logical_not, None, kind="bool")


def _bitwise_not(x):
    if x.dtype.kind == "f":
        raise op_error(RuntimeError, f"bitwise_not: not implemented for '{_dt.from_numpy_dtype(x.dtype).name}'")
    return np.invert(x)


_unary("bitwise_not", _bitwise_not, None, kind="same")


@_refuse("clamp", "b")
def _clamp(x, min=None, max=None):
    if min is None and max is None:
        raise op_error(RuntimeError, "clamp: At least one of 'min' or 'max' must not be None")
    out = x
    if min is not None:
        out = np.maximum(out, np.asarray(min).astype(x.dtype))
    if max is not None:
        out = np.minimum(out, np.asarray(max).astype(x.dtype))
    return out if out is not x else x.copy()


def _clamp_grad(ctx, g):
    x = ctx.inputs[0]
    lo, hi = ctx.attrs.get("min"), ctx.attrs.get("max")
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        m = x <= hi
        mask = m if mask is None else mask.logical_and(m)
    return (g * mask,)


register("clamp", "elementwise", kernel=_clamp, infer=_infer("same"), grad=_clamp_grad, promote=None)


def _cast(x, dtype):
    return x.astype(dtype.np)


def _cast_infer(s, dtype):
    return Spec(s.shape, dtype)


register("cast", "elementwise", kernel=_cast, infer=_cast_infer, grad=lambda ctx, g: (g.to(ctx.inputs[0].dtype),),
         saves="none", extra={"backward_name": "ToCopyBackward0"})


# ----------------------------------------------------------------------------- binary arithmetic
def _add_grad(ctx, g):
    a, b = ctx.inputs
    return (sum_to_shape(g, a.shape) if ctx.needs_input_grad[0] else None,
            sum_to_shape(g, b.shape) if ctx.needs_input_grad[1] else None)


def _sub_grad(ctx, g):
    a, b = ctx.inputs
    return (sum_to_shape(g, a.shape) if ctx.needs_input_grad[0] else None,
            sum_to_shape(-g, b.shape) if ctx.needs_input_grad[1] else None)


def _mul_grad(ctx, g):
    a, b = ctx.inputs
    return (sum_to_shape(g * b, a.shape) if ctx.needs_input_grad[0] else None,
            sum_to_shape(g * a, b.shape) if ctx.needs_input_grad[1] else None)


def _div_grad(ctx, g):
    a, b = ctx.inputs
    ga = sum_to_shape(g / b, a.shape) if ctx.needs_input_grad[0] else None
    gb = sum_to_shape(-g * a / (b * b), b.shape) if ctx.needs_input_grad[1] else None
    return ga, gb


def _add(a, b):
    return np.add(a, b) if a.dtype != np.bool_ else np.logical_or(a, b)


def _sub(a, b):
    if a.dtype == np.bool_:
        raise op_error(RuntimeError, "Subtraction, the `-` operator, with two bool tensors is not supported. "
                                     "Use the `^` or `logical_xor()` operator instead.")
    return np.subtract(a, b)


def _mul(a, b):
    return np.multiply(a, b) if a.dtype != np.bool_ else np.logical_and(a, b)


def _no_bool(a, op):
    if a.dtype == np.bool_:  # the promoted operands: both bool
        raise op_error(NotImplementedError, f"{op}: not implemented for 'bool'")


def _check_int_zero(b, op):
    if b.dtype.kind in "iub" and not np.all(b):
        raise op_error(RuntimeError, f"{op}: ZeroDivisionError (integer division by zero)")


def _floor_divide(a, b):
    _no_bool(a, "floor_divide")
    _check_int_zero(b, "floor_divide")
    return np.floor_divide(a, b)


def _remainder(a, b):
    _no_bool(a, "remainder")
    _check_int_zero(b, "remainder")
    return np.remainder(a, b)


def _fmod(a, b):
    _no_bool(a, "fmod")
    _check_int_zero(b, "fmod")
    return np.fmod(a, b)


def _pow(a, b):
    _no_bool(a, "pow")
    if a.dtype.kind in "iu":
        neg = b < 0
        if neg.any():
            # torch's integer pow with a negative tensor exponent: 1 ** -n = 1, (-1) ** -n = +-1, else 0
            # (a negative Python-number exponent is refused by the front end, as in torch)
            out = np.power(a, np.where(neg, 0, b))
            odd = (b % 2) != 0
            at_neg = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0)).astype(a.dtype)
            return np.where(neg, at_neg, out)
    return np.power(a, b)


def _as_grad_dtype(t, g):
    """``t`` in the gradient's dtype: a Python-number input then keeps its full precision in the rule
    (arithmetic between two numbers would round to the default float)."""
    return t if t.dtype is g.dtype else t.to(g.dtype)


def _pow_grad(ctx, g):
    a, b = ctx.inputs
    a, b = _as_grad_dtype(a, g), _as_grad_dtype(b, g)
    ga = gb = None
    if ctx.needs_input_grad[0]:
        # b * a**(b-1), with 0 where b == 0 (torch: d/da a**0 is 0 even at a == 0)
        ga = sum_to_shape((g * b * a.pow(b - 1)).where(b != 0, 0.0), a.shape)
    if ctx.needs_input_grad[1]:
        out = ctx.outputs[0] if ctx.outputs else a.pow(b)
        # torch masks a == 0 with b >= 0 to 0 (the limit), avoiding 0 * -inf
        gb = sum_to_shape((g * out * a.log()).where((a != 0).logical_or(b < 0), 0.0), b.shape)
    return ga, gb


def _atan2_grad(ctx, g):
    a, b = ctx.inputs
    a, b = _as_grad_dtype(a, g), _as_grad_dtype(b, g)
    # at (0, 0) torch's gradient is 0 (not 0/0): the denominator there counts as 1
    den = a * a + b * b
    den = den.where(den != 0, 1.0)
    return (sum_to_shape(g * b / den, a.shape) if ctx.needs_input_grad[0] else None,
            sum_to_shape(-g * a / den, b.shape) if ctx.needs_input_grad[1] else None)


def _minmax_grad(greater: bool):
    def rule(ctx, g):
        a, b = ctx.inputs
        pick_a = (a > b) if greater else (a < b)
        tie = a == b
        wa = pick_a.to(g.dtype) + tie.to(g.dtype) * 0.5
        ga = sum_to_shape(g * wa, a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to_shape(g * (1 - wa), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb

    return rule


def _remainder_grad(ctx, g):
    a, b = ctx.inputs
    return (sum_to_shape(g, a.shape) if ctx.needs_input_grad[0] else None,
            sum_to_shape(-g * (a / b).floor(), b.shape) if ctx.needs_input_grad[1] else None)


def _fmod_grad(ctx, g):
    a, b = ctx.inputs
    return (sum_to_shape(g, a.shape) if ctx.needs_input_grad[0] else None,
            sum_to_shape(-g * (a / b).trunc(), b.shape) if ctx.needs_input_grad[1] else None)


def _floor_divide_grad(ctx, g):
    return _zero_grad(ctx, g)


# extra["reads"]: input i's gradient reads these inputs; only the inputs some needed gradient reads
# are saved (version-checked), as torch saves `other` of a*b only when `self` needs a gradient
_binary("add", _add, _add_grad, saves="none")
_binary("sub", _sub, _sub_grad, saves="none")
_binary("mul", _mul, _mul_grad, extra={"reads": {0: (1,), 1: (0,)}})
_binary("div", np.true_divide, _div_grad, kind="float", extra={"reads": {0: (1,), 1: (0, 1)}})
_binary("floor_divide", _floor_divide, _floor_divide_grad, saves="none")
_binary("remainder", _remainder, _remainder_grad, extra={"reads": {1: (0, 1)}})
_binary("fmod", _fmod, _fmod_grad, extra={"reads": {1: (0, 1)}})
_binary("pow", _pow, _pow_grad, saves="both")
_binary("atan2", np.arctan2, _atan2_grad, kind="float")
_binary("maximum", np.maximum, _minmax_grad(True))


# relu's gradient, as torch's threshold_backward: g where y > threshold (NaN y passes g on), else 0.
# An op of its own rather than g * (y > threshold), so that it stays connected to y under
# create_graph (its derivative in y is zero, as torch's): a gradient penalty through relu works.
def _threshold_backward(g, y, threshold):
    with quiet():
        return np.where(y <= threshold, g.dtype.type(0), g)


def _threshold_backward_grad(ctx, gg):
    g, y = ctx.inputs
    return (gg._threshold_backward(y, ctx.attrs["threshold"]) if ctx.needs_input_grad[0] else None,
            y.new_zeros(y.shape) if ctx.needs_input_grad[1] else None)


_binary("threshold_backward", _threshold_backward, _threshold_backward_grad, extra={"reads": {0: (1,)}})
_binary("minimum", np.minimum, _minmax_grad(False))

# comparisons and logic: results are bool and carry no gradient
for _name, _fn in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
                   ("gt", np.greater), ("ge", np.greater_equal), ("logical_and", np.logical_and),
                   ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]:
    _binary(_name, _fn, None, kind="bool")


def _bitwise(fn, name):
    def kernel(a, b):
        if a.dtype.kind == "f":
            raise op_error(RuntimeError, f"{name}: not implemented for '{_dt.from_numpy_dtype(a.dtype).name}'"
                                         " (bitwise ops take integer or bool tensors)")
        if "shift" in name:
            _no_bool(a, name)
        return fn(a, b)

    return kernel


for _name, _fn in [("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                   ("bitwise_xor", np.bitwise_xor), ("bitwise_left_shift", np.left_shift),
                   ("bitwise_right_shift", np.right_shift)]:
    _binary(_name, _bitwise(_fn, _name), None)


# ----------------------------------------------------------------------------- where
def _where(cond, a, b):
    return np.where(cond, a, b)


def _where_infer(c, a, b):
    return Spec(broadcast_shapes(c.shape, a.shape, b.shape), spec_result_dtype(a, b))


def _where_grad(ctx, g):
    c, a, b = ctx.inputs
    ga = sum_to_shape(g.where(c, 0.0), a.shape) if ctx.needs_input_grad[1] else None
    gb = sum_to_shape(g.where(c.logical_not(), 0.0), b.shape) if ctx.needs_input_grad[2] else None
    return None, ga, gb


register("where", "elementwise", kernel=_where, infer=_where_infer, grad=_where_grad, promote=None,
         nondiff_inputs=(0,), saves="inputs", extra={"reads": {1: (0,), 2: (0,)}})
