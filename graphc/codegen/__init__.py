"""The native backend: LLVM IR emission, JIT engine and kernel cache (issue 4).

* ``jit``: compile LLVM IR for the host CPU and call it through ctypes.
* ``cache``: compiled object code cached in memory and on disk by IR hash.
* ``mathlib``: exp/log/tanh/... emitted as LLVM IR polynomials so that loops
  using them vectorize (the PyPI llvmlite has no vector math library).
"""
from .cache import KernelCache, cached_compile, default_cache
from .jit import CompiledModule, compile_module, host_target

__all__ = ["CompiledModule", "compile_module", "host_target", "KernelCache", "cached_compile",
           "default_cache"]

# the native backend (issue 4): scalar lowering table, group -> kernel, module, run plan
from .backend import NativePlan  # noqa: E402
from .module import KernelInfo, NativeModule  # noqa: E402

__all__ += ["NativePlan", "NativeModule", "KernelInfo"]
