"""(being written) the global random state."""
from __future__ import annotations

import numpy as np

_GEN = np.random.default_rng(0)


def generator() -> np.random.Generator:
    return _GEN


def seed() -> int:
    raise NotImplementedError


def manual_seed(s):
    raise NotImplementedError


def initial_seed() -> int:
    raise NotImplementedError


def get_rng_state():
    raise NotImplementedError


def set_rng_state(state):
    raise NotImplementedError
