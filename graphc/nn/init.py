"""``gc.nn.init``: in-place initializers for parameters (uniform, normal, Xavier/Glorot, Kaiming/He).

Each function fills its tensor under ``no_grad`` from graphc's global random
state (or ``generator=``), so ``gc.manual_seed`` makes initialization
reproducible, and returns the tensor.
"""
from __future__ import annotations

import math

import numpy as np

import graphc as gc

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "dirac_", "sparse_",
]

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (torch's table: relu -> sqrt(2), tanh -> 5/3 ...)."""
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: gc.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel)."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: gc.Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _random_kw(tensor: gc.Tensor, generator) -> dict:
    kw = {"dtype": tensor.dtype}
    if generator is not None:
        kw["generator"] = generator
    return kw


def _fill(tensor: gc.Tensor, values: gc.Tensor) -> gc.Tensor:
    # parameters are leaves that require grad: writing them is only allowed outside grad mode
    with gc.no_grad():
        tensor.copy_(values)
    return tensor


def uniform_(tensor: gc.Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> gc.Tensor:
    """Fill with values drawn from U(a, b)."""
    u = gc.rand(tuple(tensor.shape), **_random_kw(tensor, generator))
    return _fill(tensor, u * (b - a) + a)


def normal_(tensor: gc.Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> gc.Tensor:
    """Fill with values drawn from N(mean, std^2)."""
    n = gc.randn(tuple(tensor.shape), **_random_kw(tensor, generator))
    return _fill(tensor, n * std + mean)


def trunc_normal_(tensor: gc.Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None) -> gc.Tensor:
    """Fill with N(mean, std^2) values redrawn until they lie in [a, b] (rejection sampling)."""
    kw = _random_kw(tensor, generator)
    shape = tuple(tensor.shape)
    with gc.no_grad():
        out = gc.randn(shape, **kw) * std + mean
        bad = (out < a) | (out > b)
        while bool(bad.any()):
            out = gc.where(bad, gc.randn(shape, **kw) * std + mean, out)
            bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor: gc.Tensor, val: float) -> gc.Tensor:
    """Fill with ``val``."""
    with gc.no_grad():
        tensor.fill_(val)
    return tensor


def ones_(tensor: gc.Tensor) -> gc.Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def zeros_(tensor: gc.Tensor) -> gc.Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def eye_(tensor: gc.Tensor) -> gc.Tensor:
    """Fill a 2-D tensor with the identity matrix."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, gc.eye(tensor.shape[0], tensor.shape[1], dtype=tensor.dtype))


def xavier_uniform_(tensor: gc.Tensor, gain: float = 1.0, generator=None) -> gc.Tensor:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: gc.Tensor, gain: float = 1.0, generator=None) -> gc.Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: gc.Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    if 0 in tuple(tensor.shape):
        return None  # torch warns and leaves an empty tensor alone
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: gc.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None) -> gc.Tensor:
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: gc.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None) -> gc.Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: gc.Tensor, gain: float = 1.0, generator=None) -> gc.Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain``: the Q of the QR decomposition of a normal
    matrix, signs fixed by R's diagonal; dims after the first are flattened (at least 2 dims)."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = gc.randn((rows, cols), **_random_kw(tensor, generator)).numpy().astype(np.float64)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gc.tensor((q * gain).reshape(tuple(tensor.shape)), dtype=tensor.dtype))


def dirac_(tensor: gc.Tensor, groups: int = 1) -> gc.Tensor:
    """Fill a 3-, 4- or 5-d (convolution) weight with the Dirac delta: each of the first
    min(out/groups, in) channels of every group passes its input channel through unchanged."""
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    size = tuple(tensor.shape)
    if size[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = size[0] // groups
    values = np.zeros(size, tensor.dtype.np)
    centre = tuple(s // 2 for s in size[2:])
    for g in range(groups):
        for d in range(min(per_group, size[1])):
            values[(g * per_group + d, d) + centre] = 1
    return _fill(tensor, gc.tensor(values))


def sparse_(tensor: gc.Tensor, sparsity: float, std: float = 0.01, generator=None) -> gc.Tensor:
    """Fill a 2-d tensor with N(0, std^2) values and zero ``ceil(sparsity * rows)`` random rows of
    each column."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    zeros = int(math.ceil(sparsity * rows))
    normal_(tensor, 0.0, std, generator)
    with gc.no_grad():
        for c in range(cols):
            idx = gc.randperm(rows, generator=generator) if generator is not None else gc.randperm(rows)
            tensor[idx[:zeros], c] = 0
    return tensor
