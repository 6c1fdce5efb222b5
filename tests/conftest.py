"""Test configuration: every eager op result is checked against its registry shape rule."""
import numpy as np
import pytest

import graphc as gc
from graphc.eager import dispatch


@pytest.fixture(autouse=True)
def _check_specs_and_reset():
    dispatch.CHECK_SPECS = True
    prev_default = gc.get_default_dtype()
    prev_grad = gc.is_grad_enabled()
    yield
    dispatch.CHECK_SPECS = False
    gc.set_default_dtype(prev_default)
    gc.set_grad_enabled(prev_grad)
