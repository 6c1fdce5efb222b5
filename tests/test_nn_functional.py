"""gc.nn.functional: values against numpy formulas, gradients against finite differences, torch's errors."""
import math
import warnings

import numpy as np
import pytest

import graphc as gc
import graphc.nn.functional as F
from helpers import assert_matches, check_grad, rand64

RNG = np.random.default_rng(7)


def _x(*shape, scale=2.0):
    return RNG.standard_normal(shape) * scale


def _np(t):
    return t.detach().numpy()


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0, x)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


# ----------------------------------------------------------------------------- activations
ACTIVATIONS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (lambda t: F.elu(t, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0)))),
    "selu": (F.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0)))),
    "celu": (lambda t: F.celu(t, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0) / 0.5))),
    "sigmoid": (F.sigmoid, _sigmoid),
    "tanh": (F.tanh, np.tanh),
    "gelu": (F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    "silu": (F.silu, lambda x: x * _sigmoid(x)),
    "mish": (F.mish, lambda x: x * np.tanh(_softplus(x))),
    "softplus": (F.softplus, lambda x: np.where(x > 20, x, _softplus(x))),
    "softplus_beta": (lambda t: F.softplus(t, beta=2.0, threshold=3.0),
                      lambda x: np.where(2 * x > 3, x, _softplus(2 * x) / 2)),
    "logsigmoid": (F.logsigmoid, lambda x: -_softplus(-x)),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 1.5), lambda x: np.clip(x, -0.5, 1.5)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "threshold": (lambda t: F.threshold(t, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(3, 4), (), (0, 2)])
def test_activation_values(name, shape):
    fn, ref = ACTIVATIONS[name]
    x = _x(*shape, scale=4.0)
    for dt, tol in ((gc.float64, 1e-10), (gc.float32, 1e-5)):
        assert_matches(fn(gc.tensor(x, dtype=dt)), ref(x).astype(dt.np), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_grad(name):
    fn = ACTIVATIONS[name][0]
    # keep away from the kinks (0, +-3, 6, thresholds) where finite differences straddle two branches
    x = np.array([[-3.7, -2.2, -0.8, -0.3], [0.2, 0.9, 2.4, 7.1]])
    check_grad(fn, gc.tensor(x, dtype=gc.float64, requires_grad=True))


def test_activations_stable_for_large_inputs():
    x = gc.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=gc.float64, requires_grad=True)
    for fn in (F.softplus, F.logsigmoid, F.silu, F.mish, F.elu, F.selu, F.sigmoid):
        y = fn(x)
        assert np.all(np.isfinite(_np(y))), fn
        y.sum().backward()
        assert np.all(np.isfinite(x.grad.numpy())), fn
        x.grad = None
    assert_matches(F.softplus(gc.tensor([1000.0, -1000.0, 0.0], dtype=gc.float64)), np.array([1000.0, 0.0, math.log(2)]))
    # the gradient of softplus at 0 is sigmoid(0) = 1/2, not a one-sided subgradient
    z = gc.zeros(1, dtype=gc.float64, requires_grad=True)
    F.softplus(z).sum().backward()
    assert z.grad.item() == pytest.approx(0.5)


def test_activation_dtypes_and_errors():
    ints = gc.tensor([-1, 2])
    assert_matches(F.relu(ints), np.array([0, 2]))
    assert F.sigmoid(ints).dtype == gc.float32
    for fn in (F.leaky_relu, F.gelu, F.silu, F.softplus, F.elu):
        with pytest.raises(NotImplementedError, match="not implemented for 'int64'"):
            fn(ints)
    with pytest.raises(TypeError):
        F.relu([1.0, 2.0])
    with pytest.raises(RuntimeError, match="approximate"):
        F.gelu(gc.ones(2), approximate="fast")
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(gc.ones(2), 2.0, 1.0)


def test_glu():
    x = _x(2, 6)
    a, b = x[:, :3], x[:, 3:]
    assert_matches(F.glu(gc.tensor(x)), a * _sigmoid(b), rtol=1e-10)
    assert_matches(F.glu(gc.tensor(x), 0), x[:1] * _sigmoid(x[1:]), rtol=1e-10)
    check_grad(F.glu, rand64(2, 4))
    with pytest.raises(RuntimeError, match="even"):
        F.glu(gc.ones(2, 3))


@pytest.mark.parametrize("fn,kw", [(F.relu, {}), (F.leaky_relu, {"negative_slope": 0.1}), (F.elu, {}),
                                   (F.hardtanh, {}), (F.relu6, {}), (F.silu, {}), (F.threshold, {"threshold": 0.0,
                                                                                                  "value": 1.0})])
def test_inplace_activations(fn, kw):
    x = _x(3, 4)
    want = _np(fn(gc.tensor(x), **kw))
    t = gc.tensor(x)
    out = fn(t, inplace=True, **kw)
    assert out is t
    assert_matches(t, want)
    leaf = gc.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        fn(leaf, inplace=True, **kw)
    # in place on a non-leaf keeps the gradient right
    a = gc.tensor(x, dtype=gc.float64, requires_grad=True)
    h = a * 1.0
    fn(h, inplace=True, **kw).sum().backward()
    b = gc.tensor(x, dtype=gc.float64, requires_grad=True)
    fn(b * 1.0, **kw).sum().backward()
    assert_matches(a.grad, b.grad.numpy())


def test_relu_underscore_alias():
    t = gc.tensor([-1.0, 2.0])
    assert F.relu_(t) is t and t.tolist() == [0.0, 2.0]


# ----------------------------------------------------------------------------- softmax family
def _np_softmax(x, axis):
    if x.shape[axis] == 0:
        return x.copy()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x, axis):
    if x.shape[axis] == 0:
        return x.copy()
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("shape,dim", [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), -2), ((5,), 0),
                                       ((1, 1), 1), ((0, 3), 1), ((2, 0), 1)])
def test_softmax_log_softmax_values(shape, dim):
    x = _x(*shape, scale=3.0)
    assert_matches(F.softmax(gc.tensor(x), dim), _np_softmax(x, dim), rtol=1e-10)
    assert_matches(F.log_softmax(gc.tensor(x), dim), _np_log_softmax(x, dim), rtol=1e-10)
    assert_matches(F.softmin(gc.tensor(x), dim), _np_softmax(-x, dim), rtol=1e-10)
    x32 = x.astype(np.float32)
    assert_matches(F.softmax(gc.tensor(x32), dim), _np_softmax(x32, dim), rtol=1e-5)


def test_softmax_large_inputs_are_stable():
    x = np.array([[1000.0, 0.0, -1000.0], [1e4, 1e4, 1e4]], np.float32)
    s = F.softmax(gc.tensor(x), 1)
    ls = F.log_softmax(gc.tensor(x), 1)
    assert np.all(np.isfinite(_np(s))) and np.all(np.isfinite(_np(ls)))
    assert_matches(s, _np_softmax(x.astype(np.float64), 1).astype(np.float32), atol=1e-6)
    assert_matches(ls, _np_log_softmax(x.astype(np.float64), 1).astype(np.float32), rtol=1e-5)
    t = gc.tensor(x.astype(np.float64) * 10, requires_grad=True)
    F.log_softmax(t, 1).sum().backward()
    assert np.all(np.isfinite(t.grad.numpy()))
    # an all -inf slice is nan, as in torch
    assert np.all(np.isnan(_np(F.softmax(gc.tensor([-math.inf, -math.inf]), 0))))
    assert_matches(F.log_softmax(gc.tensor([-math.inf, 0.0]), 0), np.array([-math.inf, 0.0], np.float32))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_grads(dim):
    check_grad(lambda t: F.softmax(t, dim), rand64(3, 4, low=-5, high=5))
    check_grad(lambda t: F.log_softmax(t, dim), rand64(3, 4, low=-5, high=5, seed=1))
    # large inputs: the gradient is still the analytic one, y * (g - sum(g * y))
    x = _x(2, 3, scale=300.0)
    t = gc.tensor(x, dtype=gc.float64, requires_grad=True)
    g = _x(2, 3)
    F.softmax(t, 1).backward(gc.tensor(g, dtype=gc.float64))
    y = _np_softmax(x, 1)
    assert_matches(t.grad, y * (g - (g * y).sum(1, keepdims=True)), atol=1e-12)


def test_softmax_dtype_and_errors():
    ints = gc.tensor([1, 2, 3])
    with pytest.raises(NotImplementedError, match="int64"):
        F.softmax(ints, 0)
    r = F.softmax(ints, 0, dtype=gc.float64)
    assert_matches(r, _np_softmax(np.array([1.0, 2.0, 3.0]), 0))
    assert F.log_softmax(gc.ones(2, dtype=gc.float64), 0, dtype=gc.float32).dtype == gc.float32
    with pytest.raises(IndexError):
        F.softmax(gc.ones(2, 3), 2)
    assert_matches(F.softmax(gc.tensor(3.0), 0), np.array(1.0, np.float32))
    assert_matches(F.log_softmax(gc.tensor(3.0), -1), np.array(0.0, np.float32))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert_matches(F.softmax(gc.tensor([[0.0, 0.0]])), np.array([[0.5, 0.5]], np.float32))  # implicit dim 1
        assert any("Implicit dimension" in str(m.message) for m in w)


# ----------------------------------------------------------------------------- linear
def test_linear():
    x, w, b = _x(5, 3), _x(4, 3), _x(4)
    assert_matches(F.linear(gc.tensor(x), gc.tensor(w), gc.tensor(b)), x @ w.T + b, rtol=1e-12)
    assert_matches(F.linear(gc.tensor(x), gc.tensor(w)), x @ w.T, rtol=1e-12)
    x3 = _x(2, 5, 3)
    assert_matches(F.linear(gc.tensor(x3), gc.tensor(w), gc.tensor(b)), x3 @ w.T + b, rtol=1e-12)
    assert_matches(F.linear(gc.tensor(x[0]), gc.tensor(w), gc.tensor(b)), w @ x[0] + b, rtol=1e-12)
    assert_matches(F.linear(gc.tensor(x), gc.tensor(w[0])), x @ w[0], rtol=1e-12)
    check_grad(F.linear, rand64(5, 3), rand64(4, 3, seed=1), rand64(4, seed=2))
    check_grad(F.linear, rand64(2, 2, 3), rand64(4, 3, seed=1))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        F.linear(gc.ones(2, 3), gc.ones(4, 2))
    with pytest.raises(RuntimeError):
        F.linear(gc.ones(2, 3), gc.ones(4, 3), gc.ones(2))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(gc.ones(2, 3), gc.ones(4, 3, dtype=gc.float64))


def test_bilinear():
    x1, x2, w, b = _x(5, 3), _x(5, 2), _x(4, 3, 2), _x(4)
    want = np.einsum("ni,kij,nj->nk", x1, w, x2) + b
    assert_matches(F.bilinear(gc.tensor(x1), gc.tensor(x2), gc.tensor(w), gc.tensor(b)), want, rtol=1e-10)
    check_grad(F.bilinear, rand64(2, 3), rand64(2, 2, seed=1), rand64(2, 3, 2, seed=2), rand64(2, seed=3))


# ----------------------------------------------------------------------------- dropout
def test_dropout_identity_cases():
    x = gc.randn(4, 5)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert_matches(F.dropout(x, 1.0), np.zeros((4, 5), np.float32))
    for p in (-0.1, 1.5, "a"):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, p)


def test_dropout_scaling_statistics_and_seed():
    x = gc.ones(200, 50)
    gc.manual_seed(11)
    a = F.dropout(x, 0.3)
    vals = np.unique(_np(a))
    np.testing.assert_allclose(vals, [0.0, 1 / 0.7], rtol=1e-6)
    frac = (_np(a) == 0).mean()
    assert abs(frac - 0.3) < 0.02
    gc.manual_seed(11)
    b = F.dropout(x, 0.3)
    assert_matches(b, _np(a))
    assert a.dtype == gc.float32


def test_dropout_grad_uses_the_mask_and_inplace():
    x = gc.tensor(np.ones((4, 6)), dtype=gc.float64, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    assert_matches(x.grad, _np(y))  # gradient = mask / (1 - p) = y for an all-ones input
    t = gc.ones(3, 4)
    out = F.dropout(t, 0.5, inplace=True)
    assert out is t and set(np.unique(t.numpy())) <= {0.0, 2.0}
    with pytest.raises(RuntimeError, match="leaf"):
        F.dropout(gc.ones(3, requires_grad=True), 0.5, inplace=True)
    with pytest.raises(RuntimeError):
        F.dropout(gc.ones(3, dtype=gc.int64), 0.5)


def test_feature_dropout_zeros_whole_channels():
    gc.manual_seed(0)
    x = gc.ones(8, 6, 3, 2)
    y = _np(F.dropout2d(x, 0.5))
    per_channel = y.reshape(8, 6, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert set(np.unique(_np(F.dropout1d(gc.ones(4, 3, 5), 0.5)).reshape(4, 3, 5).std(-1))) == {0.0}
    assert F.dropout3d(gc.ones(2, 2, 2, 2, 2), 0.5).shape == (2, 2, 2, 2, 2)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        F.dropout2d(gc.ones(3, 4), 0.5)


# ----------------------------------------------------------------------------- regression losses
def _reduce(v, reduction):
    return {"none": v, "sum": v.sum(), "mean": v.mean()}[reduction]


def _smooth_l1(d, beta):
    ad = np.abs(d)
    return np.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)


def _huber(d, delta):
    ad = np.abs(d)
    return np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(reduction):
    x, y = _x(3, 4), _x(3, 4)
    tx, ty = gc.tensor(x), gc.tensor(y)
    d = x - y
    assert_matches(F.mse_loss(tx, ty, reduction=reduction), _reduce(d * d, reduction), rtol=1e-12)
    assert_matches(F.l1_loss(tx, ty, reduction=reduction), _reduce(np.abs(d), reduction), rtol=1e-12)
    assert_matches(F.smooth_l1_loss(tx, ty, reduction=reduction, beta=1.5),
                   _reduce(_smooth_l1(d, 1.5), reduction), rtol=1e-12)
    assert_matches(F.smooth_l1_loss(tx, ty, reduction=reduction, beta=0.0), _reduce(np.abs(d), reduction))
    assert_matches(F.huber_loss(tx, ty, reduction=reduction, delta=0.7), _reduce(_huber(d, 0.7), reduction),
                   rtol=1e-12)
    w = np.abs(_x(3, 4))
    assert_matches(F.mse_loss(tx, ty, reduction=reduction, weight=gc.tensor(w)),
                   (d * d * w).sum() / w.sum() if reduction == "mean" else _reduce(d * d * w, reduction), rtol=1e-12)
    assert_matches(F.huber_loss(tx, ty, reduction=reduction, weight=gc.tensor(w)),
                   _reduce(_huber(d, 1.0) * w, reduction), rtol=1e-12)


def test_regression_loss_grads_and_legacy_flags():
    for fn in (F.mse_loss, F.l1_loss, lambda a, b: F.smooth_l1_loss(a, b, beta=0.5),
               lambda a, b: F.huber_loss(a, b, delta=0.5, reduction="sum")):
        check_grad(fn, rand64(3, 4), rand64(3, 4, seed=1))
    x, y = _x(2, 3), _x(2, 3)
    assert_matches(F.mse_loss(gc.tensor(x), gc.tensor(y), size_average=False), ((x - y) ** 2).sum())
    assert_matches(F.mse_loss(gc.tensor(x), gc.tensor(y), reduce=False), (x - y) ** 2)


def test_regression_loss_broadcast_dtype_and_errors():
    x, y = _x(3, 4), _x(4)
    with pytest.warns(UserWarning, match="different to the input size"):
        r = F.mse_loss(gc.tensor(x), gc.tensor(y))
    assert_matches(r, ((x - y) ** 2).mean())
    assert F.mse_loss(gc.ones(3), gc.ones(3, dtype=gc.float64)).dtype == gc.float64
    assert math.isnan(F.mse_loss(gc.zeros(0), gc.zeros(0)).item())
    assert F.l1_loss(gc.zeros(0), gc.zeros(0), reduction="sum").item() == 0.0
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(gc.ones(3), gc.ones(3), reduction="avg")
    with pytest.raises(NotImplementedError):
        F.mse_loss(gc.ones(3, dtype=gc.int64), gc.ones(3, dtype=gc.int64))
    with pytest.raises(RuntimeError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.mse_loss(gc.ones(3), gc.ones(4))
    with pytest.raises(ValueError, match="Weights and input"):
        F.mse_loss(gc.ones(3), gc.ones(3), weight=gc.ones(2))
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(gc.ones(3), gc.ones(3), beta=-1.0)


def test_kl_div():
    logq = _np_log_softmax(_x(3, 4), 1)
    p = _np_softmax(_x(3, 4), 1)
    p[0, 0] = 0.0  # 0 * log 0 counts as 0
    pointwise = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - logq), 0.0)
    tq, tp = gc.tensor(logq), gc.tensor(p)
    assert_matches(F.kl_div(tq, tp, reduction="batchmean"), pointwise.sum() / 3, rtol=1e-12)
    assert_matches(F.kl_div(tq, tp), pointwise.mean(), rtol=1e-12)
    assert_matches(F.kl_div(tq, tp, reduction="none"), pointwise, rtol=1e-12)
    logp = np.log(_np_softmax(_x(3, 4), 1))
    assert_matches(F.kl_div(tq, gc.tensor(logp), reduction="sum", log_target=True),
                   (np.exp(logp) * (logp - logq)).sum(), rtol=1e-12)
    check_grad(lambda a: F.kl_div(a, gc.tensor(p), reduction="batchmean"), rand64(3, 4))


# ----------------------------------------------------------------------------- classification losses
def _ce_ref(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross entropy from the definition: class dim 1 (or 0 for a 1-d input)."""
    cd = 1 if x.ndim >= 2 else 0
    logp = _np_log_softmax(x, cd)
    n_classes = x.shape[cd]
    w = np.ones(n_classes) if weight is None else weight
    wshape = [1] * x.ndim
    wshape[cd] = n_classes
    if t.dtype.kind == "f":
        q = t * (1 - label_smoothing) + label_smoothing / n_classes
        per = -(logp * q * w.reshape(wshape)).sum(cd)
        return {"none": per, "sum": per.sum(), "mean": per.sum() / (x.size // n_classes)}[reduction]
    valid = t != ignore_index
    tt = np.where(valid, t, 0)
    picked = np.take_along_axis(logp, np.expand_dims(tt, cd), cd).squeeze(cd)
    wt = np.where(valid, w[tt], 0.0)
    nll = -picked * wt
    smooth = np.where(valid, -(logp * w.reshape(wshape)).sum(cd), 0.0)
    if reduction == "mean":
        nll, smooth = nll.sum() / wt.sum(), smooth.sum() / wt.sum()
    elif reduction == "sum":
        nll, smooth = nll.sum(), smooth.sum()
    return (1 - label_smoothing) * nll + label_smoothing / n_classes * smooth


CE_CASES = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"label_smoothing": 0.2},
    {"label_smoothing": 0.3, "reduction": "none"},
    {"label_smoothing": 0.3, "reduction": "sum"},
    {"ignore_index": 1},
    {"ignore_index": 1, "label_smoothing": 0.1},
]


@pytest.mark.parametrize("kw", CE_CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_class_indices(kw, weighted):
    weight = np.array([1.0, 2.0, 0.5, 3.0]) if weighted else None
    extra = {"weight": gc.tensor(weight)} if weighted else {}
    t = np.array([0, 3, 1, 2, -100]) if "ignore_index" not in kw else np.array([0, 3, 1, 2, 1])
    x = _x(5, 4)
    want = _ce_ref(x, t, weight, **kw)
    assert_matches(F.cross_entropy(gc.tensor(x), gc.tensor(t), **extra, **kw), want, rtol=1e-10)
    # K-dim input (N, C, d1, d2)
    xk, tk = _x(2, 4, 3, 2), RNG.integers(0, 4, (2, 3, 2))
    assert_matches(F.cross_entropy(gc.tensor(xk), gc.tensor(tk), **extra, **kw),
                   _ce_ref(xk, tk, weight, **kw), rtol=1e-10)
    w_t = gc.tensor(weight) if weighted else None
    check_grad(lambda a: F.cross_entropy(a, gc.tensor(t), weight=w_t, **kw), rand64(5, 4, low=-3, high=3))


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.25}])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probabilities(kw, weighted):
    weight = np.array([1.0, 2.0, 0.5, 3.0]) if weighted else None
    x = _x(5, 4)
    p = _np_softmax(_x(5, 4), 1)
    w_t = gc.tensor(weight) if weighted else None
    assert_matches(F.cross_entropy(gc.tensor(x), gc.tensor(p), weight=w_t, **kw), _ce_ref(x, p, weight, **kw),
                   rtol=1e-10)
    xk, pk = _x(2, 4, 3), _np_softmax(_x(2, 4, 3), 1)
    assert_matches(F.cross_entropy(gc.tensor(xk), gc.tensor(pk), weight=w_t, **kw), _ce_ref(xk, pk, weight, **kw),
                   rtol=1e-10)
    check_grad(lambda a: F.cross_entropy(a, gc.tensor(p), weight=w_t, **kw), rand64(5, 4))


@pytest.mark.parametrize("tdtype", [gc.int64, gc.int32, gc.int16, gc.int8, gc.uint8])
def test_cross_entropy_any_integer_target_dtype(tdtype):
    x, t = _x(4, 3), np.array([0, 2, 1, 2])
    assert_matches(F.cross_entropy(gc.tensor(x), gc.tensor(t, dtype=tdtype)), _ce_ref(x, t), rtol=1e-10)


def test_cross_entropy_single_sample_dtype_and_large_logits():
    x = _x(4)
    assert_matches(F.cross_entropy(gc.tensor(x), gc.tensor(2)), _ce_ref(x, np.array(2)), rtol=1e-10)
    assert F.cross_entropy(gc.ones(2, 3), gc.tensor([0, 1])).dtype == gc.float32
    big = gc.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(big, gc.tensor([1]))
    assert loss.item() == pytest.approx(2000.0)
    loss.backward()
    assert np.all(np.isfinite(big.grad.numpy()))
    # every target ignored: mean is 0/0 = nan, as in torch
    assert math.isnan(F.cross_entropy(gc.ones(2, 3), gc.tensor([-100, -100])).item())
    assert math.isnan(F.nll_loss(gc.zeros(0, 3), gc.zeros(0, dtype=gc.int64)).item())


def test_cross_entropy_errors():
    x = gc.ones(3, 4)
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(x, gc.tensor([0, 1, 5]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.cross_entropy(x, gc.tensor([0, 1, -1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)"):
        F.cross_entropy(x, gc.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="size mismatch"):
        F.cross_entropy(gc.ones(2, 3, 4), gc.zeros(2, 5, dtype=gc.int64))
    with pytest.raises(RuntimeError, match="integer dtype"):
        F.cross_entropy(x, gc.tensor([True, False, True]))
    with pytest.raises(RuntimeError, match="input's shape"):
        F.cross_entropy(x, gc.ones(3))
    with pytest.raises(RuntimeError, match="label_smoothing must be between"):
        F.cross_entropy(x, gc.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, gc.tensor([0, 1, 2]), weight=gc.ones(3))
    with pytest.raises(RuntimeError, match="expected scalar type"):
        F.cross_entropy(x, gc.tensor([0, 1, 2]), weight=gc.ones(4, dtype=gc.float64))
    with pytest.raises(NotImplementedError):
        F.cross_entropy(gc.ones(3, 4, dtype=gc.int64), gc.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="not a valid value"):
        F.cross_entropy(x, gc.tensor([0, 1, 2]), reduction="bad")


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"ignore_index": 2}])
def test_nll_loss(kw):
    logp = _np_log_softmax(_x(5, 3), 1)
    t = np.array([0, 2, 1, 2, 0])
    w = np.array([0.5, 2.0, 1.5])
    valid = t != kw.get("ignore_index", -100)
    per = -logp[np.arange(5), t] * w[t] * valid
    red = kw.get("reduction", "mean")
    want = {"none": per, "sum": per.sum(), "mean": per.sum() / (w[t] * valid).sum()}[red]
    assert_matches(F.nll_loss(gc.tensor(logp), gc.tensor(t), weight=gc.tensor(w), **kw), want, rtol=1e-12)
    check_grad(lambda a: F.nll_loss(a, gc.tensor(t), **kw), rand64(5, 3))


def _bce_ref(p, y, w=None):
    loss = -(y * np.maximum(np.log(np.where(p > 0, p, 1e-300)), -100)
             + (1 - y) * np.maximum(np.log(np.where(p < 1, 1 - p, 1e-300)), -100))
    return loss if w is None else loss * w


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy(reduction):
    p = _sigmoid(_x(3, 4))
    y = RNG.random((3, 4)).round()
    assert_matches(F.binary_cross_entropy(gc.tensor(p), gc.tensor(y), reduction=reduction),
                   _reduce(_bce_ref(p, y), reduction), rtol=1e-12)
    w = np.array([1.0, 2.0, 0.5, 0.0])
    assert_matches(F.binary_cross_entropy(gc.tensor(p), gc.tensor(y), weight=gc.tensor(w), reduction=reduction),
                   _reduce(_bce_ref(p, y, w), reduction), rtol=1e-12)
    check_grad(lambda a: F.binary_cross_entropy(a, gc.tensor(y), reduction=reduction),
               rand64(3, 4, low=0.05, high=0.95))


def test_binary_cross_entropy_clamps_log_and_errors():
    p = gc.tensor([0.0, 1.0, 0.0, 1.0], dtype=gc.float64, requires_grad=True)
    y = gc.tensor([0.0, 1.0, 1.0, 0.0], dtype=gc.float64)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    assert_matches(loss, np.array([0.0, 0.0, 100.0, 100.0]))
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad.numpy()))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(gc.tensor([0.5, 1.5]), gc.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(gc.tensor([0.5, 0.5]), gc.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(RuntimeError, match="Found dtype"):
        F.binary_cross_entropy(gc.tensor([0.5, 0.5]), gc.tensor([0, 1]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_with_logits(reduction):
    x = _x(3, 4, scale=5.0)
    y = RNG.random((3, 4))
    pw = np.array([1.0, 2.0, 3.0, 0.5])
    w = np.array([[1.0], [0.5], [2.0]])

    def ref(pos_weight=None, weight=None):
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * x + lw * _softplus(-x)
        return loss if weight is None else loss * weight

    tx, ty = gc.tensor(x), gc.tensor(y)
    assert_matches(F.binary_cross_entropy_with_logits(tx, ty, reduction=reduction), _reduce(ref(), reduction),
                   rtol=1e-12)
    assert_matches(F.binary_cross_entropy_with_logits(tx, ty, weight=gc.tensor(w), pos_weight=gc.tensor(pw),
                                                      reduction=reduction),
                   _reduce(ref(pw, w), reduction), rtol=1e-12)
    check_grad(lambda a: F.binary_cross_entropy_with_logits(a, ty, pos_weight=gc.tensor(pw), reduction=reduction),
               rand64(3, 4, low=-4, high=4))


def test_bce_with_logits_large_logits_and_errors():
    x = gc.tensor([-1000.0, 1000.0, 0.0], dtype=gc.float64, requires_grad=True)
    y = gc.tensor([1.0, 0.0, 1.0], dtype=gc.float64)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    assert_matches(loss, np.array([1000.0, 1000.0, math.log(2)]))
    loss.sum().backward()
    assert_matches(x.grad, np.array([-1.0, 1.0, -0.5]))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(gc.ones(2), gc.ones(3))
    with pytest.raises(RuntimeError):
        F.binary_cross_entropy_with_logits(gc.ones(2), gc.ones(2, dtype=gc.int64))
    assert F.binary_cross_entropy_with_logits(gc.ones(2), gc.ones(2, dtype=gc.float64)).dtype == gc.float64


# ----------------------------------------------------------------------------- one_hot, pad, normalize
def test_one_hot():
    t = np.array([[0, 2], [1, 0]])
    want = np.eye(3, dtype=np.int64)[t]
    assert_matches(F.one_hot(gc.tensor(t)), want)
    assert_matches(F.one_hot(gc.tensor(t), 5), np.eye(5, dtype=np.int64)[t])
    assert_matches(F.one_hot(gc.tensor(1), 3), np.array([0, 1, 0]))
    assert F.one_hot(gc.zeros(0, dtype=gc.int64), 3).shape == (0, 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(gc.tensor([0, -1]))
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(gc.tensor([0, 2]), 2)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(gc.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="empty tensor"):
        F.one_hot(gc.zeros(0, dtype=gc.int64))


PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", sorted(PAD_MODES))
@pytest.mark.parametrize("pad", [(1, 2), (1, 2, 2, 1), (0, 0, 1, 0), (2, 0, 0, 2)])
def test_pad_modes_match_numpy(mode, pad):
    x = _x(2, 3, 4)
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    assert_matches(F.pad(gc.tensor(x), pad, mode=mode), np.pad(x, widths, mode=PAD_MODES[mode]))
    check_grad(lambda t: F.pad(t, pad, mode=mode), rand64(1, 3, 4))


def test_pad_constant_value_negative_and_errors():
    x = np.arange(12.0).reshape(3, 4)
    assert_matches(F.pad(gc.tensor(x), (1, 1), value=-7.0), np.pad(x, ((0, 0), (1, 1)), constant_values=-7.0))
    assert_matches(F.pad(gc.tensor(x), (-1, 2)), np.pad(x[:, 1:], ((0, 0), (0, 2))))
    assert_matches(F.pad(gc.tensor(x), (0, 0, -1, -1)), x[1:-1])
    ints = F.pad(gc.tensor([1, 2]), (1, 1), value=2.5)
    assert_matches(ints, np.array([2, 1, 2, 2]))
    same = gc.ones(2)
    padded = F.pad(same, (0, 0))
    assert padded is not same and padded.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(gc.ones(2, 3), (1,))
    with pytest.raises(RuntimeError, match="less than or equal to two times"):
        F.pad(gc.ones(2, 3), (1, 1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="Padding size should be less"):
        F.pad(gc.ones(1, 3), (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError):
        F.pad(gc.ones(1, 3), (1, 0), mode="mirror")


def test_normalize_and_cosine_similarity():
    x = _x(3, 4)
    x[1] = 0.0
    n = np.linalg.norm(x, axis=1, keepdims=True)
    assert_matches(F.normalize(gc.tensor(x)), x / np.maximum(n, 1e-12), rtol=1e-12)
    n1 = np.abs(x).sum(0, keepdims=True)
    assert_matches(F.normalize(gc.tensor(x), p=1, dim=0), x / np.maximum(n1, 1e-12), rtol=1e-12)
    check_grad(F.normalize, rand64(3, 4))
    a, b = _x(3, 4), _x(4)
    na = np.maximum(np.linalg.norm(a, axis=-1), 1e-8)
    nb = np.maximum(np.linalg.norm(b), 1e-8)
    assert_matches(F.cosine_similarity(gc.tensor(a), gc.tensor(b), dim=-1), (a @ b) / (na * nb), rtol=1e-12)
    zero = F.cosine_similarity(gc.tensor([[1.0, 0.0]]), gc.tensor([[0.0, 0.0]]))
    assert_matches(zero, np.array([0.0], np.float32))
    check_grad(F.cosine_similarity, rand64(3, 4), rand64(3, 4, seed=1))
    d = a - b + 1e-6
    assert_matches(F.pairwise_distance(gc.tensor(a), gc.tensor(b)), np.linalg.norm(d, axis=-1), rtol=1e-12)


def test_hardswish_gradient_at_the_kinks_follows_torch():
    # 0 at and below -3, 1 at and above 3, x / 3 + 0.5 strictly between
    x = gc.tensor([-3.0, 3.0, -2.9, 2.9, -4.0, 4.0], requires_grad=True)
    F.hardswish(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, -2.9 / 3 + 0.5, 2.9 / 3 + 0.5, 0.0, 1.0], rtol=1e-6)
