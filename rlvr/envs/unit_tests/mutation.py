"""Mutants of a reference solution: the wrong programs a generated unit test has to reject.

UTRL rewards a test generator for tests that *discriminate*: a good test passes the reference
solution and fails faulty ones. The faulty ones are made here by mutation, one small, plausible
fault at one place of the reference (a bound moved by one, a comparison flipped, a statement
dropped): the slips a real implementation makes and a sharp test catches.

Operators, tried in this order at every node of a pre-order walk of the AST:

``off_by_one``
    An int constant ``c`` (not a bool) becomes ``c + 1`` and ``c - 1``; a ``range(...)`` stop or a
    slice's upper bound that is not a literal, ``e``, becomes ``e + 1`` and ``e - 1``.
``comparison_swap``
    ``<`` -> ``<=``, ``>``; ``<=`` -> ``<``, ``>=``; ``>`` -> ``>=``, ``<``; ``>=`` -> ``>``, ``<=``;
    ``==`` <-> ``!=``; ``in`` <-> ``not in``; ``is`` <-> ``is not`` (each operator of a chain on its own).
``arithmetic_swap``
    ``+`` <-> ``-``; ``*`` -> ``//``, ``/``; ``//`` -> ``*``, ``/``; ``/`` -> ``*``, ``//``; ``%`` -> ``//``;
    ``**`` -> ``*``; ``&`` <-> ``|``; ``^`` -> ``|``; ``<<`` <-> ``>>``; in binary expressions and in
    augmented assignments (``+=`` -> ``-=``).
``negate_condition``
    The test of an ``if``, a ``while``, a conditional expression or a comprehension's ``if`` filter
    becomes ``not (test)``.
``boolean_swap``
    ``and`` <-> ``or``; ``True`` <-> ``False``.
``constant_change``
    A string ``''`` becomes ``'x'`` and any other string ``''``; a number that is 0 becomes 1 and any
    other number 0 (for the ints 0 and 1 that is an ``off_by_one`` mutant, which keeps that name).
``drop_statement``
    An assignment, augmented assignment, annotated assignment with a value, or expression statement
    becomes ``pass``, in any body: function bodies *and* module level, because stdin/stdout programs
    do all their work at module level. ``return`` (and every compound statement) is never dropped.

Never mutated: docstrings (and any other statement that is a bare constant), imports, function and
class signatures (parameters, defaults, annotations, decorators, bases), variable annotations, the
test of an ``if __name__ == "__main__":`` guard, and the literal text and format specs of f-strings.

A mutant's source is ``ast.unparse`` of the mutated tree, so comments and layout of the reference are
not kept; it compiles, differs from ``ast.unparse`` of the reference, and no two mutants share a
source. Nothing here runs code: whether a mutant is *equivalent* (behaves as the reference on every
input, so no test can ever fail it) needs executing it in a sandbox, which the caller of
``mutant_pool`` supplies as a callable.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np

MUTATION_VERSION = "rlvr-mutation-1"
"""Part of every cache key: bump it when an operator changes, so stale pools are not reused."""

OPERATORS: tuple[str, ...] = (
    "off_by_one",
    "comparison_swap",
    "arithmetic_swap",
    "negate_condition",
    "boolean_swap",
    "constant_change",
    "drop_statement",
)

_SHOWN = 60
"""Characters of a source fragment quoted in a description."""

_NodePath = tuple[tuple[str, int | None], ...]
"""Where a node sits: (field, index in that list field or None) steps from the module down."""


@dataclass(frozen=True)
class Mutant:
    """One faulty variant of the reference: its whole source and where and how it was changed."""

    source: str
    operator: str
    line: int
    description: str


@dataclass(frozen=True)
class _Site:
    """One mutation point: the node at ``path`` is replaced by ``build(copy of that node)``."""

    path: _NodePath
    operator: str
    line: int
    description: str
    build: Callable[[ast.AST], ast.AST]


# --- the walk: which nodes may be mutated ---------------------------------------------------------

_SIGNATURE_FIELDS: dict[type[ast.AST], frozenset[str]] = {
    ast.FunctionDef: frozenset({"args", "returns", "decorator_list", "type_params"}),
    ast.AsyncFunctionDef: frozenset({"args", "returns", "decorator_list", "type_params"}),
    ast.ClassDef: frozenset({"bases", "keywords", "decorator_list", "type_params"}),
    ast.Lambda: frozenset({"args"}),
    ast.AnnAssign: frozenset({"annotation"}),
    ast.FormattedValue: frozenset({"format_spec"}),
}
"""Fields never walked into: signatures and annotations describe the interface, not the logic."""


def _is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``: flipping it only stops the program from running at all."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [side.id for side in sides if isinstance(side, ast.Name)]
    texts = [side.value for side in sides if isinstance(side, ast.Constant)]
    return names == ["__name__"] and texts == ["__main__"]


def _frozen(node: ast.AST) -> bool:
    """Statements left whole: imports, and bare constants (docstrings, ``...``: dropping or editing
    them cannot change behaviour, so they would only make equivalent mutants)."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _walk(node: ast.AST, path: _NodePath, line: int) -> Iterator[tuple[ast.AST, _NodePath, int]]:
    """Pre-order walk of the mutable nodes in field order, with each node's path and (nearest) line."""
    line = getattr(node, "lineno", line)
    yield node, path, line
    skipped = _SIGNATURE_FIELDS.get(type(node), frozenset())
    if _is_main_guard(node):
        skipped = frozenset({"test"})
    for field, value in ast.iter_fields(node):
        if field in skipped:
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                # The literal text parts of an f-string are not code; its {expressions} are.
                if isinstance(node, ast.JoinedStr) and not isinstance(item, ast.FormattedValue):
                    continue
                if isinstance(item, ast.AST) and not _frozen(item):
                    yield from _walk(item, (*path, (field, index)), line)
        elif isinstance(value, ast.AST) and not _frozen(value):
            yield from _walk(value, (*path, (field, None)), line)


# --- operators --------------------------------------------------------------------------------------


def _show(node: ast.AST) -> str:
    """A node as one short line of source, for descriptions."""
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _int_node(value: int) -> ast.expr:
    """An int as source spells it: a negative one is ``-`` applied to a literal, so that unparse
    parenthesises it where precedence needs it (``(-1) ** 2``, not ``-1 ** 2``)."""
    if value < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    return ast.Constant(value)


def _is_int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def _is_int_literal(node: ast.AST) -> bool:
    """``3`` or ``-3``: the constant inside is already an ``off_by_one`` site of its own."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_int(node.operand)
    return _is_int(node)


def _replace_with(_old: ast.AST, new: ast.AST) -> ast.AST:
    return new


def _shift(old: ast.AST, op: type[ast.operator]) -> ast.AST:
    return ast.BinOp(left=old, op=op(), right=ast.Constant(1))


def _off_by_one(node: ast.AST, path: _NodePath, line: int) -> Iterator[_Site]:
    """Boundary slips: a constant one too large or too small, a loop or slice stopping one early or late."""
    if _is_int(node):
        for delta in (1, -1):
            new = _int_node(node.value + delta)
            description = f"`{node.value}` -> `{_show(new)}`"
            yield _Site(path, "off_by_one", line, description, partial(_replace_with, new=new))
        return
    bound: tuple[str, int | None, ast.expr] | None = None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and 1 <= len(node.args) <= 3
        and not node.keywords
        and not any(isinstance(arg, ast.Starred) for arg in node.args)
    ):
        stop_index = 0 if len(node.args) == 1 else 1
        bound = ("args", stop_index, node.args[stop_index])
    elif isinstance(node, ast.Slice) and node.upper is not None:
        bound = ("upper", None, node.upper)
    if bound is None or _is_int_literal(bound[2]):
        return
    field, index, expr = bound
    for op in (ast.Add, ast.Sub):
        description = f"`{_show(expr)}` -> `{_show(_shift(expr, op))}`"
        yield _Site((*path, (field, index)), "off_by_one", line, description, partial(_shift, op=op))


_COMPARE_SWAPS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
}
_COMPARE_SYMBOLS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


def _set_compare_op(node: ast.AST, index: int, op: type[ast.cmpop]) -> ast.AST:
    assert isinstance(node, ast.Compare)
    node.ops[index] = op()
    return node


def _comparison_swap(node: ast.AST, path: _NodePath, line: int) -> Iterator[_Site]:
    """Wrong comparisons: a strict bound made inclusive (or the reverse), a test turned around."""
    if not isinstance(node, ast.Compare):
        return
    for index, op in enumerate(node.ops):
        for new in _COMPARE_SWAPS[type(op)]:
            description = f"`{_COMPARE_SYMBOLS[type(op)]}` -> `{_COMPARE_SYMBOLS[new]}`"
            build = partial(_set_compare_op, index=index, op=new)
            yield _Site(path, "comparison_swap", line, description, build)


_ARITHMETIC_SWAPS: dict[type[ast.operator], tuple[type[ast.operator], ...]] = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.FloorDiv, ast.Div),
    ast.FloorDiv: (ast.Mult, ast.Div),
    ast.Div: (ast.Mult, ast.FloorDiv),
    ast.Mod: (ast.FloorDiv,),
    ast.Pow: (ast.Mult,),
    ast.BitAnd: (ast.BitOr,),
    ast.BitOr: (ast.BitAnd,),
    ast.BitXor: (ast.BitOr,),
    ast.LShift: (ast.RShift,),
    ast.RShift: (ast.LShift,),
}
_ARITHMETIC_SYMBOLS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.FloorDiv: "//",
    ast.Div: "/",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}


def _set_operator(node: ast.AST, op: type[ast.AST]) -> ast.AST:
    assert isinstance(node, (ast.BinOp, ast.AugAssign, ast.BoolOp))
    node.op = op()  # a fresh instance: the parser shares one operator object between nodes
    return node


def _arithmetic_swap(node: ast.AST, path: _NodePath, line: int) -> Iterator[_Site]:
    """The wrong operation: a sum for a difference, true division for floor division, and so on."""
    if not isinstance(node, (ast.BinOp, ast.AugAssign)):
        return
    suffix = "=" if isinstance(node, ast.AugAssign) else ""
    for new in _ARITHMETIC_SWAPS.get(type(node.op), ()):
        old_symbol = _ARITHMETIC_SYMBOLS[type(node.op)]
        description = f"`{old_symbol}{suffix}` -> `{_ARITHMETIC_SYMBOLS[new]}{suffix}`"
        yield _Site(path, "arithmetic_swap", line, description, partial(_set_operator, op=new))


def _negate(node: ast.AST) -> ast.AST:
    assert isinstance(node, ast.expr)
    return ast.UnaryOp(op=ast.Not(), operand=node)


def _negate_condition(node: ast.AST, path: _NodePath, line: int) -> Iterator[_Site]:
    """A branch taken in exactly the wrong cases."""
    tests: list[tuple[_NodePath, ast.expr]] = []
    if isinstance(node, (ast.If, ast.While, ast.IfExp)) and not _is_main_guard(node):
        tests.append(((*path, ("test", None)), node.test))
    elif isinstance(node, ast.comprehension):
        tests.extend(((*path, ("ifs", index)), test) for index, test in enumerate(node.ifs))
    for test_path, test in tests:
        description = f"`{_show(test)}` -> `{_show(_negate(test))}`"
        yield _Site(test_path, "negate_condition", getattr(test, "lineno", line), description, _negate)


def _boolean_swap(node: ast.AST, path: _NodePath, line: int) -> Iterator[_Site]:
    """``and`` for ``or``, a flag's initial value inverted."""
    if isinstance(node, ast.BoolOp):
        new: type[ast.boolop] = ast.Or if isinstance(node.op, ast.And) else ast.And
        description = "`and` -> `or`" if new is ast.Or else "`or` -> `and`"
        yield _Site(path, "boolean_swap", line, description, partial(_set_operator, op=new))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        flipped = ast.Constant(not node.value)
        description = f"`{node.value}` -> `{not node.value}`"
        yield _Site(path, "boolean_swap", line, description, partial(_replace_with, new=flipped))


def _constant_change(node: ast.AST, path: _NodePath, line: int) -> Iterator[_Site]:
    """A wrong literal: an empty separator, a missing label, a zero instead of a rate."""
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return
    value = node.value
    new: str | int | float
    if isinstance(value, str):
        new = "x" if value == "" else ""
    elif isinstance(value, (int, float)):
        new = type(value)(1 if value == 0 else 0)
    else:
        return
    description = f"`{value!r}` -> `{new!r}`"
    yield _Site(path, "constant_change", line, description, partial(_replace_with, new=ast.Constant(new)))


_DROPPABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)


def _drop_statement(node: ast.AST, path: _NodePath, line: int) -> Iterator[_Site]:
    """A forgotten step (an update, a call for its effect); ``pass`` keeps every body non-empty."""
    if not isinstance(node, _DROPPABLE) or (isinstance(node, ast.AnnAssign) and node.value is None):
        return
    description = f"`{_show(node)}` -> `pass`"
    yield _Site(path, "drop_statement", line, description, partial(_replace_with, new=ast.Pass()))


_OPERATOR_SITES: tuple[Callable[[ast.AST, _NodePath, int], Iterator[_Site]], ...] = (
    _off_by_one,
    _comparison_swap,
    _arithmetic_swap,
    _negate_condition,
    _boolean_swap,
    _constant_change,
    _drop_statement,
)


# --- building mutants -------------------------------------------------------------------------------


def _sites(tree: ast.Module) -> list[_Site]:
    return [
        site
        for node, path, line in _walk(tree, (), 1)
        for find in _OPERATOR_SITES
        for site in find(node, path, line)
    ]


def _mutated_source(tree: ast.Module, site: _Site) -> str:
    """The source with one site replaced: a copy of the site's node is rebuilt and swapped in for the
    unparse, then the original is put back, so one parsed tree serves every site (only the small
    subtree is copied, not the whole program)."""
    parent: ast.AST = tree
    for field, index in site.path[:-1]:
        child = getattr(parent, field)
        parent = child if index is None else child[index]
    field, index = site.path[-1]
    holder = getattr(parent, field)
    original = holder if index is None else holder[index]
    replacement = site.build(copy.deepcopy(original))
    try:
        if index is None:
            setattr(parent, field, replacement)
        else:
            holder[index] = replacement
        return ast.unparse(tree)
    finally:
        if index is None:
            setattr(parent, field, original)
        else:
            holder[index] = original


def _compiles(source: str) -> bool:
    try:
        compile(source, "<mutant>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def enumerate_mutants(source: str) -> list[Mutant]:
    """Every single-point mutant, in a deterministic order (walk order of the AST, then operator).

    Mutants that do not compile, that unparse to the reference itself, or that repeat an earlier
    mutant's source are left out (the first one keeps its operator name). Raises ``SyntaxError``
    when ``source`` does not parse.
    """
    tree = ast.parse(source)
    seen = {ast.unparse(tree)}
    mutants: list[Mutant] = []
    for site in _sites(tree):
        try:
            text = _mutated_source(tree, site)
        except (ValueError, TypeError, AttributeError, RecursionError):
            continue  # an unparse gap on some unusual construct: that site gives no mutant
        if text in seen:
            continue
        seen.add(text)
        if _compiles(text):
            mutants.append(Mutant(text, site.operator, site.line, f"line {site.line}: {site.description}"))
    return mutants


def _check_count(count: int) -> None:
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")


def _shuffled(mutants: list[Mutant], seed: int) -> list[Mutant]:
    """The draw order: one permutation per seed, so a smaller count always gives a prefix of a larger one."""
    order = np.random.default_rng(seed).permutation(len(mutants))
    return [mutants[int(i)] for i in order]


def sample_mutants(source: str, count: int, *, seed: int) -> list[Mutant]:
    """``count`` distinct mutants drawn deterministically from ``enumerate_mutants`` with
    ``numpy.random.default_rng(seed)`` (fewer if fewer exist), in draw order.

    All compile and none equals the reference after ``ast.unparse`` normalisation.
    """
    _check_count(count)
    return _shuffled(enumerate_mutants(source), seed)[:count]


def _pool_key(source: str, count: int, seed: int, oversample: int, filtered: bool) -> str:
    """sha256 of everything the pool depends on; ``oversample`` and whether mutants were filtered are
    in it too, so an unfiltered pool is never served to a caller that asked for filtering."""
    fields = {
        "version": MUTATION_VERSION,
        "source": source,
        "count": count,
        "seed": seed,
        "oversample": oversample,
        "filtered": filtered,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _load_pool(path: Path) -> list[Mutant] | None:
    """The cached pool, or None when it is missing or unreadable (then it is rebuilt and rewritten)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["version"] != MUTATION_VERSION:
            return None
        return [
            Mutant(str(m["source"]), str(m["operator"]), int(m["line"]), str(m["description"]))
            for m in data["mutants"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store_pool(path: Path, pool: list[Mutant]) -> None:
    """Write through a temporary file and a rename, so a concurrent reader never sees half a pool."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"version": MUTATION_VERSION, "mutants": [asdict(m) for m in pool]}, indent=1)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(payload)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def mutant_pool(
    source: str,
    count: int,
    *,
    seed: int,
    is_equivalent: Callable[[Mutant], bool] | None = None,
    cache_dir: str | Path | None = None,
    oversample: int = 4,
) -> list[Mutant]:
    """Like ``sample_mutants``, but without the mutants ``is_equivalent`` flags.

    An equivalent mutant behaves as the reference on every input, so no test can fail it: as a
    "faulty" candidate it would punish even a perfect test. Up to ``count * oversample`` candidates
    are taken in the draw order of ``sample_mutants`` and the first ``count`` for which
    ``is_equivalent(mutant)`` is False are kept (fewer if the candidates run out). ``is_equivalent``
    comes from the caller, who runs the code in a sandbox; this module never executes anything.

    With ``cache_dir`` the pool is stored as ``<sha256>.json`` there, keyed by the source, count,
    seed, ``oversample``, whether a filter was given and ``MUTATION_VERSION``, and the next call
    returns it without calling ``is_equivalent`` again (the cache trusts the filter to be the same).
    Deterministic for a given (source, count, seed, is_equivalent).
    """
    _check_count(count)
    if oversample < 1:
        raise ValueError(f"oversample must be >= 1, got {oversample}")
    cache_file: Path | None = None
    if cache_dir is not None:
        key = _pool_key(source, count, seed, oversample, is_equivalent is not None)
        cache_file = Path(cache_dir) / f"{key}.json"
        cached = _load_pool(cache_file)
        if cached is not None:
            return cached
    drawn = _shuffled(enumerate_mutants(source), seed)
    if is_equivalent is None:
        pool = drawn[:count]
    else:
        pool = []
        for mutant in drawn[: count * oversample]:
            if len(pool) == count:
                break
            if not is_equivalent(mutant):
                pool.append(mutant)
    if cache_file is not None:
        _store_pool(cache_file, pool)
    return pool
