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
        return f"{int(x)}."
    return f"{x:.{precision}f}"


def tensor_repr(t) -> str:
    a = t._data
    dt = t._dtype
    prefix = "tensor("
    if a.dtype.kind == "f":
        finite = a[np.isfinite(a)] if a.size else a
        big = finite.size and (np.abs(finite).max() >= 1e8 or (np.abs(finite[finite != 0]).min() < 1e-4 if (finite != 0).any() else False))
        sci = _OPTS["sci_mode"] if _OPTS["sci_mode"] is not None else bool(big)
        ints = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        if sci:
            fmt = lambda x: f"{x:.{_OPTS['precision']}e}"  # noqa: E731
        elif ints:
            fmt = lambda x: _format_float(float(x), 0)  # noqa: E731
        else:
            fmt = lambda x: _format_float(float(x), _OPTS["precision"])  # noqa: E731
        body = np.array2string(a, separator=", ", prefix=prefix, formatter={"float_kind": fmt},
                               threshold=_OPTS["threshold"], edgeitems=_OPTS["edgeitems"], max_line_width=_OPTS["linewidth"])
    elif a.dtype.kind == "b":
        body = np.array2string(a, separator=", ", prefix=prefix, formatter={"bool": lambda x: "True" if x else "False"},
                               threshold=_OPTS["threshold"], edgeitems=_OPTS["edgeitems"], max_line_width=_OPTS["linewidth"])
    else:
        body = np.array2string(a, separator=", ", prefix=prefix, threshold=_OPTS["threshold"],
                               edgeitems=_OPTS["edgeitems"], max_line_width=_OPTS["linewidth"])
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
