"""Run-time value checks: ``check_values`` returns its input unchanged, or raises if a value is out of range.

Eager code and traced graphs share it: where a function must refuse bad values (a class target out of
bounds, a probability outside [0, 1]), it passes the tensor through this op, so the check runs when the
values exist: at once in eager mode, at each call of a compiled graph (the llvm backend runs it as a
numpy step between native segments).

    target = apply(get("check_values"), (target,), {"lo": 0, "hi": 9, "skip": -100, "error": "index",
                                                     "message": "Target {value} is out of bounds"})
"""
from __future__ import annotations

import numpy as np

from .registry import Spec, register

_ERRORS = {"index": IndexError, "runtime": RuntimeError}


def _check_values(x, lo, hi, skip, error, message):
    bad = ~((x >= lo) & (x <= hi))   # NaN is out of every range
    if skip is not None:
        bad &= x != skip
    if bad.any():
        raise _ERRORS[error](message.format(value=x[bad].reshape(-1)[0]))
    return x


register("check_values", "check", kernel=_check_values, infer=lambda s, **_: Spec(s.shape, s.dtype),
         grad=lambda ctx, g: (g,), saves="none")
