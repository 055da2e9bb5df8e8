r"""UTRL's and Repair-R1's rewards as pure functions of parsed tests and execution outcomes.

Nothing here runs code: the envs execute programs in a sandbox and hand the outcomes in, so every
reward can be checked by hand on small tables (see the tests) and both seats of the adversary env
score from the same executions.

Test format (UTRL): reasoning, then one fenced block per test::

    ```
    Input:
    <stdin>

    Output:
    <expected stdout>
    ```

A test passes iff the program exits 0 with empty stderr and non-empty stdout, and
``stdout.strip() == expected.strip()`` (SPECS: UTRL). All weights and counts are arguments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)
TEST_BODY = re.compile(r"^\s*Input:[ \t]*\n(?P<input>.*?)\n\s*Output:[ \t]*\n?(?P<output>.*)$", re.DOTALL)


@dataclass(frozen=True)
class UnitTest:
    stdin: str
    expected: str

    @property
    def key(self) -> tuple[str, str]:
        """Identity for de-duplication: a test repeated with different trailing space is the same test."""
        return (self.stdin.strip(), self.expected.strip())


@dataclass(frozen=True)
class ParsedTests:
    tests: list[UnitTest]
    """Well-formed tests in the order written, duplicates removed."""
    blocks: int
    """Fenced blocks found (well formed or not)."""
    malformed: int
    duplicates: int

    @property
    def well_formed(self) -> bool:
        """UTRL's format term: at least one test, and every fenced block a well-formed test."""
        return self.blocks > 0 and self.malformed == 0


def parse_tests(text: str) -> ParsedTests:
    """Every fenced ``Input:``/``Output:`` block of ``text``; other fenced blocks count as malformed, so
    the format term punishes a reply that mixes code in."""
    tests: list[UnitTest] = []
    seen: set[tuple[str, str]] = set()
    blocks = malformed = duplicates = 0
    for match in FENCE.finditer(text):
        blocks += 1
        body = TEST_BODY.match(match.group(1))
        if body is None or not body.group("output").strip():
            malformed += 1
            continue
        test = UnitTest(
            stdin=body.group("input").strip("\n") + "\n", expected=body.group("output").strip("\n")
        )
        if test.key in seen:
            duplicates += 1
            continue
        seen.add(test.key)
        tests.append(test)
    return ParsedTests(tests=tests, blocks=blocks, malformed=malformed, duplicates=duplicates)


def output_matches(stdout: str, stderr: str, exit_code: int | None, expected: str) -> bool:
    """UTRL's pass rule; a crash, a warning on stderr or silence is a failure even if the text fits."""
    return (
        exit_code == 0 and not stderr.strip() and bool(stdout.strip()) and stdout.strip() == expected.strip()
    )


@dataclass(frozen=True)
class GeneratedTestsScore:
    reward: float
    discrimination: float
    """Fraction of candidates that fail at least one valid test."""
    validity: float
    """Clipped validity: valid tests / max(target, unique tests)."""
    valid_tests: int
    candidates_killed: int
    well_formed: bool


def generated_tests_reward(
    reference_passes: Sequence[bool],
    candidate_passes: Sequence[Sequence[bool]],
    *,
    unique_tests: int,
    well_formed: bool,
    target_tests: int = 12,
    format_weight: float = 0.1,
    discrimination_weight: float = 0.85,
    validity_weight: float = 0.05,
) -> GeneratedTestsScore:
    """UTRL's test-generator reward.

    ``reference_passes[t]``: the reference solution passes test t (the test is *valid*).
    ``candidate_passes[m][t]``: candidate m passes test t. A candidate is killed when it fails a valid
    test; invalid tests cannot kill (a wrong expected output fails every program, faulty or not).
    Clipped validity divides by max(target, unique tests), so padding past ``target_tests`` with
    invalid tests lowers it and writing fewer than the target cannot raise it.
    """
    valid = [t for t, passed in enumerate(reference_passes) if passed]
    for row in candidate_passes:
        if len(row) != len(reference_passes):
            raise ValueError("every candidate needs one outcome per test")
    killed = sum(1 for row in candidate_passes if any(not row[t] for t in valid)) if valid else 0
    discrimination = killed / len(candidate_passes) if candidate_passes and valid else 0.0
    validity = len(valid) / max(target_tests, unique_tests) if max(target_tests, unique_tests) else 0.0
    reward = (
        format_weight * float(well_formed)
        + discrimination_weight * discrimination
        + validity_weight * validity
    )
    return GeneratedTestsScore(reward, discrimination, validity, len(valid), killed, well_formed)


def coder_reward(
    passes_on_valid_tests: Sequence[bool],
    *,
    well_formed: bool,
    pass_weight: float = 0.9,
    format_weight: float = 0.1,
) -> float:
    """UTRL's code-generator reward on tests already filtered to those the reference passes; with no
    valid test there is nothing to pass and only the format term counts."""
    rate = sum(passes_on_valid_tests) / len(passes_on_valid_tests) if passes_on_valid_tests else 0.0
    return pass_weight * rate + format_weight * float(well_formed)


def repair_test_reward(reference_passes: Sequence[bool], buggy_passes: Sequence[bool]) -> float:
    """Repair-R1: mean over tests of [reference passes] * [buggy code fails]; a test that fails the
    reference too earns nothing, however loudly it fails the bug."""
    if len(reference_passes) != len(buggy_passes):
        raise ValueError("one outcome per test for each program")
    if not reference_passes:
        return 0.0
    hits = sum(1 for ref, bug in zip(reference_passes, buggy_passes, strict=True) if ref and not bug)
    return hits / len(reference_passes)


def best_of_n(generated_scores: Sequence[float], true_scores: Sequence[float]) -> float:
    """UTRL's best-of-N metric: select the candidate the generated tests score highest and report its
    ground-truth score. Ties are broken at random, so this is the expectation: the mean ground-truth
    score of the tied best (a fixed tie-break would reward candidate order, not the tests)."""
    if len(generated_scores) != len(true_scores) or not generated_scores:
        raise ValueError("need one generated and one ground-truth score per candidate, at least one")
    top = max(generated_scores)
    tied = [float(true) for gen, true in zip(generated_scores, true_scores, strict=True) if gen == top]
    return sum(tied) / len(tied)


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda k: values[k])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1  # ties share their average rank
        start = end + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho with average ranks for ties (UTRL's fidelity: per-candidate scores under the
    generated vs the ground-truth tests). NaN when either side is constant: no ranking to agree with."""
    if len(x) != len(y) or len(x) < 2:
        raise ValueError("need two equally long sequences of at least two scores")
    rx, ry = _ranks(x), _ranks(y)
    mean_x, mean_y = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mean_x) * (b - mean_y) for a, b in zip(rx, ry, strict=True))
    var_x = sum((a - mean_x) ** 2 for a in rx)
    var_y = sum((b - mean_y) ** 2 for b in ry)
    if var_x == 0 or var_y == 0:
        return float("nan")
    return cov / (var_x * var_y) ** 0.5
