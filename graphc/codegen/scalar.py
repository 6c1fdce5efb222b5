"""Per-op scalar lowering: one registry op applied to one element, as LLVM instructions.

``LOWER[op](e, args, attrs, out) -> Val`` emits the instructions computing op ``op`` on
one element.  ``args`` are :class:`Val` (an LLVM value with its graphc dtype) already
cast to the op's compute dtype when the op promotes (``OpDef.promote``), exactly as
eager dispatch casts arrays before the numpy kernel runs; ``out`` is the result dtype the
op's shape rule gives.  The results equal the numpy kernel's bit for bit for arithmetic,
comparisons, casts and selects, and within a few ulps for transcendental functions
(:mod:`graphc.codegen.mathlib` polynomials, never libm calls, so loops vectorize).

Registers hold bool as ``i1``; memory holds it as ``i8`` (:func:`mem_type`).  An op a
dtype does not support in numpy (``neg`` of bool, bitwise ops on floats...) or that this
table cannot lower exactly (integer division, which must raise on a zero divisor; float16)
raises :class:`Unsupported` at code generation time; the backend then runs that group
with the numpy kernels, which raise the proper error at run time.

Reductions: :func:`reduce_identity`, :func:`reduce_prepare` (an element in the
accumulation dtype) and :func:`reduce_combine` describe ``sum``, ``prod``, ``amax``,
``amin``, ``all`` and ``any`` as the numpy kernels compute them (sum/prod accumulate in
the output dtype; amax/amin propagate NaN).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
from llvmlite import ir

from .. import dtypes as _dt
from . import mathlib

__all__ = ["Val", "Emitter", "Unsupported", "LOWER", "SUPPORTED_DTYPES", "reg_type", "mem_type",
           "lower_op", "op_steps", "lower_op_steps", "reduce_identity", "reduce_prepare", "reduce_combine", "REDUCTIONS"]

SUPPORTED_DTYPES = frozenset((_dt.bool, _dt.uint8, _dt.int8, _dt.int16, _dt.int32, _dt.int64,
                              _dt.float32, _dt.float64))
REDUCTIONS = frozenset(("sum", "prod", "amax", "amin", "all", "any"))

_I1 = ir.IntType(1)
_F32 = ir.FloatType()
_F64 = ir.DoubleType()


class Unsupported(Exception):
    """The op (with these dtypes or attributes) has no native lowering; run it with numpy."""


class Val(NamedTuple):
    """One element in registers: the LLVM value and its graphc dtype (bool is ``i1``)."""

    v: ir.Value
    dtype: _dt.DType


def _check(dt: _dt.DType) -> _dt.DType:
    if dt not in SUPPORTED_DTYPES:
        raise Unsupported(f"dtype {dt.name} has no native lowering")
    return dt


def reg_type(dt: _dt.DType) -> ir.Type:
    """The LLVM type an element of ``dt`` has in registers (bool: i1)."""
    _check(dt)
    if dt is _dt.bool:
        return _I1
    if dt is _dt.float32:
        return _F32
    if dt is _dt.float64:
        return _F64
    return ir.IntType(8 * dt.itemsize)


def mem_type(dt: _dt.DType) -> ir.Type:
    """The LLVM type an element of ``dt`` has in memory (bool: i8, as numpy stores it)."""
    return ir.IntType(8) if dt is _dt.bool else reg_type(dt)


def _is_float(dt: _dt.DType) -> bool:
    return dt.is_floating_point


def _unsigned(dt: _dt.DType) -> bool:
    return dt is _dt.uint8 or dt is _dt.bool


def _type_tag(ty: ir.Type) -> str:
    if ty == _F32:
        return "f32"
    if ty == _F64:
        return "f64"
    return f"i{ty.width}"


class Emitter:
    """Instruction helpers over one ``ir.IRBuilder`` (constants, numpy casts, intrinsics)."""

    def __init__(self, builder: ir.IRBuilder):
        self.b = builder

    @property
    def module(self) -> ir.Module:
        return self.b.module

    # -- constants ---------------------------------------------------------------------
    def const(self, dt: _dt.DType, value) -> Val:
        """``value`` converted to ``dt`` the way numpy converts a Python number (``np.asarray(v).astype``)."""
        ty = reg_type(dt)
        arr = np.asarray(value)
        if arr.dtype.kind == "f" and not _is_float(dt) and not np.isfinite(arr).all():
            raise Unsupported("a non-finite constant converted to an integer dtype")
        with np.errstate(all="ignore"):
            x = arr.astype(dt.np)[()]
        if dt is _dt.bool:
            return Val(ir.Constant(ty, int(bool(x))), dt)
        if _is_float(dt):
            return Val(ir.Constant(ty, float(x)), dt)
        return Val(ir.Constant(ty, int(x)), dt)

    def fconst(self, dt: _dt.DType, value: float) -> ir.Constant:
        """A float constant of ``dt`` rounded as numpy rounds ``dt.np.type(value)``."""
        return ir.Constant(reg_type(dt), float(dt.np.type(value)))

    # -- intrinsics ----------------------------------------------------------------------
    def intrinsic(self, name: str, *args: ir.Value) -> ir.Value:
        """Call ``llvm.<name>.<type>`` (declared once per module) on same-typed arguments."""
        ty = args[0].type
        full = f"llvm.{name}.{_type_tag(ty)}"
        fn = self.module.globals.get(full)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(ty, [ty] * len(args)), name=full)
        return self.b.call(fn, list(args))

    # -- memory <-> registers ------------------------------------------------------------
    def from_mem(self, v: ir.Value, dt: _dt.DType) -> Val:
        """A loaded element as a register value (bool: ``i8 != 0``)."""
        if dt is _dt.bool:
            return Val(self.b.icmp_unsigned("!=", v, ir.Constant(v.type, 0)), dt)
        return Val(v, dt)

    def to_mem(self, x: Val) -> ir.Value:
        """A register value as stored (bool: zero-extended to i8)."""
        if x.dtype is _dt.bool:
            return self.b.zext(x.v, ir.IntType(8))
        return x.v

    # -- casts (numpy ``astype`` semantics) ----------------------------------------------
    def cast(self, x: Val, dt: _dt.DType) -> Val:
        """``x`` converted to ``dt`` as ``ndarray.astype`` converts it."""
        src = x.dtype
        if src is dt:
            return x
        b = self.b
        ty = reg_type(dt)
        v = x.v
        if dt is _dt.bool:
            if _is_float(src):
                return Val(b.fcmp_unordered("!=", v, ir.Constant(v.type, 0.0)), dt)  # NaN is true
            return Val(b.icmp_unsigned("!=", v, ir.Constant(v.type, 0)), dt)
        if src is _dt.bool:
            return Val(b.uitofp(v, ty) if _is_float(dt) else b.zext(v, ty), dt)
        if _is_float(src) and _is_float(dt):
            return Val(b.fpext(v, ty) if dt.itemsize > src.itemsize else b.fptrunc(v, ty), dt)
        if _is_float(dt):  # int -> float
            return Val(b.uitofp(v, ty) if _unsigned(src) else b.sitofp(v, ty), dt)
        if _is_float(src):  # float -> int: as C truncates (numpy's cast); narrow ints go through i32
            if dt.itemsize >= 4:
                return Val(b.fptosi(v, ty), dt)
            return Val(b.trunc(b.fptosi(v, ir.IntType(32)), ty), dt)
        # int -> int
        sw, dw = src.itemsize, dt.itemsize
        if dw > sw:
            return Val(b.zext(v, ty) if _unsigned(src) else b.sext(v, ty), dt)
        if dw < sw:
            return Val(b.trunc(v, ty), dt)
        return Val(v, dt)

    # -- small shared pieces ---------------------------------------------------------------
    def select(self, cond: ir.Value, a: Val, b: Val) -> Val:
        return Val(self.b.select(cond, a.v, b.v), a.dtype)

    def is_nonzero(self, x: Val) -> ir.Value:
        """``bool(x)`` as i1 (NaN is true, as numpy's truth value)."""
        return self.cast(x, _dt.bool).v


# ====================================================================================== ops
Lowering = Callable[[Emitter, list, dict, _dt.DType], Val]
LOWER: dict[str, Lowering] = {}


def _register(*names: str):
    def deco(fn):
        for n in names:
            LOWER[n] = fn
        return fn

    return deco


def _need_float(op: str, x: Val) -> None:
    if not _is_float(x.dtype):
        raise Unsupported(f"{op} of {x.dtype.name}")


def _refuse(op: str, x: Val, *dts) -> None:
    if x.dtype in dts:
        raise Unsupported(f"{op} of {x.dtype.name}")


# ------------------------------------------------------------------------- unary float math
def _mathlib(name: str) -> Lowering:
    emit = mathlib.UNARY[name]

    def lower(e, args, attrs, out):
        (x,) = args
        _need_float(name, x)
        return Val(emit(e.b, x.v), x.dtype)

    return lower


for _n in ("exp", "expm1", "log", "log1p", "tanh", "sigmoid", "erf", "sqrt"):
    LOWER[_n] = _mathlib(_n)


def _sin_cos(name: str) -> Lowering:
    emit = mathlib.UNARY[name]

    def lower(e, args, attrs, out):
        (x,) = args
        # mathlib's float64 reduction is exact only below SIN_COS_F64_LIMIT (NaN beyond)
        if x.dtype is not _dt.float32:
            raise Unsupported(f"{name} of {x.dtype.name} (float32 only)")
        return Val(emit(e.b, x.v), x.dtype)

    return lower


LOWER["sin"] = _sin_cos("sin")
LOWER["cos"] = _sin_cos("cos")


def _scaled_log(name: str, factor: float) -> Lowering:
    def lower(e, args, attrs, out):
        (x,) = args
        _need_float(name, x)
        return Val(e.b.fmul(mathlib.emit_log(e.b, x.v), e.fconst(x.dtype, factor)), x.dtype)

    return lower


LOWER["log2"] = _scaled_log("log2", 1.0 / math.log(2.0))
LOWER["log10"] = _scaled_log("log10", 1.0 / math.log(10.0))


@_register("exp2")
def _exp2(e, args, attrs, out):
    (x,) = args
    if x.dtype is not _dt.float32:
        raise Unsupported("exp2 is lowered for float32 only (computed in float64)")
    d = e.b.fpext(x.v, _F64)
    r = mathlib.emit_exp(e.b, e.b.fmul(d, ir.Constant(_F64, math.log(2.0))))
    return Val(e.b.fptrunc(r, _F32), x.dtype)


@_register("rsqrt")
def _rsqrt(e, args, attrs, out):
    (x,) = args
    _need_float("rsqrt", x)
    return Val(e.b.fdiv(e.fconst(x.dtype, 1.0), e.intrinsic("sqrt", x.v)), x.dtype)


@_register("reciprocal")
def _reciprocal(e, args, attrs, out):
    (x,) = args
    _need_float("reciprocal", x)
    return Val(e.b.fdiv(e.fconst(x.dtype, 1.0), x.v), x.dtype)


@_register("gelu")
def _gelu(e, args, attrs, out):
    (x,) = args
    _need_float("gelu", x)
    b, dt, c = e.b, x.dtype, e.fconst
    half_x = b.fmul(c(dt, 0.5), x.v)
    if attrs.get("approximate", "none") == "tanh":
        # the kernel's order: k * (x + ((0.044715 * x) * x) * x)
        cube = b.fmul(b.fmul(b.fmul(c(dt, 0.044715), x.v), x.v), x.v)
        inner = b.fmul(c(dt, math.sqrt(2.0 / math.pi)), b.fadd(x.v, cube))
        t = mathlib.emit_tanh(b, inner)
    else:
        t = mathlib.emit_erf(b, b.fmul(x.v, c(dt, 1.0 / math.sqrt(2.0))))
    return Val(b.fmul(half_x, b.fadd(c(dt, 1.0), t)), dt)


# ------------------------------------------------------------------------- unary, any number
@_register("neg")
def _neg(e, args, attrs, out):
    (x,) = args
    _refuse("neg", x, _dt.bool)
    if _is_float(x.dtype):
        return Val(e.b.fneg(x.v), x.dtype)
    return Val(e.b.neg(x.v), x.dtype)


@_register("abs")
def _abs(e, args, attrs, out):
    (x,) = args
    _refuse("abs", x, _dt.bool)
    if _is_float(x.dtype):
        return Val(e.intrinsic("fabs", x.v), x.dtype)
    if _unsigned(x.dtype):
        return x
    neg = e.b.icmp_signed("<", x.v, ir.Constant(x.v.type, 0))
    return Val(e.b.select(neg, e.b.neg(x.v), x.v), x.dtype)


@_register("square")
def _square(e, args, attrs, out):
    (x,) = args
    _refuse("square", x, _dt.bool)
    return Val(e.b.fmul(x.v, x.v) if _is_float(x.dtype) else e.b.mul(x.v, x.v), x.dtype)


@_register("relu")
def _relu(e, args, attrs, out):
    (x,) = args
    _refuse("relu", x, _dt.bool)
    # np.maximum(x, 0): NaN stays NaN, -0.0 stays -0.0
    if _is_float(x.dtype):
        neg = e.b.fcmp_ordered("<", x.v, ir.Constant(x.v.type, 0.0))
    elif _unsigned(x.dtype):
        return x
    else:
        neg = e.b.icmp_signed("<", x.v, ir.Constant(x.v.type, 0))
    return Val(e.b.select(neg, ir.Constant(x.v.type, 0 if not _is_float(x.dtype) else 0.0), x.v), x.dtype)


@_register("threshold_backward")
def _threshold_backward(e, args, attrs, out):
    g, y = args
    y = e.cast(y, out)
    t = e.const(out, attrs["threshold"])
    if _is_float(out):
        low = e.b.fcmp_ordered("<=", y.v, t.v)      # NaN y: not low, g passes on (torch)
    elif _unsigned(out):
        low = e.b.icmp_unsigned("<=", y.v, t.v)
    else:
        low = e.b.icmp_signed("<=", y.v, t.v)
    return Val(e.b.select(low, ir.Constant(g.v.type, 0.0 if _is_float(out) else 0), e.cast(g, out).v), out)


def _rounding(name: str, intrinsic: str) -> Lowering:
    def lower(e, args, attrs, out):
        (x,) = args
        _refuse(name, x, _dt.bool)
        if not _is_float(x.dtype):
            return x  # integers are their own floor/ceil/trunc
        return Val(e.intrinsic(intrinsic, x.v), x.dtype)

    return lower


LOWER["floor"] = _rounding("floor", "floor")
LOWER["ceil"] = _rounding("ceil", "ceil")
LOWER["trunc"] = _rounding("trunc", "trunc")


@_register("round")
def _round(e, args, attrs, out):
    (x,) = args
    _refuse("round", x, _dt.bool)
    decimals = attrs.get("decimals", 0)
    if not _is_float(x.dtype):
        if decimals:
            raise Unsupported("round of an integer with decimals")
        return x
    b, dt = e.b, x.dtype
    if decimals == 0:
        return Val(e.intrinsic("roundeven", x.v), dt)  # np.round: half to even
    if decimals > 0:
        f = e.fconst(dt, 10.0 ** decimals)
        return Val(b.fdiv(e.intrinsic("roundeven", b.fmul(x.v, f)), f), dt)
    f = e.fconst(dt, 10.0 ** -decimals)
    return Val(b.fmul(e.intrinsic("roundeven", b.fdiv(x.v, f)), f), dt)


@_register("frac")
def _frac(e, args, attrs, out):
    (x,) = args
    _need_float("frac", x)
    return Val(e.b.fsub(x.v, e.intrinsic("trunc", x.v)), x.dtype)


@_register("sign")
def _sign(e, args, attrs, out):
    (x,) = args
    b, dt = e.b, x.dtype
    if dt is _dt.bool:
        return x
    if _is_float(dt):
        zero = ir.Constant(x.v.type, 0.0)
        pos = b.uitofp(b.fcmp_ordered(">", x.v, zero), x.v.type)
        neg = b.uitofp(b.fcmp_ordered("<", x.v, zero), x.v.type)
        return Val(b.fsub(pos, neg), dt)  # NaN gives 0, as the kernel computes it
    zero = ir.Constant(x.v.type, 0)
    pos = b.zext(b.icmp_signed(">", x.v, zero) if not _unsigned(dt) else b.icmp_unsigned(">", x.v, zero),
                 x.v.type)
    if _unsigned(dt):
        return Val(pos, dt)
    neg = b.zext(b.icmp_signed("<", x.v, zero), x.v.type)
    return Val(b.sub(pos, neg), dt)


def _float_test(name: str, test: Callable, int_result: bool) -> Lowering:
    def lower(e, args, attrs, out):
        (x,) = args
        if not _is_float(x.dtype):
            if name == "signbit" and not _unsigned(x.dtype):
                return Val(e.b.icmp_signed("<", x.v, ir.Constant(x.v.type, 0)), _dt.bool)
            return Val(ir.Constant(_I1, int(int_result)), _dt.bool)
        return Val(test(e, x), _dt.bool)

    return lower


def _signbit_f(e, x):
    ity = ir.IntType(8 * x.dtype.itemsize)
    return e.b.icmp_signed("<", e.b.bitcast(x.v, ity), ir.Constant(ity, 0))


LOWER["isnan"] = _float_test("isnan", lambda e, x: e.b.fcmp_unordered("uno", x.v, x.v), False)
LOWER["isinf"] = _float_test(
    "isinf", lambda e, x: e.b.fcmp_ordered("==", e.intrinsic("fabs", x.v), ir.Constant(x.v.type, math.inf)), False)
LOWER["isfinite"] = _float_test(
    "isfinite", lambda e, x: e.b.fcmp_ordered("<", e.intrinsic("fabs", x.v), ir.Constant(x.v.type, math.inf)), True)
LOWER["signbit"] = _float_test("signbit", _signbit_f, False)


@_register("logical_not")
def _logical_not(e, args, attrs, out):
    (x,) = args
    return Val(e.b.not_(e.is_nonzero(x)), _dt.bool)


@_register("bitwise_not")
def _bitwise_not(e, args, attrs, out):
    (x,) = args
    if _is_float(x.dtype):
        raise Unsupported("bitwise_not of a float")
    return Val(e.b.not_(x.v), x.dtype)


@_register("clamp")
def _clamp(e, args, attrs, out):
    (x,) = args
    _refuse("clamp", x, _dt.bool)
    lo, hi = attrs.get("min"), attrs.get("max")
    if lo is None and hi is None:
        raise Unsupported("clamp without bounds (the kernel raises)")
    r = x
    if lo is not None:
        r = _max(e, r, e.const(x.dtype, lo))
    if hi is not None:
        r = _min(e, r, e.const(x.dtype, hi))
    return r


@_register("cast")
def _cast(e, args, attrs, out):
    (x,) = args
    return e.cast(x, _check(attrs["dtype"]))


@_register("expand", "clone")
def _identity(e, args, attrs, out):
    # expand: the broadcast is in the load's strides; clone: a copy into the kernel's output
    return args[0]


# ------------------------------------------------------------------------------ binary
def _arith(name: str, fop: str, iop: str, bool_op: str | None) -> Lowering:
    def lower(e, args, attrs, out):
        a, b = args
        if a.dtype is _dt.bool:
            if bool_op is None:
                raise Unsupported(f"{name} of bool")
            return Val(getattr(e.b, bool_op)(a.v, b.v), a.dtype)
        if _is_float(a.dtype):
            return Val(getattr(e.b, fop)(a.v, b.v), a.dtype)
        return Val(getattr(e.b, iop)(a.v, b.v), a.dtype)

    return lower


LOWER["add"] = _arith("add", "fadd", "add", "or_")
LOWER["sub"] = _arith("sub", "fsub", "sub", None)
LOWER["mul"] = _arith("mul", "fmul", "mul", "and_")


@_register("div")
def _div(e, args, attrs, out):
    a, b = args
    _need_float("div", a)
    return Val(e.b.fdiv(a.v, b.v), a.dtype)


def _float_divmod(e: Emitter, a: Val, b: Val) -> tuple:
    """numpy's float floor division and remainder (npy_divmod): returns (floordiv, mod) values."""
    B, dt, ty = e.b, a.dtype, a.v.type
    zero, one, half = ir.Constant(ty, 0.0), ir.Constant(ty, 1.0), ir.Constant(ty, 0.5)
    mod = B.frem(a.v, b.v)  # C fmod
    div = B.fdiv(B.fsub(a.v, mod), b.v)
    mod_nz = B.fcmp_unordered("!=", mod, zero)
    fix = B.and_(mod_nz, B.xor(B.fcmp_ordered("<", b.v, zero), B.fcmp_ordered("<", mod, zero)))
    mod2 = B.select(fix, B.fadd(mod, b.v), mod)
    div2 = B.select(fix, B.fsub(div, one), div)
    mod3 = B.select(mod_nz, mod2, e.intrinsic("copysign", zero, b.v))
    floor_div = e.intrinsic("floor", div2)
    fd = B.select(B.fcmp_ordered(">", B.fsub(div2, floor_div), half), B.fadd(floor_div, one), floor_div)
    quotient = B.fdiv(a.v, b.v)
    fd = B.select(B.fcmp_unordered("!=", div2, zero), fd, e.intrinsic("copysign", zero, quotient))
    # b == 0: the quotient is a / b and the remainder fmod(a, 0) (NaN)
    b_zero = B.fcmp_ordered("==", b.v, zero)
    return Val(B.select(b_zero, quotient, fd), dt), Val(B.select(b_zero, mod, mod3), dt)


@_register("floor_divide")
def _floor_divide(e, args, attrs, out):
    a, b = args
    if not _is_float(a.dtype):
        raise Unsupported("integer floor_divide (raises on a zero divisor)")
    return _float_divmod(e, a, b)[0]


@_register("remainder")
def _remainder(e, args, attrs, out):
    a, b = args
    if not _is_float(a.dtype):
        raise Unsupported("integer remainder (raises on a zero divisor)")
    return _float_divmod(e, a, b)[1]


@_register("fmod")
def _fmod(e, args, attrs, out):
    a, b = args
    if not _is_float(a.dtype):
        raise Unsupported("integer fmod (raises on a zero divisor)")
    return Val(e.b.frem(a.v, b.v), a.dtype)


@_register("pow")
def _pow(e, args, attrs, out):
    a, b = args
    if not _is_float(a.dtype):
        raise Unsupported("integer pow")
    return Val(mathlib.emit_pow(e.b, a.v, b.v), a.dtype)


def _max(e: Emitter, a: Val, b: Val) -> Val:
    """np.maximum: NaN propagates (llvm.maximum, not maxnum)."""
    dt = a.dtype
    if _is_float(dt):
        return Val(e.intrinsic("maximum", a.v, b.v), dt)
    if dt is _dt.bool:
        return Val(e.b.or_(a.v, b.v), dt)
    gt = e.b.icmp_unsigned(">", a.v, b.v) if _unsigned(dt) else e.b.icmp_signed(">", a.v, b.v)
    return Val(e.b.select(gt, a.v, b.v), dt)


def _min(e: Emitter, a: Val, b: Val) -> Val:
    """np.minimum: NaN propagates (llvm.minimum)."""
    dt = a.dtype
    if _is_float(dt):
        return Val(e.intrinsic("minimum", a.v, b.v), dt)
    if dt is _dt.bool:
        return Val(e.b.and_(a.v, b.v), dt)
    lt = e.b.icmp_unsigned("<", a.v, b.v) if _unsigned(dt) else e.b.icmp_signed("<", a.v, b.v)
    return Val(e.b.select(lt, a.v, b.v), dt)


LOWER["maximum"] = lambda e, args, attrs, out: _max(e, *args)
LOWER["minimum"] = lambda e, args, attrs, out: _min(e, *args)


def _compare(name: str, pred: str) -> Lowering:
    def lower(e, args, attrs, out):
        a, b = args
        if _is_float(a.dtype):
            # ordered compares are false with NaN; != is unordered (true with NaN), as in C
            cmp = e.b.fcmp_unordered(pred, a.v, b.v) if pred == "!=" else e.b.fcmp_ordered(pred, a.v, b.v)
        elif _unsigned(a.dtype):
            cmp = e.b.icmp_unsigned(pred, a.v, b.v)
        else:
            cmp = e.b.icmp_signed(pred, a.v, b.v)
        return Val(cmp, _dt.bool)

    return lower


for _n, _p in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">=")):
    LOWER[_n] = _compare(_n, _p)


def _logical(op: str) -> Lowering:
    def lower(e, args, attrs, out):
        a, b = args
        return Val(getattr(e.b, op)(e.is_nonzero(a), e.is_nonzero(b)), _dt.bool)

    return lower


LOWER["logical_and"] = _logical("and_")
LOWER["logical_or"] = _logical("or_")
LOWER["logical_xor"] = _logical("xor")


def _bitwise(name: str, op: str) -> Lowering:
    def lower(e, args, attrs, out):
        a, b = args
        if _is_float(a.dtype):
            raise Unsupported(f"{name} of a float")
        return Val(getattr(e.b, op)(a.v, b.v), a.dtype)

    return lower


LOWER["bitwise_and"] = _bitwise("bitwise_and", "and_")
LOWER["bitwise_or"] = _bitwise("bitwise_or", "or_")
LOWER["bitwise_xor"] = _bitwise("bitwise_xor", "xor")


@_register("bitwise_left_shift")
def _shl(e, args, attrs, out):
    a, b = args
    if _is_float(a.dtype) or a.dtype is _dt.bool:
        raise Unsupported(f"bitwise_left_shift of {a.dtype.name}")
    ty = a.v.type
    # numpy: a shift by >= the width (or a negative one, taken as unsigned) gives 0
    in_range = e.b.icmp_unsigned("<", b.v, ir.Constant(ty, ty.width))
    return Val(e.b.select(in_range, e.b.shl(a.v, b.v), ir.Constant(ty, 0)), a.dtype)


@_register("bitwise_right_shift")
def _shr(e, args, attrs, out):
    a, b = args
    if _is_float(a.dtype) or a.dtype is _dt.bool:
        raise Unsupported(f"bitwise_right_shift of {a.dtype.name}")
    ty = a.v.type
    in_range = e.b.icmp_unsigned("<", b.v, ir.Constant(ty, ty.width))
    if _unsigned(a.dtype):
        return Val(e.b.select(in_range, e.b.lshr(a.v, b.v), ir.Constant(ty, 0)), a.dtype)
    # a too-large shift of a signed value fills with its sign
    sign_fill = e.b.ashr(a.v, ir.Constant(ty, ty.width - 1))
    return Val(e.b.select(in_range, e.b.ashr(a.v, b.v), sign_fill), a.dtype)


@_register("where")
def _where(e, args, attrs, out):
    c, a, b = args
    a, b = e.cast(a, out), e.cast(b, out)
    return e.select(e.is_nonzero(c), a, b)


def lower_op(e: Emitter, op: str, args: list, attrs: dict, out: _dt.DType) -> Val:
    """Lower one elementwise op on already promoted ``args``; the result has dtype ``out``."""
    fn = LOWER.get(op)
    if fn is None:
        raise Unsupported(f"op {op!r} has no native lowering")
    _check(out)
    for a in args:
        _check(a.dtype)
    r = fn(e, args, attrs, out)
    if r.dtype is not out:
        raise Unsupported(f"{op}: lowering gives {r.dtype.name}, the shape rule {out.name}")
    return r


def op_steps(op: str, out: _dt.DType) -> int:
    """How many times :func:`lower_op_steps` yields for ``op`` with result dtype ``out``."""
    return mathlib.step_count(op) if out in (_dt.float32, _dt.float64) else 0


def lower_op_steps(e: Emitter, op: str, args: list, attrs: dict, out: _dt.DType):
    """:func:`lower_op` as a generator of steps (``mathlib.steps``): it yields ``op_steps(op,
    out)`` tuples of values to carry to a later loop, takes them back, and returns the Val."""
    if op_steps(op, out):
        (x,) = args
        if x.dtype is not out:
            raise Unsupported(f"{op}: argument {x.dtype.name}, result {out.name}")
        return Val((yield from mathlib.steps(e.b, op, x.v)), out)
    return lower_op(e, op, args, attrs, out)


# ============================================================================ reductions
def reduce_identity(e: Emitter, op: str, dt: _dt.DType) -> Val:
    """The starting value of an accumulator of dtype ``dt``."""
    if op == "sum":
        # +0.0: an empty sum is +0.0, and so is a sum of -0.0s (numpy and torch start from 0 too)
        return e.const(dt, 0)
    if op == "prod":
        return e.const(dt, 1)
    if op == "all":
        return Val(ir.Constant(_I1, 1), _dt.bool)
    if op == "any":
        return Val(ir.Constant(_I1, 0), _dt.bool)
    if op in ("amax", "amin"):
        big = op == "amin"
        if _is_float(dt):
            return Val(ir.Constant(reg_type(dt), math.inf if big else -math.inf), dt)
        if dt is _dt.bool:
            return Val(ir.Constant(_I1, int(big)), dt)
        info = np.iinfo(dt.np)
        return Val(ir.Constant(reg_type(dt), int(info.max if big else info.min)), dt)
    raise Unsupported(f"reduction {op!r} has no native lowering")


def reduce_prepare(e: Emitter, op: str, x: Val, acc_dtype: _dt.DType) -> Val:
    """An input element as the accumulator takes it (numpy casts before it adds or multiplies)."""
    if op in ("all", "any"):
        return Val(e.is_nonzero(x), _dt.bool)
    if op in ("amax", "amin"):
        if x.dtype is not acc_dtype:
            raise Unsupported(f"{op} from {x.dtype.name} to {acc_dtype.name}")
        return x
    return e.cast(x, acc_dtype)


def reduce_combine(e: Emitter, op: str, acc: Val, x: Val) -> Val:
    """One accumulation step ``acc (op) x`` (both in the accumulator's dtype)."""
    if op == "sum":
        return LOWER["add"](e, [acc, x], {}, acc.dtype)
    if op == "prod":
        return LOWER["mul"](e, [acc, x], {}, acc.dtype)
    if op == "amax":
        return _max(e, acc, x)
    if op == "amin":
        return _min(e, acc, x)
    if op == "all":
        return Val(e.b.and_(acc.v, x.v), _dt.bool)
    if op == "any":
        return Val(e.b.or_(acc.v, x.v), _dt.bool)
    raise Unsupported(f"reduction {op!r} has no native lowering")
