"""symint.Sym: sizes a * S + b, their arithmetic, and their IR."""
import ctypes

import pytest
from llvmlite import ir

from graphc.codegen import jit
from graphc.codegen.symint import NonAffine, Sym, at, emit_int, prod

S = Sym(1, 0)


@pytest.mark.parametrize("size", [1, 2, 7, 1000])
def test_affine_arithmetic_evaluates_like_ints(size):
    exprs = [S * 12 + 3, 3 + S * 12, (S + 2) * 4 - S, 5 - S * 2, -(S - 1), (S * 6 + 9) // 3, S * 0 + 4]
    want = [size * 12 + 3, 3 + size * 12, (size + 2) * 4 - size, 5 - size * 2, -(size - 1),
            (size * 6 + 9) // 3, 4]
    assert [at(e, size) for e in exprs] == want
    assert at((S, 4, (S * 2, 1)), size) == (size, 4, (2 * size, 1))
    assert prod([S, 3, 4]).at(size) == 12 * size


def test_a_zero_coefficient_is_a_plain_int_and_equality_is_structural():
    assert (S - S) == 0 and type(S - S) is int
    assert S * 3 == Sym(3, 0) and S * 3 != Sym(3, 1) and S != 3
    assert hash(S * 2 + 1) == hash(Sym(2, 1))
    # order: the order a large S gives
    assert S > 1000 and S + 1 > S and S * 2 > S + 100 and not S < 5 and S >= S


@pytest.mark.parametrize("bad", [lambda: S * S, lambda: S // 2, lambda: (S * 2 + 1) // 2, lambda: S % 4,
                                 lambda: int(S), lambda: range(S), lambda: prod([S, S])])
def test_non_affine_uses_raise(bad):
    with pytest.raises(NonAffine):
        bad()


def test_emit_int_computes_the_value_from_the_size_argument():
    mod = ir.Module(name="symint_test")
    i64 = ir.IntType(64)
    exprs = [S * 12 + 3, S, S * -1 + 9, 7]
    fn = ir.Function(mod, ir.FunctionType(i64, [i64, i64]), name="pick")
    size, which = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    vals = [emit_int(b, e, size) for e in exprs]
    out = vals[0]
    for k, v in enumerate(vals[1:], 1):
        out = b.select(b.icmp_signed("==", which, ir.Constant(i64, k)), v, out)
    b.ret(out)
    cm = jit.compile_module(str(mod))
    f = cm.get_function("pick", ctypes.c_int64, [ctypes.c_int64, ctypes.c_int64])
    for n in (1, 5, 100):
        assert [f(n, k) for k in range(len(exprs))] == [at(e, n) for e in exprs]
    with pytest.raises(NonAffine):
        emit_int(b, S, None)   # a function without the size cannot compute it
