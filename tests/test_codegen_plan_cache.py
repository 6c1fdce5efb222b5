"""The plan cache: a graph compiled before (in any process) loads its whole native plan from disk."""
import numpy as np
import pytest

import graphc as gc
from graphc.codegen import cache as kcache
from graphc.codegen import plan_cache
from helpers import assert_matches, llvm_tol, sgd_train_step


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh process-wide cache in its own folder (stats start at zero)."""
    c = kcache.KernelCache(tmp_path)
    monkeypatch.setattr(kcache, "_default", c)
    return c


def _fn(x, y):
    return gc.tanh(x * y + 1.5).sum(dim=1) + gc.exp(-x).amax(dim=1)


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return [gc.tensor(rng.standard_normal((6, 5)).astype(np.float32)) for _ in range(2)]


def _want(x, y):
    x, y = x.numpy().astype(np.float64), y.numpy().astype(np.float64)
    return np.tanh(x * y + 1.5).sum(1) + np.exp(-x).max(1)


def _plan_files(store):
    return sorted(store.directory.rglob("*.gcp"))


def test_second_compile_loads_the_plan(store):
    x, y = _inputs()
    first = gc.compile(_fn)
    r1 = first(x, y)
    assert (store.stats.plan_misses, store.stats.plan_hits) == (1, 0)
    assert len(_plan_files(store)) == 1
    second = gc.compile(_fn)          # a new compiled function: traces again, then finds the plan
    r2 = second(x, y)
    assert (store.stats.plan_misses, store.stats.plan_hits) == (1, 1)
    assert np.array_equal(r1.numpy(), r2.numpy())
    assert_matches(r2, _want(x, y).astype(np.float32), **llvm_tol(np.float32))
    a, b = first.traces[0].executable, second.traces[0].executable
    assert [k.name for k in a.kernels] == [k.name for k in b.kernels]
    assert [k.nodes for k in a.kernels] == [k.nodes for k in b.kernels]
    assert a.graph.graph_hash() == b.graph.graph_hash()
    assert "define" in b.llvm_ir() and b.asm()
    # the loaded plan keeps working on new values
    x2, y2 = _inputs(1)
    assert_matches(second(x2, y2), _want(x2, y2).astype(np.float32), **llvm_tol(np.float32))


def test_training_step_from_the_plan_cache_updates_parameters_like_eager(store):
    def make():
        gc.manual_seed(0)
        return gc.nn.Sequential(gc.nn.Linear(4, 8), gc.nn.ReLU(), gc.nn.Linear(8, 3))

    x = gc.tensor(np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32))
    t = gc.tensor(np.array([0, 2, 1, 1, 0]))

    def stepper(model):
        return sgd_train_step(model, gc.optim.SGD(model.parameters(), lr=0.1))

    eager_model, m1, m2 = make(), make(), make()
    eager = stepper(eager_model)
    c1, c2 = gc.compile(stepper(m1)), gc.compile(stepper(m2))
    for _ in range(3):
        want = eager(x, t)
        got1, got2 = c1(x, t), c2(x, t)
        assert_matches(got1, want.detach().numpy(), **llvm_tol(np.float32))
        assert np.array_equal(got1.numpy(), got2.numpy())
    assert store.stats.plan_hits >= 1
    for pe, p2 in zip(eager_model.parameters(), m2.parameters()):
        assert_matches(p2, pe.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("damage", ["flip", "truncate", "not_a_pickle"])
def test_a_damaged_entry_is_rebuilt_not_loaded(store, damage):
    x, y = _inputs()
    gc.compile(_fn)(x, y)
    (path,) = _plan_files(store)
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[-10] ^= 0xFF
        path.write_bytes(bytes(blob))
    elif damage == "truncate":
        path.write_bytes(bytes(blob[: len(blob) // 2]))
    else:  # an intact envelope around a payload that is not a plan
        key = plan_cache.plan_key(gc.compile(_fn).trace_for(x, y).executable.source, optimize=True,
                                  fastmath=False)
        path.write_bytes(kcache._encode(key, b"not a pickle"))
    before = store.stats.rejected
    r = gc.compile(_fn)(x, y)
    assert store.stats.rejected > before
    assert_matches(r, _want(x, y).astype(np.float32), **llvm_tol(np.float32))
    # rebuilt and replaced: the next compile loads it
    hits = store.stats.plan_hits
    gc.compile(_fn)(x, y)
    assert store.stats.plan_hits == hits + 1


def test_options_graph_and_code_are_part_of_the_key(store, monkeypatch):
    x, y = _inputs()
    gc.compile(_fn)(x, y)
    gc.compile(_fn, fastmath=True)(x, y)                 # other flags: another plan
    gc.compile(lambda a, b: _fn(a, b) * 2.0)(x, y)         # another graph
    assert store.stats.plan_hits == 0 and len(_plan_files(store)) == 3
    monkeypatch.setattr(plan_cache, "code_fingerprint", lambda: "another graphc")
    gc.compile(_fn)(x, y)                                 # another graphc: not the old plan
    assert store.stats.plan_hits == 0


def test_constants_are_part_of_the_key(store):
    x, y = _inputs()
    w1 = gc.tensor(np.float32([1, 2, 3, 4, 5]))
    w2 = gc.tensor(np.float32([1, 2, 3, 4, 6]))
    r1 = gc.compile(lambda a: a * w1)(x)
    r2 = gc.compile(lambda a: a * w2)(x)
    assert store.stats.plan_hits == 0
    assert_matches(r1, x.numpy() * w1.numpy())
    assert_matches(r2, x.numpy() * w2.numpy())


def test_a_loaded_plan_reports_numpy_step_errors_like_a_built_one(store):
    def pick(a, idx):
        return (a * 2).gather(1, idx).sin()

    a = gc.tensor(np.ones((3, 4), np.float32))
    bad = gc.tensor(np.array([[0], [4], [1]]))
    messages = []
    for _ in range(2):
        f = gc.compile(pick)
        with pytest.raises(IndexError) as info:
            f(a, bad)
        messages.append(str(info.value))
    assert store.stats.plan_hits == 1
    assert messages[0] == messages[1] and "gather" in messages[0]


def test_symbolic_graphs_are_not_plan_cached(store):
    x, y = _inputs()
    f = gc.compile(_fn, dynamic=True)
    assert_matches(f(x, y), _want(x, y).astype(np.float32), **llvm_tol(np.float32))
    assert _plan_files(store) == [] and store.stats.plan_misses == 0


def test_disk_off_means_no_plan_files(tmp_path, monkeypatch):
    c = kcache.KernelCache(tmp_path, disk=False)
    monkeypatch.setattr(kcache, "_default", c)
    x, y = _inputs()
    gc.compile(_fn)(x, y)
    gc.compile(_fn)(x, y)
    assert c.stats.plan_hits == 0 and not list(tmp_path.rglob("*.gcp"))
