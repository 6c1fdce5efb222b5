"""Devices: graphc computes on the CPU; asking for another device is a clear error."""
from __future__ import annotations

__all__ = ["device", "CPU", "check_device"]


class device:
    """``gc.device('cpu')``; ``'cpu:0'`` is accepted, other device types have no backend."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index: int | None = None):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device() expects a string like 'cpu', got {type(spec).__name__}")
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda", "mps", "xpu", "meta", "hip"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, xpu, meta device type at start of device string: {spec}")
        self.type = kind
        self.index = int(idx) if idx else index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and other.type == self.type and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        extra = f", index={self.index}" if self.index is not None else ""
        return f"device(type='{self.type}'{extra})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def check_device(dev) -> None:
    """Raise unless ``dev`` is None or a CPU device."""
    if dev is None:
        return
    d = device(dev) if not isinstance(dev, device) else dev
    if d.type != "cpu":
        raise RuntimeError(
            f"device '{d}' is not available: graphc's eager mode runs on the CPU only "
            "(no CUDA backend is built in); use device='cpu'"
        )
