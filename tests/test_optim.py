"""gc.optim: SGD / Adam / AdamW against numpy implementations of torch's documented update rules,
param groups, state_dict round trips, argument errors, and the learning-rate schedulers."""
import math

import numpy as np
import pytest

import graphc as gc
from graphc.optim import lr_scheduler

RNG = np.random.default_rng(1234)
W0 = RNG.standard_normal((3, 4))
B0 = RNG.standard_normal(4)
TARGET = RNG.standard_normal((3, 4))


# ---------------------------------------------------------------- numpy references (torch's documented algorithms)
def sgd_ref(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    p = p.copy()
    buf = None
    for g in grads(p):
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        yield p


def adam_ref(p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
             decoupled=False):
    b1, b2 = betas
    p = p.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    for t, g in enumerate(grads(p), start=1):
        g = -g if maximize else g
        if weight_decay:
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1 ** t)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax / (1 - b2 ** t)
        else:
            vhat = v / (1 - b2 ** t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
        yield p


def run_reference_stateful(ref, steps, **kw):
    state = {"p": W0.copy()}

    def grads(_):
        for _ in range(steps):
            yield 3 * (state["p"] - TARGET) ** 2

    out = []
    for p in ref(W0, grads, **kw):
        state["p"] = p
        out.append(p)
    return out


def run_graphc(cls, steps, dtype=gc.float64, **kw):
    w = gc.nn.Parameter(gc.tensor(W0, dtype=dtype))
    target = gc.tensor(TARGET, dtype=dtype)
    opt = cls([w], **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        ((w - target) ** 3).sum().backward()
        opt.step()
        out.append(w.detach().numpy().copy())
    return w, opt, out


SGD_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.02, momentum=0.9, dampening=0.3, weight_decay=0.1),
    dict(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.05),
    dict(lr=0.01, maximize=True),
    dict(lr=0.0),
]


@pytest.mark.parametrize("kw", SGD_CASES)
def test_sgd_matches_reference(kw):
    _, _, got = run_graphc(gc.optim.SGD, 6, **kw)
    want = run_reference_stateful(sgd_ref, 6, **kw)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


ADAM_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, amsgrad=True),
    dict(lr=0.05, betas=(0.8, 0.9), eps=1e-3, maximize=True),
    dict(lr=0.01, weight_decay=0.1, amsgrad=True),
]


@pytest.mark.parametrize("kw", ADAM_CASES)
def test_adam_matches_reference(kw):
    _, _, got = run_graphc(gc.optim.Adam, 6, **kw)
    want = run_reference_stateful(adam_ref, 6, **kw)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.01, weight_decay=0.3, amsgrad=True), dict(lr=0.1, weight_decay=0.0)])
def test_adamw_matches_reference(kw):
    _, _, got = run_graphc(gc.optim.AdamW, 6, **kw)
    ref_kw = dict(kw)
    ref_kw.setdefault("weight_decay", 0.01)
    want = run_reference_stateful(adam_ref, 6, decoupled=True, **ref_kw)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_adam_decoupled_flag_equals_adamw():
    _, _, a = run_graphc(gc.optim.Adam, 4, lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)
    _, _, b = run_graphc(gc.optim.AdamW, 4, lr=0.01, weight_decay=0.2)
    np.testing.assert_array_equal(a[-1], b[-1])


def test_adamw_default_weight_decay():
    opt = gc.optim.AdamW([gc.nn.Parameter(gc.zeros(2))])
    assert opt.param_groups[0]["weight_decay"] == 0.01
    assert gc.optim.Adam([gc.nn.Parameter(gc.zeros(2))]).param_groups[0]["weight_decay"] == 0


@pytest.mark.parametrize("cls,kw", [(gc.optim.SGD, dict(lr=0.01, momentum=0.9)), (gc.optim.Adam, dict(lr=0.01))])
def test_float32_params_stay_float32(cls, kw):
    w, opt, got = run_graphc(cls, 3, dtype=gc.float32, **kw)
    ref = sgd_ref if cls is gc.optim.SGD else adam_ref
    want = run_reference_stateful(ref, 3, **kw)
    assert w.dtype == gc.float32
    assert got[-1].dtype == np.float32
    np.testing.assert_allclose(got[-1], want[-1], rtol=1e-4, atol=1e-5)
    for v in opt.state[w].values():
        if v.dtype.is_floating_point and v.dim() > 0:
            assert v.dtype == gc.float32


def test_step_updates_in_place_and_keeps_leaf():
    w, opt, _ = run_graphc(gc.optim.Adam, 2, lr=0.1)
    assert isinstance(w, gc.nn.Parameter) and w.is_leaf and w.requires_grad and w.grad_fn is None
    state = opt.state[w]
    assert float(state["step"]) == 2.0 and state["step"].dtype == gc.float32
    assert set(state) == {"step", "exp_avg", "exp_avg_sq"}


def test_params_without_grad_are_skipped():
    a = gc.nn.Parameter(gc.ones(2))
    b = gc.nn.Parameter(gc.ones(2))
    opt = gc.optim.SGD([a, b], lr=0.5, momentum=0.9)
    (a * 2).sum().backward()
    opt.step()
    assert a.tolist() == [0.0, 0.0]
    assert b.tolist() == [1.0, 1.0]
    assert b not in opt.state and len(opt.state) == 1


def test_closure_returns_loss_and_runs_with_grad():
    w = gc.nn.Parameter(gc.tensor([2.0]))
    opt = gc.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with gc.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    assert w.item() == pytest.approx(1.0)


# ---------------------------------------------------------------- param groups
def test_param_groups_have_their_own_options():
    a = gc.nn.Parameter(gc.ones(2))
    b = gc.nn.Parameter(gc.ones(2))
    opt = gc.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.0 and opt.param_groups[1]["params"] == [b]
    (a.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.5, 0.5])


def test_add_param_group_and_duplicates():
    a = gc.nn.Parameter(gc.ones(2))
    b = gc.nn.Parameter(gc.ones(3))
    opt = gc.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {gc.nn.Parameter(gc.ones(1))}})


def test_required_option_must_be_given():
    class Custom(gc.optim.Optimizer):
        def __init__(self, params, lr=gc.optim.optimizer.required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Custom([gc.nn.Parameter(gc.ones(1))])
    assert Custom([gc.nn.Parameter(gc.ones(1))], lr=0.3).param_groups[0]["lr"] == 0.3


@pytest.mark.parametrize("params,exc,msg", [
    ([], ValueError, "empty parameter list"),
    (gc.ones(2), TypeError, "iterable of Tensors"),
    ([1.0], TypeError, "can only optimize Tensors"),
])
def test_bad_params(params, exc, msg):
    with pytest.raises(exc, match=msg):
        gc.optim.SGD(params, lr=0.1)


def test_non_leaf_param_is_rejected():
    x = gc.ones(2, requires_grad=True) * 2
    with pytest.raises(ValueError, match="non-leaf"):
        gc.optim.SGD([x], lr=0.1)


@pytest.mark.parametrize("kw,msg", [
    (dict(lr=-0.1), "Invalid learning rate"),
    (dict(lr=0.1, momentum=-1), "Invalid momentum value"),
    (dict(lr=0.1, weight_decay=-1), "Invalid weight_decay value"),
    (dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (dict(lr=0.1, nesterov=True, momentum=0.9, dampening=0.1), "Nesterov momentum requires"),
])
def test_sgd_argument_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        gc.optim.SGD([gc.nn.Parameter(gc.ones(1))], **kw)


@pytest.mark.parametrize("cls", [gc.optim.Adam, gc.optim.AdamW])
@pytest.mark.parametrize("kw,msg", [
    (dict(lr=-1.0), "Invalid learning rate"),
    (dict(eps=-1.0), "Invalid epsilon value"),
    (dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    (dict(weight_decay=-0.5), "Invalid weight_decay value"),
])
def test_adam_argument_errors(cls, kw, msg):
    with pytest.raises(ValueError, match=msg):
        cls([gc.nn.Parameter(gc.ones(1))], **kw)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    a = gc.nn.Parameter(gc.ones(2))
    opt = gc.optim.SGD([a], lr=0.1)
    (a * 3).sum().backward()
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert a.grad is None
    else:
        assert a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()  # default: set to None
    assert a.grad is None


def test_repr_lists_group_options():
    r = repr(gc.optim.SGD([gc.nn.Parameter(gc.ones(1))], lr=0.1, momentum=0.9))
    assert r.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in r and "    momentum: 0.9\n" in r


# ---------------------------------------------------------------- state_dict
def _train(opt, params, steps):
    for _ in range(steps):
        opt.zero_grad()
        sum(((p - 0.5) ** 3).sum() for p in params).backward()
        opt.step()


@pytest.mark.parametrize("cls,kw", [
    (gc.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (gc.optim.Adam, dict(lr=0.05, amsgrad=True)),
    (gc.optim.AdamW, dict(lr=0.05)),
])
def test_state_dict_round_trip_continues_identically(cls, kw):
    def make():
        return [gc.nn.Parameter(gc.tensor(W0)), gc.nn.Parameter(gc.tensor(B0))]

    params = make()
    opt = cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], **kw)
    _train(opt, params, 3)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sorted(sd["state"]) == [0, 1]

    params2 = [gc.nn.Parameter(p.detach().clone()) for p in params]
    opt2 = cls([{"params": params2[:1]}, {"params": params2[1:]}], **kw)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[1]["lr"] == 0.01
    assert opt2.param_groups[0]["params"][0] is params2[0]
    _train(opt, params, 3)
    _train(opt2, params2, 3)
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_load_state_dict_copies_and_casts_state():
    a = gc.nn.Parameter(gc.ones(2, dtype=gc.float32))
    opt = gc.optim.SGD([a], lr=0.1, momentum=0.9)
    (a * 2).sum().backward()
    opt.step()
    sd = opt.state_dict()
    b = gc.nn.Parameter(gc.ones(2, dtype=gc.float64))
    opt2 = gc.optim.SGD([b], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    buf = opt2.state[b]["momentum_buffer"]
    assert buf.dtype == gc.float64 and buf.tolist() == [2.0, 2.0]
    buf.add_(1.0)  # a private copy: the source optimizer's state is untouched
    assert opt.state[a]["momentum_buffer"].tolist() == [2.0, 2.0]


def test_load_state_dict_mismatches():
    a, b = gc.nn.Parameter(gc.ones(1)), gc.nn.Parameter(gc.ones(1))
    sd = gc.optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size"):
        gc.optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        gc.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


# ---------------------------------------------------------------- schedulers
def _opt(lr=0.5, groups=1):
    return gc.optim.SGD([{"params": [gc.nn.Parameter(gc.zeros(1))]} for _ in range(groups)], lr=lr)


def _lrs(sched, opt, n, epoch_arg=False):
    out = [sched.get_last_lr()[0]]
    for e in range(1, n + 1):
        opt.step()
        sched.step(e) if epoch_arg else sched.step()
        out.append(sched.get_last_lr()[0])
        assert opt.param_groups[0]["lr"] == out[-1]
    return out


def test_step_lr_values():
    opt = _opt(0.5)
    s = lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
    got = _lrs(s, opt, 9)
    want = [0.5 * 0.1 ** (e // 3) for e in range(10)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_exponential_lr_values():
    opt = _opt(0.5)
    got = _lrs(lr_scheduler.ExponentialLR(opt, gamma=0.9), opt, 8)
    np.testing.assert_allclose(got, [0.5 * 0.9 ** e for e in range(9)], rtol=1e-12)


def test_multistep_lr_values():
    opt = _opt(1.0)
    got = _lrs(lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.5), opt, 7)
    np.testing.assert_allclose(got, [1, 1, 0.5, 0.5, 0.5, 0.125, 0.125, 0.125], rtol=1e-12)


def test_lambda_lr_values_per_group():
    opt = _opt(1.0, groups=2)
    s = lr_scheduler.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: 0.5 ** e])
    for _ in range(3):
        s.step()
    assert s.get_last_lr() == pytest.approx([0.25, 0.125])
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(_opt(groups=2), [lambda e: 1.0])


@pytest.mark.parametrize("T_max,eta_min", [(7, 0.01), (5, 0.0), (1, 0.1)])
def test_cosine_recursive_agrees_with_closed_form(T_max, eta_min):
    base = 0.5

    def closed(e):
        return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T_max)) / 2

    opt = _opt(base)
    recursive = _lrs(lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min), opt, 3 * T_max + 2)
    opt2 = _opt(base)
    jumped = _lrs(lr_scheduler.CosineAnnealingLR(opt2, T_max=T_max, eta_min=eta_min), opt2, 3 * T_max + 2, epoch_arg=True)
    want = [closed(e) for e in range(3 * T_max + 3)]
    np.testing.assert_allclose(recursive, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(jumped, want, rtol=1e-12, atol=1e-15)
    assert recursive[T_max] == pytest.approx(eta_min)


def test_cosine_known_values():
    # half a cosine from 1.0 to 0 over 4 epochs
    opt = _opt(1.0)
    got = _lrs(lr_scheduler.CosineAnnealingLR(opt, T_max=4), opt, 4)
    np.testing.assert_allclose(got, [1.0, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2, 0.0], atol=1e-12)


def test_scheduler_initial_lr_and_state_dict():
    opt = _opt(0.5)
    s = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.5
    assert s.last_epoch == 0 and s.base_lrs == [0.5]
    for _ in range(3):
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3 and sd["step_size"] == 2
    opt2 = _opt(0.5)
    s2 = lr_scheduler.StepLR(opt2, step_size=7)
    s2.load_state_dict(sd)
    assert s2.step_size == 2 and s2.last_epoch == 3 and s2.get_last_lr() == s.get_last_lr()


def test_scheduler_errors():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR("opt", step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_opt(), step_size=1, last_epoch=3)


def test_lambda_lr_state_dict_keeps_callable_object_state():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = _opt(1.0, groups=2)
    s = lr_scheduler.LambdaLR(opt, [Decay(0.5), lambda e: 1.0])
    s.step()
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}, None] and sd["last_epoch"] == 1
    opt2 = _opt(1.0, groups=2)
    s2 = lr_scheduler.LambdaLR(opt2, [Decay(0.9), lambda e: 1.0])
    s2.load_state_dict(sd)
    assert s2.lr_lambdas[0].rate == 0.5 and s2.last_epoch == 1
    s2.step()
    assert s2.get_last_lr() == [0.25, 1.0]
