"""Output checkers: does a program's output answer a test? Pure functions, no sandbox needed.

Three built-in comparisons, chosen by name (``Judge(checker=...)``, ``Problem.checker``):

``"exact"`` (the default; Agnostics and MultiPL-E judge this way)
    ``actual.rstrip() == expected.rstrip()``: trailing whitespace at the very end of the output
    (the final newline, or its absence) is ignored; everything else, including spaces at the end
    of inner lines and blank lines in between, must match byte for byte.
``"tokens"``
    The outputs split on any run of whitespace must give the same tokens: line breaks, indentation
    and repeated spaces do not matter, the order of the tokens does.
``"float"``
    As ``"tokens"``, but a pair of tokens that both read as decimal numbers (``-12``, ``3.50``,
    ``1e-9``; not ``nan``/``inf``, not ``1_000``) is equal when
    ``|actual - expected| <= abs_tol`` or ``|actual - expected| <= rel_tol * |expected|``
    (default 1e-6 each: "absolute or relative error at most 1e-6"); other tokens compare as text.

Anything else can be judged by a Python callable ``(input, expected, actual) -> bool | Check`` (for
trusted, in-process checks) or by a ``CheckerProgram``: a program in any language run in its own
sandbox workspace as ``<execute command> input.txt expected.txt actual.txt``; exit status 0 accepts,
any other exit status rejects (its output, first lines, becomes the reason), and a checker that
crashes on a signal, runs out of time or memory, or fails to compile raises ``CheckerError``:
a broken checker is the problem setter's fault, never a wrong answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from rlvr.sandboxes.base import ExecResult

CheckerName = Literal["exact", "tokens", "float"]
CHECKER_NAMES: tuple[str, ...] = ("exact", "tokens", "float")

DEFAULT_ABS_TOL = 1e-6
DEFAULT_REL_TOL = 1e-6

CHECKER_INPUT_FILE = "input.txt"
CHECKER_EXPECTED_FILE = "expected.txt"
CHECKER_ACTUAL_FILE = "actual.txt"

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_SHOWN = 40
"""Characters of a differing token or line quoted in a reason."""


class CheckerError(RuntimeError):
    """The checker itself failed (a checker program that does not compile, crashes or hangs)."""


@dataclass(frozen=True)
class Check:
    """The outcome of comparing one output: ``ok``, and when not, a short reason for the feedback."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


ACCEPT = Check(True)


@dataclass(frozen=True)
class CheckerProgram:
    """A custom checker: ``source`` in ``language``, run with the three files named in its argv.

    ``<execute> input.txt expected.txt actual.txt``; exit 0 = accept, other exit statuses = reject.
    """

    source: str
    language: str = "python"


CheckerFunction = Callable[[str, str, str], bool | Check]
"""``(input, expected, actual) -> bool | Check``: a trusted, in-process checker."""

Checker = str | CheckerFunction | CheckerProgram


def _quote(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def check_exact(expected: str, actual: str) -> Check:
    """``actual.rstrip() == expected.rstrip()``; the reason names the first differing line."""
    want, got = expected.rstrip(), actual.rstrip()
    if want == got:
        return ACCEPT
    want_lines, got_lines = want.split("\n"), got.split("\n")
    for number, (want_line, got_line) in enumerate(zip(want_lines, got_lines, strict=False), start=1):
        if want_line != got_line:
            if want_line.rstrip() == got_line.rstrip():
                return Check(False, f"line {number} differs in trailing whitespace")
            return Check(False, f"line {number}: expected {_quote(want_line)}, got {_quote(got_line)}")
    return Check(False, f"output has {len(got_lines)} lines, expected {len(want_lines)}")


def _token_count_mismatch(want: list[str], got: list[str]) -> Check:
    return Check(False, f"output has {len(got)} tokens, expected {len(want)}")


def check_tokens(expected: str, actual: str) -> Check:
    """The same whitespace-separated tokens in the same order."""
    want, got = expected.split(), actual.split()
    for index, (want_token, got_token) in enumerate(zip(want, got, strict=False), start=1):
        if want_token != got_token:
            return Check(False, f"token {index}: expected {_quote(want_token)}, got {_quote(got_token)}")
    if len(want) != len(got):
        return _token_count_mismatch(want, got)
    return ACCEPT


def numbers_close(
    expected: float, actual: float, abs_tol: float = DEFAULT_ABS_TOL, rel_tol: float = DEFAULT_REL_TOL
) -> bool:
    """``|actual - expected| <= abs_tol`` or ``<= rel_tol * |expected|`` (finite values)."""
    difference = abs(actual - expected)
    return difference <= abs_tol or difference <= rel_tol * abs(expected)


def _as_number(token: str) -> float | None:
    if not _NUMBER.fullmatch(token):
        return None
    value = float(token)
    return value if math.isfinite(value) else None


def check_floats(
    expected: str, actual: str, abs_tol: float = DEFAULT_ABS_TOL, rel_tol: float = DEFAULT_REL_TOL
) -> Check:
    """Tokens, with numeric tokens compared within ``abs_tol`` / ``rel_tol`` (see the module doc)."""
    want, got = expected.split(), actual.split()
    for index, (want_token, got_token) in enumerate(zip(want, got, strict=False), start=1):
        if want_token == got_token:
            continue
        want_number, got_number = _as_number(want_token), _as_number(got_token)
        if want_number is None or got_number is None:
            return Check(False, f"token {index}: expected {_quote(want_token)}, got {_quote(got_token)}")
        if not numbers_close(want_number, got_number, abs_tol, rel_tol):
            return Check(
                False,
                f"token {index}: expected {_quote(want_token)}, got {_quote(got_token)} "
                f"(difference {abs(got_number - want_number):.3g})",
            )
    if len(want) != len(got):
        return _token_count_mismatch(want, got)
    return ACCEPT


_BUILTIN: dict[str, Callable[[str, str], Check]] = {
    "exact": check_exact,
    "tokens": check_tokens,
    "float": check_floats,
}


def builtin_checker(name: str) -> Callable[[str, str], Check]:
    """The comparison called ``name`` (``"exact"``, ``"tokens"``, ``"float"``): ``(expected, actual)``."""
    try:
        return _BUILTIN[name]
    except KeyError:
        raise ValueError(f"unknown checker {name!r}; choose one of {', '.join(CHECKER_NAMES)}") from None


def validate_checker(checker: Checker) -> None:
    """Raise ``ValueError``/``TypeError`` early for a checker the judge could not use."""
    if isinstance(checker, str):
        builtin_checker(checker)
    elif not (isinstance(checker, CheckerProgram) or callable(checker)):
        raise TypeError(f"checker must be a name, a callable or a CheckerProgram, got {checker!r}")


def run_function_checker(function: CheckerFunction, test_input: str, expected: str, actual: str) -> Check:
    """Call a Python checker and normalise its answer to a ``Check``."""
    outcome = function(test_input, expected, actual)
    if isinstance(outcome, Check):
        return outcome
    return ACCEPT if outcome else Check(False, "rejected by the checker")


def checker_program_files(test_input: str, expected: str, actual: str) -> dict[str, str | bytes]:
    """The files a checker program reads, by the names passed in its argv."""
    return {CHECKER_INPUT_FILE: test_input, CHECKER_EXPECTED_FILE: expected, CHECKER_ACTUAL_FILE: actual}


def checker_program_arguments() -> str:
    return f" {CHECKER_INPUT_FILE} {CHECKER_EXPECTED_FILE} {CHECKER_ACTUAL_FILE}"


def interpret_checker_run(result: ExecResult) -> Check:
    """Exit 0 accepts, another exit status rejects; a crash, hang or flood is a ``CheckerError``."""
    if result.timed_out or result.memory_exceeded or result.output_truncated or result.exit_code is None:
        what = (
            "timed out"
            if result.timed_out
            else "ran out of memory"
            if result.memory_exceeded
            else "flooded its output"
            if result.output_truncated
            else f"was killed by signal {result.signal}"
        )
        raise CheckerError(f"the checker program {what}: {result.stderr[-500:]}")
    if result.exit_code == 0:
        return ACCEPT
    message = " ".join((result.stdout + "\n" + result.stderr).split())[:200]
    return Check(False, message or f"rejected by the checker (exit status {result.exit_code})")
