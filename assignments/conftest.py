"""Fixtures of the public checks of every assignment (students: keep this file next to your folder).

``sub`` is the module under test, loaded by path under a unique module name: the file named by
the environment variable ``TORCHGRADE_SUBMISSION`` if it is set (absolute, or relative to the
current directory), else ``<slug>.py`` in the folder of the public checks (``<slug>`` being that
folder's name, e.g. ``assignments/cnn/cnn.py``).
"""

import importlib.util
import os
import uuid
from pathlib import Path

import pytest


def submission_path(folder: Path) -> Path:
    env = os.environ.get("TORCHGRADE_SUBMISSION")
    return Path(env).resolve() if env else folder / f"{folder.name}.py"


@pytest.fixture(scope="module")
def sub(request):
    folder = Path(request.module.__file__).resolve().parent
    path = submission_path(folder)
    if not path.is_file():
        pytest.fail(f"no submission at {path}: put {folder.name}.py next to the public checks "
                    "or set TORCHGRADE_SUBMISSION to its path", pytrace=False)
    spec = importlib.util.spec_from_file_location(f"{folder.name}_under_test_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
