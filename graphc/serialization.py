"""``gc.save`` / ``gc.load``: a safe file format for tensors and the containers around them.

A save file is a zip archive holding ``graphc.json`` (the nested structure of
dicts, lists, tuples, numbers, strings and None, with tensors replaced by
references) and one ``.npy`` file per tensor, or one byte buffer per group of tensors that
share memory (a tensor and its views, which load as views again).  Loading parses JSON and reads
arrays with ``allow_pickle=False``, so a file can never run code; it can only
hold the types listed above (plus numpy arrays, bytes and dtypes).

    >>> gc.save({"w": gc.ones(2)}, "ckpt.gcz")
    >>> gc.load("ckpt.gcz")
    {'w': tensor([1., 1.])}
"""
from __future__ import annotations

import base64
import io
import json
import math
import os
import zipfile
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

import graphc as gc

__all__ = ["save", "load"]

_FORMAT = "graphc-save"
_VERSION = 1
_MANIFEST = "graphc.json"


class _Writer:
    """Turns an object into JSON-able data, collecting tensors and arrays to store beside it."""

    def __init__(self) -> None:
        self.arrays: list = []
        self._ids: dict = {}  # id(obj) -> array index, so a tensor saved twice is stored (and loaded) once
        self._keep: list = []  # keep memoized objects alive so ids stay unique
        self._tensor_nodes: dict = {}  # id(tensor) -> (its node, its array), completed by finish()

    def finish(self) -> None:
        """Point each tensor node at its data: tensors sharing memory (a tensor and views of it)
        share one stored buffer and load as views of one another, as torch keeps views, and a
        tensor spanning its whole buffer in another layout (a transpose) keeps its strides; any
        other tensor is stored alone and compact."""
        groups: dict = {}
        for node, arr in self._tensor_nodes.values():
            root = _memory_owner(arr)
            groups.setdefault(id(root) if root is not None else id(node), (root, []))[1].append((node, arr))
        for root, members in groups.values():
            # one tensor alone keeps its layout only when it spans its whole buffer (a transpose)
            alone_whole = len(members) == 1 and root is not None and root.nbytes == members[0][1].nbytes
            if root is None or (len(members) < 2 and not alone_whole) or (alone_whole and members[0][1].flags.c_contiguous):
                for node, arr in members:
                    node["tensor"] = self._array_ref(node["_obj"], arr)
                continue
            index = len(self.arrays)
            self.arrays.append(np.frombuffer(root.data, np.uint8) if root.size else np.zeros(0, np.uint8))
            start = _address(root)
            for node, arr in members:
                node["storage"] = index
                node["offset"] = _address(arr) - start
                node["strides"] = list(arr.strides)
        for node, _ in self._tensor_nodes.values():
            node.pop("_obj")

    def _array_ref(self, obj, arr: np.ndarray) -> int:
        key = id(obj)
        if key not in self._ids:
            self._ids[key] = len(self.arrays)
            self.arrays.append(np.asarray(arr, order="C"))
            self._keep.append(obj)
        return self._ids[key]

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"float": repr(float(obj))}  # nan/inf are not JSON
        if isinstance(obj, gc.Tensor):
            if id(obj) not in self._tensor_nodes:
                node = {"dtype": obj.dtype.name, "shape": list(obj.shape), "requires_grad": bool(obj.requires_grad),
                        "parameter": isinstance(obj, gc.nn.Parameter), "_obj": obj}
                self._tensor_nodes[id(obj)] = (node, obj.detach().numpy())
                self._keep.append(obj)
            return self._tensor_nodes[id(obj)][0]
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind in "OSUVMm":
                raise TypeError(f"gc.save: cannot save a numpy array of dtype {obj.dtype} (at {where})")
            return {"ndarray": self._array_ref(obj, obj)}
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), where)
        if isinstance(obj, gc.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, bytes):
            return {"bytes": base64.b64encode(obj).decode("ascii")}
        if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
            return {"tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return {"list": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            tag = "odict" if isinstance(obj, OrderedDict) else "dict"
            items = []
            for k, v in obj.items():
                items.append([self.encode_key(k, where), self.encode(v, f"{where}[{k!r}]")])
            return {tag: items}
        raise TypeError(
            f"gc.save: cannot save an object of type {type(obj).__name__} (at {where}); the format holds tensors, "
            "numpy arrays, numbers, strings, bytes, None, dtypes, and dicts/lists/tuples of them"
        )

    def encode_key(self, key: Any, where: str) -> Any:
        if key is None or isinstance(key, (bool, int, float, str, bytes, tuple, np.generic)):
            return self.encode(key, where)
        raise TypeError(f"gc.save: cannot save a dict key of type {type(key).__name__} (at {where})")


def save(obj: Any, f: str | os.PathLike | BinaryIO) -> None:
    """Write ``obj`` (tensors, and dicts/lists/tuples of tensors, numbers and strings) to a path or binary file.

    Tensors keep dtype, shape, ``requires_grad`` and whether they are ``nn.Parameter``s; a tensor that
    appears several times is stored once and loads as one object.
    """
    writer = _Writer()
    root = writer.encode(obj, "obj")
    writer.finish()
    manifest = {"format": _FORMAT, "version": _VERSION, "root": root, "arrays": len(writer.arrays)}
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            _write_zip(fh, manifest, writer.arrays)
    else:
        if not hasattr(f, "write"):
            raise TypeError(f"gc.save: f must be a path or a writable binary file, got {type(f).__name__}")
        _write_zip(f, manifest, writer.arrays)


def _write_zip(fh: BinaryIO, manifest: dict, arrays: list) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_MANIFEST, json.dumps(manifest))
        for i, arr in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, arr, allow_pickle=False)
            zf.writestr(f"data/{i}.npy", buf.getvalue())


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _memory_owner(a: np.ndarray):
    """The contiguous array owning ``a``'s memory (``a`` itself when it owns it), or None."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    return root if root.flags.c_contiguous else None


class _Reader:
    """Rebuilds objects from the manifest; every tag it does not know is an error."""

    def __init__(self, zf: zipfile.ZipFile, name: str) -> None:
        self.zf = zf
        self.name = name
        self._arrays: dict = {}
        self._tensors: dict = {}
        self._storages: dict = {}

    def _bad(self, why: str) -> RuntimeError:
        return RuntimeError(f"gc.load: {self.name} is corrupt or not a graphc save file ({why})")

    def array(self, index) -> np.ndarray:
        if not isinstance(index, int) or isinstance(index, bool):
            raise self._bad(f"bad array reference {index!r}")
        if index not in self._arrays:
            try:
                raw = self.zf.read(f"data/{index}.npy")
            except KeyError:
                raise self._bad(f"array {index} is missing") from None
            try:
                self._arrays[index] = np.load(io.BytesIO(raw), allow_pickle=False)
            except ValueError as e:
                raise self._bad(f"array {index} is unreadable: {e}") from None
        return self._arrays[index]

    def _view(self, node: dict, dtype) -> np.ndarray:
        """A tensor's array as a view into its shared stored buffer, bounds checked."""
        index, offset, strides, shape = node["storage"], node.get("offset"), node.get("strides"), node["shape"]
        if index not in self._storages:
            buf = self.array(index)
            if buf.dtype != np.uint8 or buf.ndim != 1:
                raise self._bad(f"storage {index} is not a byte buffer")
            self._storages[index] = buf.copy()
        buf = self._storages[index]
        ok = (isinstance(offset, int) and isinstance(strides, list) and isinstance(shape, list)
              and len(strides) == len(shape) and all(isinstance(v, int) and v >= 0 for v in shape)
              and all(isinstance(v, int) for v in strides))
        if ok:
            size = dtype.np.itemsize
            lo = offset + sum(st * (n - 1) for st, n in zip(strides, shape) if st < 0 and n > 0)
            hi = offset + sum(st * (n - 1) for st, n in zip(strides, shape) if st > 0 and n > 0) + size
            ok = 0 in shape or (0 <= lo and hi <= buf.size)
        if not ok:
            raise self._bad(f"a view of storage {index} lies outside it")
        if 0 in shape:
            return np.zeros(tuple(shape), dtype.np)
        return np.ndarray(tuple(shape), dtype.np, buffer=buf, offset=offset, strides=tuple(strides))

    def tensor(self, node: dict) -> gc.Tensor:
        if "storage" in node:
            key = ("view", id(node))
            if key not in self._tensors:
                self._tensors[key] = self._finish_tensor(node, self._view(node, gc.dtypes.to_dtype(node["dtype"])))
            return self._tensors[key]
        index = node["tensor"]
        if index in self._tensors:
            return self._tensors[index]
        arr = self.array(index)
        dtype = gc.dtypes.to_dtype(node["dtype"])
        if arr.dtype != dtype.np or list(arr.shape) != list(node["shape"]):
            raise self._bad(f"array {index} is {arr.dtype}{list(arr.shape)}, expected {node['dtype']}{node['shape']}")
        t = self._finish_tensor(node, arr.copy())
        self._tensors[index] = t
        return t

    def _finish_tensor(self, node: dict, arr: np.ndarray) -> gc.Tensor:
        t = gc.from_numpy(arr)
        if node.get("parameter"):
            t = gc.nn.Parameter(t, requires_grad=bool(node.get("requires_grad", True)))
        elif node.get("requires_grad"):
            t.requires_grad_(True)
        return t

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict) or not node:
            raise self._bad(f"unexpected value {node!r}")
        if "tensor" in node or "storage" in node:
            return self.tensor(node)
        if len(node) != 1:
            raise self._bad(f"unknown entry {sorted(node)}")
        (tag, value), = node.items()
        if tag == "list":
            return [self.decode(v) for v in value]
        if tag == "tuple":
            return tuple(self.decode(v) for v in value)
        if tag in ("dict", "odict"):
            out = OrderedDict() if tag == "odict" else {}
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self._bad("malformed dict entry")
                out[self.decode(pair[0])] = self.decode(pair[1])
            return out
        if tag == "float":
            if value not in ("nan", "inf", "-inf"):
                raise self._bad(f"bad float {value!r}")
            return float(value)
        if tag == "ndarray":
            return self.array(value).copy()
        if tag == "dtype":
            return gc.dtypes.to_dtype(value)
        if tag == "bytes":
            return base64.b64decode(value)
        raise self._bad(f"unknown tag {tag!r}")


def load(f: str | os.PathLike | BinaryIO, map_location=None, *, weights_only: bool | None = None, **kwargs) -> Any:
    """Read an object written by :func:`save` from a path or binary file.

    Only data is read (no code runs); ``map_location`` and ``weights_only`` are accepted for torch
    compatibility (graphc tensors always load on the CPU).  Anything that is not a graphc save file is a
    RuntimeError.
    """
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", type(f).__name__)
    name = repr(name)
    try:
        zf = zipfile.ZipFile(f, "r")
    except zipfile.BadZipFile:
        raise RuntimeError(f"gc.load: {name} is not a graphc save file (expected a zip archive written by gc.save)") from None
    with zf:
        try:
            manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
        except KeyError:
            raise RuntimeError(f"gc.load: {name} is not a graphc save file (no {_MANIFEST} inside)") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RuntimeError(f"gc.load: {name} has an unreadable {_MANIFEST}: {e}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise RuntimeError(f"gc.load: {name} is not a graphc save file (wrong format marker)")
        if manifest.get("version") != _VERSION:
            raise RuntimeError(f"gc.load: {name} has format version {manifest.get('version')!r}; this graphc reads {_VERSION}")
        return _Reader(zf, name).decode(manifest.get("root"))
