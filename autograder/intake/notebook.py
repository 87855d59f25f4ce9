"""A Jupyter notebook submission becomes the assignment's module: its code cells, joined in order.

Lines that only IPython understands are dropped (each becomes ``pass``): magics (``%``), shell commands (``!``) and help
(``?`` before or after a name); a cell that starts with a cell magic (``%%bash``...) is dropped whole, except the ones
that only time or capture Python code. A duplicated cell simply defines its names again (the
last one wins, as when the notebook runs top to bottom); a deleted cell's names are missing,
which costs the checks that use them, as for a ``.py``.
"""
from __future__ import annotations

import json
import re


PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")
IPYTHON_PREFIXES = ("%", "!", "?")


class NotebookError(ValueError):
    """The notebook cannot become a module; the message tells the student why."""


def notebook_to_module(content: bytes, name: str) -> bytes:
    """The module source of a notebook's code cells, or NotebookError with the reason."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a notebook: it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{name} is not a valid notebook: broken JSON at line {exc.lineno}, column "
                            f"{exc.colno} ({exc.msg}); open it in Jupyter, save it again and resubmit") from None
    except RecursionError:  # JSON nested thousands deep: no notebook looks like that
        raise NotebookError(f"{name} is not a notebook: its JSON is nested too deep") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        raise NotebookError(f"{name} is not a Jupyter notebook (no cells)")
    import nbformat  # here, not at the top: it costs about 1 s and only notebooks need it
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # nbformat's own errors for a notebook it cannot read or convert
        raise NotebookError(f"{name} is not a notebook nbformat can read ({type(exc).__name__})") from None
    chunks = []
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        code = _python_only(source)
        if code.strip():
            chunks.append(code.strip("\n"))
    if not chunks:
        raise NotebookError(f"{name} has no code: write your code in its code cells and save it before submitting")
    return ("\n\n\n".join(chunks) + "\n").encode("utf-8")


HELP_LINE = re.compile(r"^[\w.]+\?{1,2}$")  # ``obj?`` / ``obj??``: IPython's help


def _dropped(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(IPYTHON_PREFIXES) or bool(HELP_LINE.match(stripped))


def _python_only(source: str) -> str:
    """The cell's Python: "" for a non-Python cell magic or a cell holding only IPython lines."""
    lines = source.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        if first.split()[0] not in PYTHON_CELL_MAGICS:
            return ""
        index = next(i for i, line in enumerate(lines) if line.strip())
        lines = lines[index + 1:]
    if not any(line.strip() and not _dropped(line) for line in lines):
        return ""
    # A dropped line becomes ``pass`` at its indentation: a block holding only ``!pip ...`` stays valid,
    # and line numbers in error messages still match the cell.
    return "\n".join(line[:len(line) - len(line.lstrip())] + "pass" if _dropped(line) else line for line in lines)
