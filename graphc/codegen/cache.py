"""Compile cache: object code by IR hash, in memory and on disk.

The key covers everything that can change the machine code: the IR text, the
target triple, CPU name and feature string, the optimization flags, the LLVM
and llvmlite versions and this file's format version.  On disk each entry is
one file ``<dir>/<key[:2]>/<key>.gco``:

    magic    8 bytes   b"GRAPHCO\\0"
    header   struct    format version (u32), key length (u32),
                       payload length (u64), sha256(payload) (32 bytes)
    key      utf-8     the full key text (not just its hash)
    payload  bytes     the object file

A file is used only when magic, version, key, length and checksum all match;
anything else (truncation, bit flips, a file written for another target) is
treated as a miss: the module is rebuilt and the file atomically replaced
(write to a temporary file in the same folder, then ``os.replace``).

The folder is ``$GRAPHC_CACHE_DIR`` when set, else ``~/.cache/graphc``.
"""
from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import jit

__all__ = ["FORMAT_VERSION", "CACHE_DIR_ENV", "KernelCache", "CacheStats", "cache_key",
           "default_cache_dir", "default_cache", "cached_compile"]

FORMAT_VERSION = 1
CACHE_DIR_ENV = "GRAPHC_CACHE_DIR"
_MAGIC = b"GRAPHCO\0"
_HEADER = struct.Struct("<IIQ32s")


def default_cache_dir() -> Path:
    """``$GRAPHC_CACHE_DIR`` if set (and non-empty), else ``~/.cache/graphc``."""
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else Path.home() / ".cache" / "graphc"


def key_text(ir_text: str, flags: jit.CompileFlags) -> str:
    """The full key: format version, compile flags/target/versions, IR hash."""
    ir_hash = hashlib.sha256(ir_text.encode()).hexdigest()
    return f"graphc-obj-v{FORMAT_VERSION}|{flags.key()}|ir={ir_hash}"


def cache_key(ir_text: str, flags: jit.CompileFlags) -> str:
    """A short hex digest of ``key_text`` (memory key and file name)."""
    return _digest(key_text(ir_text, flags))


def _digest(full_key: str) -> str:
    return hashlib.sha256(full_key.encode()).hexdigest()


@dataclass
class CacheStats:
    """Counters: where each ``compile`` call was answered from."""

    memory_hits: int = 0
    disk_hits: int = 0
    misses: int = 0
    rejected: int = 0      # disk files present but invalid (rebuilt)
    write_errors: int = 0  # disk writes that failed (cache went on in memory)
    plan_hits: int = 0     # whole compiled plans loaded from disk (plan_cache.py)
    plan_misses: int = 0


class KernelCache:
    """Compiled modules by key, in memory (LRU) and optionally on disk."""

    def __init__(self, directory: str | os.PathLike | None = None, *, disk: bool = True,
                 max_memory_entries: int = 512):
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.disk = disk
        self.max_memory_entries = max_memory_entries
        self.stats = CacheStats()
        self._memory: OrderedDict[str, jit.CompiledModule] = OrderedDict()
        self._lock = threading.Lock()

    # -- public ------------------------------------------------------------
    def compile(self, ir: Any, *, opt_level: int = 3, fastmath: bool = False) -> jit.CompiledModule:
        """Like ``jit.compile_module``, answered from memory or disk when possible."""
        source = str(ir)
        flags = jit.compile_flags(opt_level, fastmath)
        full_key = key_text(source, flags)
        key = _digest(full_key)
        with self._lock:
            cm = self._memory.get(key)
            if cm is not None:
                self._memory.move_to_end(key)
                self.stats.memory_hits += 1
                return cm
        cm = self._load_from_disk(key, full_key, flags, source) if self.disk else None
        if cm is None:
            mod = jit.optimize_ir(source, flags)
            obj = jit.emit_object(mod, flags)
            cm = jit.load_object(obj, flags, source)
            with self._lock:
                self.stats.misses += 1
            if self.disk:
                self._store(key, full_key, obj)
        self._remember(key, cm)
        return cm

    def path_for(self, key: str, suffix: str = ".gco") -> Path:
        """Where the entry for ``key`` (a ``cache_key`` digest) lives on disk."""
        return self.directory / key[:2] / f"{key}{suffix}"

    def count(self, counter: str) -> None:
        """Add one to ``stats.<counter>`` (thread-safe)."""
        with self._lock:
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)

    def read_entry(self, full_key: str, suffix: str) -> bytes | None:
        """The payload stored for ``full_key`` if its file is intact (magic, version, key, length and
        checksum all match), else None; a damaged file counts in ``stats.rejected``."""
        try:
            blob = self.path_for(_digest(full_key), suffix).read_bytes()
        except OSError:
            return None
        payload = _decode(blob, full_key)
        if payload is None:
            self.count("rejected")
        return payload

    def write_entry(self, full_key: str, payload: bytes, suffix: str) -> None:
        """Store ``payload`` for ``full_key`` atomically (a failed write only counts in ``stats``)."""
        self._store(_digest(full_key), full_key, payload, suffix)

    def clear_memory(self) -> None:
        """Forget in-memory entries (modules stay alive while referenced)."""
        with self._lock:
            self._memory.clear()

    # -- internals -----------------------------------------------------------
    def _remember(self, key: str, cm: jit.CompiledModule) -> None:
        with self._lock:
            self._memory[key] = cm
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_memory_entries:
                self._memory.popitem(last=False)

    def _load_from_disk(self, key: str, full_key: str, flags: jit.CompileFlags,
                        source: str) -> jit.CompiledModule | None:
        payload = self.read_entry(full_key, ".gco")
        if payload is None:
            return None
        try:
            cm = jit.load_object(payload, flags, source)
        except Exception:  # noqa: BLE001 - a bad object is a miss, never fatal
            with self._lock:
                self.stats.rejected += 1
            return None
        with self._lock:
            self.stats.disk_hits += 1
        return cm

    def _store(self, key: str, full_key: str, obj: bytes, suffix: str = ".gco") -> None:
        path = self.path_for(key, suffix)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(_encode(full_key, obj))
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            with self._lock:
                self.stats.write_errors += 1


def _encode(full_key: str, payload: bytes) -> bytes:
    kb = full_key.encode()
    header = _HEADER.pack(FORMAT_VERSION, len(kb), len(payload), hashlib.sha256(payload).digest())
    return _MAGIC + header + kb + payload


def _decode(blob: bytes, full_key: str) -> bytes | None:
    """The payload if ``blob`` is an intact entry for exactly ``full_key``."""
    start = len(_MAGIC) + _HEADER.size
    if len(blob) < start or not blob.startswith(_MAGIC):
        return None
    version, klen, plen, digest = _HEADER.unpack_from(blob, len(_MAGIC))
    if version != FORMAT_VERSION or len(blob) != start + klen + plen:
        return None
    if blob[start:start + klen] != full_key.encode():
        return None
    payload = blob[start + klen:]
    if hashlib.sha256(payload).digest() != digest:
        return None
    return payload


_default: KernelCache | None = None
_default_lock = threading.Lock()


def default_cache() -> KernelCache:
    """The process-wide cache (folder chosen when first used)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = KernelCache()
        return _default


def cached_compile(ir: Any, *, opt_level: int = 3, fastmath: bool = False) -> jit.CompiledModule:
    """``jit.compile_module`` through the process-wide ``KernelCache``."""
    return default_cache().compile(ir, opt_level=opt_level, fastmath=fastmath)
