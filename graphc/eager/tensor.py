"""The eager :class:`Tensor`: a numpy array plus autograd state.

Ops are not defined here: the function modules (``graphc.eager.functions``)
define each op once and ``graphc.eager.methods`` binds the method forms.
This file holds what is *about* a tensor: attributes, conversion, the
autograd entry points, and the in-place and view bookkeeping every in-place
op shares.
"""
from __future__ import annotations

import warnings
import weakref

import numpy as np

from .. import dtypes as _dt
from ..ops import grad_utils
from .device import CPU, device as _device, check_device
from .grad_mode import GRAD

__all__ = ["Tensor", "sum_to_shape"]

_BY_NP = _dt._BY_NP
_new = object.__new__


class _Version:
    """Version counter shared by a tensor and its views; bumped by every in-place write."""

    __slots__ = ("v",)

    def __init__(self):
        self.v = 0


class Tensor:
    """A multi-dimensional array with autograd, shaped like ``torch.Tensor``.

    >>> x = gc.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    tensor([2., 4.])
    """

    __slots__ = (
        "_data", "_dtype", "_requires_grad", "_grad", "grad_fn", "_out", "_version", "_base",
        "_view_chain", "_wrapped", "_accumulator", "_retains_grad", "_hooks", "_is_param", "__weakref__",
        "__dict__",
    )
    __array_priority__ = 1000  # numpy defers to our operators
    # True for graphc.static's symbolic tensors, and for every tensor while gc.compile traces:
    # dispatch then adds graph nodes instead of running kernels
    _symbolic = False

    def __init__(self, *args, dtype=None, device=None, requires_grad: bool = False):
        # gc.Tensor(data) / gc.Tensor(2, 3) like the legacy torch constructor
        from .creation import _array_from_data

        if len(args) == 1 and not isinstance(args[0], int):
            arr = _array_from_data(args[0], dtype if dtype is not None else _dt.get_default_dtype())
        else:
            shape = tuple(args[0]) if len(args) == 1 and not isinstance(args[0], int) else tuple(args)
            d = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
            arr = np.zeros(shape, d.np)
        _init(self, arr)
        check_device(device)
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _make(arr: np.ndarray) -> "Tensor":
        """Wrap a numpy array without copying (the fast path every op uses)."""
        if type(arr) is not np.ndarray:
            arr = np.asarray(arr)
        t = _new(Tensor)
        _init(t, arr)
        return t

    # ------------------------------------------------------------------ attributes
    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory, outside autograd (like ``torch.Tensor.data``)."""
        if self._symbolic:
            return _dispatch.static.alias(self)  # gc.compile is tracing: an alias of the graph value
        t = Tensor._make(self._data)
        t._version = self._version
        return t

    @data.setter
    def data(self, other: "Tensor") -> None:
        if not isinstance(other, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(other).__name__}")
        if other._symbolic:
            _dispatch.static.commit_inplace(self, other, "data")
            return
        self._data = other._data
        self._dtype = other._dtype

    @property
    def dtype(self) -> _dt.DType:
        return self._dtype

    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    @property
    def device(self) -> _device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def layout(self) -> str:
        return "strided"

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
                )
            return
        if value and not self._dtype.is_floating_point:
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (got {self._dtype})"
            )
        self._requires_grad = value

    @property
    def grad(self):
        g = self._grad
        if g is None and self.grad_fn is not None and not self._retains_grad and not self._symbolic:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: {list(value.shape)} vs {list(self.shape)}"
                )
            if value._dtype is not self._dtype:
                raise RuntimeError(f"assigned grad has data of a different type: {value._dtype} vs {self._dtype}")
        if self._symbolic:
            _dispatch.static.note_grad(self)  # a traced function may reassign .grad: remember the original
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def is_wrapped_number(self) -> bool:
        return self._wrapped

    @property
    def T(self) -> "Tensor":
        if self.ndim > 2:
            return self.permute(*range(self.ndim - 1, -1, -1))
        return self.t() if self.ndim == 2 else self

    @property
    def mT(self) -> "Tensor":
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self) -> "Tensor":
        return self.T

    @property
    def mH(self) -> "Tensor":
        return self.mT

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def is_floating_point_(self) -> bool:
        return self._dtype.is_floating_point

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self._dtype.is_signed

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        from ._args import canon_dim

        return self._data.shape[canon_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._dtype.itemsize

    def stride(self, dim: int | None = None):
        """Strides in elements, like torch."""
        isz = self._data.itemsize
        st = tuple(s // isz for s in self._data.strides)
        if self._data.size == 0 and self._data.flags.c_contiguous:
            # numpy zeroes the strides of empty arrays; torch reports the row-major ones
            st = tuple(int(np.prod(self._data.shape[i + 1:])) for i in range(self._data.ndim))
        elif 0 in st:
            # numpy gives an inserted size-1 dim (None, unsqueeze, expand) stride 0; torch the
            # stride it would have if the dims to its right were contiguous beyond it
            shape, fixed = self._data.shape, list(st)
            for d in range(len(fixed) - 1, -1, -1):
                if shape[d] == 1 and fixed[d] == 0:
                    fixed[d] = fixed[d + 1] * shape[d + 1] if d + 1 < len(fixed) else 1
            st = tuple(fixed)
        if dim is None:
            return st
        from ._args import canon_dim

        return st[canon_dim(dim, self.ndim, "stride")]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def storage_offset(self) -> int:
        base = self._data
        while isinstance(base.base, np.ndarray):
            base = base.base
        return (self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // max(self._data.itemsize, 1)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def get_device(self) -> int:
        return -1

    # ------------------------------------------------------------------ conversion
    def numpy(self, force: bool = False) -> np.ndarray:
        """The numpy array behind this tensor (shared memory). Errors if it requires grad, like torch."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data.copy() if force and self._requires_grad else self._data

    def __array__(self, dtype=None, copy=None):
        a = self._data
        if dtype is not None:
            return a.astype(dtype, copy=bool(copy) if copy is not None else False)
        return a.copy() if copy else a

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __contains__(self, element) -> bool:
        """``element in t``: whether some entry equals ``element`` (a number or a broadcastable tensor)."""
        if isinstance(element, (Tensor, int, float, bool, np.number, np.bool_)):
            return bool((self == element).any())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()).item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __index__(self) -> int:
        if self._dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self) -> int:
        return id(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self._data, self._requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment.")
        t = Tensor._make(self._data.copy())
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = Tensor._make(self._grad._data.copy())
        if self._is_param:
            t.__class__ = self.__class__
            t._is_param = True
        t.__dict__.update(self.__dict__)
        memo[id(self)] = t
        return t

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        from .printing import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, *args, **kwargs):
        check_device("cuda")

    def to(self, *args, **kwargs) -> "Tensor":
        """Convert dtype (and check device): ``t.to(gc.float64)``, ``t.to('cpu')``, ``t.to(other)``."""
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a._dtype
            elif isinstance(a, (str, _device)) and not (isinstance(a, str) and a in _dt._BY_NAME):
                dev = a
            elif a is not None:
                dtype = a
        check_device(dev)
        if dtype is None:
            return self.clone() if copy else self
        dtype = _dt.to_dtype(dtype)
        if dtype is self._dtype and not copy:
            return self
        from .functions.pointwise import cast

        return cast(self, dtype)

    def type(self, dtype=None):
        """The type name (``'torch.FloatTensor'``), or a copy in ``dtype`` (a dtype or such a name)."""
        if dtype is None:
            return _TYPE_NAMES.get(self._dtype.name, "torch.Tensor")
        if isinstance(dtype, str):
            by_name = {v: k for k, v in _TYPE_NAMES.items()}
            name = by_name.get(dtype) or by_name.get("torch." + dtype.rsplit(".", 1)[-1])
            if name is None:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = _dt.to_dtype(name)
        return self.to(dtype)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other._dtype)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (see ``gc.autograd.backward``)."""
        from .autograd import backward

        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing memory and version counter, cut from the tape."""
        if self._symbolic:
            return _dispatch.static.alias(self)  # gc.compile is tracing: an alias of the graph value
        t = Tensor._make(self._data)
        t._version = self._version
        return t

    def detach_(self) -> "Tensor":
        """Cut this tensor from the tape in place (it becomes a leaf)."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                if t._grad is None:
                    t._grad = g if GRAD.enabled else Tensor._make(g._data.copy())
                else:
                    t._grad = t._grad + g if GRAD.enabled else Tensor._make(t._grad._data + g._data)
            return None

        keep._graphc_retain = True  # the engine runs it after the user's hooks, as torch does
        self._add_hook(keep)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        self._add_hook(hook)
        return _HookHandle(self, hook)

    def _add_hook(self, hook) -> None:
        if self.grad_fn is None:
            node = self._accumulate_node()
            if node.hooks is None:
                node.hooks = []
            node.hooks.append(hook)
        else:
            node = self.grad_fn
            if node.retained is None:
                node.retained = {}
            node.retained.setdefault(self._out, []).append(hook)

    def _accumulate_node(self):
        from .node import AccumulateGrad

        acc = self._accumulator
        if acc is None:
            acc = self._accumulator = AccumulateGrad(self)
        return acc

    def _accumulate_grad(self, g: "Tensor", create_graph: bool) -> None:
        if g._symbolic:
            return _dispatch.static.accumulate_grad(self, g, create_graph)
        if self._grad is None:
            # a copy either way: the same g may reach several leaves (x + y), and a later
            # backward accumulates into .grad in place (torch: CopyBackwards under create_graph)
            self._grad = g.clone() if create_graph else Tensor._make(np.array(g._data, copy=True, order="C"))
        elif create_graph:
            self._grad = self._grad + g
        else:
            # in place, as torch: a grad that carries a graph (create_graph earlier) keeps it
            cur = self._grad
            if not cur._data.flags.writeable or _shares_elements(cur._data):
                self._grad = Tensor._make(cur._data + g._data)
            else:
                np.add(cur._data, g._data, out=cur._data, casting="unsafe")
                cur._version.v += 1

    # ------------------------------------------------------------------ in-place support
    def _check_inplace(self, fill: bool = False) -> None:
        """Raise if an in-place write to this tensor would break autograd, or would write one
        memory location for several elements (unless ``fill``: every element gets one value)."""
        base = self._base
        if GRAD.enabled and base is not None and base._requires_grad and not self._requires_grad:
            # only a view made under no_grad can lack requires_grad while its base has it
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                "moving both the view and the inplace either both inside the no_grad block (if you don't want "
                "the inplace to be tracked) or both outside (if you want the inplace to be tracked).")
        if GRAD.enabled and self._requires_grad:
            if self.grad_fn is None:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation."
                )
            base = self._base
            if base is not None and base.grad_fn is None and base._requires_grad:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place operation."
                )
        if not self._data.flags.writeable:
            # numpy makes expand views read-only; writing through one is well defined where no two
            # elements share memory (an expanded size-1 dim), or for a fill
            alias = None if not fill and _shares_elements(self._data) else _writeable_alias(self._data)
            if alias is None:
                raise RuntimeError(
                    "unsupported operation: more than one element of the written-to tensor refers to a single "
                    "memory location. Please clone() the tensor before performing the operation."
                )
            self._data = alias

    def _commit_inplace(self, result: "Tensor", opname: str) -> "Tensor":
        """Write ``result`` (computed out of place) into this tensor and take over its history."""
        if result._symbolic:
            return _dispatch.static.commit_inplace(self, result, opname)  # a graph value: rebind, write nothing
        if not _can_cast(result._dtype, self._dtype):
            raise RuntimeError(
                f"{opname}: result type {result._dtype} can't be cast to the desired output type {self._dtype}"
            )
        if result.shape != self.shape:
            raise RuntimeError(
                f"{opname}: output with shape {list(self.shape)} doesn't match the broadcast shape {list(result.shape)}"
            )
        if result._data is not self._data:
            np.copyto(self._data, result._data, casting="unsafe")
        self._version.v += 1
        node = result.grad_fn
        if node is not None and GRAD.enabled:
            self._rebase_history(result)
        return self

    def _rebase_history(self, result: "Tensor") -> None:
        """Make this tensor (and, for a view, its base) continue the tape from ``result``."""
        node = result.grad_fn
        if result._dtype is not self._dtype:
            from .functions.pointwise import cast

            result = cast(result, self._dtype)
            node = result.grad_fn
        # the node's saved output is now this tensor's memory, at its new version
        if node._out_data is not None:
            node._out_data = [self._data]
            node.saved = [(c, v) for c, v in node.saved if c is not result._version] + [(self._version, self._version.v)]
        base = self._base
        if base is None:
            self.grad_fn = node
            self._out = result._out
            self._requires_grad = True
            if "_live_views" in self.__dict__:
                from .view_tracking import refresh_views

                refresh_views(self)  # views cut before this write now read the new history
            return
        from .functions.views import view_scatter_record

        view_scatter_record(base, self, result)

    # ------------------------------------------------------------------ factories
    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        from .creation import tensor

        return tensor(data, dtype=dtype or self._dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        from .creation import zeros

        return zeros(*size, dtype=dtype or self._dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        from .creation import ones

        return ones(*size, dtype=dtype or self._dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        from .creation import full

        return full(size, fill_value, dtype=dtype or self._dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        from .creation import empty

        return empty(*size, dtype=dtype or self._dtype, requires_grad=requires_grad)


def _shares_elements(a: np.ndarray) -> bool:
    """Whether two elements of ``a`` lie at one address (a stride-0 dim of size > 1: expand)."""
    return any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))


class _Alias:
    """Holds an ``__array_interface__`` (and the array owning the memory) for np.asarray."""

    def __init__(self, interface: dict, owner: np.ndarray):
        self.__array_interface__ = interface
        self.owner = owner


def _writeable_alias(a: np.ndarray):
    """A writeable array over ``a``'s memory when ``a`` is a read-only view of writeable memory
    (numpy's broadcast_to), else None."""
    root = a
    while not root.flags.writeable and isinstance(root.base, np.ndarray):
        root = root.base
    if not root.flags.writeable:
        return None
    interface = dict(a.__array_interface__)
    interface["data"] = (interface["data"][0], False)
    return np.asarray(_Alias(interface, root))


def _init(t: Tensor, arr: np.ndarray) -> None:
    try:
        t._dtype = _BY_NP[arr.dtype]
    except KeyError:
        t._dtype = _dt.from_numpy_dtype(arr.dtype)  # raises a clear TypeError
    t._data = arr
    t._requires_grad = False
    t._grad = None
    t.grad_fn = None
    t._out = 0
    t._version = _Version()
    t._base = None
    t._view_chain = ()
    t._wrapped = False
    t._accumulator = None
    t._retains_grad = False
    t._is_param = False


def _converter(dtype: _dt.DType):
    def convert(self, memory_format=None) -> Tensor:
        return self.to(dtype)

    convert.__doc__ = f"``self.to({dtype})``."
    return convert


# t.float(), t.long(), ...: one converter per dtype
for _name, _target in {"float": _dt.float32, "double": _dt.float64, "half": _dt.float16, "int": _dt.int32,
                       "long": _dt.int64, "short": _dt.int16, "char": _dt.int8, "byte": _dt.uint8,
                       "bool": _dt.bool}.items():
    setattr(Tensor, _name, _converter(_target))
    getattr(Tensor, _name).__name__ = _name


def _rebuild(arr, requires_grad):
    t = Tensor._make(arr)
    t._requires_grad = requires_grad
    return t


def _make_node_output(arr: np.ndarray, node, i: int) -> Tensor:
    """A saved output rebuilt for a gradient rule: same memory, still on the tape."""
    t = Tensor._make(arr)
    t._requires_grad = True
    t.grad_fn = node
    t._out = i
    return t


def _can_cast(src: _dt.DType, dst: _dt.DType) -> bool:
    # torch's canCast: no float -> integral, no non-bool -> bool
    if src.is_floating_point and not dst.is_floating_point:
        return False
    if src is not _dt.bool and dst is _dt.bool:
        return False
    return True


from . import dispatch as _dispatch  # noqa: E402

_dispatch.bind_tensor_factory(Tensor._make)


def sum_to_shape(g: Tensor, shape) -> Tensor:
    return grad_utils.sum_to_shape(g, tuple(shape))


class Size(tuple):
    """A tensor's shape: a tuple that prints like ``torch.Size``."""

    def __repr__(self) -> str:
        return f"graphc.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r


class _HookHandle:
    def __init__(self, t: Tensor, hook):
        self._t = weakref.ref(t)
        self._hook = hook

    def remove(self) -> None:
        t = self._t()
        if t is None:
            return
        if t.grad_fn is None:
            hooks = t._accumulate_node().hooks or []
        else:
            hooks = (t.grad_fn.retained or {}).get(t._out, [])
        if self._hook in hooks:
            hooks.remove(self._hook)


_TYPE_NAMES = {
    "float32": "torch.FloatTensor", "float64": "torch.DoubleTensor", "float16": "torch.HalfTensor",
    "int64": "torch.LongTensor", "int32": "torch.IntTensor", "int16": "torch.ShortTensor",
    "int8": "torch.CharTensor", "uint8": "torch.ByteTensor", "bool": "torch.BoolTensor",
}
