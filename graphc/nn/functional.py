"""``gc.nn.functional``: activations, softmax, linear, dropout, losses, padding, as in ``torch.nn.functional``.

Everything here is a composite of graphc functions (no registry entries), so
gradients come from the primitives' rules.  Formulas avoid evaluating
overflowing branches even where ``where`` discards them: a discarded ``inf``
still turns into ``0 * inf = nan`` in backward.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import dtypes as _dt
from ..eager.functions import linalg as _la
from ..eager.functions import pointwise as _pw
from ..eager.functions.creation import arange as _arange, full as _full
from ..eager.functions.reduction import amax as _amax
from ..eager.functions.shape import cat as _cat
from ..eager import dispatch as _dispatch
from ..eager.dispatch import apply as _apply
from ..eager.node import named as _named
from ..eager.tensor import Tensor
from ..eager._args import canon_dim
from ..ops.pointwise import broadcast_shapes
from ..ops.registry import get as _get_op

_CHECK = _get_op("check_values")

__all__ = [
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "celu", "hardtanh", "hardtanh_",
    "sigmoid", "tanh", "gelu", "silu", "mish", "softplus", "logsigmoid", "softsign", "hardsigmoid", "hardswish",
    "tanhshrink", "threshold", "glu", "softmax", "softmin", "log_softmax", "linear", "bilinear", "dropout", "dropout1d",
    "dropout2d", "dropout3d", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "one_hot", "pad", "normalize",
    "cosine_similarity", "pairwise_distance",
]


# ----------------------------------------------------------------------------- helpers
def _check_tensor(x, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(x).__name__}")
    return x


def _float_only(x: Tensor, op: str) -> Tensor:
    """Torch's activation kernels exist only for floating dtypes."""
    _check_tensor(x, op)
    if not x._dtype.is_floating_point:
        raise NotImplementedError(f'"{op}" not implemented for \'{x._dtype.name}\'')
    return x


def _run(fn, input: Tensor, inplace: bool, op: str) -> Tensor:
    """``fn(input)``, or with ``inplace`` written back into ``input`` (computed on a snapshot, like ``x.f_()``)."""
    if not inplace:
        return fn(input)
    input._check_inplace()
    return input._commit_inplace(fn(input._snapshot()), op + "_")


def _softplus0(z: Tensor) -> Tensor:
    """log(1 + exp(z)) without overflow, with gradient exactly sigmoid(z) (0.5 at 0)."""
    neg = _pw.log1p(_pw.exp(z.clamp(max=0)))            # right for z <= 0, finite everywhere
    pos = z + _pw.log1p(_pw.exp((-z).clamp(max=0)))     # right for z > 0, finite everywhere
    return _pw.where(z > 0, pos, neg)


# ----------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    _check_tensor(input, "relu")
    return input.relu_() if inplace else _pw.relu(input)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamp to [min_val, max_val]; the gradient is 1 strictly inside, 0 at and beyond the bounds (as torch)."""
    _check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")

    def fn(x):
        inside = (x > min_val).logical_and(x < max_val)
        return _pw.where(inside, x, x.detach().clamp(min_val, max_val))

    return _run(fn, input, inplace, "hardtanh")


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    _float_only(input, "leaky_relu")
    return _run(lambda x: _pw.where(x > 0, x, x * negative_slope), input, inplace, "leaky_relu")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""
    _float_only(input, "elu")
    return _run(lambda x: _pw.where(x > 0, x, _pw.expm1(x.clamp(max=0)) * alpha), input, inplace, "elu")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalizing constants."""
    return _run(lambda x: elu(x, _SELU_ALPHA) * _SELU_SCALE, input, inplace, "selu")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, ``alpha * (exp(x / alpha) - 1)`` otherwise."""
    _float_only(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: celu alpha must not be 0")
    return _run(lambda x: _pw.where(x > 0, x, _pw.expm1((x / alpha).clamp(max=0)) * alpha), input, inplace,
                "celu")


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-x))."""
    return _pw.sigmoid(_check_tensor(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _pw.tanh(_check_tensor(input, "tanh"))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (``approximate='tanh'``: the tanh approximation)."""
    _float_only(input, "GeluKernelImpl")
    return _pw.gelu(input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (swish)."""
    _float_only(input, "silu")
    return _run(lambda x: x * _pw.sigmoid(x), input, inplace, "silu")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    _float_only(input, "mish")
    return _run(lambda x: x * _pw.tanh(_softplus0(x)), input, inplace, "mish")


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    _float_only(input, "softplus")
    bx = input * beta if beta != 1 else input
    soft = _softplus0(bx)
    if beta != 1:
        soft = soft / beta
    return _pw.where(bx > threshold, input, soft)


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    _float_only(input, "log_sigmoid_forward")
    return -_softplus0(-input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    _float_only(input, "hardsigmoid")
    return _run(lambda x: hardtanh(x + 3, 0.0, 6.0) / 6, input, inplace, "hardsigmoid")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    _float_only(input, "hardswish")
    # torch's gradient: 0 at and below -3, 1 at and above 3, x / 3 + 0.5 strictly between
    return _run(lambda x: _pw.where(x <= -3, x * 0, _pw.where(x >= 3, x, x * (x + 3) / 6)), input, inplace,
                "hardswish")


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - _pw.tanh(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else ``value``."""
    _check_tensor(input, "threshold")

    def fn(x):
        r = _pw.where(x > threshold, x, value)
        return r if r._dtype is x._dtype else r.to(x._dtype)

    return _run(fn, input, inplace, "threshold")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: first half * sigmoid(second half) along ``dim``."""
    _check_tensor(input, "glu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = canon_dim(dim, input.ndim, "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.narrow(d, 0, n // 2), input.narrow(d, n // 2, n // 2)
    return a * _pw.sigmoid(b)


# ----------------------------------------------------------------------------- softmax family
def _softmax_dim(input: Tensor, dim, op: str) -> int:
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                      "as an argument.", stacklevel=3)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return canon_dim(dim, input.ndim, op)


def _softmax_input(input: Tensor, dtype, op: str) -> Tensor:
    _check_tensor(input, op)
    if dtype is not None:
        input = input.to(_dt.to_dtype(dtype))
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f'"{op}_lastdim_kernel_impl" not implemented for \'{input._dtype.name}\'')
    return input


def _shift(x: Tensor, d: int) -> Tensor:
    """The max along ``d`` (kept), a constant for autograd.  When ``d`` is a symbolic size (the batch
    dim of a dynamic=True trace) the size-0 check above was decided at the stand-in size, so one -inf
    is appended first: the max stays the same, and a batch of 0 gives -inf instead of an error."""
    x = x.detach()
    if x._symbolic and _dispatch.static.symbolic_dim(x, d):
        pad = list(x.shape)
        pad[d] = 1
        x = _cat([x, _full(pad, -math.inf, dtype=x.dtype)], d)
    return _amax(x, d, keepdim=True)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the (constant) max so large inputs don't overflow.

    ``dtype`` casts the input first.  A slice that is all -inf gives nan, as in torch.
    """
    x = _softmax_input(input, dtype, "softmax")
    d = _softmax_dim(x, dim, "softmax")
    if x.ndim == 0:
        return _pw.exp(x - x.detach())
    if x.shape[d] == 0:
        return x.clone()
    e = _pw.exp(x - _shift(x, d))
    return _named(e / e.sum(d, keepdim=True), "SoftmaxBackward0")


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x)."""
    x = _softmax_input(input, dtype, "softmin")
    return softmax(-x, _softmax_dim(x, dim, "softmin"))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (stable for large inputs)."""
    x = _softmax_input(input, dtype, "log_softmax")
    d = _softmax_dim(x, dim, "log_softmax")
    if x.ndim == 0:
        return x - x.detach()
    if x.shape[d] == 0:
        return x.clone()
    # shift by the (constant) max; an all -inf slice gives nan, as in torch
    shifted = x - _shift(x, d)
    return _named(shifted - _pw.log(_pw.exp(shifted).sum(d, keepdim=True)), "LogSoftmaxBackward0")


# ----------------------------------------------------------------------------- linear
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` with weight (out_features, in_features) (or (in_features,))."""
    _check_tensor(input, "linear")
    _check_tensor(weight, "linear", "weight")
    if weight.ndim > 2:
        raise RuntimeError(f"linear: weight must be 1-D or 2-D, got shape {list(weight.shape)}")
    w = weight.transpose(0, 1) if weight.ndim == 2 else weight
    r = _la.matmul(input, w)
    if bias is not None:
        r = r + bias
    return r


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y_k = x1^T W_k x2 + b_k`` with weight (out, in1, in2)."""
    r = _la.einsum("...i,kij,...j->...k", input1, weight, input2)
    return r if bias is None else r + bias


# ----------------------------------------------------------------------------- dropout
def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return float(p)


def _dropout_mask(input: Tensor, p: float, mask_shape: tuple) -> Tensor:
    """Kept entries scaled by 1/(1-p), dropped ones 0, drawn from gc's global random stream."""
    from ..eager.random import generator

    if p == 1.0:
        return Tensor._make(np.zeros(mask_shape, input._dtype.np))
    keep = generator().random(mask_shape) >= p
    return Tensor._make((keep * (1.0 / (1.0 - p))).astype(input._dtype.np))


def _apply_dropout(input: Tensor, p: float, training: bool, inplace: bool, mask_shape, op: str) -> Tensor:
    _check_tensor(input, op)
    p = _check_p(p)
    if not training or p == 0.0:
        return input
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"{op}: result type Float can't be cast to the desired output type {input._dtype.name}")
    mask = _dropout_mask(input, p, mask_shape)
    return input.mul_(mask) if inplace else input * mask


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (identity when not training)."""
    return _apply_dropout(input, p, training, inplace, tuple(_check_tensor(input, "dropout").shape), "dropout")


def _feature_dropout(input: Tensor, p, training, inplace, spatial: int, op: str) -> Tensor:
    _check_tensor(input, op)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: Expected {spatial + 1}D or {spatial + 2}D input, but received a {input.ndim}D "
                           f"input of shape {list(input.shape)}")
    # one draw per (sample, channel): whole feature maps are zeroed
    lead = input.ndim - spatial
    mask_shape = tuple(input.shape[:lead]) + (1,) * spatial
    return _apply_dropout(input, p, training, inplace, mask_shape, op)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input."""
    return _feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout3d")


# ----------------------------------------------------------------------------- regression losses
_REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction: str, size_average=None, reduce=None) -> str:
    """The reduction string, honouring torch's legacy ``size_average``/``reduce`` flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS and reduction != "batchmean":
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _pointwise_pair(input: Tensor, target: Tensor, op: str) -> None:
    _check_tensor(input, op)
    _check_tensor(target, op, "target")
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({list(target.shape)}) that is different to the input size "
                      f"({list(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _weighted(loss: Tensor, weight, reduction: str, input: Tensor, mean_by_weight: bool) -> Tensor:
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_by_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _float_loss(input: Tensor, target: Tensor, op: str) -> None:
    if not input._dtype.is_floating_point and not target._dtype.is_floating_point:
        raise NotImplementedError(f'"{op}" not implemented for \'{input._dtype.name}\'')


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """mean/sum/none of (input - target)^2 (broadcast, with a warning when shapes differ)."""
    _pointwise_pair(input, target, "mse_loss")
    reduction = _reduction(reduction, size_average, reduce)
    _float_loss(input, target, "mse_cpu")
    d = input - target
    return _named(_weighted(d * d, weight, reduction, input, mean_by_weight=True), "MseLossBackward0")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """mean/sum/none of |input - target|."""
    _pointwise_pair(input, target, "l1_loss")
    reduction = _reduction(reduction, size_average, reduce)
    _float_loss(input, target, "l1_loss")
    return _weighted((input - target).abs(), weight, reduction, input, mean_by_weight=True)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0 is the L1 loss)."""
    _pointwise_pair(input, target, "smooth_l1_loss")
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _float_loss(input, target, "smooth_l1_loss")
    d = input - target
    ad = d.abs()
    if beta == 0:
        return _reduce(ad, reduction)
    loss = _pw.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    _pointwise_pair(input, target, "huber_loss")
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _float_loss(input, target, "huber_loss")
    d = input - target
    ad = d.abs()
    loss = _pw.where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    return _weighted(loss, weight, reduction, input, mean_by_weight=False)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Pointwise ``target * (log(target) - input)`` (input holds log-probabilities; 0 where target is 0).

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematically right KL).
    """
    _check_tensor(input, "kl_div")
    _check_tensor(target, "kl_div", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if log_target:
        loss = _pw.exp(target) * (target - input)
    else:
        loss = _pw.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- classification losses
def _class_shape_check(input: Tensor, target: Tensor, op: str) -> int:
    """Torch's (N, C, d1, ...) / (C,) layout check; returns the class dim."""
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have at least 1 dimension (C) or 2 (N, C), got a 0-d tensor")
    if input.ndim == 1:
        if target.ndim != 0:
            raise RuntimeError(f"{op}: 1D input (C,) expects a 0-d target, got target of shape {list(target.shape)}")
        return 0
    if target.ndim >= 1 and target.shape[0] != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0]}).")
    want = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != want:
        raise RuntimeError(f"{op}: size mismatch (got input: {list(input.shape)} , target: {list(target.shape)})")
    return 1


def _check_class_target(target: Tensor, op: str) -> None:
    dt = target._dtype
    if dt.is_floating_point or dt is _dt.bool:
        raise RuntimeError(f"{op}: expected target to hold class indices of an integer dtype, but got {dt.name}")


def _class_view(t: Tensor, ndim: int, class_dim: int) -> Tensor:
    """A (C,) tensor shaped to broadcast along ``class_dim`` of an ``ndim``-d input."""
    shape = [1] * ndim
    shape[class_dim] = t.shape[0]
    return t.reshape(shape)


def _check_weight(weight, input: Tensor, n_classes: int, op: str) -> None:
    if weight is None:
        return
    _check_tensor(weight, op, "weight")
    if weight.ndim != 1 or weight.shape[0] != n_classes:
        raise RuntimeError(f"{op}: weight tensor should be defined either for all {n_classes} classes or no classes "
                           f"but got weight tensor of shape: {list(weight.shape)}")
    if weight._dtype is not input._dtype:
        raise RuntimeError(f"{op}: expected scalar type {input._dtype.name} but found {weight._dtype.name} (weight)")


def _class_targets(logp: Tensor, target: Tensor, weight, ignore_index: int, op: str):
    """Masks derived from class-index targets, built with graphc ops so they also trace into static graphs:
    (class dim, one-hot mask with ignored entries cleared, valid mask, per-element weight or None, total weight)."""
    class_dim = _class_shape_check(logp, target, op)
    _check_class_target(target, op)
    n_classes = logp.shape[class_dim]
    _check_weight(weight, logp, n_classes, op)
    # the bounds are checked where the values exist: now in eager mode, at each run of a traced graph
    target = _apply(_CHECK, (target,), {"lo": 0, "hi": n_classes - 1, "skip": ignore_index, "error": "index",
                                        "message": f"{op}: Target {{value}} is out of bounds "
                                                   f"(classes 0..{n_classes - 1})."})
    valid = _pw.ne(target, ignore_index)
    classes = _arange(n_classes).reshape([-1 if i == class_dim else 1 for i in range(logp.ndim)])
    hit = _pw.logical_and(_pw.eq(target.unsqueeze(class_dim), classes), valid.unsqueeze(class_dim))
    if weight is None:
        return class_dim, hit, valid, None, valid.sum().to(logp.dtype)
    w = _pw.where(valid, weight.detach()[_pw.where(valid, target, 0)], 0.0)
    return class_dim, hit, valid, w, w.sum()


def _nll(logp: Tensor, target: Tensor, weight, ignore_index: int, reduction: str, op: str):
    """(reduced NLL loss, per-element valid mask, total weight) for log-probabilities ``logp``."""
    class_dim, hit, valid, w, total = _class_targets(logp, target, weight, ignore_index, op)
    picked = _pw.where(hit, logp, 0.0).sum(class_dim)
    loss = -picked if w is None else picked * -w
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        loss = loss.sum() / total  # 0 / 0 = nan when every target is ignored, as in torch
    return loss, valid, total


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices: ``-weight[t] * input[n, t]``; 'mean' divides by the total weight
    of the non-ignored targets."""
    _check_tensor(input, "nll_loss")
    _check_tensor(target, "nll_loss", "target")
    reduction = _reduction(reduction, size_average, reduce)
    return _named(_nll(input, target, weight, ignore_index, reduction, "nll_loss")[0], "NllLossBackward0")


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits ``input`` (N, C, d1, ...) or (C,) against class indices (any integer dtype) or
    class probabilities (a float target shaped like input); ``weight``, ``ignore_index``, ``label_smoothing``
    as in torch."""
    _check_tensor(input, "cross_entropy")
    _check_tensor(target, "cross_entropy", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f'"log_softmax_lastdim_kernel_impl" not implemented for \'{input._dtype.name}\'')
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least 1 dimension (C) or 2 (N, C), got a 0-d tensor")
    class_dim = 1 if input.ndim >= 2 else 0
    n_classes = input.shape[class_dim]
    logp = log_softmax(input, class_dim)
    if target._dtype.is_floating_point:
        return _cross_entropy_probs(logp, target, weight, reduction, label_smoothing, class_dim)
    nll, valid, total = _nll(logp, target, weight, ignore_index, reduction, "cross_entropy")
    if label_smoothing == 0:
        return _named(nll, "NllLossBackward0")
    # the smoothing term: -sum_c weight_c logp_c per element, zero where the target is ignored
    lp = logp if weight is None else logp * _class_view(weight, logp.ndim, class_dim)
    # masked with where, not a product: when every target is ignored the mean divides by 0 and the
    # ignored entries' gradient must stay 0 (torch's masked_fill), not inf * 0 = nan
    smooth = _pw.where(valid, -lp.sum(class_dim), 0.0)
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        smooth = smooth.sum() / total
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _cross_entropy_probs(logp: Tensor, target: Tensor, weight, reduction: str, label_smoothing: float,
                         class_dim: int) -> Tensor:
    if tuple(target.shape) != tuple(logp.shape):
        raise RuntimeError(f"cross_entropy: class-probability targets must have the input's shape "
                           f"{list(logp.shape)}, got {list(target.shape)}")
    n_classes = logp.shape[class_dim]
    _check_weight(weight, logp, n_classes, "cross_entropy")
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        terms = terms * _class_view(weight, logp.ndim, class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    total = -terms.sum()
    if reduction == "sum":
        return total
    # 'mean' averages over the samples (every element but the class dim), nan when there are none
    n = logp.numel() // n_classes if n_classes else 0
    return total / n if n else total * math.nan


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """``-w (y log x + (1 - y) log(1 - x))`` for probabilities ``x`` in [0, 1]; each log is clamped at -100
    like torch, so x = 0 or 1 gives finite losses and gradients."""
    _check_tensor(input, "binary_cross_entropy")
    _check_tensor(target, "binary_cross_entropy", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({list(target.shape)}) that is different to the input size "
                         f"({list(input.shape)}) is deprecated. Please ensure they have the same size.")
    if target._dtype is not input._dtype:
        raise RuntimeError(f"binary_cross_entropy: Found dtype {target._dtype.name} but expected {input._dtype.name}")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for \'{input._dtype.name}\'')
    input = _apply(_CHECK, (input,), {"lo": 0, "hi": 1, "skip": None, "error": "runtime",
                                      "message": "binary_cross_entropy: all elements of input should be between "
                                                 "0 and 1"})
    loss = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    if weight is not None:
        loss = loss * weight
    return _named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")


def _clamped_log(x: Tensor) -> Tensor:
    """max(log(x), -100) with a finite gradient at x = 0 (the clamped region has slope 0)."""
    ok = x > math.exp(-100)
    return _pw.where(ok, _pw.log(_pw.where(ok, x, 1.0)), -100.0)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """``binary_cross_entropy(sigmoid(x), y)`` computed stably from logits; ``pos_weight`` scales the
    positive term (broadcast along the last dim)."""
    _check_tensor(input, "binary_cross_entropy_with_logits")
    _check_tensor(target, "binary_cross_entropy_with_logits", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({list(target.shape)}) must be the same as input size ({list(input.shape)})")
    if not input._dtype.is_floating_point or not target._dtype.is_floating_point:
        bad = target if input._dtype.is_floating_point else input
        raise RuntimeError(f"binary_cross_entropy_with_logits: result type float can't be cast to the desired output "
                           f"type {bad._dtype.name}")
    # -log(sigmoid(x)) = softplus(-x), -log(1 - sigmoid(x)) = softplus(x) = x + softplus(-x)
    sp_neg = _softplus0(-input)
    if pos_weight is None:
        loss = (1 - target) * input + sp_neg
    else:
        loss = (1 - target) * input + (target * (pos_weight - 1) + 1) * sp_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ----------------------------------------------------------------------------- one_hot, pad, normalize
def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding along a new last dim; ``num_classes=-1`` uses max + 1."""
    _check_tensor(tensor, "one_hot", "tensor")
    if tensor._dtype is not _dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    t = tensor._data
    if num_classes == -1:
        if t.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(t.max()) + 1
    if t.size:
        if t.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if t.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    return (tensor.unsqueeze(-1) == _arange(num_classes)).long()


def _pad_const(x: Tensor, d: int, before: int, after: int, value) -> Tensor:
    n = x.shape[d]
    if before < 0 or after < 0:
        start, stop = max(-before, 0), n - max(-after, 0)
        if stop < start:
            raise RuntimeError(f"pad: the padded size of dim {d} would be negative ({n} + {before} + {after})")
        x = x.narrow(d, start, stop - start)
        before, after = max(before, 0), max(after, 0)
    parts = []
    for k in (before, after):
        shape = list(x.shape)
        shape[d] = k
        parts.append(_full(shape, value, dtype=x._dtype) if k else None)
    pieces = [p for p in (parts[0], x, parts[1]) if p is not None]
    return _cat(pieces, d) if len(pieces) > 1 else x


def _pad_mode(x: Tensor, d: int, before: int, after: int, mode: str) -> Tensor:
    n = x.shape[d]
    if before < 0 or after < 0:
        raise RuntimeError(f"pad: negative padding is only supported in constant mode, got ({before}, {after})")
    if mode == "reflect":
        if before >= n or after >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension {d} of input {list(x.shape)}")
        left = x.narrow(d, 1, before).flip(d) if before else None
        right = x.narrow(d, n - 1 - after, after).flip(d) if after else None
    elif mode == "replicate":
        if n == 0:
            raise RuntimeError(f"pad: replicate padding of an empty dimension {d}")
        shape = list(x.shape)
        shape[d] = before
        left = x.narrow(d, 0, 1).expand(shape) if before else None
        shape[d] = after
        right = x.narrow(d, n - 1, 1).expand(shape) if after else None
    else:  # circular
        if before > n or after > n:
            raise RuntimeError(f"Padding value causes wrapping around more than once: ({before}, {after}) for "
                               f"dimension {d} of size {n}")
        left = x.narrow(d, n - before, before) if before else None
        right = x.narrow(d, 0, after) if after else None
    pieces = [p for p in (left, x, right) if p is not None]
    return _cat(pieces, d) if len(pieces) > 1 else x


def pad(input: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims: ``pad = (last_lo, last_hi, prev_lo, prev_hi, ...)``.

    Modes: 'constant' (negative pads crop), 'reflect', 'replicate', 'circular'.
    """
    _check_tensor(input, "pad")
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant" and value not in (None, 0):
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    x = input
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        before, after = pad[2 * i], pad[2 * i + 1]
        if before == 0 and after == 0:
            continue
        if mode == "constant":
            x = _pad_const(x, d, before, after, 0 if value is None else value)
        else:
            x = _pad_mode(x, d, before, after, mode)
    return x if x is not input else input.clone()


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """``input / max(||input||_p, eps)`` along ``dim``."""
    _check_tensor(input, "normalize")
    denom = _la.vector_norm(input, p, dim, keepdim=True).clamp(min=eps)
    r = input / denom
    if out is not None:
        from ..eager.functions.out import write_out

        return write_out(r, out, "normalize")
    return r


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim`` (inputs broadcast)."""
    _check_tensor(x1, "cosine_similarity", "x1")
    _check_tensor(x2, "cosine_similarity", "x2")
    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1 = x1 if tuple(x1.shape) == shape else x1.expand(shape)
    x2 = x2 if tuple(x2.shape) == shape else x2.expand(shape)
    n1 = _la.vector_norm(x1, 2, dim, keepdim=True).clamp(min=eps)
    n2 = _la.vector_norm(x2, 2, dim, keepdim=True).clamp(min=eps)
    prod = (x1 / n1) * (x2 / n2)
    return prod.sum(canon_dim(dim, prod.ndim, "cosine_similarity"))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """``||x1 - x2 + eps||_p`` over the last dim."""
    d = x1 - x2 + eps
    return _la.vector_norm(d, p, -1, keepdim=keepdim)
