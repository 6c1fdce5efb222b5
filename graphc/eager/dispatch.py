"""The one dispatch point: run a registry op now on numpy and record it on the tape.

Every eager op, primitive or composite, ends here.  ``apply`` casts inputs
as the op's promotion rule says, calls the numpy kernel, turns numpy errors
into messages that name the op, shapes and dtypes, and, when grad mode is on
and an input requires grad, records a :class:`~graphc.eager.node.Node`.
"""
from __future__ import annotations


import numpy as np

from .. import dtypes as _dt
from ..ops.promotion import compute_dtype, priority as _prio
from ..ops.registry import _ERR_CV, _IGNORE, OpDef, Spec
from .grad_mode import GRAD
from .node import Node
from .view_tracking import register_view

__all__ = ["apply", "record_node", "result_dtype", "CHECK_SPECS"]

# Tests switch this on: every eager result is checked against the op's shape rule.
CHECK_SPECS = False

_BY_NP = _dt._BY_NP
_result_type_of = _dt.result_type_of


def _priority(t) -> int:
    return _prio(t._data.ndim, t._wrapped)


def result_dtype(tensors) -> _dt.DType:
    """Torch's result type of ``tensors`` (wrapped Python numbers count as such)."""
    d0 = tensors[0]._dtype
    for t in tensors:
        if t._dtype is not d0:
            break
    else:
        return d0
    return _result_type_of(*[(t._dtype, _priority(t)) for t in tensors])


def _promote(op: OpDef, inputs: tuple, arrays: list) -> list:
    d0 = inputs[0]._dtype
    for t in inputs:
        if t._dtype is not d0:
            dt = compute_dtype(op, [(t._dtype, _priority(t)) for t in inputs])
            break
    else:
        dt = d0
        if dt.is_floating_point:
            # common case: one float dtype everywhere; wrapped floats may still hold float64 data
            npd = dt.np
            for a in arrays:
                if a.dtype is not npd and a.dtype != npd:
                    return [a if a.dtype == npd else a.astype(npd) for a in arrays]
            return arrays
        if op.promote == "float" and not dt.is_floating_point:
            dt = _dt.get_default_dtype()
    npd = dt.np
    return [a if a.dtype == npd else a.astype(npd) for a in arrays]


_make = None  # Tensor._make, bound when graphc.eager.tensor is imported (it imports this module's users)


def bind_tensor_factory(make) -> None:
    """Called once by graphc.eager.tensor: dispatch wraps results without importing upward per call."""
    global _make
    _make = make


# graphc.static installs its staging hooks here (eager code never imports it): ``apply``
# stages an op whose inputs include a symbolic tensor, and the in-place and gradient
# bookkeeping of Tensor hands symbolic values to ``commit_inplace``/``accumulate_grad``.
static = None


def install_static(hooks) -> None:
    """Called once by graphc.static: the object whose ``apply`` builds graph nodes."""
    global static
    static = hooks


def apply(op: OpDef, inputs: tuple, attrs: dict):
    """Run ``op`` on ``inputs`` (tensors) with keyword ``attrs``; return a Tensor or a tuple of them.

    A symbolic input (graphc.static, or any tensor while gc.compile traces) adds a graph node instead.
    """
    for t in inputs:
        if t._symbolic:
            return static.apply(op, inputs, attrs)
    arrays = [t._data for t in inputs]
    if op.promote is not None:
        d0 = inputs[0]._dtype
        for t in inputs:
            if t._dtype is not d0 or t._wrapped or not d0.is_floating_point:
                arrays = _promote(op, inputs, arrays)
                break
    token = _ERR_CV.set(_IGNORE)  # numpy warnings off, as torch is silent about inf/nan (registry.quiet)
    try:
        out = op.kernel(*arrays, **attrs)
    except (IndexError, RuntimeError, TypeError, ValueError, ZeroDivisionError, np.linalg.LinAlgError) as e:
        raise translate_error(op, inputs, attrs, e) from None
    finally:
        _ERR_CV.reset(token)

    if op.num_outputs == 1:
        res = _make(out)
        if not op.is_view and not CHECK_SPECS:
            # the common case, kept short: one output, no view bookkeeping
            if op.grad is not None and GRAD.enabled:
                for t in inputs:
                    if t._requires_grad:
                        node = Node(op, inputs, attrs, (res,))
                        if res._dtype.is_floating_point and not op.nondiff_outputs:
                            res._requires_grad = True
                            res.grad_fn = node
                        break
            return res
        outs = (res,)
    else:
        outs = tuple([_make(o) for o in out])

    if op.is_view:
        src = inputs[0]
        res = outs[0]
        if np.may_share_memory(res._data, src._data):
            res._version = src._version
            base = src._base
            if base is None:
                res._base = base = src
                res._view_chain = ((op, attrs),)
            else:
                res._base = base
                res._view_chain = src._view_chain + ((op, attrs),)
            register_view(base, res)  # so an in-place write to the base can refresh its history

    if CHECK_SPECS and op.infer is not None:
        _check_spec(op, inputs, attrs, outs)

    if GRAD.enabled and op.grad is not None:
        record_node(op, inputs, attrs, outs)
    return outs[0] if op.num_outputs == 1 else outs


def record_node(op: OpDef, inputs: tuple, attrs: dict, outs: tuple):
    """Put ``outs`` on the tape as the results of ``op`` when an input requires grad; return the Node or None.

    The caller checked grad mode.  Eager dispatch and static staging both record through here.
    """
    for t in inputs:
        if t._requires_grad:
            node = Node(op, inputs, attrs, outs)
            nondiff = op.nondiff_outputs
            for i, o in enumerate(outs):
                if i not in nondiff and o._dtype.is_floating_point:
                    o._requires_grad = True
                    o.grad_fn = node
                    o._out = i
            return node
    return None


def _spec_of(t) -> Spec:
    return Spec(tuple(t._data.shape), t._dtype, t._wrapped)


def _check_spec(op, inputs, attrs, outs):
    specs = [_spec_of(t) for t in inputs]
    want = op.infer(*specs, **attrs)
    if op.num_outputs == 1:
        want = (want,)
    got = tuple(_spec_of(o) for o in outs)
    if tuple(want) != got and not _spec_matches(tuple(want), got):
        raise AssertionError(f"shape rule of {op.name} says {want}, kernel gave {got}")


def _spec_matches(want, got) -> bool:
    # None in a rule's shape is a size known only at run time (nonzero): any size matches it
    return len(want) == len(got) and all(
        w.dtype == g.dtype and len(w.shape) == len(g.shape)
        and all(a is None or a == b for a, b in zip(w.shape, g.shape))
        for w, g in zip(want, got)
    )


def describe(inputs) -> str:
    """'f32[2, 3], i64[]' for error messages."""
    parts = []
    for t in inputs:
        if t._wrapped:
            parts.append(repr(t._data.item()))
        else:
            parts.append(f"{t._dtype.short}{list(t._data.shape)}")
    return ", ".join(parts)


def translate_error(op: OpDef, inputs: tuple, attrs: dict, e: Exception) -> Exception:
    """A numpy failure rewritten to name the op, shapes and dtypes, with torch's exception type."""
    msg = str(e)
    where = f"{op.name}({describe(inputs)})"
    if getattr(e, "_graphc", False):
        return e  # already a clear graphc message
    if isinstance(e, np.exceptions.AxisError):
        return IndexError(f"{where}: dimension out of range: {msg}")
    if isinstance(e, IndexError):
        return IndexError(f"{where}: {msg}")
    if "broadcast" in msg:
        shapes = " and ".join(str(tuple(t._data.shape)) for t in inputs if not t._wrapped)
        return RuntimeError(f"{where}: shapes {shapes} are not broadcastable ({msg})")
    if isinstance(e, TypeError) and "ufunc" in msg:
        return RuntimeError(f"{where}: not implemented for these dtypes ({msg})")
    if isinstance(e, np.linalg.LinAlgError):
        return RuntimeError(f"{where}: {msg}")
    if isinstance(e, (ValueError, ZeroDivisionError)):
        return RuntimeError(f"{where}: {msg}")
    return type(e)(f"{where}: {msg}")
