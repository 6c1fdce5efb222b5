"""(being written)"""
from __future__ import annotations

__all__: list = []
METHODS: list = []
INPLACE: list = []
