"""The dtype an op's kernel computes in, from its inputs: one rule for eager dispatch and static backends.

An operand is ``(dtype, priority)``; priority 2 is a tensor with dimensions,
1 a zero-dim tensor, 0 a wrapped Python number (torch's three groups).
"""
from __future__ import annotations

from .. import dtypes as _dt
from .registry import OpDef, Spec

__all__ = ["priority", "compute_dtype", "spec_operands"]


def priority(ndim: int, wrapped: bool) -> int:
    """torch's promotion group of an operand."""
    if wrapped:
        return 0
    return 1 if ndim == 0 else 2


def compute_dtype(op: OpDef, operands) -> _dt.DType:
    """The dtype ``op`` casts its inputs to (``op.promote`` is "common" or "float")."""
    dt = _dt.result_type_of(*operands)
    if op.promote == "float" and not dt.is_floating_point:
        dt = _dt.get_default_dtype()
    return dt


def spec_operands(specs) -> list:
    """Operands for :func:`compute_dtype` from input Specs."""
    return [(s.dtype, priority(len(s.shape), len(s) > 2 and s[2])) for s in specs]
