"""Containers: ``Sequential`` (chain), ``ModuleList`` (indexable list) and ``ModuleDict`` (dict) of modules."""
from __future__ import annotations

import operator
from collections import OrderedDict
from typing import Iterable, Iterator, Mapping

from .module import Module, _indent_tail

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


def _index(idx, n: int, owner: str) -> int:
    """A non-negative position for ``idx``; IndexError like torch's when it is out of range."""
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range for {owner} of length {n}")
    return idx % n


class _IndexedModules(Module):
    """What Sequential and ModuleList share: children named '0', '1', ... kept contiguous."""

    def _renumber(self, modules: Iterable[Module]) -> None:
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)._from_modules(list(self._modules.values())[idx], self)
        return list(self._modules.values())[_index(idx, len(self), self._get_name())]

    def __setitem__(self, idx, module: Module) -> None:
        i = _index(idx, len(self), self._get_name())
        self.add_module(str(i), module)

    def __delitem__(self, idx) -> None:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(idx, len(self), self._get_name())]
        self._renumber(mods)

    def append(self, module: Module):
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]):
        """Append every module of ``modules``."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: Module, got {type(module).__name__}")
        mods = list(self._modules.values())
        n = len(mods)
        index = operator.index(index)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        mods.insert(index if index >= 0 else index + n, module)
        self._renumber(mods)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index``."""
        m = self[index]
        del self[index]
        return m

    def __add__(self, other):
        if not isinstance(other, type(self)):
            raise ValueError(f"add operator supports only objects of {type(self).__name__} class, "
                             f"but {type(other).__name__} is given.")
        return type(self)._from_modules(list(self) + list(other), self)

    def __iadd__(self, other):
        return self.extend(other)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]


class Sequential(_IndexedModules):
    """Apply modules in order: ``Sequential(a, b)(x) == b(a(x))``.

    Accepts modules as arguments (named '0', '1', ...) or one OrderedDict of named modules.

    >>> gc.nn.Sequential(gc.nn.Linear(3, 2), gc.nn.ReLU())
    Sequential(
      (0): Linear(in_features=3, out_features=2, bias=True)
      (1): ReLU()
    )
    """

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    @classmethod
    def _from_modules(cls, modules, like) -> "Sequential":
        return cls(*modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            items = list(self._modules.items())[idx]
            return Sequential(OrderedDict(items))
        return list(self._modules.values())[_index(idx, len(self), self._get_name())]

    def __setitem__(self, idx, module: Module) -> None:
        key = list(self._modules.keys())[_index(idx, len(self), self._get_name())]
        self.add_module(key, module)

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other).__name__} is given.")
        return Sequential(*self, *other)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_IndexedModules):
    """A list of modules that registers them (so their parameters are found); it has no ``forward``."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @classmethod
    def _from_modules(cls, modules, like) -> "ModuleList":
        return cls(modules)

    def _child_lines(self) -> list:
        # torch compresses runs of identical children: "(0-2): 3 x Linear(...)"
        items = [(name, _indent_tail(repr(m), 2)) for name, m in self._modules.items()]
        lines, i = [], 0
        while i < len(items):
            j = i
            while j + 1 < len(items) and items[j + 1][1] == items[i][1]:
                j += 1
            if j == i:
                lines.append(f"({items[i][0]}): {items[i][1]}")
            else:
                lines.append(f"({items[i][0]}-{items[j][0]}): {j - i + 1} x {items[i][1]}")
            i = j + 1
        return lines


class ModuleDict(Module):
    """An ordered dict of modules that registers them."""

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m

    def update(self, modules) -> None:
        """Add ``(name, module)`` pairs from a mapping or an iterable of pairs."""
        if isinstance(modules, Mapping):
            pairs = modules.items()
        else:
            pairs = []
            for i, pair in enumerate(modules):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(f"ModuleDict update sequence element #{i} should be a (name, module) pair")
                pairs.append(pair)
        for k, m in pairs:
            self[k] = m
