"""The output checkers, on cases worked by hand (no sandbox: they are pure functions)."""

from __future__ import annotations

import pytest

from rlvr.envs.code.checkers import (
    Check,
    CheckerError,
    builtin_checker,
    check_exact,
    check_floats,
    check_tokens,
    interpret_checker_run,
)
from rlvr.sandboxes.base import ExecResult


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ("3\n", "3\n"),
        ("3\n", "3"),  # a missing final newline
        ("3", "3\n\n\n"),  # extra blank lines at the end
        ("1 2\n3\n", "1 2\n3   \n"),  # trailing spaces on the last line only
        ("", "\n"),
    ],
)
def test_exact_ignores_only_whitespace_at_the_very_end(expected: str, actual: str) -> None:
    assert check_exact(expected, actual).ok


@pytest.mark.parametrize(
    ("expected", "actual", "reason"),
    [
        ("3\n", "4\n", "line 1: expected '3', got '4'"),
        ("1 2\n3\n", "1 2 \n3\n", "line 1 differs in trailing whitespace"),
        ("1\n2\n", "1\n\n2\n", "line 2: expected '2', got ''"),
        ("1\n2\n", "1\n", "output has 1 lines, expected 2"),
        ("YES\n", "yes\n", "line 1: expected 'YES', got 'yes'"),
        ("3\n", " 3\n", "line 1: expected '3', got ' 3'"),
    ],
)
def test_exact_rejects_every_other_difference_and_says_where(expected: str, actual: str, reason: str) -> None:
    assert check_exact(expected, actual) == Check(False, reason)


def test_tokens_ignore_spacing_and_line_breaks_but_not_order() -> None:
    assert check_tokens("1 2 3\n", "1\n2   3")
    assert check_tokens("a  b\n\nc", "  a b c  ")
    assert check_tokens("1 2\n", "2 1\n") == Check(False, "token 1: expected '1', got '2'")
    assert check_tokens("1 2\n", "1 2 3\n") == Check(False, "output has 3 tokens, expected 2")
    assert not check_tokens("1.0", "1")  # tokens compare as text


def test_float_tolerance_is_absolute_or_relative_one_in_a_million() -> None:
    assert check_floats("0.5\n", "0.5000009")  # absolute error 9e-7
    assert not check_floats("0.5\n", "0.5000011")  # absolute error 1.1e-6 and relative 2.2e-6
    assert check_floats("1000000\n", "1000000.9")  # relative error 9e-7
    assert not check_floats("1000000\n", "1000001.1")  # relative error 1.1e-6
    assert check_floats("0\n", "-0.0000005")
    assert check_floats("90.0\n", "90")  # an integer token against a float token
    assert check_floats("1e-3\n", "0.001000000")


def test_float_checker_compares_non_numbers_as_text() -> None:
    assert check_floats("YES 1.5\n", "YES 1.5000001")
    assert not check_floats("YES 1.5\n", "yes 1.5")
    assert not check_floats("nan\n", "0")  # nan and inf are words, not numbers
    assert check_floats("inf\n", "inf")
    assert not check_floats("1000\n", "1_000")  # Python's float() would accept it; the checker does not
    assert check_floats("1.5 2.5\n", "1.5") == Check(False, "output has 1 tokens, expected 2")
    reason = check_floats("1.5\n", "1.6").reason
    assert reason.startswith("token 1: expected '1.5', got '1.6'") and "difference 0.1" in reason


def test_builtin_checkers_by_name() -> None:
    assert builtin_checker("exact") is check_exact
    assert builtin_checker("tokens") is check_tokens
    assert builtin_checker("float") is check_floats
    with pytest.raises(ValueError, match="unknown checker 'fuzzy'"):
        builtin_checker("fuzzy")


def test_checker_program_exit_status_decides_and_a_crash_is_the_checkers_fault() -> None:
    assert interpret_checker_run(ExecResult("", "", 0)).ok
    assert interpret_checker_run(ExecResult("too small\n", "", 1)) == Check(False, "too small")
    assert interpret_checker_run(ExecResult("", "", 2)) == Check(
        False, "rejected by the checker (exit status 2)"
    )
    with pytest.raises(CheckerError, match="timed out"):
        interpret_checker_run(ExecResult("", "", None, signal=9, timed_out=True))
    with pytest.raises(CheckerError, match="signal 11"):
        interpret_checker_run(ExecResult("", "", None, signal=11))
