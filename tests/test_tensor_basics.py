"""Tensor basics: attributes, numpy interop and memory sharing, Python conversions, repr, gc.tensor's
dtype inference, the default dtype, and dtype conversions."""
import numpy as np
import pytest

import graphc as gc
from helpers import assert_matches


# ----------------------------------------------------------------------------- attributes
def test_data_shares_memory_outside_autograd():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert isinstance(d, gc.Tensor)
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d.numpy()[0] = 5.0
    assert x.detach().numpy()[0] == 5.0
    y = (x * 2).data
    assert not y.requires_grad
    x.data = gc.tensor([7.0, 8.0])
    assert_matches(x.detach(), np.array([7.0, 8.0], np.float32))
    assert x.requires_grad
    with pytest.raises(TypeError):
        x.data = np.zeros(2)


@pytest.mark.parametrize("shape", [(), (0,), (1,), (3,), (2, 3), (2, 0, 4), (1, 1, 1)])
def test_shape_attributes(shape):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t = gc.tensor(a)
    assert t.shape == shape and isinstance(t.shape, gc.Size) and isinstance(t.shape, tuple)
    assert t.size() == shape and isinstance(t.size(), gc.Size)
    assert t.dim() == t.ndim == len(shape)
    assert t.numel() == a.size == t.shape.numel()
    assert t.element_size() == 4
    assert t.is_contiguous()
    row_major = tuple(int(np.prod(shape[i + 1:])) for i in range(len(shape)))
    assert t.stride() == row_major
    for d in range(-len(shape), len(shape)):
        assert t.size(d) == shape[d]
        assert t.stride(d) == row_major[d]


def test_size_and_stride_dim_errors():
    t = gc.zeros(2, 3)
    with pytest.raises(IndexError):
        t.size(2)
    with pytest.raises(IndexError):
        t.size(-3)
    with pytest.raises(IndexError):
        t.stride(2)
    with pytest.raises(IndexError):
        gc.tensor(1.0).size(1)


def test_size_repr_and_slicing():
    s = gc.zeros(2, 3, 4).shape
    assert repr(s) == "graphc.Size([2, 3, 4])"
    assert s[1:] == (3, 4) and isinstance(s[1:], gc.Size)
    assert s[0] == 2


@pytest.mark.parametrize("dtype", [gc.bool, gc.uint8, gc.int8, gc.int16, gc.int32, gc.int64, gc.float16, gc.float32,
                                   gc.float64])
def test_dtype_and_element_size(dtype):
    t = gc.zeros(3, dtype=dtype)
    assert t.dtype is dtype
    assert t.element_size() == np.dtype(dtype.np).itemsize
    assert t.is_floating_point() == dtype.is_floating_point


def test_device():
    t = gc.ones(2)
    assert t.device == gc.device("cpu")
    assert str(t.device) == "cpu" and t.device.type == "cpu"
    assert not t.is_cuda
    assert t.cpu() is t


def test_transpose_attribute_T():
    a = np.arange(6.0).reshape(2, 3)
    t = gc.tensor(a)
    assert_matches(t.T, a.T)
    assert not t.T.is_contiguous()
    assert t.T.stride() == (1, 3)
    v = gc.tensor([1, 2, 3])
    assert_matches(v.T, np.array([1, 2, 3]))
    s = gc.tensor(2.0)
    assert s.T.shape == ()
    b = np.arange(24.0).reshape(2, 3, 4)
    assert_matches(gc.tensor(b, dtype=gc.float64).T, b.transpose(2, 1, 0))


# ----------------------------------------------------------------------------- numpy interop
def test_from_numpy_shares_memory_both_ways():
    a = np.array([1.0, 2.0, 3.0])
    t = gc.from_numpy(a)
    assert t.dtype is gc.float64
    a[0] = 10.0
    assert t.numpy()[0] == 10.0
    t.numpy()[1] = 20.0
    assert a[1] == 20.0
    t.add_(1)
    np.testing.assert_array_equal(a, [11.0, 21.0, 4.0])


@pytest.mark.parametrize("npd", [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32,
                                 np.float64])
def test_from_numpy_keeps_dtype(npd):
    a = np.zeros((2, 2), npd)
    t = gc.from_numpy(a)
    assert t.dtype.np == np.dtype(npd)
    assert np.shares_memory(t.numpy(), a)


def test_from_numpy_errors():
    with pytest.raises(TypeError):
        gc.from_numpy([1, 2])
    with pytest.raises(TypeError):
        gc.from_numpy(np.zeros(2, np.uint32))


def test_numpy_shares_memory_and_refuses_grad():
    t = gc.zeros(3)
    a = t.numpy()
    a[0] = 1.0
    assert t.tolist() == [1.0, 0.0, 0.0]
    g = gc.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        g.numpy()
    assert np.shares_memory(g.detach().numpy(), g.data.numpy())
    assert not np.shares_memory(g.numpy(force=True), g.detach().numpy())


def test_np_asarray():
    t = gc.tensor([[1, 2], [3, 4]], dtype=gc.int32)
    a = np.asarray(t)
    assert a.dtype == np.int32 and a.shape == (2, 2)
    assert np.shares_memory(a, t.numpy())
    np.testing.assert_array_equal(np.asarray(t, dtype=np.float64), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(np.array(t), [[1, 2], [3, 4]])


def test_tensor_copies_and_as_tensor_shares():
    a = np.array([1.0, 2.0], np.float32)
    t = gc.tensor(a)
    a[0] = 9
    assert t.tolist() == [1.0, 2.0]
    s = gc.as_tensor(a)
    a[1] = 7
    assert s.tolist() == [9.0, 7.0]
    c = gc.as_tensor(a, dtype=gc.float64)
    assert c.dtype is gc.float64 and not np.shares_memory(c.numpy(), a)
    u = gc.tensor([1.0, 2.0])
    assert gc.as_tensor(u) is u
    v = gc.tensor(u)
    assert not np.shares_memory(v.numpy(), u.numpy()) and v.tolist() == u.tolist()


# ----------------------------------------------------------------------------- Python conversions
@pytest.mark.parametrize("value,typ", [(2.5, float), (3, int), (True, bool)])
def test_item(value, typ):
    for t in (gc.tensor(value), gc.tensor([value]), gc.tensor([[value]])):
        v = t.item()
        assert type(v) is typ and v == value


def test_item_errors_on_many_elements():
    with pytest.raises(RuntimeError, match="2 elements"):
        gc.tensor([1, 2]).item()
    with pytest.raises(RuntimeError):
        gc.zeros(0).item()


def test_tolist():
    assert gc.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    f = gc.tensor([0.5, 1.5]).tolist()
    assert f == [0.5, 1.5] and all(type(x) is float for x in f)
    assert gc.tensor(2.0).tolist() == 2.0
    assert gc.tensor([True, False]).tolist() == [True, False]
    assert gc.zeros(2, 0).tolist() == [[], []]


def test_len_and_iteration():
    t = gc.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, gc.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert [x.item() for x in gc.tensor([1, 2, 3])] == [1, 2, 3]
    assert list(gc.zeros(0, 2)) == []
    with pytest.raises(TypeError):
        len(gc.tensor(1.0))
    with pytest.raises(TypeError):
        iter(gc.tensor(1.0))


def test_bool_int_float_of_tensors():
    assert bool(gc.tensor([1.0])) is True
    assert bool(gc.tensor(0)) is False
    assert float(gc.tensor([2.5])) == 2.5
    assert int(gc.tensor(7.9)) == 7
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(gc.tensor([1, 2]))
    with pytest.raises(RuntimeError):
        bool(gc.zeros(0))
    with pytest.raises(RuntimeError):
        float(gc.tensor([1.0, 2.0]))
    assert [10, 20, 30][gc.tensor(1)] == 20  # integer tensors index Python sequences
    with pytest.raises(TypeError):
        [10, 20][gc.tensor(1.0)]


# ----------------------------------------------------------------------------- repr
@pytest.mark.parametrize("make,text", [
    (lambda: gc.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: gc.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: gc.tensor([1, 2, -3]), "tensor([ 1,  2, -3])"),
    (lambda: gc.tensor(3), "tensor(3)"),
    (lambda: gc.tensor(1.5), "tensor(1.5000)"),
    (lambda: gc.tensor([1, 2], dtype=gc.int32), "tensor([1, 2], dtype=graphc.int32)"),
    (lambda: gc.tensor([1.0, 2.0], dtype=gc.float64), "tensor([1., 2.], dtype=graphc.float64)"),
    (lambda: gc.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    (lambda: gc.zeros(0), "tensor([])"),
    (lambda: gc.zeros(2, 0), "tensor([], size=(2, 0))"),
    (lambda: gc.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: gc.tensor([float("nan"), 1.0]), "tensor([nan, 1.])"),
    (lambda: gc.tensor([1.0, 2.0], requires_grad=True) * 2, "tensor([2., 4.], grad_fn=<MulBackward0>)"),
])
def test_repr_like_torch(make, text):
    assert repr(make()) == text
    assert str(make()) == text


def test_repr_default_dtype_is_not_printed():
    gc.set_default_dtype(gc.float64)
    assert repr(gc.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(gc.tensor([1.0, 2.0], dtype=gc.float32)) == "tensor([1., 2.], dtype=graphc.float32)"


# ----------------------------------------------------------------------------- gc.tensor dtype inference
@pytest.mark.parametrize("data,dtype,shape", [
    (1.5, gc.float32, ()),
    (2, gc.int64, ()),
    (True, gc.bool, ()),
    ([1, 2.5], gc.float32, (2,)),
    ([True, 2], gc.int64, (2,)),
    ([True, 2.5], gc.float32, (2,)),
    ([[1, 2], [3, 4.0]], gc.float32, (2, 2)),
    ((1, 2), gc.int64, (2,)),
    ([], gc.float32, (0,)),
    ([[]], gc.float32, (1, 0)),
    (np.float64(1.5), gc.float64, ()),
    (np.int32(3), gc.int32, ()),
    (np.bool_(True), gc.bool, ()),
    ([np.float64(1.5)], gc.float64, (1,)),
    ([np.float32(1), 2.0], gc.float32, (2,)),
    ([1.0, np.float64(2)], gc.float64, (2,)),
    ([np.int32(1), 2], gc.int64, (2,)),
    ([np.uint8(3), np.int8(2)], gc.int16, (2,)),
    ([[np.float16(1)], [2]], gc.float16, (2, 1)),
    (np.array([1, 2], np.int32), gc.int32, (2,)),
    (np.array(2.5), gc.float64, ()),
    (np.zeros((2, 3), np.float16), gc.float16, (2, 3)),
    (np.array([True]), gc.bool, (1,)),
])
def test_tensor_dtype_inference(data, dtype, shape):
    t = gc.tensor(data)
    assert t.dtype is dtype and t.shape == shape
    np.testing.assert_array_equal(t.numpy(), np.array(data, dtype=dtype.np))


def test_tensor_inference_follows_default_dtype():
    gc.set_default_dtype(gc.float64)
    assert gc.tensor(1.5).dtype is gc.float64
    assert gc.tensor([1, 2.5]).dtype is gc.float64
    assert gc.tensor([1, 2]).dtype is gc.int64
    assert gc.tensor(np.array([1.0], np.float32)).dtype is gc.float32
    assert gc.Tensor([1, 2]).dtype is gc.float64  # the legacy constructor makes default floats


def test_tensor_keywords_and_errors():
    t = gc.tensor([1, 2], dtype=gc.float64, requires_grad=True)
    assert t.dtype is gc.float64 and t.requires_grad and t.is_leaf
    assert gc.tensor([1.7, -1.7], dtype=gc.int64).tolist() == [1, -1]
    with pytest.raises(RuntimeError, match="floating point"):
        gc.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="cuda"):
        gc.tensor([1.0], device="cuda")
    with pytest.raises(ValueError):
        gc.tensor([[1, 2], [3]])
    with pytest.raises(RuntimeError, match="Overflow"):
        gc.tensor([2 ** 64])
    with pytest.raises(TypeError):
        gc.tensor(None)


def test_tensor_from_list_of_tensors():
    t = gc.tensor([gc.tensor([1.0, 2.0]), gc.tensor([3.0, 4.0])])
    assert t.shape == (2, 2) and t.dtype is gc.float32


# ----------------------------------------------------------------------------- conversions
@pytest.mark.parametrize("method,dtype", [
    ("float", gc.float32), ("double", gc.float64), ("half", gc.float16), ("long", gc.int64), ("int", gc.int32),
    ("short", gc.int16), ("char", gc.int8), ("byte", gc.uint8), ("bool", gc.bool),
])
def test_conversion_methods(method, dtype):
    a = np.array([1.7, -1.7, 0.0, 3.0])
    if dtype is gc.uint8:
        a = np.abs(a)
    t = gc.tensor(a, dtype=gc.float64)
    r = getattr(t, method)()
    assert_matches(r, a.astype(dtype.np), rtol=1e-3)  # float -> int truncates toward zero, nonzero -> True
    assert r.to(gc.float64).dtype is gc.float64


def test_to_forms():
    t = gc.tensor([1.5, 2.5])
    assert t.to(gc.float32) is t
    assert t.to("cpu") is t
    assert t.to(gc.device("cpu")) is t
    assert t.to(gc.float64).dtype is gc.float64
    assert t.to(dtype=gc.int64).tolist() == [1, 2]
    assert t.to("float64").dtype is gc.float64
    assert t.to(gc.tensor([1])).dtype is gc.int64
    assert t.to("cpu", gc.float16).dtype is gc.float16
    c = t.to(gc.float32, copy=True)
    assert c is not t and not np.shares_memory(c.numpy(), t.numpy())
    with pytest.raises(RuntimeError, match="cuda"):
        t.to("cuda")
    with pytest.raises(TypeError):
        t.to(gc.float64, bogus=True)


def test_conversion_carries_gradient_back_in_the_source_dtype():
    x = gc.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype is gc.float64 and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype is gc.float32
    assert_matches(x.grad, np.array([2.0, 4.0], np.float32))
    z = x.long()
    assert not z.requires_grad  # integer results are not differentiable


def test_type_takes_torch_type_names():
    x = gc.tensor([1.5, 2.0])
    assert x.type() == "torch.FloatTensor"
    assert x.type("torch.DoubleTensor").dtype == gc.float64 and x.type("torch.LongTensor").tolist() == [1, 2]
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.FooTensor")


def test_strides_of_inserted_size_one_dims_follow_torch():
    x = gc.arange(12.0).reshape(3, 4)
    # an inserted dim of size 1 reports the stride it would have over the dims to its right
    assert x[None].stride() == (12, 4, 1) and x[:, None].stride() == (4, 4, 1)
    assert x.t()[None].stride() == (4, 1, 4) and x.unsqueeze(2).stride() == (4, 1, 1)
    assert x[:1].expand(1, 4).stride() == (4, 1) and x[:, :1].expand(3, 5).stride() == (4, 0)
