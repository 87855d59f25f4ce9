"""Find banned APIs in a submission's from-scratch classes and functions by parsing its code.

Names are resolved through the file's imports (``import torch.nn.functional as F`` makes
``F.linear`` mean ``torch.nn.functional.linear``; ``from torch import autograd`` makes
``autograd.grad`` mean ``torch.autograd.grad``), so comments and strings never count and
aliases do not hide a call. A banned ``torch.Tensor.<method>`` is matched by attribute name,
unless the submission defines a function of that name itself (``layer.backward(d)`` calling a
layer's own ``backward`` is fine): the runtime guard covers that case.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

TENSOR_PREFIX = "torch.Tensor."


@dataclass(frozen=True)
class Violation:
    api: str
    scope: str  # qualified name of the function or class it appears in
    line: int

    def describe(self) -> str:
        return f"uses {self.api} in {self.scope} (line {self.line}), which this assignment bans"


def scan(source: str, banned: list[str], from_scratch: list[str]) -> list[Violation]:
    """Violations in the top-level definitions named in ``from_scratch``; [] if it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    aliases = _aliases(tree)
    own_functions = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    module_bans = [b for b in banned if not b.startswith(TENSOR_PREFIX)]
    method_bans = {b[len(TENSOR_PREFIX):] for b in banned if b.startswith(TENSOR_PREFIX)} - own_functions
    found = []
    for definition in tree.body:
        if getattr(definition, "name", None) not in from_scratch:
            continue
        for scope, node in _walk_scoped(definition, definition.name):
            dotted = _dotted(node, aliases)
            if dotted and any(dotted == b or dotted.startswith(b + ".") for b in module_bans):
                found.append(Violation(dotted, scope, node.lineno))
            elif isinstance(node, ast.Attribute) and node.attr in method_bans and not dotted:
                found.append(Violation(TENSOR_PREFIX + node.attr, scope, node.lineno))
    return _outermost(found)


def _aliases(tree) -> dict[str, str]:
    """Local name -> dotted module path, from every import in the file."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _dotted(node, aliases) -> str | None:
    """``a.b.c`` of a Name/Attribute chain, its root resolved through imports; None otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _walk_scoped(node, scope):
    """(qualified scope, node) for every Name/Attribute below ``node``."""
    for child in ast.iter_child_nodes(node):
        child_scope = f"{scope}.{child.name}" if isinstance(
            child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else scope
        if isinstance(child, (ast.Attribute, ast.Name)):
            yield child_scope, child
        yield from _walk_scoped(child, child_scope)


def _outermost(found: list[Violation]) -> list[Violation]:
    """``torch.autograd.grad`` also walks ``torch.autograd``: keep one finding per place."""
    seen, unique = set(), []
    for violation in found:
        key = (violation.scope, violation.line)
        if key not in seen:
            seen.add(key)
            unique.append(violation)
    return unique
