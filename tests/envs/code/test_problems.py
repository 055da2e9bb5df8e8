"""The bundled problem set: enough original problems, well formed, and its shipped tests are exactly
what the generators and reference solutions give (checked through the real judge, byte for byte)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from rlvr.envs.code.judge import Judge, Status
from rlvr.envs.code.problems import (
    DIFFICULTIES,
    Problem,
    build,
    load_problem_set,
    load_specs,
    read_tests_file,
)
from rlvr.envs.code.problems.build import HIDDEN_TIERS, PUBLIC_TIERS, generate_inputs, generate_tests
from rlvr.sandboxes import Sandbox

PROBLEMS = load_problem_set("core")
PROBLEMS_BY_ID = {problem.id: problem for problem in PROBLEMS}
SPECS = {spec.id: spec for spec in load_specs("core")}


def test_at_least_forty_problems_with_unique_ids_and_every_difficulty() -> None:
    assert len(PROBLEMS) >= 40
    assert len({problem.id for problem in PROBLEMS}) == len(PROBLEMS)
    counts = Counter(problem.difficulty for problem in PROBLEMS)
    assert set(counts) == set(DIFFICULTIES) and min(counts.values()) >= 5


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda problem: problem.id)
def test_problem_is_well_formed(problem: Problem) -> None:
    assert len(problem.tests) == len(HIDDEN_TIERS) and len(problem.public_tests) == len(PUBLIC_TIERS)
    assert problem.title and problem.tags and problem.source == "core"
    assert "Input" in problem.statement and "Output" in problem.statement
    for test in problem.public_tests:  # the examples are rendered into the statement
        assert test.input.rstrip() in problem.statement and test.output.rstrip() in problem.statement
    assert all(test.output.strip() for test in (*problem.tests, *problem.public_tests))
    assert len({test.input for test in (*problem.tests, *problem.public_tests)}) >= 10
    assert "python" in problem.solutions


def test_the_set_covers_the_promised_kinds_of_problem() -> None:
    tags = {tag for problem in PROBLEMS for tag in problem.tags}
    wanted = {
        "arithmetic",
        "strings",
        "sorting",
        "greedy",
        "dynamic-programming",
        "graphs",
        "bfs",
        "shortest-path",
        "simulation",
        "parsing",
        "number-theory",
        "geometry",
        "floats",
    }
    assert wanted <= tags
    assert {problem.id for problem in PROBLEMS if problem.checker == "float"} >= {
        "clock-hands",
        "polygon-area",
    }


def test_generated_inputs_are_deterministic_per_problem_and_seed() -> None:
    spec = SPECS["pair-sums"]
    assert generate_inputs(spec, 0) == generate_inputs(spec, 0)
    assert generate_inputs(spec, 0) != generate_inputs(spec, 1)
    assert generate_inputs(spec, 0) == [test.input for test in PROBLEMS_BY_ID["pair-sums"].tests]


def test_generate_tests_runs_the_reference_on_fresh_inputs() -> None:
    public, hidden = generate_tests(SPECS["digit-sum-rounds"], seed=5)
    assert len(public) == 2 and len(hidden) == 10
    for test in (*public, *hidden):
        n = test.input.strip()
        rounds = 0
        while len(n) > 1:
            n, rounds = str(sum(map(int, n))), rounds + 1
        assert test.output == f"{rounds} {n}\n"


def test_shipped_tests_equal_a_fresh_regeneration(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--check"]) == 0  # regenerates every input and output and compares the files
    assert "up to date" in capsys.readouterr().out


def test_build_writes_the_tests_file_and_check_notices_when_it_goes_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "core.tests.jsonl"
    monkeypatch.setattr(build, "tests_file_path", lambda name: target)
    monkeypatch.setattr(build, "load_specs", lambda name: [SPECS["pair-sums"]])
    assert build.main([]) == 0 and build.main(["--check"]) == 0
    assert read_tests_file(target)["pair-sums"]["hidden"] == list(PROBLEMS_BY_ID["pair-sums"].tests)
    target.write_text(target.read_text(encoding="utf-8").replace('"output": "', '"output": "9', 1))
    assert build.main(["--check"]) == 1
    assert "is stale" in capsys.readouterr().err


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda problem: problem.id)
def test_reference_passes_every_shipped_test_through_the_judge(sandbox: Sandbox, problem: Problem) -> None:
    # Byte-for-byte: the sandboxed reference must print exactly the shipped output.
    def identical(test_input: str, expected: str, actual: str) -> bool:
        return actual == expected

    tests = [*problem.public_tests, *problem.tests]
    verdict = Judge(sandbox, timeout_s=10.0, memory_mb=512).judge(
        problem.solutions["python"], "python", tests, checker=identical
    )
    assert verdict.status is Status.ACCEPTED, verdict.failure
