"""``gc.utils``: data loading utilities (``gc.utils.data``)."""
from . import data

__all__ = ["data"]
