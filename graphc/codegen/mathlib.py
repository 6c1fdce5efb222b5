"""Vectorizable transcendental functions emitted as LLVM IR (no libm calls).

The PyPI llvmlite links no vector math library, so a loop calling ``expf``
stays scalar.  Each ``emit_<name>(builder, x)`` here instead emits a call to an
``alwaysinline`` internal helper (``graphc.math.<name>.<type>``) built only from
arithmetic, compares, selects, bitcasts, int<->float conversions and intrinsics
that lower to single instructions (``llvm.fmuladd``, ``llvm.fma`` for the
error-free products, ``fabs``, ``rint``, ``copysign``, ``minnum``/``maxnum``,
``sqrt``; FMA hardware assumed, as on every x86-64-v3 CPU).  The helper has no
branches, so after inlining the loop vectorizer widens it like plain
arithmetic.  ``x`` may be ``float``, ``double`` or a vector of either; the
result has x's type.  ``UNARY`` maps op names to the one-argument emitters.

    y = emit_exp(builder, x)          # x: float, double, <8 x float>, ...
    z = emit_pow(builder, x, y)

Method (constants derived by ``benchmarks/fit_mathlib.py``: weighted minimax
polynomials from a Remez exchange in 60-digit arithmetic, rounded to the
precision they are evaluated in):

* exp: x = k ln2 + r (Cody-Waite, two-part ln2), |r| <= ln2/2,
  exp(r) = 1 + r + r^2 Q(r) (float32: Q of degree 4, error 2^-26); k is read
  from the bits of x/ln2 + 1.5*2^mant, which rounds x/ln2 to an integer with
  no rint and no float->int conversion.  2^k is applied as two factors so
  results that underflow into subnormals are rounded once, or as one where the
  caller's range keeps the result normal (tanh, erf); where only the upper end
  is known to be small (sigmoid's exp(-|x|)), as 2^(k+s) and a constant 2^-s.
  Inputs are clamped first, so overflow to inf and underflow to 0 happen in the final multiply;
  the clamps pass NaN through, and NaN stays NaN to the end without a select.
  These loops are bound by the vector FMA/multiply ports (two on x86), so
  every multiply saved counts: a float32 exp is 10 or 11 of them.
* expm1: same reduction; 2^k expm1(r) + (2^k - 1) keeps small results exact.
* log: x = 2^e m, m in [sqrt(1/2), sqrt(2)) (subnormals pre-scaled), f = m - 1,
  s = f/(2+f), log(1+f) = f - f^2/2 + s (f^2/2 + s^2 L(s^2)).
* log1p: log(u) for u = 1 + x plus the rounding correction (x - (u-1))/u.
* tanh: odd polynomial for |x| < atanh(1/2); 1 - 2/(exp(2|x|) + 1) above,
  with 2|x| clamped where tanh rounds to 1 (so one scaling factor).
* sigmoid: e = exp(-|x|); 1/(1+e) for x >= 0, e/(1+e) for x < 0, with the
  rounding of 1+e and of the division corrected.
* erf: odd polynomial for |x| < 1; 1 - exp(-x^2) Q(|x| - 1) above, Q fitted
  with weight exp(-x^2) (only erf's absolute error matters there).
* sin/cos: float32 is reduced in double by a table-free Payne-Hanek: 2/pi is
  split into 29-bit chunks so x*chunk is exact, each product is reduced mod 8
  exactly, and the pieces are summed in double-double; this is exact enough
  for every finite float32.  float64 uses a four-part Cody-Waite reduction in
  double-double, exact for |x| < SIN_COS_F64_LIMIT (1e8); larger float64
  inputs give NaN (a vector Payne-Hanek for 53-bit inputs needs tables).
  ``emit_sin_fast``/``emit_cos_fast`` reduce float32 in float32 arithmetic
  (three-part pi/2, exact fma): about 5x faster, exact for |x| <
  SIN_COS_F32_FAST_LIMIT (2^20) and NaN beyond, so a kernel can run them and
  redo the rare out-of-range elements with the full versions.
* pow: exp(y log|x|) with log in double-double and the product y*log|x| kept
  as a double-double; float32 runs the float64 algorithm and rounds once.
  Special cases follow C99/numpy (x**0 = 1, 1**y = 1, negative x with integer
  y, signed zeros, infinities).
"""
from __future__ import annotations

import math
import struct
from fractions import Fraction
from typing import Callable, Sequence

from llvmlite import ir

__all__ = [
    "emit_exp", "emit_expm1", "emit_log", "emit_log1p", "emit_tanh", "emit_sigmoid",
    "emit_erf", "emit_sin", "emit_cos", "emit_pow", "emit_sqrt", "UNARY", "HELPER_PREFIX",
    "emit_sin_fast", "emit_cos_fast", "SIN_COS_F64_LIMIT", "SIN_COS_F32_FAST_LIMIT",
    "build_map_kernel", "steps", "step_count",
]

HELPER_PREFIX = "graphc.math."

# Weighted minimax coefficients, lowest power first (see benchmarks/fit_mathlib.py).
_COEFFS_HEX = {
    "exp_q_f32": ('0x1.0000000000000p-1', '0x1.5555540000000p-3', '0x1.5554aa0000000p-5', '0x1.11118e0000000p-7', '0x1.6d78d80000000p-10', '0x1.a0332e0000000p-13'),
    "exp_p_f32": ('0x1.fffffe0000000p-2', '0x1.5554aa0000000p-3', '0x1.5556800000000p-5', '0x1.122d000000000p-7', '0x1.6beb2e0000000p-10'),
    "exp_q_f64": ('0x1.0000000000000p-1', '0x1.5555555555559p-3', '0x1.555555555553cp-5', '0x1.111111110f4b4p-7', '0x1.6c16c16c1fb50p-10', '0x1.a01a01b0c8c8dp-13', '0x1.a01a0179911e8p-16', '0x1.71ddf5d9b5c46p-19', '0x1.27e53886a1046p-22', '0x1.af636ef518b07p-26', '0x1.1ee8705543563p-29'),
    "log_l_f32": ('0x1.55557c0000000p-1', '0x1.995d840000000p-2', '0x1.32063a0000000p-2'),
    "log_l_f64": ('0x1.5555555555597p-1', '0x1.999999997e3e2p-2', '0x1.249249437956ep-2', '0x1.c71c50b6951e3p-3', '0x1.74668847cb261p-3', '0x1.3999f74ca2f14p-3', '0x1.2f57211ddc2b0p-3'),
    "log_p1_pow": ('0x1.9999999999995p-2', '0x1.249249249310fp-2', '0x1.c71c71c5669a0p-3', '0x1.745d183ea61e0p-3', '0x1.3b135f7002f38p-3', '0x1.11213327d56b0p-3', '0x1.de1f991adaf89p-4', '0x1.ebb5da54189cfp-4'),
    "tanh_t_f32": ('-0x1.55554a0000000p-2', '0x1.110d280000000p-3', '-0x1.b928d20000000p-5', '0x1.5940100000000p-6', '-0x1.9b42900000000p-8'),
    "tanh_t_f64": ('-0x1.555555555554fp-2', '0x1.11111111107aap-3', '-0x1.ba1ba1b97e39cp-5', '0x1.664f4859995c6p-6', '-0x1.226e2f19d7c6dp-7', '0x1.d6d29c75afb77p-9', '-0x1.7d8fdf3174498p-10', '0x1.34840fdca2dadp-11', '-0x1.e973bdf97455dp-13', '0x1.5d8004c5f6f0cp-14', '-0x1.472e8f349e2f9p-16'),
    "erf_e_f32": ('0x1.06eba80000000p-3', '-0x1.81273e0000000p-2', '0x1.ce2cf80000000p-4', '-0x1.b7f90e0000000p-6', '0x1.5405b20000000p-8', '-0x1.a3f7000000000p-11', '0x1.496a320000000p-14'),
    "erf_e_f64": ('0x1.06eba8214db69p-3', '-0x1.812746b0379e6p-2', '0x1.ce2f21a042b20p-4', '-0x1.b82ce3128499cp-6', '0x1.565bcd0db02e4p-8', '-0x1.c02db3d8ed24cp-11', '0x1.f9a321a11dd02p-14', '-0x1.f4d1df394a7b5p-17', '0x1.b9def19de0ef0p-20', '-0x1.5f1d36c17e4e8p-23', '0x1.f7a41224a7401p-27', '-0x1.386ac0a46c098p-30', '0x1.0579aa593ee1ep-34'),
    "erf_q_f32": ('0x1.b5d8780000000p-2', '-0x1.17c4aa0000000p-2', '0x1.3c1cd80000000p-3', '-0x1.43d5a80000000p-4', '0x1.2e41cc0000000p-5', '-0x1.f0254e0000000p-7', '0x1.436a5c0000000p-8', '-0x1.1778040000000p-10', '0x1.c5ce0a0000000p-14'),
    "erf_q_f64": ('0x1.b5d8780f956b2p-2', '-0x1.17c4e3f17bf97p-2', '0x1.3c27283c2c5bfp-3', '-0x1.44837f87a2546p-4', '0x1.33cad0c74488bp-5', '-0x1.10fceeff04a25p-6', '0x1.c8cb57dcdb04ap-8', '-0x1.6af07d088c3a6p-9', '0x1.1347712371e63p-10', '-0x1.90245a6f63eefp-12', '0x1.171d01ba481a4p-13', '-0x1.749bc189c2662p-15', '0x1.d6b5d702ae2aap-17', '-0x1.1317ee05a1456p-18', '0x1.1f981b4e09169p-20', '-0x1.01c0d4d6ff53fp-22', '0x1.793e97691aa57p-25', '-0x1.a9befe9e22c97p-28', '0x1.5752faed9bafcp-31', '-0x1.5d0ea42cf2965p-35', '0x1.4e181bae0d848p-40'),
    "sin_s_f32": ('-0x1.5555554bb42cdp-3', '0x1.111107e1a1217p-7', '-0x1.a00f11bee1a32p-13', '0x1.6cb8025992fa5p-19'),
    "cos_c_f32": ('0x1.5555554e4d658p-5', '-0x1.6c16b796056b6p-10', '0x1.a0107eae0f828p-16', '-0x1.240b051c15635p-22'),
    "sin_s_f32w": ('-0x1.5555560000000p-3', '0x1.1111080000000p-7', '-0x1.a00ea20000000p-13', '0x1.6c9dd00000000p-19'),
    "cos_c_f32w": ('0x1.5555480000000p-5', '-0x1.6c0b520000000p-10', '0x1.99ab100000000p-16'),
    "sin_s_f64": ('-0x1.5555555555555p-3', '0x1.111111111110ap-7', '-0x1.a01a01a018826p-13', '0x1.71de3a5301097p-19', '-0x1.ae64524f42946p-26', '0x1.6120646c2c4ecp-33', '-0x1.aa8e6b7f2b3fbp-41'),
    "cos_c_f64": ('0x1.5555555555549p-5', '-0x1.6c16c16c14c8ap-10', '0x1.a01a019c37447p-16', '-0x1.27e4f7b23907ap-22', '0x1.1ee9b0b6b97e1p-29', '-0x1.8f90254e42d95p-37'),
}
_COEFFS = {k: tuple(float.fromhex(c) for c in v) for k, v in _COEFFS_HEX.items()}
_COEFFS["exp_p_f64"] = _COEFFS["exp_q_f64"]  # float64 exp needs expm1's full degree


def _split(value: float, bits: int) -> tuple[float, float]:
    """value ~= hi + lo with hi keeping only ``bits`` significant bits."""
    m, e = math.frexp(value)
    hi = math.ldexp(math.floor(m * 2.0 ** bits), e - bits)
    return hi, value - hi


def _f32(v: float) -> float:
    return struct.unpack("f", struct.pack("f", v))[0]


_LN2 = math.log(2.0)
_LN2_LO_EXACT = 2.3190468138462996e-17  # ln2 - RN64(ln2) (mpmath)

# Two-part ln2 whose high part times any exponent k is exact: 16 bits for
# float32 (|k| < 2^8), 42 bits for float64 (|k| < 2^11).
_LN2_HI_F32, _ = _split(_LN2, 16)
_LN2_LO_F32 = _f32(_LN2 - _LN2_HI_F32)
_LN2_HI_F64, _r = _split(_LN2, 42)
_LN2_LO_F64 = _r + _LN2_LO_EXACT


# Digits of 2/pi and pi/2 (computed with mpmath by benchmarks/fit_mathlib.py).
_TWO_OVER_PI_240 = 0xa2f9836e4e441529fc2757d1f534ddc0db6295993c439041fe5163abdebb  # floor(2/pi * 2^240)
_PIO2_160 = 0xc90fdaa22168c234c4c6628b80dc1cd129024e08  # floor(pi/2 * 2^159)


def _two_over_pi_chunks(bits: int, count: int) -> tuple[float, ...]:
    """2/pi as ``count`` doubles of ``bits`` bits each (bit i*bits+1 onwards)."""
    out = []
    for i in range(count):
        shift = 240 - bits * (i + 1)
        chunk = (_TWO_OVER_PI_240 >> shift) & ((1 << bits) - 1)
        out.append(math.ldexp(chunk, -bits * (i + 1)))
    return tuple(out)


def _pio2_parts() -> tuple[float, float, float, float]:
    """pi/2 as three 27-bit doubles plus a rounded remainder (about 134 bits)."""
    parts = []
    rest = _PIO2_160
    for i in range(3):
        shift = 160 - 27 * (i + 1)
        top = rest >> shift
        parts.append(math.ldexp(top, shift - 159))
        rest -= top << shift
    parts.append(math.ldexp(rest, -159))
    return tuple(parts)


def _pio2_f32_parts() -> tuple[float, float, float]:
    """pi/2 as the sum of three float32 values (each the rounded remainder)."""
    rest = Fraction(_PIO2_160, 2 ** 159)
    parts = []
    for _ in range(3):
        parts.append(_f32(float(rest)))
        rest -= Fraction(parts[-1])
    return tuple(parts)


class _Ops:
    """LLVM IR emission helpers for one float type (scalar or vector)."""

    def __init__(self, builder: ir.IRBuilder, ty: ir.Type):
        self.b = builder
        self.ty = ty
        self.lanes = ty.count if isinstance(ty, ir.VectorType) else None
        scalar = ty.element if self.lanes else ty
        if isinstance(scalar, ir.FloatType):
            self.width, self.mant, self.bias, self.tag = 32, 23, 127, "f32"
        elif isinstance(scalar, ir.DoubleType):
            self.width, self.mant, self.bias, self.tag = 64, 52, 1023, "f64"
        else:
            raise TypeError(f"mathlib: expected a float, double or vector of them, got {ty}")
        self.scalar = scalar
        iscalar = ir.IntType(self.width)
        self.ity = ir.VectorType(iscalar, self.lanes) if self.lanes else iscalar

    # -- constants and types -------------------------------------------------
    def c(self, v: float) -> ir.Constant:
        if self.lanes:
            return ir.Constant(self.ty, [v] * self.lanes)
        return ir.Constant(self.ty, v)

    def ic(self, v: int) -> ir.Constant:
        if self.lanes:
            return ir.Constant(self.ity, [v] * self.lanes)
        return ir.Constant(self.ity, v)

    def retyped(self, scalar: ir.Type) -> "_Ops":
        """The same helpers for another element type with the same lane count."""
        ty = ir.VectorType(scalar, self.lanes) if self.lanes else scalar
        return _Ops(self.b, ty)

    # -- intrinsics ----------------------------------------------------------
    def _intr(self, name: str, *args):
        mangle = f"v{self.lanes}{self.tag}" if self.lanes else self.tag
        module = self.b.module
        full = f"llvm.{name}.{mangle}"
        fn = module.globals.get(full)
        if fn is None:
            fn = ir.Function(module, ir.FunctionType(self.ty, [self.ty] * len(args)), name=full)
        return self.b.call(fn, list(args))

    def fma(self, a, b, c):
        """a*b + c via llvm.fmuladd: fused where the CPU has FMA, never a libm
        call; used where fusing or not only changes the last bit."""
        return self._intr("fmuladd", a, b, c)

    def fma_exact(self, a, b, c):
        """a*b + c rounded once (llvm.fma), for error-free transformations."""
        return self._intr("fma", a, b, c)

    def or_sign(self, mag, x):
        """copysign(mag, x) for a mag whose sign bit is clear: one and + one or."""
        sign = self.b.and_(self.to_bits(x), self.ic(1 << (self.width - 1)))
        return self.from_bits(self.b.or_(self.to_bits(mag), sign))

    def fabs(self, a):
        return self._intr("fabs", a)

    def rint(self, a):
        return self._intr("rint", a)

    def copysign(self, mag, sign):
        return self._intr("copysign", mag, sign)

    def minnum(self, a, b):
        return self._intr("minnum", a, b)

    def maxnum(self, a, b):
        return self._intr("maxnum", a, b)

    def sqrt(self, a):
        return self._intr("sqrt", a)

    # -- arithmetic ----------------------------------------------------------
    def add(self, a, b):
        return self.b.fadd(a, b)

    def sub(self, a, b):
        return self.b.fsub(a, b)

    def mul(self, a, b):
        return self.b.fmul(a, b)

    def div(self, a, b):
        return self.b.fdiv(a, b)

    def neg(self, a):
        return self.b.fneg(a)

    def select(self, cond, a, b):
        return self.b.select(cond, a, b)

    def lt(self, a, b):
        return self.b.fcmp_ordered("<", a, b)

    def gt(self, a, b):
        return self.b.fcmp_ordered(">", a, b)

    def eq(self, a, b):
        return self.b.fcmp_ordered("==", a, b)

    def isnan(self, a):
        return self.b.fcmp_unordered("uno", a, a)

    def clamp(self, a, lo: float, hi: float):
        """min(max(a, lo), hi); a NaN becomes ``lo`` (callers re-select NaN)."""
        return self.minnum(self.maxnum(a, self.c(lo)), self.c(hi))

    def clamp_keep_nan(self, a, lo: float | None, hi: float | None):
        """a clamped to [lo, hi] (None: open on that side) with NaN passed through.

        Written as compare+select in the operand order x86's maxps/minps implement,
        so each bound is one instruction."""
        if lo is not None:
            a = self.select(self.lt(a, self.c(lo)), self.c(lo), a)
        if hi is not None:
            a = self.select(self.gt(a, self.c(hi)), self.c(hi), a)
        return a

    def poly(self, x, coeffs: Sequence[float]):
        """Horner evaluation of sum(coeffs[i] * x**i)."""
        acc = self.c(coeffs[-1])
        for cf in reversed(coeffs[:-1]):
            acc = self.fma(acc, x, self.c(cf))
        return acc

    def two_sum(self, a, b):
        """(s, e) with s = fl(a + b) and s + e == a + b exactly."""
        s = self.add(a, b)
        bb = self.sub(s, a)
        e = self.add(self.sub(a, self.sub(s, bb)), self.sub(b, bb))
        return s, e

    def two_prod(self, a, b):
        """(p, e) with p = fl(a * b) and p + e == a * b exactly."""
        p = self.mul(a, b)
        return p, self.fma_exact(a, b, self.neg(p))

    # -- bit-level -------------------------------------------------------------
    def to_bits(self, a):
        return self.b.bitcast(a, self.ity)

    def from_bits(self, i):
        return self.b.bitcast(i, self.ty)

    def to_int(self, a):
        """fptosi to the same-width int; callers guarantee a finite argument
        within int32 range (else poison)."""
        if self.width == 32:
            return self.b.fptosi(a, self.ity)
        # through i32: AVX2 has no packed double -> int64 conversion
        i32 = ir.VectorType(ir.IntType(32), self.lanes) if self.lanes else ir.IntType(32)
        return self.b.sext(self.b.fptosi(a, i32), self.ity)

    def to_float(self, i):
        return self.b.sitofp(i, self.ty)

    def pow2(self, k):
        """2.0**k for an integer vector k in the normal exponent range."""
        biased = self.b.add(k, self.ic(self.bias))
        return self.from_bits(self.b.shl(biased, self.ic(self.mant)))

    def scale2(self, v, k):
        """v * 2**k for |k| up to about twice the exponent range, rounded once."""
        k1 = self.b.ashr(k, self.ic(1))
        k2 = self.b.sub(k, k1)
        return self.mul(self.mul(v, self.pow2(k1)), self.pow2(k2))


# --- steps -------------------------------------------------------------------------
# A long function is also written as a generator of *steps*: at each ``yield`` it hands
# over the values it still needs, and it continues with the values sent back.  Run
# straight (:func:`_straight`) the same values come back and the code is one chain; a
# kernel can instead end its loop at a yield, keep the values in a small buffer and go
# on in a second loop over the same elements (:mod:`graphc.codegen.staged`), which cuts
# the long dependency chain that limits these loops on out-of-order CPUs.

def _straight(gen):
    """Run a step generator to its end, sending back each yielded tuple unchanged."""
    try:
        vals = next(gen)
        while True:
            vals = gen.send(vals)
    except StopIteration as stop:
        return stop.value


def _carrying(gen, *extra):
    """Delegate to step generator ``gen`` while carrying ``extra`` values across its steps;
    returns (gen's result, the extra values as they came back)."""
    try:
        vals = next(gen)
        while True:
            back = yield tuple(vals) + extra
            vals, extra = back[:len(vals)], tuple(back[len(vals):])
            vals = gen.send(vals)
    except StopIteration as stop:
        return stop.value, extra


# --- the algorithms ------------------------------------------------------------
# Each takes an _Ops and LLVM values and returns an LLVM value; they compose
# freely and all of them end up in one straight-line helper body.

def _ln2(o: _Ops) -> tuple[float, float]:
    return (_LN2_HI_F32, _LN2_LO_F32) if o.width == 32 else (_LN2_HI_F64, _LN2_LO_F64)


def _exp_split(o: _Ops, x, lo: float | None, hi: float | None, tail=None):
    """Clamp x to [lo, hi] (None: no bound on that side) and split it as x = k ln2 + r
    (``tail``: the low part of a double-double x, added to r).  Returns (r, kb): kb holds k
    in its low mantissa bits (x/ln2 + 1.5*2^mant rounds x/ln2 to an integer there), which
    skips a rint and a float->int conversion and is defined for NaN: a NaN x stays NaN
    through the NaN-keeping clamp and r, so no select is needed to restore it."""
    xc = o.clamp_keep_nan(x, lo, hi)
    shifter = 1.5 * 2.0 ** o.mant
    kb = o.fma(xc, o.c(1.0 / _LN2), o.c(shifter))
    kf = o.sub(kb, o.c(shifter))
    ln2_hi, ln2_lo = _ln2(o)
    r = o.fma(kf, o.c(-ln2_hi), xc)
    r = o.fma(kf, o.c(-ln2_lo), r)
    if tail is not None:
        r = o.add(r, tail)
    return r, kb


def _exp_poly(o: _Ops, r, kb, coeffs: str = "exp_q"):
    """(k as an int vector, expm1(r)) from :func:`_exp_split`'s pair."""
    k = o.b.sub(o.to_bits(kb), o.to_bits(o.c(1.5 * 2.0 ** o.mant)))
    q = o.poly(r, _COEFFS[f"{coeffs}_{o.tag}"])
    return k, o.fma(o.mul(r, r), q, r)


def _exp_reduce(o: _Ops, x, lo: float | None, hi: float | None, coeffs: str = "exp_q", tail=None):
    """(k, expm1(r)) for x = k ln2 + r, x clamped to [lo, hi] (see :func:`_exp_split`)."""
    return _exp_poly(o, *_exp_split(o, x, lo, hi, tail), coeffs)


# clamps putting overflow/underflow into the final scaling: exp(hi) = inf and
# exp(lo) rounds to 0 in the target precision.
_EXP_RANGE = {32: (-104.0, 89.0), 64: (-746.0, 710.0)}


def _exp_steps(o: _Ops, x):
    lo, hi = _EXP_RANGE[o.width]
    return (yield from _exp_clamped_steps(o, x, lo, hi))


def _exp_clamped_steps(o: _Ops, x, lo: float | None, hi: float | None, x_min: float | None = None,
                       x_max: float | None = None):
    """exp(x) for callers that know x's range: x is clamped to [lo, hi], a side given as
    None is not clamped (the caller guarantees x stays inside _EXP_RANGE there).  When
    the smallest possible x (``x_min``, default lo) keeps exp(x) normal, the result is
    scaled by one power of two; when it does not, a known largest x (``x_max``, default
    hi) small enough lets the scaling still be one normal power of two followed by a
    constant one.  Steps (see :func:`steps`): the range reduction, then the polynomial
    and the scaling."""
    r, kb = yield _exp_split(o, x, lo, hi)
    k, em = _exp_poly(o, r, kb, "exp_p")
    x_min = lo if x_min is None else x_min
    x_max = hi if x_max is None else x_max
    if x_min is not None and x_min > -(o.bias - 2) * _LN2:
        s = o.pow2(k)
        return o.fma(em, s, s)
    # (1 + em) 2^k rounds once while normal, and again only on the way into subnormals
    if x_min is not None and x_max is not None:
        shift = (1 - o.bias) - math.floor(x_min / _LN2 - 0.5)  # 2^(k + shift) is normal
        if x_max / _LN2 + 1 + shift < o.bias:
            s1 = o.pow2(o.b.add(k, o.ic(shift)))
            return o.mul(o.fma(em, s1, s1), o.c(2.0 ** -shift))
    k1 = o.b.ashr(k, o.ic(1))
    s1, s2 = o.pow2(k1), o.pow2(o.b.sub(k, k1))
    return o.mul(o.fma(em, s1, s1), s2)


def _exp_clamped(o: _Ops, x, lo: float | None, hi: float | None, x_min: float | None = None):
    return _straight(_exp_clamped_steps(o, x, lo, hi, x_min))


def _expm1(o: _Ops, x):
    # below lo, expm1 rounds to -1; above kbig the "- 1" is under half an ulp
    lo = -20.0 if o.width == 32 else -40.0
    kbig = o.mant + 1
    _, hi = _EXP_RANGE[o.width]
    k, em = _exp_reduce(o, x, lo, hi)
    big = o.b.icmp_signed(">", k, o.ic(kbig))
    t = o.pow2(o.b.select(big, o.ic(kbig), k))
    y_mid = o.fma(t, em, o.sub(t, o.c(1.0)))
    y_big = o.scale2(o.add(o.c(1.0), em), k)
    y = o.select(big, y_big, y_mid)
    return o.select(o.eq(x, o.c(0.0)), x, y)  # keeps -0.0


def _log_split(o: _Ops, x):
    """For finite x > 0: (e as float, f) with x = 2^e (1 + f), 1+f in [sqrt(1/2), sqrt(2))."""
    sub_shift = 25 if o.width == 32 else 54
    is_sub = o.lt(x, o.c(2.0 ** (1 - o.bias)))
    xs = o.select(is_sub, o.mul(x, o.c(2.0 ** sub_shift)), x)
    e_adj = o.b.select(is_sub, o.ic(-sub_shift), o.ic(0))
    one_bits = o.bias << o.mant
    if o.width == 32:
        sqrt_half_bits = struct.unpack("<I", struct.pack("<f", math.sqrt(0.5)))[0]
    else:
        sqrt_half_bits = struct.unpack("<Q", struct.pack("<d", math.sqrt(0.5)))[0]
    ix = o.b.add(o.to_bits(xs), o.ic(one_bits - sqrt_half_bits))
    e = o.b.sub(o.b.ashr(ix, o.ic(o.mant)), o.ic(o.bias))
    e = o.b.add(e, e_adj)
    m_bits = o.b.add(o.b.and_(ix, o.ic((1 << o.mant) - 1)), o.ic(sqrt_half_bits))
    f = o.sub(o.from_bits(m_bits), o.c(1.0))
    return o.to_float(e), f


def _log1p_reduced(o: _Ops, f):
    """log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]."""
    s = o.div(f, o.add(o.c(2.0), f))
    z = o.mul(s, s)
    r = o.mul(z, o.poly(z, _COEFFS[f"log_l_{o.tag}"]))
    hfsq = o.mul(o.c(0.5), o.mul(f, f))
    return o.sub(f, o.sub(hfsq, o.mul(s, o.add(hfsq, r))))


def _log_finish(o: _Ops, ef, tail):
    """e*ln2 + tail with the exponent term split so e*ln2_hi is exact."""
    ln2_hi, ln2_lo = _ln2(o)
    return o.fma(ef, o.c(ln2_hi), o.fma(ef, o.c(ln2_lo), tail))


def _log_specials(o: _Ops, x, y):
    """log-like edge cases: x < 0 or NaN -> NaN, 0 -> -inf, inf -> inf."""
    y = o.select(o.eq(x, o.c(math.inf)), x, y)
    y = o.select(o.eq(x, o.c(0.0)), o.c(-math.inf), y)
    return o.select(o.b.fcmp_unordered("<", x, o.c(0.0)), o.c(math.nan), y)


def _log(o: _Ops, x):
    ef, f = _log_split(o, x)
    return _log_specials(o, x, _log_finish(o, ef, _log1p_reduced(o, f)))


def _log1p(o: _Ops, x):
    u = o.add(o.c(1.0), x)
    ef, f = _log_split(o, u)
    # the rounding error of 1 + x, relative to u (fdlibm's correction term)
    big = o.gt(ef, o.c(0.0))
    corr = o.select(big, o.sub(o.c(1.0), o.sub(u, x)), o.sub(x, o.sub(u, o.c(1.0))))
    corr = o.div(corr, u)
    y = _log_finish(o, ef, o.add(_log1p_reduced(o, f), corr))
    y = _log_specials(o, u, y)
    return o.select(o.eq(x, o.c(0.0)), x, y)  # keeps -0.0


_TANH_SMALL = 0.5493061443340549  # atanh(1/2): above it 2/(e+1) <= 1/2, no cancellation


# 2|x| beyond which tanh rounds to 1 with margin (tanh(9.01) does in float32, tanh(19.06) in float64)
_TANH_EXP_HI = {32: 20.0, 64: 40.0}


def _tanh_steps(o: _Ops, x):
    # the small-|x| polynomial first: measured the faster order, one loop or in stages
    ax = o.fabs(x)
    t = o.mul(ax, ax)
    y_small = o.fma(ax, o.mul(t, o.poly(t, _COEFFS[f"tanh_t_{o.tag}"])), ax)
    e, (x, y_small) = yield from _carrying(
        _exp_clamped_steps(o, o.add(ax, ax), None, _TANH_EXP_HI[o.width], x_min=0.0), x, y_small)
    x, e, y_small = yield (x, e, y_small)
    y_big = o.sub(o.c(1.0), o.div(o.c(2.0), o.add(e, o.c(1.0))))
    return o.or_sign(o.select(o.lt(o.fabs(x), o.c(_TANH_SMALL)), y_small, y_big), x)


def _sigmoid_steps(o: _Ops, x):
    # exp(-|x|) <= 1: only the lower clamp; a NaN x stays NaN through it and the division
    e, (x,) = yield from _carrying(
        _exp_clamped_steps(o, o.neg(o.fabs(x)), _EXP_RANGE[o.width][0], None, x_max=0.0), x)
    x, e = yield (x, e)
    num = o.select(o.lt(x, o.c(0.0)), e, o.c(1.0))
    # num / (1 + e) with 1 + e kept exactly as d + d_lo, so the only roundings
    # are exp's and the final one: q + (num - q (d + d_lo)) / d
    d = o.add(o.c(1.0), e)
    d_lo = o.add(o.sub(o.c(1.0), d), e)       # exact: 1 >= e
    q = o.div(num, d)
    res = o.fma(o.neg(q), d_lo, o.fma_exact(o.neg(q), d, num))
    inv_d = o.fma(d, o.c(-8.0 / 17.0), o.c(24.0 / 17.0))  # 1/d to 6% on [1, 2]: enough here
    return o.fma(res, inv_d, q)


# erf rounds to 1 beyond these (erfc < half an ulp of 1)
_ERF_ONE = {32: 4.0, 64: 6.0}


def _erf(o: _Ops, x):
    ax = o.fabs(x)
    t = o.mul(ax, ax)
    y_small = o.fma(ax, o.poly(t, _COEFFS[f"erf_e_{o.tag}"]), ax)
    axc = o.minnum(ax, o.c(_ERF_ONE[o.width]))
    q = o.poly(o.sub(axc, o.c(1.0)), _COEFFS[f"erf_q_{o.tag}"])
    e = _exp_clamped(o, o.neg(o.mul(axc, axc)), None, None, x_min=-_ERF_ONE[o.width] ** 2)
    y_big = o.sub(o.c(1.0), o.mul(e, q))
    y = o.copysign(o.select(o.lt(ax, o.c(1.0)), y_small, y_big), x)
    return o.select(o.isnan(x), x, y)


_TWO_OVER_PI_CHUNKS = _two_over_pi_chunks(29, 7)
_PIO2 = _pio2_parts()
_PIO2_F32 = _pio2_f32_parts()


def _reduce_f32_in_f64(d: _Ops, x):
    """For double x holding a float32: (quadrant int, r) with x = q pi/2 + r.

    Only four consecutive chunks of 2/pi matter for a given exponent: products
    with earlier chunks are multiples of 8 (no effect mod 4 quadrants), later
    ones are below 2^-61.  The window starts at chunk 0, 1, 2 or 3 for
    |x| < 2^55, < 2^84, < 2^113 and above; the chunks are picked by selects.
    """
    ax = d.fabs(x)
    g1, g2, g3 = (d.b.fcmp_ordered(">=", ax, d.c(2.0 ** e)) for e in (55, 84, 113))
    c = _TWO_OVER_PI_CHUNKS
    s_hi = d.c(0.0)
    s_lo = d.c(0.0)
    for m in range(4):
        chunk = d.select(g3, d.c(c[m + 3]), d.select(g2, d.c(c[m + 2]),
                                                     d.select(g1, d.c(c[m + 1]), d.c(c[m]))))
        p = d.mul(x, chunk)                                      # exact: 24 x 29 bits
        q = d.fma(d.rint(d.mul(p, d.c(0.125))), d.c(-8.0), p)    # p mod 8, exact
        s_hi, err = d.two_sum(s_hi, q)
        s_lo = d.add(s_lo, err)
    n = d.rint(s_hi)
    f = d.add(d.sub(s_hi, n), s_lo)
    r = d.mul(f, d.c(math.pi / 2))
    n = d.select(d.isnan(n), d.c(0.0), n)  # inf/NaN input: keep fptosi defined
    return d.to_int(n), r


_SIN_COS_F64_KMAX = 2.0 ** 26
# float64 sin/cos return NaN for |x| >= this (the reduction is exact below it);
# a code generator needing larger arguments must route them elsewhere.
SIN_COS_F64_LIMIT = 1.0e8
# emit_sin_fast/emit_cos_fast (float32 only) are exact below this, NaN above.
SIN_COS_F32_FAST_LIMIT = 2.0 ** 20


def _reduce_f64(d: _Ops, x):
    """Cody-Waite in double-double; exact products while |k| < 2^26."""
    kf = d.rint(d.mul(x, d.c(2.0 / math.pi)))
    kf = d.clamp(kf, -_SIN_COS_F64_KMAX, _SIN_COS_F64_KMAX)
    c1, c2, c3, c4 = _PIO2
    hi = d.fma(kf, d.c(-c1), x)                  # exact (Sterbenz)
    h2, e2 = d.two_sum(hi, d.mul(kf, d.c(-c2)))
    h3, e3 = d.two_sum(h2, d.mul(kf, d.c(-c3)))
    lo = d.fma(kf, d.c(-c4), d.add(e2, e3))
    r = d.add(h3, lo)
    return d.to_int(kf), r, d.sub(lo, d.sub(r, h3))


def _sin_cos_poly(d: _Ops, r, tag: str):
    """(sin r, cos r) for |r| <= pi/4 (slightly beyond is fine)."""
    t = d.mul(r, r)
    s = d.fma(d.mul(r, t), d.poly(t, _COEFFS[f"sin_s_{tag}"]), r)
    tail = d.mul(d.mul(t, t), d.poly(t, _COEFFS[f"cos_c_{tag}"]))
    if tag == "f32":  # evaluated in double: plain evaluation is plenty
        return s, d.add(d.fma(t, d.c(-0.5), d.c(1.0)), tail)
    # 1 - t/2 rounds by up to half an ulp and t = r*r carries its own error:
    # add both back (the fdlibm kernel's compensation, with an exact r*r).
    t_lo = d.fma_exact(r, r, d.neg(t))
    hz = d.mul(t, d.c(0.5))
    w = d.sub(d.c(1.0), hz)
    corr = d.sub(d.sub(d.c(1.0), w), hz)
    corr = d.add(corr, d.fma(t_lo, d.c(-0.5), tail))
    return s, d.add(w, corr)


def _by_quadrant(d: _Ops, q, s, c, want_cos: bool):
    """sin or cos of x = q pi/2 + r from s = sin r, c = cos r."""
    if want_cos:
        q = d.b.add(q, d.ic(1))  # cos(x) = sin(x + pi/2)
    odd = d.b.icmp_signed("!=", d.b.and_(q, d.ic(1)), d.ic(0))
    neg = d.b.icmp_signed("!=", d.b.and_(q, d.ic(2)), d.ic(0))
    v = d.select(odd, c, s)
    return d.select(neg, d.neg(v), v)


def _sin_or_cos(o: _Ops, x, want_cos: bool):
    if o.width == 32:
        d = o.retyped(ir.DoubleType())
        xd = o.b.fpext(x, d.ty)
        q, r = _reduce_f32_in_f64(d, xd)
        s, c = _sin_cos_poly(d, r, "f32")
    else:
        d = o
        q, r, r_lo = _reduce_f64(d, x)
        s, c = _sin_cos_poly(d, r, "f64")
        # first-order correction for the low part of the reduced argument
        s, c = d.fma(r_lo, c, s), d.fma(d.neg(r_lo), s, c)
    v = _by_quadrant(d, q, s, c, want_cos)
    if o.width == 32:
        v = o.b.fptrunc(v, o.ty)
    if not want_cos:
        v = o.select(o.eq(x, o.c(0.0)), x, v)  # keeps -0.0
    # inf and NaN give NaN, and so do float64 inputs past the exact reduction
    limit = math.inf if o.width == 32 else SIN_COS_F64_LIMIT
    return o.select(o.lt(o.fabs(x), o.c(limit)), v, o.c(math.nan))


def _sin_or_cos_fast_f32(o: _Ops, x, want_cos: bool):
    """float32 sin/cos in float32 arithmetic, exact for |x| < SIN_COS_F32_FAST_LIMIT."""
    c1, c2, c3 = _PIO2_F32
    ax = o.fabs(x)
    ok = o.lt(ax, o.c(SIN_COS_F32_FAST_LIMIT))
    kf = o.rint(o.mul(o.select(ok, x, o.c(0.0)), o.c(2.0 / math.pi)))
    r = o.fma_exact(kf, o.c(-c1), x)
    r = o.fma_exact(kf, o.c(-c2), r)
    r = o.fma_exact(kf, o.c(-c3), r)
    t = o.mul(r, r)
    s = o.fma(o.mul(r, t), o.poly(t, _COEFFS["sin_s_f32w"]), r)
    c = o.add(o.fma(t, o.c(-0.5), o.c(1.0)), o.mul(o.mul(t, t), o.poly(t, _COEFFS["cos_c_f32w"])))
    v = _by_quadrant(o, o.to_int(kf), s, c, want_cos)
    if not want_cos:
        v = o.select(o.eq(x, o.c(0.0)), x, v)
    return o.select(ok, v, o.c(math.nan))


# --- pow -----------------------------------------------------------------------

_TWO_THIRDS_HI = 2.0 / 3.0
_TWO_THIRDS_LO = 3.700743415417188e-17  # 2/3 - RN64(2/3) (mpmath)


def _log_dd(d: _Ops, ax):
    """log(ax) as a double-double (hi, lo) for finite ax > 0, ~2^-62 relative.

    log(1+f) = 2s + (2/3)s^3 + s^5 P1(s^2) with s = f/(2+f) carried as
    s_hi + s_lo; the first two terms are summed exactly, the rest is small.
    """
    ef, f = _log_split(d, ax)
    dh = d.add(d.c(2.0), f)
    dl = d.sub(f, d.sub(dh, d.c(2.0)))          # 2 + f == dh + dl exactly
    s_hi = d.div(f, dh)
    num = d.fma_exact(d.neg(s_hi), dh, f)         # exact division residual
    num = d.fma(d.neg(s_hi), dl, num)
    s_lo = d.div(num, dh)
    # (2/3) s_hi^3 as a double-double
    z, z_lo = d.two_prod(s_hi, s_hi)
    s3, s3_e = d.two_prod(s_hi, z)
    s3_lo = d.fma(s_hi, z_lo, s3_e)
    t3, t3_e = d.two_prod(d.c(_TWO_THIRDS_HI), s3)
    t3_lo = d.fma(d.c(_TWO_THIRDS_LO), s3, d.fma(d.c(_TWO_THIRDS_HI), s3_lo, t3_e))
    rest = d.mul(d.mul(s_hi, d.mul(z, z)), d.poly(z, _COEFFS["log_p1_pow"]))
    # d/ds of the series is 2 + 2 s^2: how s_lo enters
    lo = d.fma(s_lo, d.fma(z, d.c(2.0), d.c(2.0)), d.add(rest, t3_lo))
    lo = d.fma(ef, d.c(_LN2_LO_F64), lo)
    hi, e1 = d.two_sum(d.mul(ef, d.c(_LN2_HI_F64)), d.add(s_hi, s_hi))
    hi, e2 = d.two_sum(hi, t3)
    lo = d.add(lo, d.add(e1, e2))
    h = d.add(hi, lo)
    return h, d.sub(lo, d.sub(h, hi))


def _exp_dd(d: _Ops, hi, lo):
    """exp(hi + lo) for a double-double argument (lo tiny next to hi)."""
    k, em = _exp_reduce(d, hi, *_EXP_RANGE[64], tail=lo)
    return d.scale2(d.add(d.c(1.0), em), k)


def _pow_f64(d: _Ops, x, y):
    b = d.b
    ax = d.fabs(x)
    l_hi, l_lo = _log_dd(d, ax)
    finite_pos = b.and_(d.gt(ax, d.c(0.0)), d.lt(ax, d.c(math.inf)))
    l_hi = d.select(finite_pos, l_hi, _log_specials(d, ax, l_hi))
    l_lo = d.select(finite_pos, l_lo, d.c(0.0))
    p_hi = d.mul(y, l_hi)
    p_lo = d.fma(y, l_lo, d.fma_exact(y, l_hi, d.neg(p_hi)))
    p_lo = d.select(d.lt(d.fabs(p_hi), d.c(1e4)), p_lo, d.c(0.0))  # inf/NaN products
    r = _exp_dd(d, p_hi, p_lo)
    r = d.select(d.isnan(p_hi), p_hi, r)
    # sign and domain: x < 0 (incl. -0, -inf) with an odd integer y flips the sign
    x_neg = b.icmp_signed("<", d.to_bits(x), d.ic(0))
    y_int = d.eq(d.rint(y), y)
    half = d.mul(y, d.c(0.5))
    y_odd = b.and_(y_int, b.fcmp_ordered("!=", d.rint(half), half))
    r = d.select(b.and_(x_neg, y_odd), d.neg(r), r)
    bad = b.and_(b.and_(d.lt(x, d.c(0.0)), d.gt(x, d.c(-math.inf))), b.not_(y_int))
    r = d.select(b.and_(bad, d.b.not_(d.isnan(y))), d.c(math.nan), r)
    # (-1)**(+-inf) = 1, x**0 = 1, 1**y = 1
    one = d.c(1.0)
    r = d.select(b.and_(d.eq(ax, one), d.eq(d.fabs(y), d.c(math.inf))), one, r)
    r = d.select(d.eq(y, d.c(0.0)), one, r)
    return d.select(d.eq(x, one), one, r)


def _pow(o: _Ops, x, y):
    if o.width == 64:
        return _pow_f64(o, x, y)
    d = o.retyped(ir.DoubleType())
    r = _pow_f64(d, o.b.fpext(x, d.ty), o.b.fpext(y, d.ty))
    return o.b.fptrunc(r, o.ty)


# --- public emitters -----------------------------------------------------------

def _helper(builder: ir.IRBuilder, name: str, args: Sequence, body: Callable) -> ir.Value:
    """Call (creating once per module and type) the inlined helper for ``name``."""
    ty = args[0].type
    o = _Ops(builder, ty)  # validates the type
    module = builder.module
    mangle = f"v{o.lanes}{o.tag}" if o.lanes else o.tag
    fname = f"{HELPER_PREFIX}{name}.{mangle}"
    fn = module.globals.get(fname)
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(ty, [ty] * len(args)), name=fname)
        fn.linkage = "internal"
        for attr in ("alwaysinline", "nounwind", "readnone"):
            fn.attributes.add(attr)
        inner = ir.IRBuilder(fn.append_basic_block("entry"))
        inner.ret(body(_Ops(inner, ty), *fn.args))
    return builder.call(fn, list(args))


def emit_exp(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """exp(x): within about 1 ulp; overflow to inf, underflow through subnormals to 0."""
    return _helper(builder, "exp", [x], lambda o, v: _straight(_exp_steps(o, v)))


def emit_expm1(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """exp(x) - 1, accurate near 0; expm1(-0.0) == -0.0."""
    return _helper(builder, "expm1", [x], _expm1)


def emit_log(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """Natural log: log(0) = -inf, log(x < 0) = NaN, subnormal inputs handled."""
    return _helper(builder, "log", [x], _log)


def emit_log1p(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """log(1 + x), accurate near 0; log1p(-1) = -inf, x < -1 gives NaN."""
    return _helper(builder, "log1p", [x], _log1p)


def emit_tanh(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """tanh(x), odd (tanh(-0.0) == -0.0), saturating to +-1."""
    return _helper(builder, "tanh", [x], lambda o, v: _straight(_tanh_steps(o, v)))


def emit_sigmoid(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """1 / (1 + exp(-x)), accurate in relative terms for very negative x too."""
    return _helper(builder, "sigmoid", [x], lambda o, v: _straight(_sigmoid_steps(o, v)))


def emit_erf(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """The error function, odd, saturating to +-1."""
    return _helper(builder, "erf", [x], _erf)


def emit_sin(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """sin(x); float32 exact reduction for every input, float64 for |x| < ~1e8."""
    return _helper(builder, "sin", [x], lambda o, v: _sin_or_cos(o, v, False))


def emit_cos(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """cos(x); same reduction as ``emit_sin``."""
    return _helper(builder, "cos", [x], lambda o, v: _sin_or_cos(o, v, True))


def emit_sin_fast(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """float32 sin in float32 arithmetic (about 5x faster than ``emit_sin``):
    exact for |x| < SIN_COS_F32_FAST_LIMIT, NaN beyond (and for float64 the
    same as ``emit_sin``)."""
    if _Ops(builder, x.type).width == 64:
        return emit_sin(builder, x)
    return _helper(builder, "sin_fast", [x], lambda o, v: _sin_or_cos_fast_f32(o, v, False))


def emit_cos_fast(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """float32 cos counterpart of ``emit_sin_fast``."""
    if _Ops(builder, x.type).width == 64:
        return emit_cos(builder, x)
    return _helper(builder, "cos_fast", [x], lambda o, v: _sin_or_cos_fast_f32(o, v, True))


def emit_pow(builder: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    """x ** y with numpy's special cases; x and y share one type."""
    if x.type != y.type:
        raise TypeError(f"emit_pow: x and y must have one type, got {x.type} and {y.type}")
    return _helper(builder, "pow", [x, y], _pow)


def emit_sqrt(builder: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """sqrt(x) via the llvm.sqrt intrinsic (one instruction, correctly rounded)."""
    return _Ops(builder, x.type).sqrt(x)


# name -> emitter for the one-argument functions (what a code generator maps
# elementwise ops onto).
UNARY: dict[str, Callable[[ir.IRBuilder, ir.Value], ir.Value]] = {
    "exp": emit_exp, "expm1": emit_expm1, "log": emit_log, "log1p": emit_log1p,
    "tanh": emit_tanh, "sigmoid": emit_sigmoid, "erf": emit_erf, "sin": emit_sin,
    "cos": emit_cos, "sqrt": emit_sqrt,
}


# name -> (step generator, number of yields) for the functions written in steps
_STEPS = {"exp": (_exp_steps, 1), "sigmoid": (_sigmoid_steps, 2), "tanh": (_tanh_steps, 2)}


def step_count(name: str) -> int:
    """How many times :func:`steps` for ``name`` yields (0: a function not written in steps)."""
    return _STEPS[name][1] if name in _STEPS else 0


def steps(builder: ir.IRBuilder, name: str, x: ir.Value):
    """The function ``name`` of x emitted inline, as a generator of steps: each ``yield``
    hands over a tuple of values and expects values of the same types back (from a later
    loop over the same elements), ``step_count(name)`` times; its return value is the
    result.  The emission uses ``builder`` wherever it is positioned at each step.

        gen = steps(b, "sigmoid", x)
        carried = next(gen)            # ... store, new loop, load ...
        carried = gen.send(reloaded)   # ... and so on until StopIteration(value)
    """
    return _STEPS[name][0](_Ops(builder, x.type), x)


def build_map_kernel(emit: Callable, dtype: str, name: str = "kernel", arity: int = 1,
                     module: ir.Module | None = None) -> ir.Module:
    """Add ``void name(T* noalias out, T* noalias in0[, in1], i64 n)`` to a module.

    The loop applies ``emit(builder, *values)`` elementwise: the reference
    kernel the tests and ``benchmarks/vector_math.py`` compile, and the shape
    of loop the code generator produces for one fused elementwise op.
    Returns the module (a new one unless ``module`` is given).
    """
    scalar = {"float32": ir.FloatType(), "float64": ir.DoubleType()}[dtype]
    i64 = ir.IntType(64)
    ptr = scalar.as_pointer()
    if module is None:
        module = ir.Module(name=f"{name}_module")
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [ptr] * (arity + 1) + [i64]), name=name)
    for arg in fn.args[:-1]:
        arg.add_attribute("noalias")
    out, *ins, n = fn.args
    entry = fn.append_basic_block("entry")
    loop = fn.append_basic_block("loop")
    done = fn.append_basic_block("done")
    b = ir.IRBuilder(entry)
    b.cbranch(b.icmp_signed(">", n, ir.Constant(i64, 0)), loop, done)
    b.position_at_end(loop)
    i = b.phi(i64, name="i")
    i.add_incoming(ir.Constant(i64, 0), entry)
    vals = [b.load(b.gep(p, [i], inbounds=True)) for p in ins]
    b.store(emit(b, *vals), b.gep(out, [i], inbounds=True))
    nxt = b.add(i, ir.Constant(i64, 1), flags=("nsw",))
    i.add_incoming(nxt, loop)
    b.cbranch(b.icmp_signed("<", nxt, n), loop, done)
    b.position_at_end(done)
    b.ret_void()
    return module
