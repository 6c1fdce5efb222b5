"""A small JIT engine on llvmlite: LLVM IR text in, ctypes callables out.

``compile_module`` parses and verifies LLVM IR, optimizes it with the new pass
manager at ``-O3`` (loop and SLP vectorization on) for the host CPU, emits
object code once and loads that object into an MCJIT engine.  Going through
object code on every compile means the disk cache (``graphc.codegen.cache``)
stores and reloads exactly what a fresh compile runs.

    >>> cm = compile_module(ir_text)                     # doctest: +SKIP
    >>> f = cm.get_function("kernel", None, [ctypes.c_void_p, ctypes.c_int64])
    >>> f(out.ctypes.data, out.size)                    # releases the GIL

llvmlite facts this file relies on (llvmlite 0.50, LLVM 22):

* ``llvm.initialize()`` raises; the native target and asm printer still need
  initializing once.
* ``create_mcjit_compiler`` takes ownership of the target machine it is given,
  so every engine gets a fresh one; the shared host machine is only used for
  optimizing and emitting.
* LLVM's global context is not safe to use from several threads at once, so
  compiling holds a module-level lock.  Calling compiled code does not.
"""
from __future__ import annotations

import ctypes
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Sequence

import llvmlite
import llvmlite.binding as llvm

__all__ = [
    "CompileFlags", "CompiledModule", "HostTarget", "host_target", "compile_module",
    "optimize_ir", "emit_object", "load_object", "apply_fastmath", "compile_flags",
]

# LLVM's context and pass machinery are shared process-wide state.
_LLVM_LOCK = threading.RLock()

# Fast-math flags ``fastmath=True`` puts on kernel arithmetic: reassociation
# (reductions vectorize) and contraction (fma), never nnan/ninf, so inf and NaN
# results stay exactly what the IR says.
FASTMATH_FLAGS = ("reassoc", "contract")


@dataclass(frozen=True)
class HostTarget:
    """What the code is compiled for: triple, CPU name and feature string."""

    triple: str
    cpu: str
    features: str

    def key(self) -> str:
        """A string that changes whenever the generated code could."""
        return f"{self.triple}|{self.cpu}|{self.features}"


@dataclass(frozen=True)
class CompileFlags:
    """The options a module was compiled with (part of every cache key)."""

    opt_level: int
    fastmath: bool
    target: HostTarget
    llvm_version: str
    llvmlite_version: str

    def key(self) -> str:
        return (f"O{self.opt_level}|fastmath={int(self.fastmath)}|{self.target.key()}"
                f"|llvm={self.llvm_version}|llvmlite={self.llvmlite_version}")


@lru_cache(maxsize=None)
def _initialize() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


@lru_cache(maxsize=None)
def host_target() -> HostTarget:
    """The host's triple, CPU (e.g. ``znver5``) and feature string."""
    _initialize()
    return HostTarget(
        triple=llvm.get_process_triple(),
        cpu=llvm.get_host_cpu_name(),
        features=llvm.get_host_cpu_features().flatten(),
    )


def _new_target_machine(opt_level: int = 3) -> llvm.TargetMachine:
    host = host_target()
    target = llvm.Target.from_triple(host.triple)
    return target.create_target_machine(cpu=host.cpu, features=host.features,
                                        opt=opt_level, codemodel="jitdefault")


@lru_cache(maxsize=None)
def _shared_target_machine(opt_level: int) -> llvm.TargetMachine:
    # Used for optimizing and emitting only; never handed to an engine (which
    # would take ownership of it).
    return _new_target_machine(opt_level)


def compile_flags(opt_level: int = 3, fastmath: bool = False) -> CompileFlags:
    """The flags record ``compile_module`` would use for these options."""
    if opt_level not in (0, 1, 2, 3):
        raise ValueError(f"compile_module: opt_level must be 0..3, got {opt_level!r}")
    return CompileFlags(opt_level=opt_level, fastmath=bool(fastmath), target=host_target(),
                        llvm_version=".".join(map(str, llvm.llvm_version_info)),
                        llvmlite_version=llvmlite.__version__)


_DEFINE_RE = re.compile(r'^define\b[^@]*@("(?:[^"\\]|\\.)*"|[-\w$.]+)')
_FP_OPS_RE = re.compile(r"(=\s*)(fadd|fsub|fmul|fdiv|frem|fneg)(\s+)(?!(?:fast|reassoc|nnan|ninf|nsz|arcp|contract|afn)\b)")


def apply_fastmath(ir_text: str, skip_prefix: str = "graphc.math.") -> str:
    """Put ``reassoc contract`` on floating-point arithmetic that has no flags.

    Functions whose name starts with ``skip_prefix`` (the mathlib helpers) are
    left alone: their range reductions rely on strict evaluation order, and they
    keep their own flags when inlined into a kernel.
    """
    flags = " ".join(FASTMATH_FLAGS)
    out = []
    skipping = False
    for line in ir_text.splitlines():
        m = _DEFINE_RE.match(line)
        if m:
            skipping = m.group(1).strip('"').startswith(skip_prefix)
        elif not skipping:
            line = _FP_OPS_RE.sub(lambda mm: f"{mm.group(1)}{mm.group(2)} {flags}{mm.group(3)}", line)
        out.append(line)
    return "\n".join(out) + "\n"


def _parse(ir_text: str) -> llvm.ModuleRef:
    try:
        mod = llvm.parse_assembly(ir_text)
        mod.verify()
    except RuntimeError as exc:
        raise RuntimeError(f"compile_module: invalid LLVM IR: {exc}") from None
    return mod


def optimize_ir(ir_text: str, flags: CompileFlags) -> llvm.ModuleRef:
    """Parse, verify and optimize IR text for the host; returns the module."""
    with _LLVM_LOCK:
        _initialize()
        if flags.fastmath:
            ir_text = apply_fastmath(ir_text)
        mod = _parse(ir_text)
        tm = _shared_target_machine(flags.opt_level)
        mod.triple = tm.triple
        mod.data_layout = str(tm.target_data)
        if flags.opt_level > 0:
            pto = llvm.create_pipeline_tuning_options(speed_level=flags.opt_level)
            pto.loop_vectorization = flags.opt_level >= 2
            pto.slp_vectorization = flags.opt_level >= 2
            pb = llvm.create_pass_builder(tm, pto)
            pb.getModulePassManager().run(mod, pb)
        return mod


def emit_object(mod: llvm.ModuleRef, flags: CompileFlags) -> bytes:
    """Machine code for an optimized module, as an ELF/COFF/Mach-O object."""
    with _LLVM_LOCK:
        return bytes(_shared_target_machine(flags.opt_level).emit_object(mod))


def load_object(object_code: bytes, flags: CompileFlags, source: str = "") -> "CompiledModule":
    """Link object code into a fresh MCJIT engine.

    ``source`` (the unoptimized IR text) is kept so ``llvm_ir()``/``asm()``
    can be regenerated for a module that came from the disk cache.
    """
    with _LLVM_LOCK:
        _initialize()
        engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""),
                                            _new_target_machine(flags.opt_level))
        engine.add_object_file(llvm.ObjectFileRef.from_data(bytes(object_code)))
        engine.finalize_object()
    return CompiledModule(engine, bytes(object_code), flags, source)


def compile_module(ir: Any, *, opt_level: int = 3, fastmath: bool = False,
                   keep_ir: bool = False) -> "CompiledModule":
    """Compile LLVM IR (text or an ``llvmlite.ir.Module``) for the host CPU.

    ``fastmath`` adds ``reassoc contract`` to the kernel's own float arithmetic
    (see ``apply_fastmath``); it never assumes the absence of NaN or inf.
    ``keep_ir`` keeps a copy of the optimized module so ``llvm_ir()``/``asm()``
    need not re-run the optimizer (for tests, reports and debugging).
    """
    source = str(ir)
    flags = compile_flags(opt_level, fastmath)
    mod = optimize_ir(source, flags)
    # emitting runs codegen-prepare passes on the module in place, so what
    # llvm_ir() shows must be copied before (or re-optimized later)
    kept = mod.clone() if keep_ir else None
    obj = emit_object(mod, flags)
    cm = load_object(obj, flags, source)
    cm._optimized = kept
    return cm


class CompiledModule:
    """Machine code loaded into a JIT engine, alive as long as this object is.

    Callables returned by ``get_function`` hold a reference to the module, so
    the code stays mapped while any of them is reachable.
    """

    def __init__(self, engine: llvm.ExecutionEngine, object_code: bytes, flags: CompileFlags,
                 source: str):
        self._engine = engine
        self.object_code = object_code
        self.flags = flags
        self.source = source
        self._optimized: llvm.ModuleRef | None = None
        self._functions: dict = {}

    def address(self, name: str) -> int:
        """The entry address of a function symbol (KeyError when absent)."""
        with _LLVM_LOCK:
            addr = self._engine.get_function_address(name)
        if not addr:
            raise KeyError(f"compiled module has no function named {name!r}")
        return addr

    def get_function(self, name: str, restype: Any, argtypes: Sequence[Any]) -> Callable:
        """A ctypes callable for function ``name`` (ctypes drops the GIL while it runs)."""
        key = (name, restype, tuple(argtypes))
        fn = self._functions.get(key)
        if fn is None:
            fn = ctypes.CFUNCTYPE(restype, *argtypes)(self.address(name))
            fn._graphc_module = self  # keeps the engine (and the code) alive
            self._functions[key] = fn
        return fn

    def _optimized_module(self) -> llvm.ModuleRef:
        if self._optimized is None:
            self._optimized = optimize_ir(self.source, self.flags)
        return self._optimized

    def llvm_ir(self) -> str:
        """The optimized LLVM IR text."""
        return str(self._optimized_module())

    def asm(self) -> str:
        """The host assembly the module compiles to."""
        mod = self._optimized_module()
        with _LLVM_LOCK:
            return _shared_target_machine(self.flags.opt_level).emit_assembly(mod)

    def __repr__(self) -> str:
        return (f"<CompiledModule {len(self.object_code)} bytes, O{self.flags.opt_level}, "
                f"fastmath={self.flags.fastmath}, cpu={self.flags.target.cpu}>")
