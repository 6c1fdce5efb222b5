"""``gc.nn.utils``: gradient clipping, as ``torch.nn.utils``.

    loss.backward()
    gc.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
"""
from __future__ import annotations

import math
from typing import Iterable

import graphc as gc

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]


def _grads(parameters) -> list:
    if isinstance(parameters, gc.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def get_total_norm(tensors: Iterable, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> gc.Tensor:
    """The ``norm_type`` norm of all ``tensors`` taken together (the norm of their norms)."""
    tensors = [tensors] if isinstance(tensors, gc.Tensor) else list(tensors)
    if not tensors:
        return gc.tensor(0.0)
    norm_type = float(norm_type)
    with gc.no_grad():
        norms = gc.stack([gc.linalg.vector_norm(t.detach(), norm_type) for t in tensors])
        total = gc.linalg.vector_norm(norms, norm_type)
        if error_if_nonfinite and not bool(gc.isfinite(total)):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                               "non-finite, so it cannot be clipped. To disable this error and scale the "
                               "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> gc.Tensor:
    """Scale the gradients of ``parameters`` in place so that their total ``norm_type`` norm is at most
    ``max_norm`` (times ``max_norm / (norm + 1e-6)`` when larger); returns the norm before clipping."""
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total
    with gc.no_grad():
        coef = (float(max_norm) / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient of ``parameters`` to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    if math.isnan(clip_value):
        raise ValueError("clip_value must not be nan")
    with gc.no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)
