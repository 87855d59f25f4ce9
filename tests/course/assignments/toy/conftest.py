"""Public checks' fixture: the module under test, loaded by path (TORCHGRADE_SUBMISSION or ./toy.py)."""
import importlib.util
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sub():
    path = os.environ.get("TORCHGRADE_SUBMISSION") or str(Path(__file__).with_name("toy.py"))
    spec = importlib.util.spec_from_file_location("toy_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
