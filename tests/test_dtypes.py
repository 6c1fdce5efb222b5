"""Dtype objects and torch's type promotion.

The expected results are written here from torch's documented rules, independently of
graphc.dtypes (which leans on numpy):

* categories order bool < integer < floating; across categories the higher one wins;
* within a category the wider type wins, and uint8 with int8 needs int16;
* operands form three priority groups: tensors with dimensions > zero-dim tensors > Python
  numbers.  A lower group changes the result only when it brings a higher category, and then
  the result is wide enough for that group's operands of the higher category;
* Python numbers count as bool, int64 or the default float; true division of integers gives
  the default float.
"""
import itertools
import pickle

import numpy as np
import pytest

import graphc as gc
from graphc import dtypes as D

BOOL, U8, I8, I16, I32, I64, F16, F32, F64 = (
    gc.bool, gc.uint8, gc.int8, gc.int16, gc.int32, gc.int64, gc.float16, gc.float32, gc.float64)
ALL = [BOOL, U8, I8, I16, I32, I64, F16, F32, F64]
INTS = [U8, I8, I16, I32, I64]
FLOATS = [F16, F32, F64]
_WIDTH = {U8: 1, I8: 1, I16: 2, I32: 4, I64: 8, F16: 2, F32: 4, F64: 8}


def category(d) -> int:
    return 0 if d is BOOL else (1 if d in INTS else 2)


def expected_promote(a, b):
    """torch.promote_types from the rules above."""
    if a is b:
        return a
    if category(a) != category(b):
        return a if category(a) > category(b) else b
    if category(a) == 2:
        return a if _WIDTH[a] > _WIDTH[b] else b
    if U8 in (a, b):
        other = b if a is U8 else a
        return I16 if other is I8 else other  # any wider signed type holds all of uint8
    return a if _WIDTH[a] > _WIDTH[b] else b


def expected_result(dims=(), zeros=(), scalars=()):
    """torch.result_type of dimensioned tensors, zero-dim tensors and Python numbers (given as dtypes)."""
    result = None
    for group in (dims, zeros, scalars):
        if not group:
            continue
        g = group[0]
        for d in group[1:]:
            g = expected_promote(g, d)
        if result is None:
            result = g
        elif category(g) > category(result):
            result = expected_promote(result, g)
    return result


# a few entries written out by hand, to keep the helper above honest
HAND_TABLE = [
    (BOOL, BOOL, BOOL), (BOOL, U8, U8), (BOOL, F16, F16), (U8, I8, I16), (U8, I16, I16), (U8, I64, I64),
    (I8, I16, I16), (I16, I32, I32), (I32, I64, I64), (I64, F16, F16), (I8, F64, F64), (F16, F32, F32),
    (F16, F64, F64), (F32, F64, F64), (U8, U8, U8), (I32, F32, F32),
]


@pytest.mark.parametrize("a,b,want", HAND_TABLE)
def test_hand_table(a, b, want):
    assert expected_promote(a, b) is want
    assert D.promote_types(a, b) is want
    assert D.promote_types(b, a) is want


@pytest.mark.parametrize("a,b", list(itertools.product(ALL, ALL)))
def test_promote_types_full_table(a, b):
    assert D.promote_types(a, b) is expected_promote(a, b)


def _tensor(dtype, zero_dim: bool):
    return gc.ones((), dtype=dtype) if zero_dim else gc.ones(2, dtype=dtype)


@pytest.mark.parametrize("a,b", list(itertools.product(ALL, ALL)))
def test_add_promotes_by_priority_group(a, b):
    assert gc.add(_tensor(a, False), _tensor(b, False)).dtype is expected_result(dims=(a, b))
    assert gc.add(_tensor(a, False), _tensor(b, True)).dtype is expected_result(dims=(a,), zeros=(b,))
    assert gc.add(_tensor(a, True), _tensor(b, False)).dtype is expected_result(dims=(b,), zeros=(a,))
    assert gc.add(_tensor(a, True), _tensor(b, True)).dtype is expected_result(zeros=(a, b))


SCALARS = [(True, BOOL), (2, I64), (2.5, None)]  # None: the default float


@pytest.mark.parametrize("default", [F32, F64])
@pytest.mark.parametrize("a", ALL)
@pytest.mark.parametrize("value,kind", SCALARS)
def test_python_numbers_rank_lowest(default, a, value, kind):
    gc.set_default_dtype(default)
    sd = kind or default
    for zero_dim in (False, True):
        t = _tensor(a, zero_dim)
        want = expected_result(dims=() if zero_dim else (a,), zeros=(a,) if zero_dim else (), scalars=(sd,))
        assert (t + value).dtype is want
        assert (value + t).dtype is want
        assert gc.mul(t, value).dtype is want


@pytest.mark.parametrize("a,b,want", [
    (lambda: gc.ones(2, dtype=gc.int32), 2.5, F32),
    (lambda: gc.ones(2, dtype=gc.uint8), lambda: gc.ones(2, dtype=gc.int8), I16),
    (lambda: gc.ones(2, dtype=gc.float16), lambda: gc.ones((), dtype=gc.float64), F16),
    (lambda: gc.ones(2, dtype=gc.int32), lambda: gc.ones((), dtype=gc.float64), F64),
    (lambda: gc.ones(2, dtype=gc.bool), lambda: gc.ones(2, dtype=gc.bool), BOOL),
    (lambda: gc.ones(2, dtype=gc.uint8), 1000, U8),
    (lambda: gc.ones(2, dtype=gc.int8), lambda: gc.ones((), dtype=gc.int64), I8),
    (lambda: gc.ones(2, dtype=gc.bool), lambda: gc.ones((), dtype=gc.int32), I32),
    (lambda: gc.ones(2, dtype=gc.bool), 2, I64),
    (lambda: gc.ones(2, dtype=gc.float16), 2.5, F16),
    (lambda: gc.ones((), dtype=gc.int32), 2.5, F32),
    (lambda: gc.ones((), dtype=gc.float64), lambda: gc.ones(2, dtype=gc.int16), F64),
])
def test_documented_examples(a, b, want):
    a = a() if callable(a) else a
    b = b() if callable(b) else b
    assert gc.add(a, b).dtype is want


def test_bool_add_is_logical_or():
    r = gc.tensor([True, False, False]) + gc.tensor([True, True, False])
    assert r.dtype is BOOL
    np.testing.assert_array_equal(r.numpy(), [True, True, False])


@pytest.mark.parametrize("a", INTS + [BOOL])
@pytest.mark.parametrize("b", INTS + [BOOL])
def test_true_division_of_integers_gives_the_default_float(a, b):
    x, y = gc.ones(3, dtype=a), gc.ones(3, dtype=b)
    assert (x / y).dtype is F32
    gc.set_default_dtype(F64)
    assert (x / y).dtype is F64
    assert (x / 2).dtype is F64


def test_division_keeps_floating_types():
    assert (gc.ones(2, dtype=F16) / gc.ones(2, dtype=I64)).dtype is F16
    assert (gc.ones(2, dtype=I32) / gc.ones((), dtype=F64)).dtype is F64
    assert (gc.ones(2, dtype=F32) / 3).dtype is F32
    assert gc.div(gc.tensor([7, -7]), 2, rounding_mode="floor").dtype is I64


def test_default_dtype_governs_python_floats():
    assert gc.get_default_dtype() is F32
    assert (gc.tensor([1, 2]) + 2.5).dtype is F32
    gc.set_default_dtype(gc.float64)
    assert gc.get_default_dtype() is F64
    assert (gc.tensor([1, 2]) + 2.5).dtype is F64
    assert (gc.tensor([1.0], dtype=F32) + 2.5).dtype is F32  # same category: the tensor decides
    assert (gc.tensor([1.0], dtype=F16) + 2.5).dtype is F16
    gc.set_default_dtype("float16")
    assert gc.tensor(1.5).dtype is F16
    with pytest.raises(TypeError, match="floating"):
        gc.set_default_dtype(gc.int64)
    with pytest.raises(TypeError):
        gc.set_default_dtype(gc.bool)


def test_result_type_of_three_groups():
    # a float zero-dim tensor outranks int tensors; a Python float then changes nothing
    assert D.result_type_of((I32, 2), (F64, 1), (F32, 0)) is F64
    assert D.result_type_of((I32, 2), (I64, 1), (F32, 0)) is F32
    assert D.result_type_of((BOOL, 2), (BOOL, 1), (I64, 0)) is I64
    assert D.result_type_of((U8, 2), (I8, 1)) is U8
    assert D.result_type_of((F16, 1), (I64, 1), (F64, 0)) is F16


# ----------------------------------------------------------------------------- dtype objects
def test_dtype_attributes():
    for d in ALL:
        assert d.itemsize == np.dtype(d.np).itemsize
        assert d.is_floating_point == (d in FLOATS)
        assert repr(d) == f"graphc.{d.name}"
        assert pickle.loads(pickle.dumps(d)) is d
        assert not d.is_complex
    assert [d for d in ALL if d.is_signed] == [I8, I16, I32, I64, F16, F32, F64]
    assert gc.float is F32 and gc.double is F64 and gc.half is F16
    assert gc.int is I32 and gc.long is I64 and gc.short is I16


@pytest.mark.parametrize("spec,want", [
    ("float32", F32), ("torch.float64", F64), ("graphc.int8", I8), ("long", I64), ("half", F16), ("bool", BOOL),
    (np.float32, F32), (np.dtype("int16"), I16), (np.uint8, U8), (bool, BOOL), (int, I64), (float, F32), (F64, F64),
])
def test_to_dtype(spec, want):
    assert D.to_dtype(spec) is want


@pytest.mark.parametrize("bad", [np.complex64, np.complex128, "complex64", object, np.object_, np.str_, "string",
                                 np.uint16, np.uint32, np.uint64, np.float128 if hasattr(np, "float128") else "f128",
                                 complex, None])
def test_unsupported_dtypes_are_type_errors(bad):
    with pytest.raises(TypeError):
        D.to_dtype(bad)


@pytest.mark.parametrize("make", [
    lambda: gc.tensor(1 + 2j),
    lambda: gc.tensor([1.0, 2j]),
    lambda: gc.tensor(np.array([1 + 1j])),
    lambda: gc.tensor(["a", "b"]),
    lambda: gc.tensor("abc"),
    lambda: gc.tensor(np.array(["a"])),
    lambda: gc.tensor(np.array([object()])),
    lambda: gc.tensor([None]),
    lambda: gc.tensor(np.array([1, 2], dtype=np.uint32)),
    lambda: gc.from_numpy(np.array([1 + 1j])),
    lambda: gc.from_numpy(np.array(["a"])),
    lambda: gc.from_numpy(np.array([1], dtype=object)),
    lambda: gc.from_numpy(np.array([1], dtype=np.uint64)),
    lambda: gc.zeros(2, dtype=np.complex64),
    lambda: gc.ones(2).to(np.complex64),
    lambda: gc.tensor([1.0], dtype="complex128"),
])
def test_unsupported_data_is_a_type_error(make):
    with pytest.raises(TypeError):
        make()


def test_wrapped_numbers_keep_double_precision():
    # 1/3 as a Python float promotes like float32 but is not rounded before a float64 op
    x = gc.ones(1, dtype=F64) * (1 / 3)
    assert x.dtype is F64 and x.item() == 1 / 3
