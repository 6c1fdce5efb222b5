"""``repr`` of tensors in torch's style: ``tensor([1., 2.], requires_grad=True)``."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt

__all__ = ["tensor_repr", "set_printoptions"]

_OPTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Like torch.set_printoptions."""
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth).items():
        if v is not None:
            _OPTS[k] = v
    _OPTS["sci_mode"] = sci_mode


def _format_float(x: float, precision: int) -> str:
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 1e16:
        return f"{x:.0f}."  # keeps the sign of -0.0, as torch prints it
    return f"{x:.{precision}f}"


def _float_formatter(a: np.ndarray):
    """torch's float layout: integers as '1.', else fixed 4 decimals, sci when the range is wide; padded."""
    prec = _OPTS["precision"]
    vals = a.astype(np.float64).ravel()
    finite = vals[np.isfinite(vals)]
    nonzero = np.abs(finite[finite != 0])
    if _OPTS["sci_mode"] is not None:
        sci = _OPTS["sci_mode"]
    else:
        sci = bool(nonzero.size) and (nonzero.max() >= 1e8 or nonzero.min() < 1e-4 or nonzero.max() / nonzero.min() > 1000)
    ints = finite.size == 0 or bool(np.all(finite == np.round(finite)))
    if sci:
        one = lambda x: "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf") if np.isinf(x) else f"{x:.{prec}e}"  # noqa: E731
    elif ints:
        one = lambda x: _format_float(float(x), 0)  # noqa: E731
    else:
        one = lambda x: "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf") if np.isinf(x) else f"{x:.{prec}f}"  # noqa: E731
    # torch sizes the column from finite values when they all print as integers
    sized = finite if ints and not sci else vals
    width = max((len(one(v)) for v in sized[:2000]), default=0)
    return lambda x: one(float(x)).rjust(width)


def tensor_repr(t) -> str:
    a = t._data
    dt = t._dtype
    prefix = "tensor("
    common = dict(separator=", ", prefix=prefix, threshold=_OPTS["threshold"], edgeitems=_OPTS["edgeitems"],
                  max_line_width=_OPTS["linewidth"])
    if a.dtype.kind == "f":
        body = np.array2string(a, formatter={"float_kind": _float_formatter(a)}, **common)
    elif a.dtype.kind == "b":
        width = 5 if (a.size and not a.all()) else 4
        body = np.array2string(a, formatter={"bool": lambda x: ("True" if x else "False").rjust(width)}, **common)
    else:
        body = np.array2string(a, **common)
    extras = []
    if a.size == 0 and a.ndim != 1:
        extras.append(f"size={tuple(a.shape)}")
    default_dtypes = (_dt.get_default_dtype(), _dt.int64, _dt.bool)
    if dt not in default_dtypes or (a.size == 0 and dt is not _dt.get_default_dtype()):
        extras.append(f"dtype=torch.{dt.name}".replace("torch.", "graphc."))
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
