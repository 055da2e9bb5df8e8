"""Programming problems judged by I/O: the bundled sets, and the ``Problem`` every loader returns.

A ``Problem`` is a statement plus tests: ``tests`` are the hidden tests that decide the reward,
``public_tests`` the examples shown in the statement (the only tests whose contents feedback may
reveal). The bundled sets are written for this project; each lives in ``data/`` as two files:

``<set>.yaml`` (written by hand)
    one entry per problem: ``id``, ``title``, ``difficulty`` (easy/medium/hard), ``tags``,
    ``checker``, ``statement`` (without examples: they are rendered from the public tests),
    ``reference`` (a Python 3 solution) and ``generator``: Python source defining
    ``generate(rng, tier) -> str``, an input drawn from ``rng`` (a ``random.Random``) for the
    tier ``"example"`` (small and readable), ``"edge"`` (extremes), ``"small"`` or ``"large"``.
``<set>.tests.jsonl`` (generated)
    one line per problem, ``{"id", "seed", "public": [{"input", "output"}...], "hidden": [...]}``:
    the generator's inputs with the reference's outputs. ``python -m rlvr.envs.code.problems.build``
    writes it, ``--check`` verifies that the shipped file equals a fresh regeneration.

Public data sets in the same shape (Ag-MBPP-X, Ag-LiveCodeBench-X, TACO, CodeContests) load through
``rlvr.envs.code.problems.public`` when ``datasets`` and a network are available.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from rlvr.envs.code.checkers import CHECKER_NAMES
from rlvr.envs.code.judge import IOTest

DATA_DIR = Path(__file__).resolve().parent / "data"
DIFFICULTIES = ("easy", "medium", "hard")
BUNDLED_SETS = ("core",)
"""Names of the problem sets shipped in ``data/``."""


@dataclass(frozen=True)
class Problem:
    """One I/O problem, ready to pose and to judge."""

    id: str
    title: str
    statement: str
    """Everything the solver is told: the task, input and output formats, limits, examples."""
    tests: tuple[IOTest, ...]
    """Hidden tests: a submission is accepted when it passes all of them."""
    public_tests: tuple[IOTest, ...] = ()
    """The examples from the statement; feedback shows these and no others."""
    difficulty: str = "unknown"
    checker: str = "exact"
    solutions: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Reference programs by language name (``{"python": "..."}``), for tests and oracle agents."""
    tags: tuple[str, ...] = ()
    source: str = "rlvr"
    """The set the problem comes from (``"core"``, ``"ag-mbpp-x"``, ``"taco"``...)."""
    time_limit_s: float | None = None
    """Per-test limit the problem asks for; ``None`` leaves the judge's."""
    memory_mb: int | None = None

    def __post_init__(self) -> None:
        if not self.tests:
            raise ValueError(f"problem {self.id!r} has no tests")
        if self.checker not in CHECKER_NAMES:
            raise ValueError(f"problem {self.id!r}: unknown checker {self.checker!r}")


@dataclass(frozen=True)
class ProblemSpec:
    """The authored form of a bundled problem: what ``data/<set>.yaml`` holds."""

    id: str
    title: str
    difficulty: str
    statement: str
    reference: str
    generator: str
    checker: str = "exact"
    tags: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "") -> ProblemSpec:
        known = {"id", "title", "difficulty", "statement", "reference", "generator", "checker", "tags"}
        unknown = set(data) - known
        missing = {"id", "title", "difficulty", "statement", "reference", "generator"} - set(data)
        label = f"{where}: problem {data.get('id', '?')!r}"
        if unknown or missing:
            raise ValueError(f"{label}: unknown fields {sorted(unknown)}, missing {sorted(missing)}")
        if data["difficulty"] not in DIFFICULTIES:
            raise ValueError(f"{label}: difficulty must be one of {DIFFICULTIES}")
        if data.get("checker", "exact") not in CHECKER_NAMES:
            raise ValueError(f"{label}: checker must be one of {CHECKER_NAMES}")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            difficulty=str(data["difficulty"]),
            statement=str(data["statement"]).strip(),
            reference=str(data["reference"]),
            generator=str(data["generator"]),
            checker=str(data.get("checker", "exact")),
            tags=tuple(str(tag) for tag in data.get("tags", ())),
        )

    def generator_function(self) -> Callable[[Any, str], str]:
        """``generate(rng, tier)`` compiled from ``generator`` (trusted project code)."""
        namespace: dict[str, Any] = {"__name__": f"generator_{self.id.replace('-', '_')}"}
        exec(compile(self.generator, f"<generator {self.id}>", "exec"), namespace)
        function = namespace.get("generate")
        if not callable(function):
            raise ValueError(f"problem {self.id!r}: the generator defines no generate(rng, tier)")
        return function


def render_examples(tests: Sequence[IOTest]) -> str:
    """The statement's examples section, from the public tests."""
    parts = []
    for number, test in enumerate(tests, start=1):
        parts.append(
            f"Example {number}\n\nInput:\n```\n{test.input.rstrip()}\n```\n\n"
            f"Output:\n```\n{test.output.rstrip()}\n```"
        )
    return "\n\n".join(parts)


def build_problem(
    spec: ProblemSpec, public: Sequence[IOTest], hidden: Sequence[IOTest], source: str
) -> Problem:
    statement = spec.statement
    if public:
        statement = f"{statement}\n\n{render_examples(public)}"
    return Problem(
        id=spec.id,
        title=spec.title,
        statement=statement,
        tests=tuple(hidden),
        public_tests=tuple(public),
        difficulty=spec.difficulty,
        checker=spec.checker,
        solutions=MappingProxyType({"python": spec.reference}),
        tags=spec.tags,
        source=source,
    )


def spec_file_path(name: str) -> Path:
    return DATA_DIR / f"{name}.yaml"


def tests_file_path(name: str) -> Path:
    return DATA_DIR / f"{name}.tests.jsonl"


def load_specs(name: str = "core") -> list[ProblemSpec]:
    """The authored problems of the bundled set ``name``, in file order."""
    path = spec_file_path(name)
    if not path.is_file():
        raise ValueError(f"no bundled problem set {name!r}; bundled sets: {', '.join(BUNDLED_SETS)}")
    entries = yaml.load(
        path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    )
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of problems")
    specs = [ProblemSpec.from_dict(entry, str(path)) for entry in entries]
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise ValueError(f"{path}: problem id {spec.id!r} appears twice")
        seen.add(spec.id)
    return specs


def read_tests_file(path: Path) -> dict[str, dict[str, Any]]:
    """``{problem id: {"seed", "public": [IOTest], "hidden": [IOTest]}}`` from a tests JSONL file."""
    records: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                record = json.loads(line)
                records[record["id"]] = {
                    "seed": record["seed"],
                    "public": [IOTest.from_dict(test) for test in record["public"]],
                    "hidden": [IOTest.from_dict(test) for test in record["hidden"]],
                }
    return records


@functools.lru_cache(maxsize=8)
def _load_set(name: str) -> tuple[Problem, ...]:
    specs = load_specs(name)
    path = tests_file_path(name)
    if not path.is_file():
        raise ValueError(f"{path} is missing: run python -m rlvr.envs.code.problems.build")
    records = read_tests_file(path)
    problems = []
    for spec in specs:
        record = records.get(spec.id)
        if record is None:
            raise ValueError(
                f"{path} has no tests for {spec.id!r}: run python -m rlvr.envs.code.problems.build"
            )
        problems.append(build_problem(spec, record["public"], record["hidden"], name))
    return tuple(problems)


def load_problem_set(name: str = "core") -> list[Problem]:
    """A bundled set (``"core"``) or, by name, a public one (see ``public.PUBLIC_SETS``)."""
    if name in BUNDLED_SETS:
        return list(_load_set(name))
    from rlvr.envs.code.problems.public import PUBLIC_SETS

    if name in PUBLIC_SETS:
        return PUBLIC_SETS[name]()
    known = ", ".join([*BUNDLED_SETS, *PUBLIC_SETS])
    raise ValueError(f"unknown problem set {name!r}; known sets: {known}")


__all__ = [
    "BUNDLED_SETS",
    "DIFFICULTIES",
    "Problem",
    "ProblemSpec",
    "build_problem",
    "load_problem_set",
    "load_specs",
    "render_examples",
]
