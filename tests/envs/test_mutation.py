"""The mutation engine behind UTRL's faulty candidates, on small functions worked by hand.

The equivalence checks here exec mutants of our own tiny functions in-process; the envs do that in a
sandbox instead.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from rlvr.envs.unit_tests.mutation import (
    OPERATORS,
    Mutant,
    enumerate_mutants,
    mutant_pool,
    sample_mutants,
)

CLIP = """\
def clip(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
"""

# Many sites of every operator, for the properties that should hold on any program.
RICH = '''\
"""Module docstring with 1 < 2 and 'quotes'."""
import math
from collections import Counter


def score(xs: list[int], k: int = 3, *, label: str = "total") -> float:
    """Return a score: 0 <= score, never mutated."""
    total = 0
    seen = Counter()
    for i in range(len(xs)):
        if xs[i] % 2 == 0 and xs[i] not in seen:
            total += xs[i] * k
        elif xs[i] is None or xs[i] >= 10:
            total -= 1
        seen[xs[i]] += 1
    while total > 100:
        total //= 2
    ratio = total / 4.0 if total else 0.5
    flag = True
    parts = [str(x) for x in xs[1:k] if x > 0]
    print(label, " ".join(parts), sep=": ")
    return math.sqrt(ratio) + (2 ** k) - 1


if __name__ == "__main__":
    score([1, 2, 3])
'''


def by_operator(mutants: list[Mutant], operator: str) -> dict[str, Mutant]:
    """The mutants of one operator, keyed by their description without the line prefix (unique in the
    small functions it is used on)."""
    return {m.description.split(": ", 1)[1]: m for m in mutants if m.operator == operator}


def body(source: str) -> str:
    """``source`` as ``ast.unparse`` writes it, the form mutants are in."""
    return ast.unparse(ast.parse(source))


# --- each operator ---------------------------------------------------------------------------------


def test_off_by_one_moves_int_constants_both_ways() -> None:
    mutants = by_operator(enumerate_mutants("def f(xs):\n    return xs[2]\n"), "off_by_one")
    assert set(mutants) == {"`2` -> `3`", "`2` -> `1`"}
    assert mutants["`2` -> `3`"].source == body("def f(xs):\n    return xs[3]\n")
    assert mutants["`2` -> `1`"].source == body("def f(xs):\n    return xs[1]\n")
    assert mutants["`2` -> `3`"].line == 2
    assert mutants["`2` -> `3`"].description == "line 2: `2` -> `3`"


def test_off_by_one_below_zero_keeps_precedence() -> None:
    mutants = by_operator(enumerate_mutants("def f():\n    return 0 ** 2\n"), "off_by_one")
    assert mutants["`0` -> `-1`"].source == body("def f():\n    return (-1) ** 2\n")


def test_off_by_one_shifts_a_non_literal_range_stop_and_slice_bound() -> None:
    reference = "def f(xs, n):\n    return [xs[:n] for i in range(1, n)]\n"
    shifted = [
        (m.description, m.source.splitlines()[1].strip())
        for m in enumerate_mutants(reference)
        if m.operator == "off_by_one"
    ]
    assert shifted == [
        ("line 2: `n` -> `n + 1`", "return [xs[:n + 1] for i in range(1, n)]"),
        ("line 2: `n` -> `n - 1`", "return [xs[:n - 1] for i in range(1, n)]"),
        ("line 2: `n` -> `n + 1`", "return [xs[:n] for i in range(1, n + 1)]"),
        ("line 2: `n` -> `n - 1`", "return [xs[:n] for i in range(1, n - 1)]"),
        # The literal start is an ordinary constant site.
        ("line 2: `1` -> `2`", "return [xs[:n] for i in range(2, n)]"),
        ("line 2: `1` -> `0`", "return [xs[:n] for i in range(0, n)]"),
    ]


def test_off_by_one_does_not_wrap_a_literal_range_stop() -> None:
    sources = [m.source for m in enumerate_mutants("for i in range(10):\n    print(i)\n")]
    assert any("range(11)" in s for s in sources)
    assert any("range(9)" in s for s in sources)
    assert not any("10 + 1" in s or "10 - 1" in s for s in sources)


def test_off_by_one_leaves_bools_alone() -> None:
    mutants = enumerate_mutants("def f():\n    return True\n")
    assert [m.operator for m in mutants] == ["boolean_swap"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("a < b", {"a <= b", "a > b"}),
        ("a <= b", {"a < b", "a >= b"}),
        ("a > b", {"a >= b", "a < b"}),
        ("a >= b", {"a > b", "a <= b"}),
        ("a == b", {"a != b"}),
        ("a != b", {"a == b"}),
        ("a in b", {"a not in b"}),
        ("a not in b", {"a in b"}),
        ("a is b", {"a is not b"}),
        ("a is not b", {"a is b"}),
    ],
)
def test_comparison_swap(condition: str, expected: set[str]) -> None:
    reference = f"def f(a, b):\n    if {condition}:\n        return a\n    return b\n"
    swaps = [m for m in enumerate_mutants(reference) if m.operator == "comparison_swap"]
    assert {ast.unparse(ast.parse(m.source).body[0].body[0].test) for m in swaps} == expected
    assert all(m.line == 2 for m in swaps)


def test_comparison_swap_description() -> None:
    mutants = by_operator(
        enumerate_mutants("def f(a, b):\n    if a < b:\n        return a\n"), "comparison_swap"
    )
    assert mutants["`<` -> `<=`"].description == "line 2: `<` -> `<=`"
    assert "if a <= b:" in mutants["`<` -> `<=`"].source


def test_comparison_swap_mutates_one_link_of_a_chain_at_a_time() -> None:
    swaps = [
        m
        for m in enumerate_mutants("def f(a, b, c):\n    return a < b < c\n")
        if m.operator == "comparison_swap"
    ]
    assert {m.source.splitlines()[1].strip() for m in swaps} == {
        "return a <= b < c",
        "return a > b < c",
        "return a < b <= c",
        "return a < b > c",
    }


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a + b", {"a - b"}),
        ("a - b", {"a + b"}),
        ("a * b", {"a // b", "a / b"}),
        ("a // b", {"a * b", "a / b"}),
        ("a / b", {"a * b", "a // b"}),
        ("a % b", {"a // b"}),
        ("a ** b", {"a * b"}),
    ],
)
def test_arithmetic_swap(expression: str, expected: set[str]) -> None:
    swaps = [
        m
        for m in enumerate_mutants(f"def f(a, b):\n    return {expression}\n")
        if m.operator == "arithmetic_swap"
    ]
    assert {m.source.splitlines()[1].removeprefix("    return ") for m in swaps} == expected


def test_arithmetic_swap_on_augmented_assignment() -> None:
    reference = "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    return t\n"
    mutants = by_operator(enumerate_mutants(reference), "arithmetic_swap")
    assert set(mutants) == {"`+=` -> `-=`"}
    assert mutants["`+=` -> `-=`"].description == "line 4: `+=` -> `-=`"
    assert "t -= x" in mutants["`+=` -> `-=`"].source


def test_negate_condition_of_if_while_ternary_and_filter() -> None:
    reference = (
        "def f(a, b, xs):\n"
        "    if a < b:\n"
        "        a = b\n"
        "    while a:\n"
        "        a = a // 2\n"
        "    return (a if b else 0, [x for x in xs if x])\n"
    )
    mutants = by_operator(enumerate_mutants(reference), "negate_condition")
    assert set(mutants) == {"`a < b` -> `not a < b`", "`a` -> `not a`", "`b` -> `not b`", "`x` -> `not x`"}
    assert "if not a < b:" in mutants["`a < b` -> `not a < b`"].source
    assert "while not a:" in mutants["`a` -> `not a`"].source
    assert "a if not b else 0" in mutants["`b` -> `not b`"].source
    assert "for x in xs if not x]" in mutants["`x` -> `not x`"].source
    assert mutants["`a` -> `not a`"].line == 4


def test_negate_condition_parenthesises_boolean_operations() -> None:
    mutants = by_operator(
        enumerate_mutants("def f(a, b):\n    if a or b:\n        return 1\n"), "negate_condition"
    )
    assert "if not (a or b):" in mutants["`a or b` -> `not (a or b)`"].source


def test_boolean_swap() -> None:
    mutants = by_operator(
        enumerate_mutants("def f(a, b):\n    ok = True\n    return ok and a or b\n"), "boolean_swap"
    )
    assert set(mutants) == {"`True` -> `False`", "`or` -> `and`", "`and` -> `or`"}
    assert "ok = False" in mutants["`True` -> `False`"].source
    assert "return (ok or a) or b" in mutants["`and` -> `or`"].source
    assert "return (ok and a) and b" in mutants["`or` -> `and`"].source


def test_constant_change_on_strings_and_numbers() -> None:
    reference = "def f(xs):\n    s = ''\n    print(*xs, sep=' ')\n    return 2.5 * 7\n"
    mutants = by_operator(enumerate_mutants(reference), "constant_change")
    assert set(mutants) == {"`''` -> `'x'`", "`' '` -> `''`", "`2.5` -> `0.0`", "`7` -> `0`"}
    assert "s = 'x'" in mutants["`''` -> `'x'`"].source
    assert "sep=''" in mutants["`' '` -> `''`"].source
    assert "return 0.0 * 7" in mutants["`2.5` -> `0.0`"].source


def test_constant_change_of_zero_and_one_is_the_off_by_one_mutant() -> None:
    mutants = enumerate_mutants("def f():\n    return 0\n")
    assert [(m.operator, m.description) for m in mutants] == [
        ("off_by_one", "line 2: `0` -> `1`"),
        ("off_by_one", "line 2: `0` -> `-1`"),
    ]
    floats = by_operator(enumerate_mutants("def f():\n    return 1.0\n"), "constant_change")
    assert floats["`1.0` -> `0.0`"].source == "def f():\n    return 0.0"


def test_drop_statement_replaces_simple_statements_with_pass_and_keeps_returns() -> None:
    reference = "def f(xs):\n    t = 0\n    for x in xs:\n        t += x\n    print(t)\n    return t\n"
    mutants = by_operator(enumerate_mutants(reference), "drop_statement")
    assert set(mutants) == {"`t = 0` -> `pass`", "`t += x` -> `pass`", "`print(t)` -> `pass`"}
    dropped = mutants["`t += x` -> `pass`"]
    assert dropped.line == 4
    assert dropped.source == body(
        "def f(xs):\n    t = 0\n    for x in xs:\n        pass\n    print(t)\n    return t\n"
    )
    assert all("return t" in m.source for m in mutants.values())


# --- what is never mutated --------------------------------------------------------------------------


def test_docstrings_imports_signatures_and_main_guard_are_never_mutated() -> None:
    reference = ast.parse(RICH)
    function = reference.body[3]
    assert isinstance(function, ast.FunctionDef)
    mutants = enumerate_mutants(RICH)
    assert len(mutants) > 50
    for mutant in mutants:
        tree = ast.parse(mutant.source)
        assert ast.get_docstring(tree) == ast.get_docstring(reference)
        assert [ast.dump(node) for node in tree.body[1:3]] == [ast.dump(node) for node in reference.body[1:3]]
        mutated = tree.body[3]
        assert isinstance(mutated, ast.FunctionDef)
        assert ast.get_docstring(mutated) == ast.get_docstring(function)
        assert ast.dump(mutated.args) == ast.dump(function.args)
        assert ast.dump(mutated.returns) == ast.dump(function.returns)
        guard = tree.body[4]
        assert isinstance(guard, ast.If)
        assert ast.unparse(guard.test) == "__name__ == '__main__'"
        assert mutant.line not in {1, 2, 3, 6, 7}
    # The guard's body is ordinary module-level code: only its test is left alone.
    assert "line 26: `score([1, 2, 3])` -> `pass`" in [m.description for m in mutants]


def test_decorators_class_bases_and_annotations_are_never_mutated() -> None:
    reference = (
        "import functools\n\n"
        "@functools.lru_cache(maxsize=128)\n"
        "def g(n: int = 5) -> int:\n"
        "    m: int = n - 1\n"
        "    return m\n\n"
        "class C(dict, metaclass=type):\n"
        "    size: tuple[int, ...] = (1, 2)\n"
    )
    mutants = enumerate_mutants(reference)
    assert mutants
    for mutant in mutants:
        assert "@functools.lru_cache(maxsize=128)" in mutant.source
        assert "def g(n: int=5) -> int:" in mutant.source
        assert "class C(dict, metaclass=type):" in mutant.source
        assert "m: int = " in mutant.source or "pass" in mutant.source
    assert {m.line for m in mutants} <= {5, 9}


def test_fstring_text_is_not_mutated_but_its_expressions_are() -> None:
    mutants = enumerate_mutants("def f(a):\n    return f'total: {a + 1:>5}!'\n")
    assert {m.description for m in mutants} == {
        "line 2: `+` -> `-`",
        "line 2: `1` -> `2`",
        "line 2: `1` -> `0`",
    }


# --- properties on a richer program -----------------------------------------------------------------


def test_every_mutant_compiles_differs_from_the_reference_and_is_unique() -> None:
    mutants = enumerate_mutants(RICH)
    sources = [m.source for m in mutants]
    assert len(set(sources)) == len(sources)
    assert body(RICH) not in sources
    for mutant in mutants:
        compile(mutant.source, "<mutant>", "exec")
        assert mutant.operator in OPERATORS
        assert mutant.description.startswith(f"line {mutant.line}: ")
        assert 1 <= mutant.line <= len(RICH.splitlines())
    assert {m.operator for m in mutants} == set(OPERATORS)


def test_enumeration_is_deterministic_and_in_walk_order() -> None:
    first = enumerate_mutants(RICH)
    assert enumerate_mutants(RICH) == first
    # In this straight-line program pre-order walk order is source order.
    lines = [m.line for m in first]
    assert lines == sorted(lines)


def test_a_program_that_does_not_parse_raises() -> None:
    with pytest.raises(SyntaxError):
        enumerate_mutants("def f(:\n")


def test_stdin_stdout_program_at_module_level() -> None:
    reference = "n = int(input())\nprint(sum(range(n)))\n"
    mutants = enumerate_mutants(reference)
    assert {(m.operator, m.description) for m in mutants} == {
        ("drop_statement", "line 1: `n = int(input())` -> `pass`"),
        ("drop_statement", "line 2: `print(sum(range(n)))` -> `pass`"),
        ("off_by_one", "line 2: `n` -> `n + 1`"),
        ("off_by_one", "line 2: `n` -> `n - 1`"),
    }
    assert "print(sum(range(n + 1)))" in by_operator(mutants, "off_by_one")["`n` -> `n + 1`"].source


# --- sampling ---------------------------------------------------------------------------------------


def test_sample_mutants_is_deterministic_and_respects_count() -> None:
    everything = enumerate_mutants(RICH)
    sample = sample_mutants(RICH, 10, seed=7)
    assert len(sample) == 10
    assert len({m.source for m in sample}) == 10
    assert all(m in everything for m in sample)
    assert sample_mutants(RICH, 10, seed=7) == sample
    assert sample_mutants(RICH, 10, seed=8) != sample
    assert sample_mutants(RICH, 4, seed=7) == sample[:4]  # one permutation per seed


def test_sample_mutants_returns_all_when_fewer_exist() -> None:
    everything = enumerate_mutants(CLIP)
    sample = sample_mutants(CLIP, len(everything) + 50, seed=0)
    assert sorted(m.source for m in sample) == sorted(m.source for m in everything)
    assert sample_mutants(CLIP, 0, seed=0) == []
    with pytest.raises(ValueError, match="count"):
        sample_mutants(CLIP, -1, seed=0)


# --- pools without equivalent mutants ---------------------------------------------------------------

GRID = [(x, lo, hi) for x in range(-3, 8) for lo in range(-2, 4) for hi in range(lo, 6)]
"""clip's inputs: every x around every valid range lo <= hi (with lo > hi, x <= lo would differ)."""


def run_clip(source: str) -> list[object]:
    namespace: dict[str, object] = {}
    exec(compile(source, "<clip>", "exec"), namespace)
    clip = namespace["clip"]
    assert callable(clip)
    results: list[object] = []
    for args in GRID:
        try:
            results.append(clip(*args))
        except Exception as error:
            results.append(type(error).__name__)
    return results


class CountingEquivalence:
    """Same results as CLIP on every grid input: what a sandboxed check does, here in-process."""

    def __init__(self) -> None:
        self.calls = 0
        self.expected = run_clip(CLIP)

    def __call__(self, mutant: Mutant) -> bool:
        self.calls += 1
        return run_clip(mutant.source) == self.expected


def test_clip_has_equivalent_mutants() -> None:
    """``x < lo`` -> ``x <= lo`` returns lo when x == lo: the same value, no test can tell."""
    check = CountingEquivalence()
    equivalent = {m.description for m in enumerate_mutants(CLIP) if check(m)}
    assert {"line 2: `<` -> `<=`", "line 4: `>` -> `>=`"} <= equivalent


def test_mutant_pool_skips_equivalent_mutants_in_draw_order() -> None:
    check = CountingEquivalence()
    pool = mutant_pool(CLIP, 3, seed=3, is_equivalent=check, oversample=2)
    assert len(pool) == 3
    assert not any(CountingEquivalence()(m) for m in pool)
    # The first 3 non-equivalent ones among the first 3 * 2 of the draw order.
    expected = [m for m in sample_mutants(CLIP, 6, seed=3) if not CountingEquivalence()(m)][:3]
    assert pool == expected
    assert 3 <= check.calls <= 6
    assert mutant_pool(CLIP, 3, seed=3, is_equivalent=CountingEquivalence(), oversample=2) == pool


def test_mutant_pool_draws_at_most_count_times_oversample_candidates() -> None:
    everything = enumerate_mutants(CLIP)
    check = CountingEquivalence()
    pool = mutant_pool(CLIP, len(everything), seed=0, is_equivalent=check, oversample=1)
    assert check.calls == len(everything)
    assert len(pool) == len(everything) - 2  # the two equivalent ones are gone, nothing replaces them


def test_mutant_pool_keeps_every_non_equivalent_mutant_when_asked_for_all() -> None:
    everything = enumerate_mutants(CLIP)
    pool = mutant_pool(CLIP, len(everything), seed=0, is_equivalent=CountingEquivalence())
    equivalent = [m for m in everything if CountingEquivalence()(m)]
    assert equivalent
    assert len(pool) == len(everything) - len(equivalent)
    assert not set(pool) & set(equivalent)


def test_mutant_pool_without_a_filter_is_the_sample() -> None:
    assert mutant_pool(RICH, 6, seed=1) == sample_mutants(RICH, 6, seed=1)
    with pytest.raises(ValueError, match="oversample"):
        mutant_pool(RICH, 6, seed=1, oversample=0)


def test_mutant_pool_cache_reloads_without_calling_the_filter(tmp_path: Path) -> None:
    check = CountingEquivalence()
    pool = mutant_pool(CLIP, 4, seed=5, is_equivalent=check, cache_dir=tmp_path / "pools")
    assert check.calls >= 4
    files = list((tmp_path / "pools").iterdir())
    assert len(files) == 1
    assert len(files[0].stem) == 64 and files[0].suffix == ".json"
    stored = json.loads(files[0].read_text())
    assert [m["source"] for m in stored["mutants"]] == [m.source for m in pool]

    again = CountingEquivalence()
    assert mutant_pool(CLIP, 4, seed=5, is_equivalent=again, cache_dir=tmp_path / "pools") == pool
    assert again.calls == 0

    other_seed = CountingEquivalence()
    mutant_pool(CLIP, 4, seed=6, is_equivalent=other_seed, cache_dir=tmp_path / "pools")
    assert other_seed.calls > 0
    # An unfiltered pool has its own key: it is never served to a caller that filters.
    mutant_pool(CLIP, 4, seed=5, cache_dir=tmp_path / "pools")
    assert len(list((tmp_path / "pools").iterdir())) == 3


def test_mutant_pool_rebuilds_an_unreadable_cache_file(tmp_path: Path) -> None:
    pool = mutant_pool(CLIP, 3, seed=2, is_equivalent=CountingEquivalence(), cache_dir=tmp_path)
    (cached,) = tmp_path.iterdir()
    cached.write_text("{not json")
    check = CountingEquivalence()
    assert mutant_pool(CLIP, 3, seed=2, is_equivalent=check, cache_dir=tmp_path) == pool
    assert check.calls > 0
    assert json.loads(cached.read_text())["mutants"]
