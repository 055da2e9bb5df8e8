"""``rlvr/CodeJudge-v0``, the multi-language code-judge env; its manual is ``CodeJudgeEnv``'s docstring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium

from rlvr.core.game import GameOverError
from rlvr.core.spaces import DEFAULT_MAX_LENGTH, UnicodeText
from rlvr.envs.code.checkers import CHECKER_NAMES
from rlvr.envs.code.extract import extract_program
from rlvr.envs.code.judge import IOTest, Judge, Status, TestFailure, Verdict
from rlvr.envs.code.problems import Problem, load_problem_set
from rlvr.sandboxes.base import Limits, Sandbox
from rlvr.sandboxes.languages import Language, find_language

ROLE = "agent"
NO_CODE = "no_code"
_SHOWN = 600
"""Characters of a public example's input/output quoted in feedback."""


def _block(text: str, limit: int = _SHOWN) -> str:
    body = text.rstrip("\n")
    if len(body) > limit:
        body = f"{body[:limit]}\n... [{len(body) - limit} more characters]"
    return f"```\n{body}\n```"


class CodeJudgeEnv(gymnasium.Env[str, str]):
    """``rlvr/CodeJudge-v0``: write a program that solves a problem, in a given language, judged by I/O.

    Task
        Each episode poses one problem (the bundled ``core`` set by default: 53 original problems,
        easy to hard) and one target language. The first observation holds the statement (input and
        output format, limits, examples), the language's I/O conventions and the answer format;
        ``info["instructions"]`` holds the same rules as a system prompt.

    Action
        Any text. The program is the content of the **last** fenced code block in it (```` ```lang ````
        ... ```` ``` ````; the info string is ignored, the episode's language is used). A reply without
        a closed, non-empty block is an invalid action: it is told why, it uses up an attempt, and it
        scores 0.

    Judging
        The program is compiled once (if the language compiles) and run on the problem's hidden tests
        in the sandbox, one process per test with stdin = the test input; the output is compared by
        the problem's checker (exact after ``rstrip`` unless the problem says otherwise). The verdict
        is accepted, wrong answer, time limit, memory limit, output limit, runtime error or compile
        error (see ``rlvr.envs.code.judge``).

    Reward
        Paid once, on the step that ends the episode, for the program of that step: 1.0 if it passed
        every hidden test; otherwise 0.0, or its hidden-test pass rate with ``partial_credit=True``,
        or ``wrong_output_bonus`` (Agnostics uses 0.2) when the first failing test ran cleanly but
        printed a wrong answer rather than crashing, timing out or failing to compile; the larger of
        the two when both options are on. Non-final steps pay 0.

    Episode end
        Terminated when a program is accepted or after ``max_attempts`` replies (default 1). Between
        attempts the observation reports the verdict and the number of hidden tests passed, never a
        hidden test's contents, and shows the program's results on the **public** examples only
        (input, expected and actual output, stderr tail) or the compiler's errors.

    Info
        ``turn``, ``player`` (``"agent"``, ``None`` once over), ``role``, ``invalid_action``,
        ``invalid_reason``, ``problem_id``, ``language``, ``verdict`` (status code of this step's
        program, e.g. ``"wrong_answer"``; ``None`` when it had none), ``passed`` and ``total`` (hidden
        tests), and
        at the end ``metrics``: ``return``, ``accepted``, ``pass_rate``, ``attempts``,
        ``invalid_answers`` and a one-hot ``verdict_<code>`` (``verdict_no_code`` when the last reply
        had no program).

    Arguments
        language: a language name (``"python"``, ``"cpp"``, any YAML in ``rlvr.sandboxes.languages``)
            or a list of names to draw one from per episode.
        problems: a bundled or public set name (``"core"``, ``"ag-mbpp-x"``, ...; see
            ``load_problem_set``) or a list of ``Problem``.
        difficulty: keep only problems of this difficulty (or these difficulties).
        max_attempts: replies allowed per episode.
        partial_credit, wrong_output_bonus: see Reward.
        sandbox: a backend name for ``make_sandbox`` (made on the first judged program and closed
            with the env) or a ``Sandbox``.
        checker: override every problem's checker (``"exact"``, ``"tokens"``, ``"float"``).
        timeout_s, memory_mb: per-test limits; default: the problem's, else the sandbox's (10 s, 512 MiB).
        run_all_tests: run every hidden test even after a failure (default: only with
            ``partial_credit``, which needs the full pass rate). Otherwise judging stops at the first
            failing test and ``pass_rate`` counts the tests not run as failed.

    ``reset(options={"problem_id": ..., "language": ...})`` picks both explicitly; otherwise they come
    from ``np_random``, so a seed fixes the episode. ``env.reference_solution`` is the problem's
    reference program in the episode's language (``None`` when it has none), for tests and oracle agents.

    Version history
        v0: first version.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(
        self,
        language: str | Sequence[str] = "python",
        problems: str | Sequence[Problem] = "core",
        *,
        difficulty: str | Sequence[str] | None = None,
        max_attempts: int = 1,
        partial_credit: bool = False,
        wrong_output_bonus: float = 0.0,
        sandbox: str | Sandbox = "local",
        checker: str | None = None,
        timeout_s: float | None = None,
        memory_mb: int | None = None,
        run_all_tests: bool | None = None,
        render_mode: str | None = None,
        max_action_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= wrong_output_bonus <= 1.0:
            raise ValueError("wrong_output_bonus must be between 0 and 1")
        if checker is not None and checker not in CHECKER_NAMES:
            raise ValueError(f"checker must be one of {', '.join(CHECKER_NAMES)}")
        names = [language] if isinstance(language, str) else list(language)
        if not names:
            raise ValueError("give at least one language")
        self.languages: tuple[Language, ...] = tuple(find_language(name) for name in names)
        pool = load_problem_set(problems) if isinstance(problems, str) else list(problems)
        if difficulty is not None:
            wanted = {difficulty} if isinstance(difficulty, str) else set(difficulty)
            pool = [problem for problem in pool if problem.difficulty in wanted]
        if not pool:
            raise ValueError("no problems to pose (check `problems` and `difficulty`)")
        self.problems: tuple[Problem, ...] = tuple(pool)
        self._by_id = {problem.id: problem for problem in self.problems}
        self.max_attempts = max_attempts
        self.partial_credit = partial_credit
        self.wrong_output_bonus = wrong_output_bonus
        self.checker = checker
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.run_all_tests = partial_credit if run_all_tests is None else run_all_tests
        self.render_mode = render_mode
        self.max_action_length = max_action_length
        self.observation_space = UnicodeText(max_length=DEFAULT_MAX_LENGTH)
        self.action_space = UnicodeText(max_length=max_action_length)
        self._sandbox_choice = sandbox
        self._judge: Judge | None = None
        self.problem: Problem | None = None
        self.language: Language = self.languages[0]
        self.last_verdict: Verdict | None = None
        """The full verdict of the last judged program on the hidden tests (timings included)."""
        self._last_observation = ""
        self._reset_episode()

    # -- properties ---------------------------------------------------------------------------------

    @property
    def judge(self) -> Judge:
        """The judge, with its sandbox made on first use."""
        if self._judge is None:
            self._judge = Judge(self._sandbox_choice)
        return self._judge

    @property
    def reference_solution(self) -> str | None:
        """The current problem's reference program in the episode's language, if it has one."""
        if self.problem is None:
            return None
        return self.problem.solutions.get(self.language.name)

    def limits(self) -> Limits:
        """The per-test limits of the current episode."""
        problem = self.problem
        base = self._sandbox_choice.default_limits if isinstance(self._sandbox_choice, Sandbox) else Limits()
        return base.with_overrides(
            timeout_s=self.timeout_s or (problem.time_limit_s if problem is not None else None),
            memory_mb=self.memory_mb or (problem.memory_mb if problem is not None else None),
        )

    # -- text ---------------------------------------------------------------------------------------

    def _answer_format(self) -> str:
        return (
            f"Answer with your complete program in a fenced code block:\n```{self.language.name}\n"
            "<your program>\n```\nIf your reply contains several code blocks, only the last one is judged."
        )

    def _instructions(self) -> str:
        assert self.problem is not None
        limits = self.limits()
        language = self.language
        attempts = (
            "You have one attempt."
            if self.max_attempts == 1
            else f"You have {self.max_attempts} attempts. After a failed one you are told the verdict "
            "and your program's results on the public examples; the hidden tests stay hidden."
        )
        comparison = {
            "exact": "Your output must match the expected output exactly, "
            "apart from whitespace at the very end.",
            "tokens": "Your output is compared token by token; spacing and line breaks do not matter.",
            "float": "Numbers in your output may differ from the expected ones by an absolute or relative "
            "error of 1e-6; everything else must match token by token.",
        }[self.checker or self.problem.checker]
        return (
            f"You are solving a programming problem in {language.display_name}. "
            f"{language.prompt_hint}\n\n{self._answer_format()}\n\n"
            f"Your program is run on hidden tests, each with a time limit of {limits.timeout_s:g} s and a "
            f"memory limit of {limits.memory_mb} MiB, and is accepted if it answers every test correctly. "
            f"{comparison} {attempts}"
        )

    def _task(self) -> str:
        assert self.problem is not None
        language = self.language
        return (
            f"# {self.problem.title}\n\n{self.problem.statement}\n\n---\n\n"
            f"Write your solution in {language.display_name}. {language.prompt_hint}\n\n"
            f"{self._answer_format()}"
        )

    def _attempts_left_text(self) -> str:
        left = self.max_attempts - self._attempts
        plural = "attempt" if left == 1 else "attempts"
        return f"You have {left} {plural} left. Reply with the complete program in a fenced code block."

    def _failure_details(self, failure: TestFailure) -> str:
        parts = [f"Input:\n{_block(failure.input)}", f"Expected output:\n{_block(failure.expected)}"]
        if failure.status is not Status.TIME_LIMIT or failure.actual:
            parts.append(f"Your output:\n{_block(failure.actual)}")
        if failure.stderr.strip():
            parts.append(f"Your program's stderr (end):\n{_block(failure.stderr)}")
        return "\n".join(parts)

    @staticmethod
    def _hidden_summary(hidden: Verdict) -> str:
        """The verdict on the hidden tests, without their contents."""
        if hidden.accepted:
            return f"accepted, all {hidden.total} hidden tests passed"
        if len(hidden.statuses) < hidden.total and hidden.failure is not None:
            return (
                f"{hidden.status.description} on hidden test {hidden.failure.index + 1} of {hidden.total} "
                "(the tests before it passed; judging stops at the first failure; hidden tests are not shown)"
            )
        return (
            f"{hidden.status.description} ({hidden.passed} of {hidden.total} hidden tests passed; "
            "hidden tests are not shown)"
        )

    def _feedback(self, hidden: Verdict, public: Verdict | None) -> str:
        if hidden.status is Status.COMPILE_ERROR:
            return f"Verdict: compile error.\n{_block(hidden.compile_output, 3000)}"
        lines = [f"Verdict: {self._hidden_summary(hidden)}."]
        if public is None:
            lines.append("This problem has no public examples to show.")
        elif public.accepted:
            lines.append(
                f"Your program passes all {public.total} public examples, but fails on hidden tests."
            )
        else:
            lines.append("Results on the public examples:")
            for index, status in enumerate(public.statuses):
                word = "passed" if status is Status.ACCEPTED else status.description
                lines.append(f"- Example {index + 1}: {word}")
            failure = public.failure
            assert failure is not None
            lines.append(f"\nExample {failure.index + 1} failed: {failure.reason}.")
            lines.append(self._failure_details(failure))
        return "\n".join(lines)

    # -- gymnasium API ------------------------------------------------------------------------------

    def _reset_episode(self) -> None:
        self._attempts = 0
        self._invalid_answers = 0
        self._turn = 0
        self._over = False
        self._final_verdict_code: str | None = None
        self._last_score = 0.0
        self.last_verdict = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        problem_index = int(self.np_random.integers(len(self.problems)))
        language_index = int(self.np_random.integers(len(self.languages)))
        if "problem_id" in options:
            try:
                self.problem = self._by_id[options["problem_id"]]
            except KeyError:
                raise ValueError(f"unknown problem_id {options['problem_id']!r}") from None
        else:
            self.problem = self.problems[problem_index]
        if "language" in options:
            self.language = find_language(options["language"])
        else:
            self.language = self.languages[language_index]
        self._reset_episode()
        self._last_observation = self._task()
        info = self._info(None)
        info["instructions"] = self._instructions()
        return self._last_observation, info

    def _info(self, invalid_reason: str | None) -> dict[str, Any]:
        assert self.problem is not None
        verdict = self.last_verdict
        info: dict[str, Any] = {
            "turn": self._turn,
            "player": None if self._over else ROLE,
            "role": ROLE,
            "invalid_action": invalid_reason is not None,
            "invalid_reason": invalid_reason,
            "problem_id": self.problem.id,
            "language": self.language.name,
            "verdict": None if verdict is None else verdict.status.value,
            "passed": 0 if verdict is None else verdict.passed,
            "total": len(self.problem.tests),
            "metrics": self._metrics() if self._over else {},
        }
        return info

    def _metrics(self) -> dict[str, float]:
        verdict = self.last_verdict
        metrics = {
            "return": self._last_score,
            "accepted": float(verdict is not None and verdict.accepted),
            "pass_rate": 0.0 if verdict is None else verdict.pass_rate,
            "attempts": float(self._attempts),
            "invalid_answers": float(self._invalid_answers),
        }
        for code in [*(status.value for status in Status), NO_CODE]:
            metrics[f"verdict_{code}"] = float(code == self._final_verdict_code)
        return metrics

    def _score(self, verdict: Verdict) -> float:
        if verdict.accepted:
            return 1.0
        score = verdict.pass_rate if self.partial_credit else 0.0
        if verdict.status is Status.WRONG_ANSWER:
            score = max(score, self.wrong_output_bonus)
        return score

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self.problem is None:
            raise GameOverError("call reset() before step()")
        if self._over:
            raise GameOverError("The episode has ended; call reset() before step().")
        self._turn += 1
        self._attempts += 1
        attempts_remain = self._attempts < self.max_attempts
        text, invalid_reason = self._coerce(action)
        extraction = extract_program(text) if invalid_reason is None else None
        if extraction is not None and extraction.code is None:
            invalid_reason = extraction.problem
        if invalid_reason is not None:
            self.last_verdict = None
            self._invalid_answers += 1
            self._over = not attempts_remain
            self._final_verdict_code = NO_CODE
            self._last_score = 0.0
            if self._over:
                feedback = f"{invalid_reason} No attempts left."
            else:
                feedback = f"{invalid_reason}\n\n{self._attempts_left_text()}"
            self._last_observation = feedback
            return feedback, 0.0, self._over, False, self._info(invalid_reason)

        assert extraction is not None and extraction.code is not None
        hidden, public = self._judge_program(extraction.code, with_public=attempts_remain)
        self.last_verdict = hidden
        self._final_verdict_code = hidden.status.value
        self._last_score = self._score(hidden)
        self._over = hidden.accepted or not attempts_remain
        if hidden.accepted:
            feedback = f"Accepted: your program passed all {hidden.total} hidden tests."
        elif self._over:
            feedback = f"Verdict: {self._hidden_summary(hidden)}. No attempts left."
        else:
            feedback = f"{self._feedback(hidden, public)}\n\n{self._attempts_left_text()}"
        self._last_observation = feedback
        reward = self._last_score if self._over else 0.0
        return feedback, reward, self._over, False, self._info(None)

    def _coerce(self, action: Any) -> tuple[str, str | None]:
        if isinstance(action, bytes):
            action = action.decode("utf-8", errors="replace")
        if not isinstance(action, str):
            return "", f"The action must be text, got {type(action).__name__}."
        if len(action) > self.max_action_length:
            return "", f"The reply is longer than {self.max_action_length} characters."
        try:
            action.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates cannot be written to a source file
            action = action.encode("utf-8", errors="replace").decode("utf-8")
        return action, None

    def _judge_program(self, code: str, *, with_public: bool) -> tuple[Verdict, Verdict | None]:
        assert self.problem is not None
        problem = self.problem
        suites: list[Sequence[IOTest]] = [problem.tests]
        if with_public and problem.public_tests:
            suites.append(problem.public_tests)
        limits = self.limits()
        verdicts = self.judge.judge_suites(
            code,
            self.language,
            suites,
            checker=self.checker or problem.checker,
            stop_at_first_failure=not self.run_all_tests,
            timeout_s=limits.timeout_s,
            memory_mb=limits.memory_mb,
        )
        return verdicts[0], (verdicts[1] if len(verdicts) > 1 else None)

    def render(self) -> str | None:
        if self.render_mode == "human":
            print(self._last_observation)
            return None
        return self._last_observation

    def close(self) -> None:
        if self._judge is not None:
            self._judge.close()
            self._judge = None
