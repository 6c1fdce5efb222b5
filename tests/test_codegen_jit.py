"""The JIT engine wrapper (graphc.codegen.jit) and the compile cache (graphc.codegen.cache)."""
import ctypes
import dataclasses
import gc
import os
import threading

import llvmlite
import numpy as np
import pytest
from llvmlite import ir

from graphc.codegen import cache as kcache
from graphc.codegen import jit

P = ctypes.c_void_p
I64 = ctypes.c_int64

AXPY = r"""
define void @axpy(float* noalias %out, float* noalias %x, float* noalias %y, i64 %n) {
entry:
  %c = icmp sgt i64 %n, 0
  br i1 %c, label %loop, label %exit
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %px = getelementptr float, float* %x, i64 %i
  %py = getelementptr float, float* %y, i64 %i
  %po = getelementptr float, float* %out, i64 %i
  %vx = load float, float* %px
  %vy = load float, float* %py
  %m = fmul float %vx, 2.0
  %a = fadd float %m, %vy
  store float %a, float* %po
  %i1 = add i64 %i, 1
  %d = icmp slt i64 %i1, %n
  br i1 %d, label %loop, label %exit
exit:
  ret void
}
"""

SUM = r"""
define float @total(float* noalias %x, i64 %n) {
entry:
  %c = icmp sgt i64 %n, 0
  br i1 %c, label %loop, label %exit
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %acc = phi float [0.0, %entry], [%acc1, %loop]
  %px = getelementptr float, float* %x, i64 %i
  %v = load float, float* %px
  %acc1 = fadd float %acc, %v
  %i1 = add i64 %i, 1
  %d = icmp slt i64 %i1, %n
  br i1 %d, label %loop, label %exit
exit:
  %r = phi float [0.0, %entry], [%acc1, %loop]
  ret float %r
}
"""


def _axpy(cm):
    return cm.get_function("axpy", None, [P, P, P, I64])


def _run_axpy(cm, n=1000):
    x = np.arange(n, dtype=np.float32)
    y = np.full(n, 0.5, np.float32)
    out = np.empty(n, np.float32)
    _axpy(cm)(out.ctypes.data, x.ctypes.data, y.ctypes.data, n)
    return out, 2 * x + y


@pytest.fixture(scope="module")
def axpy_module():
    return jit.compile_module(AXPY)


# --- jit -----------------------------------------------------------------------

def test_compile_and_call(axpy_module):
    out, expected = _run_axpy(axpy_module)
    np.testing.assert_array_equal(out, expected)
    out, expected = _run_axpy(axpy_module, n=0)
    assert out.shape == (0,)


def test_optimized_ir_is_vectorized_and_asm_available(axpy_module):
    text = axpy_module.llvm_ir()
    assert "x float>" in text, "the axpy loop should vectorize"
    asm = axpy_module.asm()
    assert "axpy" in asm and ("ymm" in asm or "zmm" in asm or "xmm" in asm)


def test_flags_are_recorded(axpy_module):
    f = axpy_module.flags
    assert f.opt_level == 3 and f.fastmath is False
    assert f.target == jit.host_target()
    assert f.llvmlite_version == llvmlite.__version__
    assert "O3" in f.key() and f.target.cpu in f.key()
    assert isinstance(axpy_module.object_code, bytes) and axpy_module.object_code


def test_compile_llvmlite_module():
    mod = ir.Module()
    i64 = ir.IntType(64)
    fn = ir.Function(mod, ir.FunctionType(i64, [i64, i64]), name="addmul")
    b = ir.IRBuilder(fn.append_basic_block())
    b.ret(b.mul(b.add(fn.args[0], fn.args[1]), ir.Constant(i64, 3)))
    cm = jit.compile_module(mod, opt_level=1)
    assert cm.get_function("addmul", I64, [I64, I64])(4, 5) == 27
    assert cm.flags.opt_level == 1


def test_invalid_ir_raises():
    with pytest.raises(RuntimeError, match="invalid LLVM IR"):
        jit.compile_module("define void @f( {")
    with pytest.raises(ValueError, match="opt_level"):
        jit.compile_module(AXPY, opt_level=7)


def test_unknown_function_raises(axpy_module):
    with pytest.raises(KeyError, match="nope"):
        axpy_module.get_function("nope", None, [])


def test_callable_keeps_module_alive():
    fn = _axpy(jit.compile_module(AXPY))
    gc.collect()
    x = np.ones(64, np.float32)
    out = np.empty_like(x)
    fn(out.ctypes.data, x.ctypes.data, x.ctypes.data, 64)
    np.testing.assert_array_equal(out, 3 * x)


def test_get_function_is_memoized(axpy_module):
    assert _axpy(axpy_module) is _axpy(axpy_module)


def test_object_code_reloads(axpy_module):
    again = jit.load_object(axpy_module.object_code, axpy_module.flags, axpy_module.source)
    out, expected = _run_axpy(again)
    np.testing.assert_array_equal(out, expected)
    # a reloaded module can still show its IR (re-optimized from the source)
    assert "define void @axpy" in again.llvm_ir()


def test_fastmath_vectorizes_a_reduction():
    strict = jit.compile_module(SUM)
    fast = jit.compile_module(SUM, fastmath=True)
    assert fast.flags.fastmath and fast.flags.key() != strict.flags.key()
    assert "reassoc" in fast.llvm_ir() and "reassoc" not in strict.llvm_ir()
    assert "x float>" in fast.llvm_ir()
    x = np.random.default_rng(0).random(1001).astype(np.float32)
    for cm in (strict, fast):
        got = cm.get_function("total", ctypes.c_float, [P, I64])(x.ctypes.data, x.size)
        assert abs(got - x.astype(np.float64).sum()) < 1e-3


def test_apply_fastmath_skips_math_helpers():
    text = (
        'define internal float @"graphc.math.exp.f32"(float %x) {\n'
        "  %a = fadd float %x, 1.0\n  ret float %a\n}\n"
        "define float @k(float %x) {\n"
        "  %a = fmul float %x, 2.0\n  %b = fadd nnan float %a, 1.0\n  ret float %b\n}\n"
    )
    out = jit.apply_fastmath(text)
    assert "%a = fadd float %x, 1.0" in out           # helper untouched
    assert "%a = fmul reassoc contract float" in out  # kernel op flagged
    assert "%b = fadd nnan float" in out              # existing flags kept as written


def test_concurrent_compiles():
    results = []

    def work():
        out, expected = _run_axpy(jit.compile_module(AXPY))
        results.append(np.array_equal(out, expected))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 3


# --- cache -----------------------------------------------------------------------

def _entry_path(cache, text=AXPY, **kw):
    return cache.path_for(kcache.cache_key(text, jit.compile_flags(**kw)))


def test_cache_memory_hit_and_miss(tmp_path):
    c = kcache.KernelCache(tmp_path)
    a = c.compile(AXPY)
    b = c.compile(AXPY)
    assert a is b
    assert (c.stats.misses, c.stats.memory_hits) == (1, 1)
    other = c.compile(AXPY, opt_level=2)  # different flags: different entry
    assert other is not a and c.stats.misses == 2
    np.testing.assert_array_equal(*_run_axpy(b))


def test_cache_disk_hit(tmp_path):
    kcache.KernelCache(tmp_path).compile(AXPY)
    path = _entry_path(kcache.KernelCache(tmp_path))
    assert path.is_file()
    fresh = kcache.KernelCache(tmp_path)
    cm = fresh.compile(AXPY)
    assert (fresh.stats.disk_hits, fresh.stats.misses) == (1, 0)
    np.testing.assert_array_equal(*_run_axpy(cm))
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_cache_file_format(tmp_path):
    c = kcache.KernelCache(tmp_path)
    cm = c.compile(AXPY)
    blob = _entry_path(c).read_bytes()
    full_key = kcache.key_text(AXPY, jit.compile_flags())
    assert kcache._decode(blob, full_key) == cm.object_code
    assert full_key.encode() in blob and f"v{kcache.FORMAT_VERSION}" in full_key


@pytest.mark.parametrize("damage", ["flip_payload", "truncate", "bad_magic", "empty", "bad_version"])
def test_cache_corruption_is_detected_and_rebuilt(tmp_path, damage):
    kcache.KernelCache(tmp_path).compile(AXPY)
    path = _entry_path(kcache.KernelCache(tmp_path))
    blob = bytearray(path.read_bytes())
    if damage == "flip_payload":
        blob[-10] ^= 0xFF
    elif damage == "truncate":
        blob = blob[:-7]
    elif damage == "bad_magic":
        blob[0] ^= 0xFF
    elif damage == "empty":
        blob = bytearray()
    else:
        blob[8] += 1  # the format version field follows the 8-byte magic
    path.write_bytes(bytes(blob))
    c = kcache.KernelCache(tmp_path)
    cm = c.compile(AXPY)
    assert (c.stats.rejected, c.stats.misses, c.stats.disk_hits) == (1, 1, 0)
    np.testing.assert_array_equal(*_run_axpy(cm))
    # the rebuilt entry replaced the damaged file and now loads
    again = kcache.KernelCache(tmp_path)
    again.compile(AXPY)
    assert again.stats.disk_hits == 1


def test_cache_stale_key_is_not_used(tmp_path):
    flags = jit.compile_flags()
    other_target = dataclasses.replace(flags, target=dataclasses.replace(flags.target, cpu="other"))
    other_version = dataclasses.replace(flags, llvmlite_version="0.0.1")
    keys = {kcache.cache_key(AXPY, f) for f in (flags, other_target, other_version)}
    keys.add(kcache.cache_key(AXPY + "\n", flags))
    keys.add(kcache.cache_key(AXPY, jit.compile_flags(fastmath=True)))
    assert len(keys) == 5
    # an intact entry written for another target, found at this key's path
    c = kcache.KernelCache(tmp_path)
    cm = c.compile(AXPY)
    path = _entry_path(c)
    path.write_bytes(kcache._encode(kcache.key_text(AXPY, other_target), cm.object_code))
    fresh = kcache.KernelCache(tmp_path)
    fresh.compile(AXPY)
    assert (fresh.stats.rejected, fresh.stats.misses) == (1, 1)
    assert kcache._decode(path.read_bytes(), kcache.key_text(AXPY, flags)) is not None


def test_cache_version_change_misses(tmp_path, monkeypatch):
    kcache.KernelCache(tmp_path).compile(AXPY)
    monkeypatch.setattr(llvmlite, "__version__", "0.0.1")
    c = kcache.KernelCache(tmp_path)
    c.compile(AXPY)
    assert (c.stats.disk_hits, c.stats.misses) == (0, 1)


def test_cache_dir_env_var(tmp_path, monkeypatch):
    target = tmp_path / "from_env"
    monkeypatch.setenv(kcache.CACHE_DIR_ENV, str(target))
    assert kcache.default_cache_dir() == target
    c = kcache.KernelCache()
    assert c.directory == target
    c.compile(AXPY)
    assert list(target.rglob("*.gco"))
    monkeypatch.delenv(kcache.CACHE_DIR_ENV)
    assert kcache.default_cache_dir() == kcache.Path.home() / ".cache" / "graphc"


def test_cache_unwritable_dir_still_compiles(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    c = kcache.KernelCache(blocker)
    cm = c.compile(AXPY)
    assert c.stats.write_errors == 1
    np.testing.assert_array_equal(*_run_axpy(cm))


def test_cache_memory_only_and_lru(tmp_path):
    c = kcache.KernelCache(tmp_path, disk=False, max_memory_entries=1)
    a = c.compile(AXPY)
    c.compile(AXPY, opt_level=2)
    assert c.compile(AXPY) is not a  # evicted
    assert not any(tmp_path.iterdir())
    assert os.path.isdir(tmp_path)
