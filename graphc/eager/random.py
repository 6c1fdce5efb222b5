"""The random state: a :class:`Generator` (torch.Generator's interface) on a numpy PCG64 stream.

Every random op (``gc.rand``, ``gc.randn``, ``gc.normal``, dropout ...) draws
from the numpy Generator that :func:`generator` returns, unless it is given a
``generator=``.  ``gc.manual_seed(s)`` reseeds that stream in place, so code
that holds on to ``generator()`` stays reproducible too.

    >>> gc.manual_seed(0); a = gc.rand(3)
    >>> gc.manual_seed(0); bool((gc.rand(3) == a).all())
    True
"""
from __future__ import annotations

import os
import struct

import numpy as np

from .device import CPU, check_device
from .tensor import Tensor

__all__ = [
    "Generator", "default_generator", "generator", "numpy_generator", "seed", "manual_seed", "initial_seed",
    "get_rng_state", "set_rng_state",
]

_SEED_MIN, _SEED_LIMIT = -(2 ** 63), 2 ** 64
# state bytes: tag, initial seed, PCG64 state and increment (128 bits each), the cached 32-bit half
_TAG = b"PCG1"
_LAYOUT = struct.Struct("<4sQQQQQQQ")


def _canon_seed(s) -> int:
    """A seed as torch takes it: anything int() accepts in [-2**63, 2**64); negatives wrap to uint64."""
    try:
        v = int(s)
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed expected an int seed, got {type(s).__name__}") from None
    if not _SEED_MIN <= v < _SEED_LIMIT:
        raise ValueError(f"Overflow when unpacking long long: seed {v} is outside [-2**63, 2**64)")
    return v % _SEED_LIMIT


def _fresh_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")


def _split128(v: int) -> tuple:
    return v & 0xFFFF_FFFF_FFFF_FFFF, v >> 64


class Generator:
    """A random stream with torch.Generator's methods: ``manual_seed``, ``seed``, ``initial_seed``,
    ``get_state``, ``set_state``.  Pass it as ``generator=`` to any random op.

    >>> g = gc.Generator().manual_seed(1)
    >>> gc.rand(2, generator=g).shape
    graphc.Size([2])
    """

    def __init__(self, device="cpu"):
        check_device(device)
        self.device = CPU
        self._seed = _fresh_seed()
        self._np = np.random.Generator(np.random.PCG64(self._seed))

    @property
    def numpy_generator(self) -> np.random.Generator:
        """The numpy Generator this stream draws from (reseeding keeps the same object)."""
        return self._np

    def manual_seed(self, seed) -> "Generator":
        """Reseed deterministically; returns this generator (as torch does)."""
        s = _canon_seed(seed)
        self._np.bit_generator.state = np.random.PCG64(s).state
        self._seed = s
        return self

    def seed(self) -> int:
        """Reseed from the OS's entropy and return the new seed."""
        s = _fresh_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self) -> Tensor:
        """The full state as a uint8 tensor (restore it with :meth:`set_state`)."""
        st = self._np.bit_generator.state
        lo, hi = _split128(st["state"]["state"])
        inc_lo, inc_hi = _split128(st["state"]["inc"])
        raw = _LAYOUT.pack(_TAG, self._seed, lo, hi, inc_lo, inc_hi, int(st["has_uint32"]), int(st["uinteger"]))
        return Tensor._make(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state) -> "Generator":
        """Restore a state from :meth:`get_state`; the stream continues exactly where it was saved."""
        if not isinstance(new_state, Tensor) or new_state.dtype.name != "uint8":
            raise TypeError(f"RNG state must be a uint8 Tensor (graphc.ByteTensor), got {_describe(new_state)}")
        raw = np.ascontiguousarray(new_state._data).tobytes()
        if len(raw) != _LAYOUT.size:
            raise RuntimeError(
                f"set_state: expected an RNG state of {_LAYOUT.size} bytes but found the input RNG state size "
                f"to be {len(raw)}"
            )
        tag, seed, lo, hi, inc_lo, inc_hi, has32, cached = _LAYOUT.unpack(raw)
        if tag != _TAG:
            raise RuntimeError("set_state: the tensor is not an RNG state made by get_state()")
        self._np.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": lo | (hi << 64), "inc": inc_lo | (inc_hi << 64)},
            "has_uint32": has32,
            "uinteger": cached,
        }
        self._seed = seed
        return self

    def __repr__(self) -> str:
        return f"<graphc.Generator seed={self._seed}>"


def _describe(x) -> str:
    if isinstance(x, Tensor):
        return f"a {x.dtype.name} Tensor"
    return type(x).__name__


# seeded from the OS at import, like torch's default generator
default_generator = Generator()


def generator() -> np.random.Generator:
    """The global numpy Generator every random op draws from by default."""
    return default_generator._np


def numpy_generator(gen=None) -> np.random.Generator:
    """The numpy Generator for a ``generator=`` argument: None means the global one."""
    if gen is None:
        return default_generator._np
    if isinstance(gen, Generator):
        return gen._np
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator must be a graphc.Generator, got {type(gen).__name__}")


def manual_seed(seed) -> Generator:
    """Seed the global stream; returns the default :class:`Generator`."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the global stream non-deterministically and return the seed used."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the global stream was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The global stream's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the global stream to a state from :func:`get_rng_state`."""
    default_generator.set_state(new_state)
