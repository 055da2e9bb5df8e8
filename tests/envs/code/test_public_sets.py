"""Loaders for public problem sets: the offline error path, and row conversion on inline rows
(no network: nothing here downloads)."""

from __future__ import annotations

import base64
import json
import pickle
import sys
import types
import zlib

import pytest

from rlvr.envs.code.judge import IOTest
from rlvr.envs.code.problems import load_problem_set
from rlvr.envs.code.problems.public import (
    PUBLIC_SETS,
    DatasetUnavailable,
    decode_lcb_tests,
    load_ag_mbpp_x,
    load_code_contests,
    problem_from_ag_livecodebench_x,
    problem_from_ag_mbpp_x,
    problem_from_code_contests,
    problem_from_taco,
)


@pytest.mark.parametrize("name", sorted(PUBLIC_SETS))
def test_without_the_datasets_package_every_loader_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(DatasetUnavailable, match=r"needs network and `pip install datasets`"):
        load_problem_set(name)


def test_without_a_network_the_loader_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    offline = types.ModuleType("datasets")

    def load_dataset(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Couldn't reach the Hugging Face Hub")

    offline.load_dataset = load_dataset  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "datasets", offline)
    with pytest.raises(DatasetUnavailable, match=r"needs network.*ConnectionError: Couldn't reach"):
        load_code_contests()


def test_unknown_set_names_are_listed() -> None:
    with pytest.raises(ValueError, match="known sets: core, ag-mbpp-x"):
        load_problem_set("nope")
    with pytest.raises(ValueError, match="split must be one of"):
        load_ag_mbpp_x("validation")


def test_ag_mbpp_x_row_becomes_a_problem_with_its_first_test_as_the_example() -> None:
    row = {
        "original_task_id": 17,
        "description": "Print the perimeter of a square.",
        "input_format": "One integer a, the side.",
        "output_format": "One integer.",
        "tests": [{"input": "5\n", "output": "20\n"}, {"input": "10\n", "output": "40\n"}],
    }
    problem = problem_from_ag_mbpp_x(row)
    assert problem is not None and problem.id == "ag-mbpp-x/17" and problem.checker == "exact"
    assert problem.tests == (IOTest("5\n", "20\n"), IOTest("10\n", "40\n"))
    assert problem.public_tests == (IOTest("5\n", "20\n"),)
    assert "Input\nOne integer a, the side." in problem.statement and "```\n20\n```" in problem.statement
    assert problem_from_ag_mbpp_x({**row, "tests": []}) is None


def _lcb_blob(payload: object) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(payload))).decode("ascii")


def test_livecodebench_tests_are_decoded_without_trusting_the_pickle() -> None:
    tests = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]
    row = {
        "question_id": "abc301_a",
        "question_content": "Add two numbers.",
        "private_test_cases": _lcb_blob(json.dumps(tests)),
    }
    problem = problem_from_ag_livecodebench_x(row)
    assert problem is not None and problem.tests == (IOTest("1 2\n", "3\n"),) and problem.public_tests == ()
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        decode_lcb_tests(_lcb_blob(IOTest("x", "y")))  # any object that needs a class is refused


def test_taco_keeps_stdin_rows_and_skips_call_based_ones() -> None:
    row = {
        "question": "Read n and print n squared.",
        "input_output": json.dumps({"inputs": ["3\n", ["4"]], "outputs": ["9\n", ["16"]]}),
        "solutions": json.dumps(["print(int(input()) ** 2)"]),
        "difficulty": "MEDIUM_HARD",
        "tags": "['Math']",
        "name": "square",
    }
    problem = problem_from_taco(row, index=4, split="train")
    assert problem is not None and problem.id == "taco/train/4" and problem.difficulty == "hard"
    assert problem.tests == (IOTest("3\n", "9\n"), IOTest("4\n", "16\n")) and problem.checker == "tokens"
    assert problem.solutions == {"python": "print(int(input()) ** 2)"}
    call_based = {**row, "input_output": json.dumps({"fn_name": "square", "inputs": [[3]], "outputs": [9]})}
    assert problem_from_taco(call_based) is None


def test_code_contests_row_uses_private_and_generated_tests_as_hidden() -> None:
    row = {
        "name": "1500_A. Doubling",
        "description": "Print twice the input.",
        "public_tests": {"input": ["1\n"], "output": ["2\n"]},
        "private_tests": {"input": ["2\n"], "output": ["4\n"]},
        "generated_tests": {"input": ["3\n", "4\n"], "output": ["6\n", "8\n"]},
        "difficulty": 7,
        "cf_rating": 1700,
        "cf_tags": ["math"],
        "solutions": {"language": [2, 3], "solution": ["int main(){}", "print(2 * int(input()))"]},
        "time_limit": {"seconds": 2, "nanos": 500_000_000},
        "memory_limit_bytes": 256 * 1024 * 1024,
    }
    problem = problem_from_code_contests(row, max_tests=2)
    assert problem is not None
    assert problem.tests == (IOTest("2\n", "4\n"), IOTest("3\n", "6\n"))
    assert problem.public_tests == (IOTest("1\n", "2\n"),)
    assert (problem.difficulty, problem.time_limit_s, problem.memory_mb) == ("medium", 2.5, 256)
    assert problem.solutions == {"python": "print(2 * int(input()))"} and problem.tags == ("math",)
