"""Mutants of a reference: small realistic edits of its syntax tree, inside what students write.

Only code inside ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions is mutated (the rest is
given to students). Each operator proposes replacement nodes; the replacement's source is
spliced into the original text at the node's exact position, so a mutant differs from the
reference in one place and its diff is one readable line. A mutant's id hashes its operator,
the enclosing function's qualified name, the changed source text and the replacement (plus an
occurrence count for identical edits in one function), so ids survive unrelated edits.
"""
from __future__ import annotations

import ast
import copy
import hashlib
from dataclasses import dataclass
from typing import Callable, Iterator

REGION_BEGIN, REGION_END = "### BEGIN SOLUTION", "### END SOLUTION"

REDUCTIONS = {"sum", "mean", "max", "min", "softmax", "log_softmax", "logsumexp", "cumsum", "cumprod",
              "argmax", "argmin", "std", "var", "norm", "prod", "amax", "amin", "unsqueeze", "squeeze",
              "flatten"}
IN_PLACE = {"add", "sub", "mul", "div", "clamp", "exp", "neg", "relu", "sigmoid", "tanh", "abs", "pow",
            "sqrt", "log", "fill", "zero", "copy", "masked_fill", "t"}
SWAPPED_OPERATORS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
SWAPPED_COMPARISONS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                       ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
FACTORIES = {"zeros", "ones", "full", "empty", "eye", "arange", "linspace", "tensor", "as_tensor", "randn",
             "rand", "randint", "randperm", "zeros_like", "ones_like", "full_like", "empty_like", "randn_like",
             "rand_like"}
MODULE_NAMES = {"torch", "F", "nn", "np", "numpy", "math", "random"}
ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)


@dataclass(frozen=True)
class Mutant:
    id: str
    operator: str
    where: str       # qualified name of the enclosing function, e.g. "Linear.backward"
    line: int        # 1-based line of the edit in the reference
    before: str      # the reference's source line, stripped
    after: str       # the same line in the mutant, stripped
    source: str      # the whole mutated module


@dataclass(frozen=True)
class Place:
    """Where a node sits, as far as autograd goes: detaching only matters where gradients flow."""

    from_scratch: bool   # in a from-scratch class or function (no autograd by contract)
    no_grad: bool        # under @torch.no_grad() / inference_mode, or in such a `with` block


# --------------------------------------------------------------------------- operators
# Each takes a node and its Place and yields replacement nodes.

def swap_operator(node, _):
    if isinstance(node, ast.BinOp) and type(node.op) in SWAPPED_OPERATORS:
        yield ast.BinOp(node.left, SWAPPED_OPERATORS[type(node.op)](), node.right)


def swap_operands(node, _):
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Sub, ast.Div, ast.MatMult)):
        yield ast.BinOp(node.right, node.op, node.left)


def drop_term(node, _):
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield node.left
        if isinstance(node.op, ast.Add):
            yield node.right


def negate(node, _):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield node.operand


def sum_mean(node, _):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("sum", "mean"):
        func = copy.copy(node.func)
        func.attr = "mean" if node.func.attr == "sum" else "sum"
        yield ast.Call(func, node.args, node.keywords)


def drop_transpose(node, _):
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT"):
        yield node.value
    if _method_call(node) in ("t", "transpose", "permute"):
        yield node.func.value


def add_transpose(node, _):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        yield ast.BinOp(node.left, node.op, ast.Attribute(node.right, "T", ast.Load()))


def _other_dim(value: int) -> int:
    return {0: 1, 1: 0, -1: -2, -2: -1}.get(value, value - 1)


def swap_dim(node, _):
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return
    for index, keyword in enumerate(node.keywords):
        if keyword.arg in ("dim", "axis") and _is_int(keyword.value):
            keywords = list(node.keywords)
            keywords[index] = ast.keyword(keyword.arg, ast.Constant(_other_dim(_int(keyword.value))))
            yield ast.Call(node.func, node.args, keywords)
    if node.func.attr in REDUCTIONS and node.args and _is_int(node.args[-1]) and len(node.args) <= 2:
        yield ast.Call(node.func, [*node.args[:-1], ast.Constant(_other_dim(_int(node.args[-1])))], node.keywords)


def off_by_one(node, _):
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" and node.args:
        if len(node.args) == 1:
            yield ast.Call(node.func, [_shift(node.args[0], -1)], [])
        else:
            yield ast.Call(node.func, [_shift(node.args[0], +1), *node.args[1:]], [])
    if isinstance(node, ast.Slice):
        if node.lower is not None:
            yield ast.Slice(_shift(node.lower, +1), node.upper, node.step)
        if node.upper is not None:
            yield ast.Slice(node.lower, _shift(node.upper, -1), node.step)


def swap_comparison(node, _):
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAPPED_COMPARISONS:
        yield ast.Compare(node.left, [SWAPPED_COMPARISONS[type(node.ops[0])]()], node.comparators)


def change_constant(node, _):
    """An int c becomes c + 1; a float c becomes 2c (not tiny ones: those are stability epsilons)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, int):
            yield ast.Constant(node.value + 1)
        elif abs(node.value) >= 1e-4:
            yield ast.Constant(node.value * 2)
        elif node.value == 0:
            yield ast.Constant(1.0)


def detach(node, place: Place):
    """A computed value cut from autograd, where gradients can flow through it: not in from-scratch
    code, not under no_grad, not a fresh tensor from a factory (torch.zeros, torch.eye, ...)."""
    if (not place.from_scratch and not place.no_grad and isinstance(node, ast.Assign)
            and isinstance(node.value, (ast.Call, ast.BinOp)) and not _is_factory(node.value)):
        yield ast.Assign(node.targets, _call_method(node.value, "detach"))


def in_place(node, _):
    """A named tensor updated in place (it may be the caller's argument); an in-place op on a
    fresh temporary like ``(1 - a).sqrt()`` changes nothing anyone holds, so it is not proposed."""
    if _method_call(node) in IN_PLACE and isinstance(node.func.value, (ast.Name, ast.Attribute)):
        func = copy.copy(node.func)
        func.attr = node.func.attr + "_"
        yield ast.Call(func, node.args, node.keywords)
    if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.BinOp) and isinstance(node.value.left, ast.Name)
            and node.value.left.id == node.targets[0].id and not isinstance(node.value.op, ast.MatMult)):
        yield ast.AugAssign(ast.Name(node.targets[0].id, ast.Store()), node.value.op, node.value.right)


OPERATORS: dict[str, Callable] = {f.__name__: f for f in (
    swap_operator, swap_operands, drop_term, negate, sum_mean, drop_transpose, add_transpose, swap_dim,
    off_by_one, swap_comparison, change_constant, detach, in_place)}


# --------------------------------------------------------------------------- helpers

def _method_call(node) -> str | None:
    """The method's name if ``node`` calls a method of a value (not a module function like torch.sum)."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id in MODULE_NAMES)):
        return node.func.attr
    return None


def _is_factory(node) -> bool:
    """torch.zeros(...), torch.eye(...), ...: a new tensor with no graph to cut."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in FACTORIES
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch")


def _turns_off_grad(expression) -> bool:
    """``torch.no_grad()`` / ``torch.inference_mode()`` (as a decorator or a context manager)."""
    target = expression.func if isinstance(expression, ast.Call) else expression
    return isinstance(target, (ast.Attribute, ast.Name)) and (
        getattr(target, "attr", None) or getattr(target, "id", None)) in ("no_grad", "inference_mode")


def _is_int(node) -> bool:
    return (isinstance(node, ast.Constant) and type(node.value) is int or isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) is int)


def _int(node) -> int:
    return node.value if isinstance(node, ast.Constant) else -node.operand.value


def _shift(node, delta: int):
    if _is_int(node):
        return ast.Constant(_int(node) + delta)
    return ast.BinOp(node, ast.Add() if delta > 0 else ast.Sub(), ast.Constant(abs(delta)))


def _call_method(value, method: str):
    return ast.Call(ast.Attribute(value, method, ast.Load()), [], [])


def solution_lines(source: str) -> set[int]:
    """1-based line numbers strictly inside SOLUTION regions."""
    inside, lines = False, set()
    for number, text in enumerate(source.splitlines(), 1):
        stripped = text.strip()
        if stripped.startswith(REGION_BEGIN):
            inside = True
        elif stripped.startswith(REGION_END):
            inside = False
        elif inside:
            lines.add(number)
    return lines


def _placed_nodes(tree: ast.Module, from_scratch: tuple[str, ...]) -> Iterator[tuple[ast.AST, str, Place]]:
    """Every node with the qualified name of the function or class it sits in and its Place,
    in source order."""
    def visit(node, scope, no_grad):
        for child in ast.iter_child_nodes(node):
            inner, inner_no_grad = scope, no_grad
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{scope}.{child.name}" if scope else child.name
                inner_no_grad = no_grad or any(_turns_off_grad(d) for d in child.decorator_list)
            elif isinstance(child, ast.With):
                inner_no_grad = no_grad or any(_turns_off_grad(item.context_expr) for item in child.items)
            yield child, inner, Place(inner.split(".")[0] in from_scratch, inner_no_grad)
            yield from visit(child, inner, inner_no_grad)
    yield from visit(tree, "", False)


def _splice(source_lines: list[str], node, replacement: str) -> str:
    first, last = node.lineno - 1, node.end_lineno - 1
    head = source_lines[first][:node.col_offset]
    tail = source_lines[last][node.end_col_offset:]
    return "".join(source_lines[:first] + [head + replacement + tail] + source_lines[last + 1:])


def _replacement_text(original, replacement) -> str:
    text = ast.unparse(ast.fix_missing_locations(replacement))
    if isinstance(original, ast.expr) and not isinstance(replacement, ATOMS):
        text = f"({text})"
    return text


def _line_of(source: str, number: int) -> str:
    return source.splitlines()[number - 1].strip()


def make_mutants(source: str, from_scratch: tuple[str, ...] = ()) -> list[Mutant]:
    """All distinct mutants of ``source`` (deterministic, in source order), each of which parses."""
    tree = ast.parse(source)
    editable = solution_lines(source)
    source_lines = source.splitlines(keepends=True)
    reference_dump = ast.dump(tree)
    seen_dumps, seen_ids, mutants = {reference_dump}, {}, []
    for node, scope, place in _placed_nodes(tree, from_scratch):
        if not hasattr(node, "lineno") or not set(range(node.lineno, node.end_lineno + 1)) <= editable:
            continue
        original_text = ast.get_source_segment(source, node)
        for name, operator in OPERATORS.items():
            for replacement in operator(node, place):
                mutated = _splice(source_lines, node, _replacement_text(node, replacement))
                try:
                    dump = ast.dump(ast.parse(mutated))
                except SyntaxError:
                    continue
                if dump in seen_dumps:
                    continue
                seen_dumps.add(dump)
                key = f"{name}\0{scope}\0{original_text}\0{ast.unparse(replacement)}"
                seen_ids[key] = seen_ids.get(key, -1) + 1
                mutant_id = hashlib.sha256(f"{key}\0{seen_ids[key]}".encode()).hexdigest()[:10]
                mutants.append(Mutant(mutant_id, name, scope or "<module>", node.lineno,
                                      _line_of(source, node.lineno), _line_of(mutated, node.lineno), mutated))
    return mutants
