"""Run one registry op's numpy kernel on arrays the way eager dispatch does.

Constant folding and the reference evaluator both go through :func:`run_op`, so a folded
constant holds exactly what eager execution computes.
"""
from __future__ import annotations

import numpy as np

from ...ops.promotion import compute_dtype, spec_operands
from ...ops.registry import call_kernel, OpDef

__all__ = ["kernel_inputs", "run_op"]


def kernel_inputs(op: OpDef, in_specs: list, arrays: list) -> list:
    """``arrays`` cast as dispatch casts them before ``op``'s kernel.

    ``in_specs`` are the inputs' specs as a shape rule sees them (wrapped numbers marked).  With
    ``op.promote`` set every input goes to :func:`~graphc.ops.promotion.compute_dtype`; without it
    each input goes to its own dtype, which only changes a wrapped float (stored in double precision,
    typed as the default float).
    """
    if op.promote is not None:
        dt = compute_dtype(op, spec_operands(in_specs)).np
        return [a if a.dtype == dt else a.astype(dt) for a in arrays]
    return [a if a.dtype == s.dtype.np else a.astype(s.dtype.np) for a, s in zip(arrays, in_specs)]


def run_op(op: OpDef, attrs: dict, in_specs: list, arrays: list) -> tuple:
    """The outputs of ``op`` applied to ``arrays`` (a tuple, one array per output, each a fresh
    array of the output's dtype: kernels may return numpy views or numpy scalars)."""
    out = call_kernel(op, kernel_inputs(op, in_specs, arrays), attrs)
    outs = (out,) if op.num_outputs == 1 else tuple(out)
    return tuple(np.array(o, copy=True) for o in outs)
