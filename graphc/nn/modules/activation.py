"""Activation layers: thin modules over ``gc.nn.functional``."""
from __future__ import annotations

import graphc as gc

from .. import functional as F
from .module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "LogSoftmax", "LeakyReLU", "SiLU", "Mish", "ELU", "SELU",
           "CELU", "Softplus", "ReLU6", "Hardtanh", "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign",
           "Tanhshrink"]


class ReLU(Module):
    """max(x, 0) elementwise; ``inplace=True`` overwrites the input."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: gc.Tensor) -> gc.Tensor:
        return F.relu(input, inplace=self.inplace) if self.inplace else F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, input: gc.Tensor) -> gc.Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, input: gc.Tensor) -> gc.Tensor:
        return F.tanh(input)


class GELU(Module):
    """Gaussian error linear unit; ``approximate='tanh'`` uses the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: gc.Tensor) -> gc.Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """Softmax along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: gc.Tensor) -> gc.Tensor:
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: gc.Tensor) -> gc.Tensor:
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LeakyReLU(Module):
    """x where x >= 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: gc.Tensor) -> gc.Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class _Functional(Module):
    """A layer that applies ``gc.nn.functional.<_fn>`` with the keyword options it was built with
    (``inplace`` included where the function has it); ``extra_repr`` shows the options."""

    _fn = ""

    def __init__(self, **options) -> None:
        super().__init__()
        self._options = options
        for k, v in options.items():
            setattr(self, k, v)

    def forward(self, input: gc.Tensor) -> gc.Tensor:
        return getattr(F, self._fn)(input, **{k: getattr(self, k) for k in self._options})

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)}" for k in self._options if k != "inplace" or self.inplace)


class SiLU(_Functional):
    """x * sigmoid(x) (swish)."""
    _fn = "silu"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)


class Mish(_Functional):
    """x * tanh(softplus(x))."""
    _fn = "mish"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)


class ELU(_Functional):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    _fn = "elu"

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha=alpha, inplace=inplace)


class SELU(_Functional):
    """scale * elu(x, alpha) with the self-normalizing constants."""
    _fn = "selu"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)


class CELU(_Functional):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    _fn = "celu"

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha=alpha, inplace=inplace)


class Softplus(_Functional):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold``."""
    _fn = "softplus"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class Hardtanh(_Functional):
    """x clamped to [min_val, max_val]."""
    _fn = "hardtanh"

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__(min_val=min_val, max_val=max_val, inplace=inplace)


class ReLU6(_Functional):
    """min(max(x, 0), 6)."""
    _fn = "relu6"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)


class Hardsigmoid(_Functional):
    """relu6(x + 3) / 6."""
    _fn = "hardsigmoid"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)


class Hardswish(_Functional):
    """x * relu6(x + 3) / 6."""
    _fn = "hardswish"

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace=inplace)


class LogSigmoid(_Functional):
    """log(sigmoid(x)), computed stably."""
    _fn = "logsigmoid"


class Softsign(_Functional):
    """x / (1 + |x|)."""
    _fn = "softsign"


class Tanhshrink(_Functional):
    """x - tanh(x)."""
    _fn = "tanhshrink"
