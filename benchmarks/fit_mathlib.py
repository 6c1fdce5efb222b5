"""Derive the polynomial coefficients used by ``graphc/codegen/mathlib.py``.

Offline tool (needs ``mpmath``, not a graphc dependency).  Each polynomial is a
weighted minimax fit found with the Remez exchange algorithm in 60-digit
arithmetic, then rounded to the precision it is evaluated in.  Run

    python benchmarks/fit_mathlib.py

and it prints, per table, the smallest degree whose minimax error meets the
target, the error, and the coefficients as hex floats (lowest power first), in
the form pasted into ``mathlib._COEFFS``.

Conventions (``t`` is the fitted variable, ``w`` the weight; the fit minimizes
``max |w(t) * (P(t) - g(t))|`` so the weighted error is the *relative* error
of the final function):

* ``exp_q``: exp(r) = 1 + r + r^2 Q(r), expm1(r) = r + r^2 Q(r), |r| <= ln2/2;
  ``exp_p_f32`` is exp's own float32 Q, one degree lower: exp's error is relative
  to 1 + expm1(r), so it needs fewer bits of expm1(r) than expm1 does.
* ``log_l``: log(1+f) = f - f^2/2 + s (f^2/2 + z L(z)), s = f/(2+f), z = s^2.
* ``log_p1_pow``: log(1+f) = 2s + (2/3) s^3 + s^5 P1(s^2) (pow's double-double log).
* ``tanh_t``: tanh(x) = x + x^3 T(x^2) for |x| < atanh(1/2).
* ``erf_e``: erf(x) = x + x E(x^2) for |x| < 1.
* ``erf_q``: erf(x) = 1 - exp(-x^2) Q(x - 1) for 1 <= x <= X (Q ~ erfcx).
* ``sin_s``/``cos_c``: sin(r) = r + r^3 S(r^2); cos(r) = 1 - r^2/2 + r^4 C(r^2),
  |r| <= pi/4.  The ``_f32`` variants are evaluated in double for float32,
  the ``_f32w`` ones in float32 (``emit_sin_fast``).

It also prints the digit constants of 2/pi, pi/2, ln2 and 2/3 that mathlib
uses for its range reductions.
"""
from __future__ import annotations

import struct

import mpmath as mp

mp.mp.dps = 60
TINY = mp.mpf(10) ** -40  # stands in for 0 where g has a removable singularity


def _remez(g, w, a, b, n, grid=3000, iters=60, tol=mp.mpf("1e-5")):
    """Minimax polynomial of degree n-1 for g on [a, b] under weight w."""
    a, b = mp.mpf(a), mp.mpf(b)
    # start from Chebyshev nodes of the first kind, nudged off t == 0
    ref = [(a + b) / 2 - (b - a) / 2 * mp.cos(mp.pi * (i + mp.mpf("0.5")) / (n + 1))
           for i in range(n + 1)]
    ref = sorted(x + (b - a) / 50 if abs(x) < (b - a) / 100 else x for x in ref)
    xs = [(a + b) / 2 - (b - a) / 2 * mp.cos(mp.pi * k / (grid - 1)) for k in range(grid)]
    gs = [g(x if x != 0 else TINY) for x in xs]
    ws = [w(x if x != 0 else TINY) for x in xs]
    best = None
    for _ in range(iters):
        A = mp.matrix(n + 1, n + 1)
        rhs = mp.matrix(n + 1, 1)
        for i, x in enumerate(ref):
            x = x if x != 0 else TINY
            for j in range(n):
                A[i, j] = x ** j
            A[i, n] = (-1) ** i / w(x)
            rhs[i] = g(x)
        sol = mp.lu_solve(A, rhs)
        c = [sol[j] for j in range(n)]
        lev = abs(sol[n])
        errs = [wx * (mp.polyval(c[::-1], x) - gx) for x, gx, wx in zip(xs, gs, ws)]
        # one extremum per run of equal sign
        ext = []
        for x, e in zip(xs, errs):
            if ext and (e >= 0) == (ext[-1][1] >= 0):
                if abs(e) > abs(ext[-1][1]):
                    ext[-1] = (x, e)
            else:
                ext.append((x, e))
        while len(ext) > n + 1:
            ext.pop(0 if abs(ext[0][1]) < abs(ext[-1][1]) else -1)
        maxerr = max(abs(e) for e in errs)
        if best is None or maxerr < best[1]:
            best = (c, maxerr)
        if len(ext) < n + 1 or maxerr <= lev * (1 + tol):
            break
        ref = [x for x, _ in ext]
    return best


def _round(v: mp.mpf, bits: int) -> float:
    x = float(v)
    if bits == 24:
        x = struct.unpack("f", struct.pack("f", x))[0]
    return x


def _check(g, w, a, b, coeffs, samples=4000):
    """Weighted error of the rounded coefficients (in exact arithmetic)."""
    a, b = mp.mpf(a), mp.mpf(b)
    worst = 0
    for k in range(samples):
        x = a + (b - a) * k / (samples - 1)
        x = x if x != 0 else TINY
        worst = max(worst, abs(w(x) * (mp.polyval([mp.mpf(c) for c in coeffs[::-1]], x) - g(x))))
    return worst


def fit(name, g, w, a, b, target_bits, coeff_bits, max_terms=24):
    """Smallest-degree fit with weighted error below 2**-target_bits."""
    for n in range(2, max_terms + 1):
        c, err = _remez(g, w, a, b, n)
        if err < mp.mpf(2) ** -target_bits:
            rounded = [_round(v, coeff_bits) for v in c]
            err_r = _check(g, w, a, b, rounded)
            print(f"# {name}: {n} terms, minimax error 2^{float(mp.log(err, 2)):.1f}, "
                  f"after rounding 2^{float(mp.log(err_r, 2)):.1f}")
            print(f'    "{name}": ({", ".join(repr(v.hex()) for v in rounded)}),')
            return rounded
    raise RuntimeError(f"{name}: no fit with {max_terms} terms")


def _sqrt(t):
    return mp.sqrt(t)


def main() -> None:
    ln2_half = mp.log(2) / 2 * mp.mpf("1.01")
    s_max = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
    z_max = s_max ** 2 * mp.mpf("1.01")
    tanh_c = mp.atanh(mp.mpf("0.5")) * mp.mpf("1.001")
    pio4 = mp.pi / 4 * mp.mpf("1.01")

    exp_q = (lambda r: (mp.exp(r) - 1 - r) / r ** 2, lambda r: r ** 2 / abs(mp.expm1(r)))
    log_l = (lambda z: (2 * mp.atanh(_sqrt(z)) / _sqrt(z) - 2) / z, lambda z: z)
    tanh_t = (lambda t: (mp.tanh(_sqrt(t)) - _sqrt(t)) / t ** mp.mpf(1.5),
              lambda t: t * _sqrt(t) / mp.tanh(_sqrt(t)))
    erf_e = (lambda t: mp.erf(_sqrt(t)) / _sqrt(t) - 1, lambda t: _sqrt(t) / mp.erf(_sqrt(t)))
    erf_q = (lambda u: mp.exp((1 + u) ** 2) * mp.erfc(1 + u),
             lambda u: mp.exp(-(1 + u) ** 2) / mp.erf(1 + u))
    sin_s = (lambda t: (mp.sin(_sqrt(t)) - _sqrt(t)) / t ** mp.mpf(1.5),
             lambda t: t * _sqrt(t) / mp.sin(_sqrt(t)))
    cos_c = (lambda t: (mp.cos(_sqrt(t)) - 1 + t / 2) / t ** 2, lambda t: t ** 2 / mp.cos(_sqrt(t)))

    print("_COEFFS = {")
    fit("exp_q_f32", *exp_q, -ln2_half, ln2_half, 29, 24)
    fit("exp_p_f32", *exp_q, -ln2_half, ln2_half, 25, 24)
    fit("exp_q_f64", *exp_q, -ln2_half, ln2_half, 58, 53)
    fit("log_l_f32", *log_l, 0, z_max, 29, 24)
    fit("log_l_f64", *log_l, 0, z_max, 58, 53)
    fit("tanh_t_f32", *tanh_t, 0, tanh_c ** 2, 28, 24)
    fit("tanh_t_f64", *tanh_t, 0, tanh_c ** 2, 57, 53)
    fit("erf_e_f32", *erf_e, 0, 1, 28, 24)
    fit("erf_e_f64", *erf_e, 0, 1, 57, 53)
    fit("erf_q_f32", *erf_q, 0, 3, 27, 24)
    fit("erf_q_f64", *erf_q, 0, 5, 56, 53)
    fit("log_p1_pow", lambda z: (log_l[0](z) - mp.mpf(2) / 3) / z, lambda z: z * z, 0, z_max, 68, 53)
    fit("sin_s_f32w", *sin_s, 0, (mp.pi / 4 * mp.mpf("1.02")) ** 2, 28, 24)
    fit("cos_c_f32w", *cos_c, 0, (mp.pi / 4 * mp.mpf("1.02")) ** 2, 28, 24)
    fit("sin_s_f32", *sin_s, 0, pio4 ** 2, 33, 53)
    fit("cos_c_f32", *cos_c, 0, pio4 ** 2, 33, 53)
    fit("sin_s_f64", *sin_s, 0, pio4 ** 2, 58, 53)
    fit("cos_c_f64", *cos_c, 0, pio4 ** 2, 58, 53)
    print("}")
    with mp.workdps(120):  # 240 bits of 2/pi need more than the fitting precision
        print(f"_TWO_OVER_PI_240 = {hex(int(mp.floor(2 / mp.pi * mp.mpf(2) ** 240)))}")
        print(f"_PIO2_160 = {hex(int(mp.floor(mp.pi / 2 * mp.mpf(2) ** 159)))}")
        print(f"_LN2_LO_EXACT = {float(mp.log(2) - mp.mpf(float(mp.log(2))))!r}")
        print(f"_TWO_THIRDS_LO = {float(mp.mpf(2) / 3 - mp.mpf(2.0 / 3.0))!r}")


if __name__ == "__main__":
    main()
