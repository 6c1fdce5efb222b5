"""gc.save / gc.load: a safe zip+JSON+npy format; nested structures, tensors, model/optimizer state."""
import io
import json
import math
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import graphc as gc
from helpers import NP_OF, assert_matches


def round_trip(obj):
    buf = io.BytesIO()
    gc.save(obj, buf)
    buf.seek(0)
    return gc.load(buf)


ALL_DTYPES = [gc.float16, gc.float32, gc.float64, gc.int8, gc.uint8, gc.int16, gc.int32, gc.int64, gc.bool]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (0,), (2, 3), (2, 0, 4)])
def test_tensor_dtype_shape_values(dtype, shape):
    arr = np.asarray(np.arange(int(np.prod(shape))).reshape(shape) % 3).astype(NP_OF[dtype])
    t = gc.from_numpy(arr)
    out = round_trip(t)
    assert_matches(out, arr)
    assert out.requires_grad is False and out.is_leaf and type(out) is gc.Tensor


def test_requires_grad_and_parameter_preserved():
    a = gc.tensor([1.0, 2.0], requires_grad=True)
    p = gc.nn.Parameter(gc.ones(2, 2))
    q = gc.nn.Parameter(gc.ones(1), requires_grad=False)
    out = round_trip({"a": a, "p": p, "q": q})
    assert out["a"].requires_grad and out["a"].is_leaf and type(out["a"]) is gc.Tensor
    assert isinstance(out["p"], gc.nn.Parameter) and out["p"].requires_grad
    assert isinstance(out["q"], gc.nn.Parameter) and not out["q"].requires_grad


def test_non_contiguous_and_non_leaf_tensors():
    x = gc.arange(6.0).reshape(2, 3)
    assert_matches(round_trip(x.t()), np.arange(6.0, dtype=np.float32).reshape(2, 3).T)
    y = gc.ones(2, requires_grad=True) * 3
    out = round_trip(y)
    assert out.requires_grad and out.is_leaf and out.tolist() == [3.0, 3.0]


def test_nested_python_structure():
    obj = {
        "int": 3, "big": 2 ** 70, "float": 2.5, "nan": float("nan"), "inf": -math.inf, "str": "héllo", "none": None,
        "bool": True, "bytes": b"\x00\xff", "list": [1, [2, (3, "x")]], "tuple": (1.0, None),
        "od": OrderedDict([("z", 1), ("a", 2)]), 7: "int key", (1, 2): "tuple key", None: "none key",
        "dtype": gc.float16, "ndarray": np.arange(4, dtype=np.int16), "npscalar": np.float32(1.5), "empty": {},
    }
    out = round_trip(obj)
    assert out["int"] == 3 and out["big"] == 2 ** 70 and out["float"] == 2.5
    assert math.isnan(out["nan"]) and out["inf"] == -math.inf
    assert out["str"] == "héllo" and out["none"] is None and out["bool"] is True and out["bytes"] == b"\x00\xff"
    assert out["list"] == [1, [2, (3, "x")]] and isinstance(out["list"][1][1], tuple)
    assert out["tuple"] == (1.0, None)
    assert type(out["od"]) is OrderedDict and list(out["od"]) == ["z", "a"]
    assert type(out) is dict and out[7] == "int key" and out[(1, 2)] == "tuple key" and out[None] == "none key"
    assert out["dtype"] is gc.float16
    assert out["ndarray"].dtype == np.int16 and out["ndarray"].tolist() == [0, 1, 2, 3]
    assert out["npscalar"] == 1.5 and out["empty"] == {}
    assert list(out) == list(obj)


def test_shared_tensor_is_stored_once_and_loads_as_one_object():
    t = gc.ones(3)
    out = round_trip({"a": t, "b": [t]})
    assert out["a"] is out["b"][0]


def test_file_path_and_pathlike(tmp_path):
    path = tmp_path / "obj.gcz"
    gc.save([gc.tensor([1, 2, 3])], path)
    assert gc.load(path)[0].tolist() == [1, 2, 3]
    gc.save({"x": 1}, str(path))
    assert gc.load(str(path), map_location="cpu", weights_only=True) == {"x": 1}
    with open(path, "rb") as fh:
        assert gc.load(fh) == {"x": 1}


def test_loaded_tensors_do_not_alias_the_saved_ones():
    t = gc.zeros(2)
    out = round_trip(t)
    out.add_(1)
    assert t.tolist() == [0.0, 0.0]


# ---------------------------------------------------------------- models and optimizers
def make_model():
    return gc.nn.Sequential(gc.nn.Linear(4, 8), gc.nn.Tanh(), gc.nn.Linear(8, 3))


def test_model_state_dict_round_trip(tmp_path):
    gc.manual_seed(0)
    model = make_model()
    model.register_buffer("steps", gc.tensor(5))
    path = tmp_path / "model.gcz"
    gc.save(model.state_dict(), path)
    sd = gc.load(path)
    assert type(sd) is OrderedDict and list(sd) == ["steps", "0.weight", "0.bias", "2.weight", "2.bias"]
    gc.manual_seed(1)
    fresh = make_model()
    fresh.register_buffer("steps", gc.tensor(0))
    x = gc.randn(5, 4)
    assert not np.allclose(fresh(x).detach().numpy(), model(x).detach().numpy())
    fresh.load_state_dict(sd)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())
    assert fresh.steps.item() == 5


def test_optimizer_and_scheduler_state_round_trip():
    def train(model, opt, sched, steps):
        gc.manual_seed(42)
        for _ in range(steps):
            x = gc.randn(8, 4)
            loss = (model(x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()

    gc.manual_seed(0)
    model = make_model()
    opt = gc.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    sched = gc.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    train(model, opt, sched, 3)
    ckpt = round_trip({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()})
    assert sorted(ckpt["opt"]["state"]) == [0, 1, 2, 3]
    assert ckpt["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)

    model2 = make_model()
    model2.load_state_dict(ckpt["model"])
    opt2 = gc.optim.Adam(model2.parameters(), lr=0.01, amsgrad=True)
    opt2.load_state_dict(ckpt["opt"])
    sched2 = gc.optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(ckpt["sched"])
    assert sched2.get_last_lr() == sched.get_last_lr() == [0.005]
    train(model, opt, sched, 2)
    train(model2, opt2, sched2, 2)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


# ---------------------------------------------------------------- safety and errors
def test_loading_garbage_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="not a graphc save file"):
        gc.load(io.BytesIO(b"definitely not a zip"))
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(RuntimeError, match="not a graphc save file"):
        gc.load(path)


class _Boom:
    ran = False

    def __reduce__(self):
        return (_Boom._explode, ())

    @staticmethod
    def _explode():
        _Boom.ran = True
        return "exploded"


def test_pickle_files_are_refused_without_running_code(tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(RuntimeError, match="not a graphc save file"):
        gc.load(path)
    assert not _Boom.ran


def _rewrite_manifest(buf, edit):
    buf.seek(0)
    with zipfile.ZipFile(buf) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(files["graphc.json"])
    edit(manifest, files)
    files["graphc.json"] = json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    out.seek(0)
    return out


@pytest.mark.parametrize("edit,msg", [
    (lambda m, f: m["root"].update({"list": [{"pickle": "x"}]}), "unknown tag"),
    (lambda m, f: m.update(version=99), "format version 99"),
    (lambda m, f: m.update(format="other"), "wrong format marker"),
    (lambda m, f: m["root"]["list"][0].update(dtype="int64"), "expected int64"),
    (lambda m, f: f.pop("data/0.npy"), "array 0 is missing"),
])
def test_tampered_files_are_rejected(edit, msg):
    buf = io.BytesIO()
    gc.save([gc.ones(2)], buf)
    with pytest.raises(RuntimeError, match=msg):
        gc.load(_rewrite_manifest(buf, edit))


def test_object_arrays_in_the_archive_are_refused():
    buf = io.BytesIO()
    gc.save([np.zeros(2)], buf)

    def plant_pickled_array(m, files):
        raw = io.BytesIO()
        np.save(raw, np.array([_Boom()], dtype=object), allow_pickle=True)
        files["data/0.npy"] = raw.getvalue()

    with pytest.raises(RuntimeError, match="unreadable"):
        gc.load(_rewrite_manifest(buf, plant_pickled_array))
    assert not _Boom.ran


@pytest.mark.parametrize("obj,what", [({"f": lambda x: x}, "function"), ([object()], "object"), ({1, 2}, "set"),
                                      ({gc.ones(1): 1}, "dict key"), (np.array(["a"]), "numpy array of dtype")])
def test_unsupported_objects_raise_type_error(obj, what):
    with pytest.raises(TypeError, match=what):
        gc.save(obj, io.BytesIO())


def test_save_needs_a_path_or_writable_file():
    with pytest.raises(TypeError, match="writable binary file"):
        gc.save(gc.ones(1), 3)


def test_views_saved_with_their_base_load_as_views_of_it():
    base = gc.arange(12.0)
    loaded = round_trip({"b": base, "v": base[2:6], "t": base.reshape(3, 4).t()})
    loaded["b"][2] = 100.0
    assert loaded["v"][0].item() == 100.0 and loaded["t"][2, 0].item() == 100.0
    assert loaded["t"].stride() == (1, 4)
    np.testing.assert_array_equal(loaded["t"].numpy()[:, 0], [0.0, 1.0, 100.0, 3.0])
    # a tensor alone in another layout keeps its strides; a slice alone is stored compact
    assert round_trip(gc.arange(12.0).reshape(3, 4).t()).stride() == (1, 4)
    assert round_trip(gc.arange(12.0)[::3]).stride() == (1,)


@pytest.mark.parametrize("edit", [lambda n: n.update(offset=10 ** 6), lambda n: n.update(strides=[-4]),
                                  lambda n: n.update(shape=[10 ** 6]), lambda n: n.update(offset="0")])
def test_views_outside_their_stored_buffer_are_rejected(edit):
    base = gc.arange(4.0)
    buf = io.BytesIO()
    gc.save([base, base[1:]], buf)
    with pytest.raises(RuntimeError, match="lies outside"):
        gc.load(_rewrite_manifest(buf, lambda m, f: edit(m["root"]["list"][1])))
