"""Random factories and in-place random fills, drawing from ``graphc.eager.random``'s stream.

rand, randn, randint, randperm, normal (its four forms), bernoulli, multinomial, poisson, the
``_like`` forms, and the in-place fills ``uniform_``, ``normal_``, ``bernoulli_``, ``random_``,
``exponential_``.  Every function takes ``generator=`` (a ``gc.Generator``); without it the global
stream is used, so ``gc.manual_seed`` makes all of them reproducible.

Like torch, sampling ops whose parameters require grad (normal, bernoulli, poisson) return a
result on the tape whose gradient with respect to those parameters is zero.
"""
from __future__ import annotations

import operator

import numpy as np

from ... import dtypes as _dt
from ..grad_mode import GRAD
from ..random import numpy_generator
from ..tensor import Tensor
from ._factory import check_input, factory_dtype, finish, float_dtype_or_error, parse_size
from .out import write_out
from .pointwise import cast, where

__all__ = [
    "rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like", "normal", "bernoulli",
    "multinomial", "poisson", "uniform_", "normal_", "bernoulli_", "random_", "exponential_",
]


# ----------------------------------------------------------------------------- raw samples
def _uniform(gen: np.random.Generator, shape: tuple, dt: _dt.DType) -> np.ndarray:
    """Uniform samples in [0, 1) of a floating dtype (never rounding up to 1)."""
    if dt is _dt.float16:
        # 11 random bits: every value is exact in float16, so none rounds to 1.0
        return (gen.integers(0, 2 ** 11, size=shape, dtype=np.int64) * 2.0 ** -11).astype(np.float16)
    return gen.random(shape, dtype=dt.np.type)


def _standard_normal(gen: np.random.Generator, shape: tuple, dt: _dt.DType) -> np.ndarray:
    if dt is _dt.float16:
        return gen.standard_normal(shape, dtype=np.float32).astype(np.float16)
    return gen.standard_normal(shape, dtype=dt.np.type)


def _compute_type(dt: _dt.DType):
    # float16 arithmetic happens in float32, then rounds once
    return np.float32 if dt is _dt.float16 else dt.np.type


def _zero_grad_link(sample: Tensor, sources) -> Tensor:
    """``sample`` tied to the parameters that require grad, with a zero gradient to them (as torch does)."""
    if not GRAD.enabled:
        return sample
    params = [s for s in sources if isinstance(s, Tensor) and s._requires_grad]
    if not params:
        return sample
    never = Tensor._make(np.zeros((), dtype=np.bool_))
    for p in params:
        sample = where(never, p if p._dtype is sample._dtype else cast(p, sample._dtype), sample)
    return sample


# ----------------------------------------------------------------------------- rand, randn
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
         pin_memory: bool = False, **kw) -> Tensor:
    """Uniform samples in ``[0, 1)`` (default float dtype)."""
    shape = parse_size(size, kw.pop("size", None), "rand")
    _no_extra(kw, "rand")
    dt = float_dtype_or_error(factory_dtype(dtype, out, "rand"), "check_uniform_bounds")
    return finish(_uniform(numpy_generator(generator), shape, dt), out, requires_grad, device, "rand")


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
          pin_memory: bool = False, **kw) -> Tensor:
    """Standard normal samples (default float dtype)."""
    shape = parse_size(size, kw.pop("size", None), "randn")
    _no_extra(kw, "randn")
    dt = float_dtype_or_error(factory_dtype(dtype, out, "randn"), "normal_kernel_cpu")
    return finish(_standard_normal(numpy_generator(generator), shape, dt), out, requires_grad, device, "randn")


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """Uniform ``[0, 1)`` samples with ``input``'s shape and dtype (or ``dtype=``)."""
    check_input(input, "rand_like")
    dt = float_dtype_or_error(_dt.to_dtype(dtype) if dtype is not None else input._dtype, "check_uniform_bounds")
    return finish(_uniform(numpy_generator(generator), input._data.shape, dt), None, requires_grad, device, "rand_like")


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """Standard normal samples with ``input``'s shape and dtype (or ``dtype=``)."""
    check_input(input, "randn_like")
    dt = float_dtype_or_error(_dt.to_dtype(dtype) if dtype is not None else input._dtype, "normal_kernel_cpu")
    arr = _standard_normal(numpy_generator(generator), input._data.shape, dt)
    return finish(arr, None, requires_grad, device, "randn_like")


def _no_extra(kw: dict, op: str) -> None:
    if kw:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kw)}")


# ----------------------------------------------------------------------------- integers
def _int_arg(x, op: str, name: str) -> int:
    if isinstance(x, Tensor):
        x = x.item() if x.numel() == 1 and not x._dtype.is_floating_point else x
    try:
        return operator.index(x)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(x).__name__}") from None


def _check_int_range(low: int, high_incl: int, dt: _dt.DType, op: str) -> None:
    """RuntimeError when ``[low, high_incl]`` does not fit an integer or bool dtype."""
    if dt.is_floating_point:
        return
    lo, hi = (0, 1) if dt is _dt.bool else (int(np.iinfo(dt.np).min), int(np.iinfo(dt.np).max))
    if low < lo:
        raise RuntimeError(f"{op}: from={low} is out of bounds for {dt.name}")
    if high_incl > hi:
        raise RuntimeError(f"{op}: to - 1 = {high_incl} is out of bounds for {dt.name}")


def _randint_array(gen, low: int, high: int, shape: tuple, dt: _dt.DType, op: str) -> np.ndarray:
    if low >= high:
        raise RuntimeError(f"{op}: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    _check_int_range(low, high - 1, dt, op)
    return gen.integers(low, high, size=shape, dtype=np.int64).astype(dt.np, copy=False)


def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Integers uniform in ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)``; int64 by default."""
    args = list(args)
    if size is None:
        if not args:
            raise TypeError("randint() missing required argument 'size' (a tuple of ints)")
        size = args.pop()
    if high is None:
        if not args:
            raise TypeError("randint() missing required argument 'high'")
        high = args.pop()
    if args:
        if low is not None:
            raise TypeError("randint() got multiple values for argument 'low'")
        low = args.pop()
    if args:
        raise TypeError("randint() takes at most 3 positional arguments (low, high, size)")
    if isinstance(size, (int, np.integer)):
        raise TypeError(f"randint(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    shape = parse_size((size,), None, "randint")
    low = 0 if low is None else _int_arg(low, "randint", "low")
    high = _int_arg(high, "randint", "high")
    dt = factory_dtype(dtype, out, "randint", _dt.int64)
    arr = _randint_array(numpy_generator(generator), low, high, shape, dt, "randint")
    return finish(arr, out, requires_grad, device, "randint")


def randint_like(input: Tensor, *args, low=None, high=None, generator=None, dtype=None, layout=None, device=None,
                 requires_grad: bool = False, memory_format=None) -> Tensor:
    """Integers uniform in ``[low, high)`` with ``input``'s shape and dtype: ``randint_like(x, high)`` or ``(x, low, high)``."""
    check_input(input, "randint_like")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        high = args[0]
    elif args:
        raise TypeError("randint_like() takes (input, high) or (input, low, high)")
    if high is None:
        raise TypeError("randint_like() missing required argument 'high'")
    low = 0 if low is None else _int_arg(low, "randint_like", "low")
    high = _int_arg(high, "randint_like", "high")
    dt = _dt.to_dtype(dtype) if dtype is not None else input._dtype
    arr = _randint_array(numpy_generator(generator), low, high, input._data.shape, dt, "randint_like")
    return finish(arr, None, requires_grad, device, "randint_like")


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad: bool = False,
             pin_memory: bool = False) -> Tensor:
    """A random permutation of ``0 .. n-1`` (int64 by default)."""
    n = _int_arg(n, "randperm", "n")
    if n < 0:
        raise RuntimeError(f"randperm(): n must be non-negative, got {n}")
    dt = factory_dtype(dtype, out, "randperm", _dt.int64)
    if dt is _dt.bool:
        raise NotImplementedError("randperm: not implemented for 'bool'")
    _check_int_range(0, n - 1, dt, "randperm")
    arr = numpy_generator(generator).permutation(n).astype(dt.np, copy=False)
    return finish(arr, out, requires_grad, device, "randperm")


# ----------------------------------------------------------------------------- normal
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Normal samples, in torch's four forms:

    ``normal(mean_tensor, std_tensor)`` (broadcast), ``normal(mean_tensor, std=1.0)``,
    ``normal(mean, std_tensor)`` and ``normal(mean, std, size)`` (numbers; ``dtype=`` allowed).
    A tensor result takes the dtype of the mean tensor (else of the std tensor).
    """
    gen = numpy_generator(generator)
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        if size is None:
            raise TypeError("normal(): with a number mean and std, the 'size' argument (a tuple of ints) is required")
        if isinstance(size, (int, np.integer)):
            raise TypeError(f"normal(): argument 'size' must be tuple of ints, not {type(size).__name__}")
        shape = parse_size((size,), None, "normal")
        m, s = _float_arg(mean, "mean"), _float_arg(std, "std")
        if s < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {s}")
        dt = float_dtype_or_error(factory_dtype(dtype, out, "normal"), "normal_kernel_cpu")
        ct = _compute_type(dt)
        arr = (ct(m) + ct(s) * _standard_normal(gen, shape, dt).astype(ct, copy=False)).astype(dt.np, copy=False)
        return finish(arr, out, requires_grad, device, "normal")
    if size is not None or dtype is not None:
        raise TypeError("normal(): 'size' and 'dtype' are only accepted when mean and std are both numbers")
    dt = mean._dtype if mean_t else std._dtype
    float_dtype_or_error(dt, "normal_kernel_cpu")
    m = mean._data if mean_t else _float_arg(mean, "mean")
    s = std._data if std_t else _float_arg(std, "std")
    if std_t:
        if std._data.size and not (std._data >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif s < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {s}")
    try:
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
    except ValueError:
        raise RuntimeError(
            f"normal(): the shapes of mean {list(np.shape(m))} and std {list(np.shape(s))} are not broadcastable"
        ) from None
    ct = _compute_type(dt)
    z = _standard_normal(gen, shape, dt).astype(ct, copy=False)
    arr = (np.asarray(m, dtype=ct) + np.asarray(s, dtype=ct) * z).astype(dt.np, copy=False)
    r = _zero_grad_link(Tensor._make(arr), (mean, std))
    return r if out is None else write_out(r, out, "normal")


def _float_arg(x, name: str) -> float:
    if isinstance(x, (bool, complex)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"normal(): argument '{name}' must be a float or a Tensor, not {type(x).__name__}")
    return float(x)


# ----------------------------------------------------------------------------- bernoulli, multinomial, poisson
def _check_probs(p: np.ndarray, op: str) -> None:
    with np.errstate(invalid="ignore"):
        ok = ((p >= 0) & (p <= 1)).all()
    if not ok:
        raise RuntimeError(f"{op}: expected all probabilities p to satisfy 0 <= p <= 1 (found values outside or nan)")


def _check_p(p: float, op: str) -> float:
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"{op} expects p to be in [0, 1], but got p={p}")
    return p


def bernoulli(input: Tensor, p=None, *, generator=None, out=None) -> Tensor:
    """0/1 samples with probability ``input`` (a floating tensor), or with ``p`` (a number) in ``input``'s shape and dtype."""
    check_input(input, "bernoulli")
    if p is None:
        float_dtype_or_error(input._dtype, "bernoulli_tensor_cpu_p_")
        probs = input._data
        _check_probs(probs, "bernoulli")
    else:
        probs = _check_p(p, "bernoulli_")
    u = numpy_generator(generator).random(input._data.shape)
    r = _zero_grad_link(Tensor._make((u < probs).astype(input._dtype.np)), (input,))
    return r if out is None else write_out(r, out, "bernoulli")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None, out=None) -> Tensor:
    """Category indices (int64) drawn from each row of weights ``input`` (1-d or 2-d, non-negative)."""
    check_input(input, "multinomial")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {input.ndim} dims")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input._dtype.name}")
    n = _int_arg(num_samples, "multinomial", "num_samples")
    if n <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {n})")
    w = np.atleast_2d(input._data).astype(np.float64)
    k = w.shape[1]
    if not replacement and n > k:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement ({n} > {k})"
        )
    if not (np.isfinite(w) & (w >= 0)).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if w.shape[0] and (k == 0 or (w.sum(axis=1) <= 0).any()):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    gen = numpy_generator(generator)
    if replacement:
        idx = _sample_with_replacement(gen, w, n)
    else:
        # exponential races: the n smallest E/w are a draw without replacement in proportion to w
        with np.errstate(divide="ignore"):
            keys = gen.standard_exponential(w.shape) / w
        idx = np.argsort(keys, axis=1, kind="stable")[:, :n]
    idx = idx.astype(np.int64, copy=False)
    r = Tensor._make(idx if input.ndim == 2 else idx[0])
    return r if out is None else write_out(r, out, "multinomial")


def _sample_with_replacement(gen, w: np.ndarray, n: int) -> np.ndarray:
    cdf = np.cumsum(w, axis=1)
    u = gen.random((w.shape[0], n)) * cdf[:, -1:]
    idx = np.empty((w.shape[0], n), dtype=np.int64)
    for row in range(w.shape[0]):
        # side="right" never lands on a zero-weight category; the clamp guards the rounding at the top
        last = int(np.flatnonzero(w[row])[-1])
        idx[row] = np.minimum(np.searchsorted(cdf[row], u[row], side="right"), last)
    return idx


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson samples with rates ``input`` (a floating tensor); the result keeps its dtype."""
    check_input(input, "poisson")
    float_dtype_or_error(input._dtype, "poisson_cpu")
    rates = input._data
    if not (rates >= 0).all():
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    arr = numpy_generator(generator).poisson(rates.astype(np.float64)).astype(input._dtype.np)
    return _zero_grad_link(Tensor._make(arr), (input,))


# ----------------------------------------------------------------------------- in-place fills (Tensor methods)
def _fill(self: Tensor, arr: np.ndarray) -> Tensor:
    # copy_ does the in-place checks, the version bump, and cuts the gradient to the old values
    return self.copy_(Tensor._make(arr))


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples uniform in ``[from_, to)``."""
    dt = float_dtype_or_error(self._dtype, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
    ct = _compute_type(dt)
    u = _uniform(numpy_generator(generator), self._data.shape, dt).astype(ct, copy=False)
    with np.errstate(over="ignore"):
        arr = (ct(from_) + (ct(to) - ct(from_)) * u).astype(dt.np, copy=False)
        if to > from_:
            # rounding to the dtype may reach ``to``; the range stays half-open as in torch
            arr = np.minimum(arr, np.nextafter(dt.np.type(to), dt.np.type(from_)))
    return _fill(self, arr)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from N(``mean``, ``std``\u00b2)."""
    dt = float_dtype_or_error(self._dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    ct = _compute_type(dt)
    z = _standard_normal(numpy_generator(generator), self._data.shape, dt).astype(ct, copy=False)
    return _fill(self, (ct(mean) + ct(std) * z).astype(dt.np, copy=False))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 0/1 samples: 1 with probability ``p`` (a number, or a tensor broadcast to this one's shape)."""
    if isinstance(p, Tensor):
        if p.ndim > self.ndim:
            raise RuntimeError(
                f"bernoulli_: p of shape {list(p.shape)} has more dimensions than the tensor {list(self.shape)}"
            )
        try:
            probs = np.broadcast_to(p._data, self._data.shape)
        except ValueError:
            raise RuntimeError(
                f"bernoulli_: p of shape {list(p.shape)} cannot be broadcast to {list(self.shape)}"
            ) from None
        _check_probs(probs, "bernoulli_")
    else:
        probs = _check_p(p, "bernoulli_")
    u = numpy_generator(generator).random(self._data.shape)
    return _fill(self, (u < probs).astype(self._dtype.np))


def random_(self: Tensor, *args, generator=None) -> Tensor:
    """Fill with integers: ``random_(to)`` in ``[0, to)``, ``random_(from_, to)`` in ``[from_, to)``;
    ``random_()`` in ``[0, 2**mantissa]`` for floats and ``[0, max]`` for integer dtypes."""
    dt = self._dtype
    if len(args) > 2:
        raise TypeError("random_() takes at most 2 arguments (from, to)")
    if len(args) == 2:
        low, high = (_int_arg(a, "random_", n) for a, n in zip(args, ("from", "to")))
    elif len(args) == 1:
        low, high = 0, _int_arg(args[0], "random_", "to")
    elif dt.is_floating_point:
        low, high = 0, 2 ** (np.finfo(dt.np).nmant + 1) + 1
    elif dt is _dt.bool:
        low, high = 0, 2
    else:
        low, high = 0, int(np.iinfo(dt.np).max) + 1
    gen = numpy_generator(generator)
    if high > 2 ** 63 - 1:
        # uint64-range draw for a full int64 span
        arr = gen.integers(low, high, size=self._data.shape, dtype=np.uint64).astype(dt.np)
    else:
        arr = _randint_array(gen, low, high, self._data.shape, dt, "random_")
    return _fill(self, arr)


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with samples from the exponential distribution of rate ``lambd``."""
    dt = float_dtype_or_error(self._dtype, "exponential_cpu")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    arr = numpy_generator(generator).exponential(1.0 / lambd, self._data.shape).astype(dt.np)
    return _fill(self, arr)
