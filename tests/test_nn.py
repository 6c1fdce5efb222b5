"""gc.nn: Parameter, Module registration/traversal/state, layers, containers, losses, init, and an
end-to-end MLP fit.  Values are compared with numpy implementations of the documented formulas."""
import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import graphc as gc
import graphc.nn as nn
from graphc.nn import init
from helpers import assert_matches, check_grad, rand64

RNG = np.random.default_rng(0)


def np_of(t):
    return t.detach().numpy()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.register_buffer("running", gc.zeros(2))
        self.register_buffer("scratch", gc.ones(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) + self.running


# ---------------------------------------------------------------- Parameter
def test_parameter_basics():
    data = gc.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, nn.Parameter) and isinstance(p, gc.Tensor)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    with gc.no_grad():
        data.mul_(2)  # shares memory with the data it wraps, like torch
    assert p.tolist() == [2.0, 4.0]
    assert not nn.Parameter(gc.ones(1), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(TypeError):
        nn.Parameter([1.0])


def test_parameter_ops_return_plain_tensors():
    p = nn.Parameter(gc.ones(2, 2))
    for r in (p * 2, p + p, p.sum(), p.detach(), p.t(), p[0]):
        assert type(r) is gc.Tensor and not isinstance(r, nn.Parameter)
    (p * 3).sum().backward()
    assert type(p.grad) is gc.Tensor and p.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert not isinstance(gc.ones(1), nn.Parameter)


def test_parameter_deepcopy_and_int_error():
    p = nn.Parameter(gc.ones(2))
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad and q is not p
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(gc.ones(2, dtype=gc.int64))


# ---------------------------------------------------------------- registration and traversal
def test_registration_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert [n for n, _ in net.named_buffers()] == ["running", "scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(net.parameters(recurse=False)) == []
    assert len(list(net.parameters())) == 3 and net.fc2.bias is None
    assert [n for n, _ in net.fc1.named_parameters(prefix="x")] == ["x.weight", "x.bias"]
    assert list(net.children())[0] is net.fc1 and list(net.modules())[0] is net


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == 3
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    tied = nn.Module()
    tied.a = nn.Linear(2, 2)
    tied.b = nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]
    assert list(tied.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]  # state_dict keeps both names


def test_setattr_moves_between_registries_and_delattr():
    m = nn.Module()
    m.w = nn.Parameter(gc.ones(1))
    assert "w" in m._parameters
    m.w = None  # a registered parameter may be set to None
    assert m.w is None and "w" in m._parameters
    m.sub = nn.ReLU()
    assert "sub" in m._modules
    del m.sub
    assert "sub" not in m._modules and not hasattr(m, "sub")
    m.plain = 3
    assert m.plain == 3 and "plain" not in m._parameters
    m.register_buffer("buf", gc.zeros(1))
    m.buf = gc.ones(2)
    assert m._buffers["buf"].tolist() == [1.0, 1.0]


def test_registration_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = gc.ones(2, 2)
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("extra", gc.ones(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", gc.ones(1))
    with pytest.raises(KeyError, match="empty string"):
        m.add_module("", nn.ReLU())
    with pytest.raises(TypeError, match="should be a string"):
        m.register_parameter(1, None)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("in_features", gc.ones(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    m.register_buffer("b", gc.ones(1))
    with pytest.raises(TypeError, match="as buffer"):
        m.b = 3
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        m.nope

    class Early(nn.Module):
        def __init__(self):
            self.p = nn.Parameter(gc.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_get_submodule_and_forward_missing():
    seq = nn.Sequential(nn.Sequential(nn.ReLU()), nn.Tanh())
    assert isinstance(seq.get_submodule("0.0"), nn.ReLU) and seq.get_submodule("") is seq
    with pytest.raises(AttributeError):
        seq.get_submodule("0.5")
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


# ---------------------------------------------------------------- state_dict / load_state_dict
def test_state_dict_contents():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["running", "fc1.weight", "fc1.bias", "fc2.weight"]  # non-persistent 'scratch' left out
    assert all(type(v) is gc.Tensor and not v.requires_grad for v in sd.values())
    with gc.no_grad():
        net.fc1.bias.add_(1)
    assert np.array_equal(np_of(sd["fc1.bias"]), np_of(net.fc1.bias))  # shares memory
    kept = net.state_dict(keep_vars=True)
    assert kept["fc1.weight"] is net.fc1.weight
    assert list(nn.Sequential(nn.Linear(1, 1)).state_dict()) == ["0.weight", "0.bias"]


def test_load_state_dict_round_trip():
    gc.manual_seed(0)
    a = Net()
    with gc.no_grad():
        a.running.fill_(0.5)
    b = Net()
    x = gc.randn(5, 3)
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(np_of(a(x)), np_of(b(x)))
    assert isinstance(b.fc1.weight, nn.Parameter) and b.fc1.weight.requires_grad
    assert b.fc1.weight is not a.fc1.weight


def test_load_state_dict_strict_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict({"weight": gc.ones(2, 2), "foo": gc.ones(1)})
    assert str(e.value) == ('Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". '
                            '\n\tUnexpected key(s) in state_dict: "foo". ')
    before = np_of(m.bias).copy()
    res = m.load_state_dict({"weight": gc.ones(2, 2), "foo": gc.ones(1)}, strict=False)
    assert res == (["bias"], ["foo"]) and res.missing_keys == ["bias"] and res.unexpected_keys == ["foo"]
    assert np_of(m.weight).tolist() == [[1.0, 1.0], [1.0, 1.0]] and np.array_equal(np_of(m.bias), before)


def test_load_state_dict_shape_mismatch_even_when_not_strict():
    m = nn.Linear(2, 2)
    for strict in (True, False):
        with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape .*\[3, 2\]"):
            m.load_state_dict({"weight": gc.ones(3, 2), "bias": gc.ones(2)}, strict=strict)
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([1, 2])


def test_load_state_dict_casts_and_assign():
    m = nn.Linear(2, 1)
    m.load_state_dict({"weight": gc.ones(1, 2, dtype=gc.float64), "bias": gc.zeros(1, dtype=gc.float64)})
    assert m.weight.dtype == gc.float32 and m.weight.tolist() == [[1.0, 1.0]]
    w = gc.full((1, 2), 3.0)
    m.load_state_dict({"weight": w, "bias": gc.zeros(1)}, assign=True)
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad and m.weight.tolist() == [[3.0, 3.0]]


# ---------------------------------------------------------------- modes, grads, conversion, hooks
def test_train_eval_propagate():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net[1].train(False)
    assert net.training and not net[1][0].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


@pytest.mark.parametrize("set_to_none", [True, False])
def test_module_zero_grad(set_to_none):
    m = nn.Linear(2, 2)
    m(gc.ones(1, 2)).sum().backward()
    assert m.weight.grad is not None
    m.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert m.weight.grad is None and m.bias.grad is None
    else:
        assert m.weight.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_requires_grad_and_apply():
    m = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "Linear", "Sequential"]
    m.apply(lambda mod: init.zeros_(mod.weight) if isinstance(mod, nn.Linear) else None)
    assert all(float(abs(mm.weight).sum()) == 0 for mm in m if isinstance(mm, nn.Linear))


def test_to_double_keeps_parameter_objects():
    net = Net()
    net.register_buffer("count", gc.tensor(3))
    net(gc.ones(1, 3)).sum().backward()
    w = net.fc1.weight
    assert net.to(gc.float64) is net
    assert net.fc1.weight is w and isinstance(w, nn.Parameter) and w.requires_grad
    assert w.dtype == gc.float64 and w.grad.dtype == gc.float64
    assert net.running.dtype == gc.float64 and net.count.dtype == gc.int64
    assert net(gc.ones(1, 3, dtype=gc.float64)).dtype == gc.float64
    net.float()
    assert w.dtype == gc.float32 and net.running.dtype == gc.float32
    net.double()
    assert w.dtype == gc.float64
    net.to(dtype=gc.float32)
    assert w.dtype == gc.float32
    assert net.to("cpu") is net and net.to(gc.device("cpu")) is net and net.cpu() is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(gc.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    y = m(gc.ones(3, 2))
    np.testing.assert_allclose(np_of(y), np.broadcast_to(np_of(m.bias) + 1, (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(np_of(m(gc.ones(1, 2))), np_of(m.weight).sum(1)[None] + np_of(m.bias), rtol=1e-6)
    assert calls == [(3, 2)]


# ---------------------------------------------------------------- repr
def test_reprs():
    seq = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    assert repr(seq) == "Sequential(\n  (0): Linear(in_features=3, out_features=2, bias=True)\n  (1): ReLU()\n)"
    nested = nn.Sequential(OrderedDict(enc=nn.Sequential(nn.Linear(1, 1, bias=False)), act=nn.GELU(approximate="tanh")))
    assert repr(nested) == ("Sequential(\n  (enc): Sequential(\n    (0): Linear(in_features=1, out_features=1, bias=False)"
                            "\n  )\n  (act): GELU(approximate='tanh')\n)")
    ml = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])
    assert repr(ml) == "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)"
    expected = {
        nn.ReLU(): "ReLU()", nn.ReLU(inplace=True): "ReLU(inplace=True)", nn.Sigmoid(): "Sigmoid()", nn.Tanh(): "Tanh()",
        nn.GELU(): "GELU(approximate='none')", nn.Softmax(dim=1): "Softmax(dim=1)", nn.LogSoftmax(1): "LogSoftmax(dim=1)",
        nn.LeakyReLU(): "LeakyReLU(negative_slope=0.01)", nn.Flatten(): "Flatten(start_dim=1, end_dim=-1)",
        nn.Dropout(0.2): "Dropout(p=0.2, inplace=False)", nn.Identity(): "Identity()", nn.MSELoss(): "MSELoss()",
        nn.CrossEntropyLoss(): "CrossEntropyLoss()", nn.ModuleDict({"a": nn.ReLU()}): "ModuleDict(\n  (a): ReLU()\n)",
        nn.Module(): "Module()",
    }
    for m, want in expected.items():
        assert repr(m) == want

    class Multi(nn.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Multi()) == "Multi(\n  a=1\n  b=2\n)"


# ---------------------------------------------------------------- Linear
@pytest.mark.parametrize("dtype", [gc.float32, gc.float64])
@pytest.mark.parametrize("batch", [(5,), (), (2, 3), (0,)])
def test_linear_forward_matches_numpy(dtype, batch):
    lin = nn.Linear(4, 3, dtype=dtype)
    assert lin.weight.shape == (3, 4) and lin.bias.shape == (3,) and lin.weight.dtype == dtype
    x = RNG.standard_normal(batch + (4,)).astype(np.float32 if dtype == gc.float32 else np.float64)
    y = lin(gc.tensor(x))
    assert_matches(y, x @ np_of(lin.weight).T + np_of(lin.bias), rtol=1e-5, atol=1e-6)
    no_bias = nn.Linear(4, 3, bias=False, dtype=dtype)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    assert_matches(no_bias(gc.tensor(x)), x @ np_of(no_bias.weight).T, rtol=1e-5, atol=1e-6)


def test_linear_gradients():
    lin = nn.Linear(4, 3, dtype=gc.float64)
    x = rand64(5, 4)
    g = RNG.standard_normal((5, 3))
    (lin(x) * gc.tensor(g)).sum().backward()
    W = np_of(lin.weight)
    np.testing.assert_allclose(np_of(lin.weight.grad), g.T @ np_of(x), rtol=1e-12)
    np.testing.assert_allclose(np_of(lin.bias.grad), g.sum(0), rtol=1e-12)
    np.testing.assert_allclose(np_of(x.grad), g @ W, rtol=1e-12)
    check_grad(lambda inp: lin(inp), rand64(2, 4))


def test_linear_default_init_bounds_and_seed():
    gc.manual_seed(0)
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w, b = np_of(lin.weight), np_of(lin.bias)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.mean()) < 0.01 and abs(w.std() - bound / math.sqrt(3)) < 0.005
    assert np.abs(b).max() <= bound and np.unique(b).size == 50
    gc.manual_seed(0)
    again = nn.Linear(100, 50)
    np.testing.assert_array_equal(np_of(again.weight), w)
    assert lin.weight.is_leaf and lin.weight.grad_fn is None


def test_linear_argument_errors_and_zero_features():
    with pytest.raises(TypeError):
        nn.Linear(2.0, 3)
    with pytest.raises(ValueError):
        nn.Linear(-1, 3)
    empty = nn.Linear(0, 2)
    assert empty(gc.ones(3, 0)).shape == (3, 2)


# ---------------------------------------------------------------- activations and simple layers
def _erf(a):
    return np.vectorize(math.erf)(a)


X = RNG.standard_normal((3, 5)).astype(np.float32)

ACTIVATIONS = [
    (nn.ReLU(), lambda a: np.maximum(a, 0)),
    (nn.Sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    (nn.Tanh(), np.tanh),
    (nn.GELU(), lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))),
    (nn.Softmax(dim=1), lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True)),
    (nn.Softmax(dim=0), lambda a: np.exp(a) / np.exp(a).sum(0, keepdims=True)),
    (nn.LogSoftmax(dim=-1), lambda a: a - np.log(np.exp(a).sum(-1, keepdims=True))),
    (nn.LeakyReLU(0.2), lambda a: np.where(a > 0, a, 0.2 * a)),
    (nn.Identity(3, foo=1), lambda a: a),
    (nn.Flatten(0), lambda a: a.reshape(-1)),
]


@pytest.mark.parametrize("module,ref", ACTIVATIONS, ids=[type(m).__name__ for m, _ in ACTIVATIONS])
def test_activation_modules(module, ref):
    assert_matches(module(gc.tensor(X)), ref(X.astype(np.float64)).astype(np.float32), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("module", [nn.Tanh(), nn.GELU(), nn.Softmax(1), nn.LogSoftmax(0), nn.Sigmoid()])
def test_activation_gradcheck(module):
    check_grad(module, rand64(2, 3))


def test_flatten_and_relu_inplace():
    x = gc.ones(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    t = gc.tensor([-1.0, 2.0])
    out = nn.ReLU(inplace=True)(t)
    assert out is t and t.tolist() == [0.0, 2.0]


def test_dropout_train_and_eval():
    gc.manual_seed(0)
    x = gc.ones(200, 100)
    d = nn.Dropout(0.3)
    y = np_of(d(x))
    zero = (y == 0).mean()
    assert 0.27 < zero < 0.33
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    d.eval()
    assert np.array_equal(np_of(d(x)), np_of(x))
    assert np_of(nn.Dropout(1.0)(x)).max() == 0
    assert np.array_equal(np_of(nn.Dropout(0.0)(x)), np_of(x))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# ---------------------------------------------------------------- containers
def test_sequential_indexing_and_mutation():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    sl = seq[1:]
    assert isinstance(sl, nn.Sequential) and list(sl) == [b, c] and list(sl._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        seq[3]
    x = gc.randn(4, 2)
    np.testing.assert_allclose(np_of(seq(x)), np_of(c(b(a(x)))), rtol=1e-6)
    d = nn.Tanh()
    assert seq.append(d) is seq and seq[3] is d and len(seq) == 4
    seq[1] = nn.Sigmoid()
    assert isinstance(seq[1], nn.Sigmoid)
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c
    seq.insert(0, nn.Identity())
    assert isinstance(seq[0], nn.Identity) and len(seq) == 4
    assert seq.pop(0) is not None and len(seq) == 3
    both = nn.Sequential(a) + nn.Sequential(c)
    assert list(both) == [a, c]
    named = nn.Sequential(OrderedDict([("first", a), ("second", b)]))
    assert named.first is a and [n for n, _ in named.named_parameters()] == ["first.weight", "first.bias"]


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU()).extend([nn.Tanh()])
    assert len(layers) == 5 and isinstance(layers[-1], nn.Tanh)
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers.insert(1, nn.Sigmoid())
    assert isinstance(layers[1], nn.Sigmoid) and list(layers._modules) == [str(i) for i in range(6)]
    holder = nn.Module()
    holder.layers = layers
    assert [n for n, _ in holder.named_parameters()][:2] == ["layers.0.weight", "layers.0.bias"]
    with pytest.raises(NotImplementedError):
        layers(gc.ones(1))
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(md) == ["a", "b"] and "a" in md and len(md) == 2
    md["c"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b", "c"] and md.pop("b") is not None and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]


# ---------------------------------------------------------------- losses (numpy references)
def f32(a):
    return gc.tensor(a, dtype=gc.float32)


def np_log_softmax(x, axis=1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def np_reduce(v, reduction, denom=None):
    if reduction == "none":
        return v
    if reduction == "sum":
        return np.asarray(v.sum())
    return np.asarray(v.sum() / (v.size if denom is None else denom))


def np_cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    n, c = x.shape
    logp = np_log_softmax(x)
    w = np.ones(c) if weight is None else weight
    keep = t != ignore_index
    tt = np.where(keep, t, 0)
    nll = np.where(keep, -w[tt] * logp[np.arange(n), tt], 0.0)
    smooth = np.where(keep, -(logp * w).sum(1), 0.0)
    denom = w[tt][keep].sum()
    eps = label_smoothing
    return (1 - eps) * np_reduce(nll, reduction, denom) + eps / c * np_reduce(smooth, reduction, denom)


LOGITS = RNG.standard_normal((6, 4))
TARGETS = np.array([0, 3, 1, 1, 2, 3])
CLASS_W = np.array([0.5, 1.0, 2.0, 1.5])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [-100, 1])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_loss(reduction, weighted, ignore, smoothing):
    w = CLASS_W if weighted else None
    loss_fn = nn.CrossEntropyLoss(weight=f32(w) if weighted else None, ignore_index=ignore, reduction=reduction,
                                  label_smoothing=smoothing)
    got = loss_fn(f32(LOGITS), gc.tensor(TARGETS))
    assert_matches(got, np_cross_entropy(LOGITS, TARGETS, w, ignore, reduction, smoothing), rtol=1e-5, atol=1e-6,
                   dtype=gc.float32)


def test_cross_entropy_weight_is_a_buffer_and_gradcheck():
    loss_fn = nn.CrossEntropyLoss(weight=gc.tensor(CLASS_W, dtype=gc.float64), label_smoothing=0.1)
    assert list(loss_fn.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    check_grad(lambda x: loss_fn(x, gc.tensor(TARGETS)), gc.tensor(LOGITS, requires_grad=True, dtype=gc.float64))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(reduction):
    logp = np_log_softmax(LOGITS)
    got = nn.NLLLoss(weight=f32(CLASS_W), reduction=reduction)(f32(logp), gc.tensor(TARGETS))
    v = -CLASS_W[TARGETS] * logp[np.arange(6), TARGETS]
    assert_matches(got, np_reduce(v, reduction, CLASS_W[TARGETS].sum()), rtol=1e-5, atol=1e-6, dtype=gc.float32)


PRED = RNG.standard_normal((3, 4))
TRUE = RNG.standard_normal((3, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_l1(reduction):
    assert_matches(nn.MSELoss(reduction=reduction)(f32(PRED), f32(TRUE)),
                   np_reduce((PRED - TRUE) ** 2, reduction), rtol=1e-5, dtype=gc.float32)
    assert_matches(nn.L1Loss(reduction=reduction)(f32(PRED), f32(TRUE)),
                   np_reduce(np.abs(PRED - TRUE), reduction), rtol=1e-5, dtype=gc.float32)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_losses(reduction):
    probs = 1 / (1 + np.exp(-PRED))
    y = (TRUE > 0).astype(np.float64)
    w = np.array([1.0, 2.0, 0.5, 1.0])
    want = -w * (y * np.log(probs) + (1 - y) * np.log(1 - probs))
    got = nn.BCELoss(weight=f32(w), reduction=reduction)(f32(probs), f32(y))
    assert_matches(got, np_reduce(want, reduction), rtol=1e-5, atol=1e-6, dtype=gc.float32)
    pw = np.array([3.0, 1.0, 1.0, 0.5])
    want_logits = -w * (pw * y * np.log(probs) + (1 - y) * np.log(1 - probs))
    got = nn.BCEWithLogitsLoss(weight=f32(w), pos_weight=f32(pw), reduction=reduction)(
        f32(PRED), f32(y))
    assert_matches(got, np_reduce(want_logits, reduction), rtol=1e-5, atol=1e-6, dtype=gc.float32)


def test_loss_reduction_validation():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


# ---------------------------------------------------------------- init
def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(gc.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(gc.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(gc.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(gc.empty(3, 3), mode="fan_avg")


def _stats(t):
    a = np_of(t)
    return a.min(), a.max(), a.mean(), a.std()


def test_uniform_normal_constant():
    p = nn.Parameter(gc.empty(200, 200))
    assert init.uniform_(p, -2.0, 3.0) is p
    lo, hi, mean, _ = _stats(p)
    assert -2 <= lo < -1.99 and 2.99 < hi <= 3 and abs(mean - 0.5) < 0.05
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    init.normal_(p, 1.0, 0.5)
    _, _, mean, std = _stats(p)
    assert abs(mean - 1.0) < 0.01 and abs(std - 0.5) < 0.01
    init.constant_(p, 0.25)
    assert np.all(np_of(p) == 0.25)
    init.ones_(p)
    assert np.all(np_of(p) == 1)
    init.zeros_(p)
    assert np.all(np_of(p) == 0)
    t = gc.empty(3, 2, dtype=gc.float64)
    init.eye_(t)
    assert_matches(t, np.eye(3, 2))
    init.trunc_normal_(p, std=2.0, a=-1.0, b=1.5)
    lo, hi, _, _ = _stats(p)
    assert lo >= -1.0 and hi <= 1.5


@pytest.mark.parametrize("shape", [(300, 200), (64, 16, 3, 3)])
def test_xavier_and_kaiming(shape):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(gc.empty(shape))
    t = gc.empty(shape)
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    lo, hi, _, _ = _stats(t)
    assert -bound <= lo < -0.98 * bound and 0.98 * bound < hi <= bound
    init.xavier_normal_(t)
    assert abs(_stats(t)[3] / math.sqrt(2 / (fan_in + fan_out)) - 1) < 0.03
    init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan_out)
    lo, hi, _, _ = _stats(t)
    assert -bound <= lo < -0.98 * bound and 0.98 * bound < hi <= bound
    init.kaiming_normal_(t, a=0.1)  # leaky_relu with slope 0.1, fan_in
    assert abs(_stats(t)[3] / (math.sqrt(2 / 1.01) / math.sqrt(fan_in)) - 1) < 0.03


def test_init_is_reproducible_and_accepts_generator():
    gc.manual_seed(11)
    a = np_of(init.kaiming_uniform_(gc.empty(4, 4))).copy()
    gc.manual_seed(11)
    b = np_of(init.kaiming_uniform_(gc.empty(4, 4)))
    np.testing.assert_array_equal(a, b)
    c = np_of(init.normal_(gc.empty(3), generator=gc.Generator().manual_seed(2))).copy()
    d = np_of(init.normal_(gc.empty(3), generator=gc.Generator().manual_seed(2)))
    np.testing.assert_array_equal(c, d)
    e = gc.empty(0, 3)
    assert init.kaiming_normal_(e) is e  # empty tensors are left alone
    assert init.uniform_(gc.empty(2, dtype=gc.float64)).dtype == gc.float64


# ---------------------------------------------------------------- end to end
def _toy_problem(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    y = ((x[:, 0] * x[:, 1]) > 0).astype(np.int64)  # XOR of the signs: not linearly separable
    return gc.tensor(x), gc.tensor(y)


def test_mlp_fits_a_toy_problem():
    gc.manual_seed(0)
    x, y = _toy_problem()
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    loss_fn = nn.CrossEntropyLoss()
    opt = gc.optim.Adam(model.parameters(), lr=0.03)
    loader = gc.utils.data.DataLoader(gc.utils.data.TensorDataset(x, y), batch_size=64, shuffle=True)
    first = None
    for _ in range(20):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if first is None:
            first = loss.item()
    model.eval()
    with gc.no_grad():
        final = loss_fn(model(x), y).item()
        acc = (model(x).argmax(1) == y).float().mean().item()
    assert final < 0.15 < first
    assert acc > 0.95


def test_regression_with_sgd_momentum():
    gc.manual_seed(1)
    x = gc.randn(128, 3)
    w_true = gc.tensor([[1.5], [-2.0], [0.5]])
    y = x @ w_true + 0.3
    model = nn.Linear(3, 1)
    opt = gc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.MSELoss()
    for _ in range(100):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 1e-4
    np.testing.assert_allclose(np_of(model.weight), np_of(w_true).T, atol=1e-2)
    np.testing.assert_allclose(np_of(model.bias), [0.3], atol=1e-2)


@pytest.mark.parametrize("weight", [None, [1.0, 2.0, 0.5]])
def test_cross_entropy_with_every_target_ignored_has_a_zero_gradient(weight):
    # the mean divides by a total weight of 0: the loss is nan and, as in torch, the gradient 0
    x = gc.tensor([[0.1, 0.2, -0.3], [0.5, -0.1, 0.0]], requires_grad=True)
    w = None if weight is None else gc.tensor(weight)
    loss = nn.functional.cross_entropy(x, gc.tensor([0, 0]), weight=w, ignore_index=0, label_smoothing=0.1)
    loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3), np.float32))


# name -> (kwargs, an independent formula on float64)
_ACTIVATION_LAYERS = {
    "SiLU": ({}, lambda x: x / (1 + np.exp(-x))),
    "Mish": ({}, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    "ELU": ({"alpha": 0.7}, lambda x: np.where(x > 0, x, 0.7 * np.expm1(x))),
    "SELU": ({}, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    "CELU": ({"alpha": 1.3}, lambda x: np.maximum(x, 0) + np.minimum(0, 1.3 * np.expm1(x / 1.3))),
    "Softplus": ({"beta": 2.0, "threshold": 3.0},
                 lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2)),
    "ReLU6": ({}, lambda x: np.clip(x, 0, 6)),
    "Hardtanh": ({"min_val": -0.5, "max_val": 2.0}, lambda x: np.clip(x, -0.5, 2.0)),
    "Hardsigmoid": ({}, lambda x: np.clip(x + 3, 0, 6) / 6),
    "Hardswish": ({}, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "LogSigmoid": ({}, lambda x: -np.log1p(np.exp(-x))),
    "Softsign": ({}, lambda x: x / (1 + np.abs(x))),
    "Tanhshrink": ({}, lambda x: x - np.tanh(x)),
}


@pytest.mark.parametrize("name", sorted(_ACTIVATION_LAYERS))
def test_activation_layers_match_their_formula_and_gradient(name):
    kwargs, ref = _ACTIVATION_LAYERS[name]
    layer = getattr(nn, name)(**kwargs)
    x = np.linspace(-7, 7, 29)
    assert_matches(layer(gc.tensor(x)), ref(x), rtol=1e-10, atol=1e-12)
    kinks = np.array([0.0, -3.0, 3.0, 1.5])     # where some of them are not differentiable
    t = gc.tensor(x[np.abs(x[:, None] - kinks).min(1) > 1e-3], requires_grad=True)
    if name not in ("ReLU6", "Hardtanh"):      # piecewise linear: nothing smooth to check
        check_grad(layer, t)
    assert repr(layer).startswith(name + "(")


def test_clip_grad_norm_matches_the_formula_and_returns_the_norm():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2)]]
    for norm_type in (2.0, 1.0, float("inf"), 3.0):
        for max_norm in (0.5, 100.0):
            ps = [gc.tensor(np.zeros_like(g), requires_grad=True) for g in grads]
            for p, g in zip(ps, grads):
                p.grad = gc.tensor(g.copy())
            total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
            flat = np.concatenate([g.ravel() for g in grads])
            want = np.abs(flat).max() if norm_type == float("inf") else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
            np.testing.assert_allclose(total.item(), want, rtol=1e-10)
            coef = min(1.0, max_norm / (want + 1e-6))
            for p, g in zip(ps, grads):
                np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-10)
    p = gc.tensor([1.0], requires_grad=True)
    p.grad = gc.tensor([float("nan")])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_in_place():
    p = gc.tensor([0.0, 0.0, 0.0], requires_grad=True)
    p.grad = gc.tensor([-3.0, 0.2, 5.0])
    nn.utils.clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), np.array([-1.0, 0.2, 1.0], np.float32))


@pytest.mark.parametrize("backend", ["interp", "llvm"])
def test_clip_grad_norm_inside_a_compiled_training_step(backend):
    def run(compiled):
        gc.manual_seed(0)
        m = nn.Sequential(nn.Linear(4, 8), nn.SiLU(), nn.Linear(8, 2))
        opt = gc.optim.SGD(m.parameters(), lr=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(m.parameters(), 0.1)
            opt.step()
            return loss, norm

        if compiled:
            step = gc.compile(step, backend=backend, fullgraph=True)
        rng = np.random.default_rng(1)
        x = gc.tensor(rng.standard_normal((16, 4)).astype(np.float32))
        y = gc.tensor(rng.integers(0, 2, 16))
        seen = [tuple(float(v) for v in step(x, y)) for _ in range(4)]
        return seen, [p.detach().numpy().copy() for p in m.parameters()]

    (a, pa), (b, pb) = run(True), run(False)
    np.testing.assert_allclose(a, b, rtol=1e-5)
    for u, v in zip(pa, pb):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)


def test_orthogonal_dirac_and_sparse_init():
    gc.manual_seed(0)
    w = gc.empty(3, 5)
    gc.nn.init.orthogonal_(w, gain=2.0)
    np.testing.assert_allclose(w.numpy() @ w.numpy().T, 4 * np.eye(3), atol=1e-5)   # orthonormal rows, scaled
    tall = gc.nn.Parameter(gc.empty(6, 2, 3))
    gc.nn.init.orthogonal_(tall)
    flat = tall.detach().numpy().reshape(6, 6)
    np.testing.assert_allclose(flat @ flat.T, np.eye(6), atol=1e-5)
    assert tall.requires_grad
    with pytest.raises(ValueError, match="2 or more dimensions"):
        gc.nn.init.orthogonal_(gc.empty(3))
    conv = gc.empty(4, 2, 3, 3)
    gc.nn.init.dirac_(conv, groups=2)
    want = np.zeros((4, 2, 3, 3), np.float32)
    for o, i in ((0, 0), (1, 1), (2, 0), (3, 1)):
        want[o, i, 1, 1] = 1
    np.testing.assert_array_equal(conv.numpy(), want)
    s = gc.empty(10, 4)
    gc.nn.init.sparse_(s, 0.3, std=0.5)
    assert (s == 0).sum(0).tolist() == [3, 3, 3, 3]
