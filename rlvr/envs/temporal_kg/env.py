"""``rlvr/TemporalKGQA-v0``, multi-turn temporal KG question answering; its manual is ``TemporalKGQAEnv``'s
docstring.

The turn loop (tools, answer, invalid replies, the answer-only last turn) is ``rlvr.envs.tool_use``'s,
shared with ``rlvr/WebSearch-v0``; ``KGToolEnv`` adds the KG tool box, shared with
``rlvr/TKGForecast-v0``, so the envs cannot drift apart in protocol; each env only says what it asks
and how it scores.
"""

from __future__ import annotations

import abc
import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlvr.core.parsing import first_tagged_call
from rlvr.envs.search.answers import normalize_answer
from rlvr.envs.temporal_kg.questions import OPERATORS, generate_questions
from rlvr.envs.temporal_kg.questions_io import KGQuestion
from rlvr.envs.temporal_kg.store import TKGStore
from rlvr.envs.temporal_kg.timeutil import same_time
from rlvr.envs.temporal_kg.tools import ToolBox
from rlvr.envs.tool_use import StepResult, ToolCall, ToolUseEnv, pick_question

MAX_LISTED = 100
"""Answers past this many in a ranked list are ignored (no metric looks that far)."""

_CALLS = ("tool", "answer")
_PROTOCOL_TAGS = (*_CALLS, "think", "result")
_NUMBERING = re.compile(r"^\s*(?:\(?\d{1,3}[.):]|[-*•])\s+")


@dataclass(frozen=True)
class Action:
    """The call in one reply: the first complete ``<tool>`` or ``<answer>`` tag outside ``<think>``."""

    kind: str
    """``"tool"`` or ``"answer"``."""
    content: str
    """The tag's content, stripped."""
    well_formed: bool
    """The reply was nothing but this one tag (after removing ``<think>`` blocks and whitespace)."""


def parse_action(reply: str) -> Action | None:
    """The first complete ``<tool>``/``<answer>`` tag (what a stop sequence would have cut at), or None."""
    found = first_tagged_call(reply, _CALLS, _PROTOCOL_TAGS)
    return None if found is None else Action(*found)


def parse_answer_list(text: str, *, most: int = MAX_LISTED) -> list[str]:
    """The answers in an ``<answer>``, best first: one per line (``1. A``, ``- A``) or ``A; B; C``.

    A JSON list of strings is read too. Commas do not split (entity names contain them: "Police
    (Kenya), Nairobi"). Empty items are dropped; duplicates are kept (the scorer decides what is one).
    """
    body = text.strip()
    if body.startswith("["):
        try:
            loaded = json.loads(body)
        except (ValueError, RecursionError):
            loaded = None
        if isinstance(loaded, list) and all(isinstance(item, str | int) for item in loaded):
            return [str(item).strip() for item in loaded if str(item).strip()][:most]
    lines = [line for line in body.splitlines() if line.strip()]
    if len(lines) > 1:
        items = [_NUMBERING.sub("", line, count=1) for line in lines]
    else:
        items = [_NUMBERING.sub("", part, count=1) for part in body.split(";")]
    return [cleaned for item in items if (cleaned := item.strip().strip("\"'`").strip())][:most]


def rank_of_first_match(items: Sequence[str], golds: Sequence[str], answer_type: str) -> int | None:
    """1-based rank of the first listed answer matching some gold (``None`` if none does).

    Entities match by SQuAD normalisation; times with ``same_time`` at the gold's granularity.
    Duplicates (by the same test) are skipped, so repeating an answer cannot push a right one down.
    """
    seen: list[str] = []
    rank = 0
    for item in items:
        key = normalize_answer(item) if answer_type != "time" else " ".join(item.split())
        if key in seen:
            continue
        seen.append(key)
        rank += 1
        if _matches(item, golds, answer_type):
            return rank
    return None


def _matches(item: str, golds: Sequence[str], answer_type: str) -> bool:
    if answer_type == "time":
        return any(same_time(item, gold) for gold in golds)
    predicted = normalize_answer(item)
    return bool(predicted) and any(predicted == normalize_answer(gold) for gold in golds)


class KGToolEnv(ToolUseEnv):
    """The shared loop (``rlvr.envs.tool_use``) with ``<tool>{json}</tool>`` calls against a ``ToolBox``.

    Subclasses set ``self._toolbox`` in ``reset`` and implement ``_score``, ``_unanswered_metrics``,
    ``_intro`` and the info hooks.
    """

    _ANSWER_RULES = "<answer>...</answer>"
    tools_enabled = True
    """False for answer-only tasks (everything the agent may use is in the observation)."""

    def __init__(
        self,
        *,
        store: TKGStore | str | os.PathLike[str] | None,
        tkg_seed: int,
        max_turns: int,
        max_results: int,
        render_mode: str | None,
        max_action_length: int,
    ) -> None:
        if max_results < 1:
            raise ValueError("max_turns, max_results and max_action_length must be >= 1")
        self.max_results = max_results
        self._toolbox: ToolBox | None = None
        self._store_spec, self._tkg_seed = store, tkg_seed
        self._store: TKGStore | None = store if isinstance(store, TKGStore) else None
        super().__init__(max_turns=max_turns, render_mode=render_mode, max_action_length=max_action_length)

    @property
    def store(self) -> TKGStore:
        """The graph, loaded (or generated) on first use, so constructing an env stays cheap."""
        if self._store is None:
            self._store = resolve_store(self._store_spec, seed=self._tkg_seed)
        return self._store

    def _clear(self) -> None:
        super()._clear()
        self._tool_calls = self._tool_errors = 0

    @abc.abstractmethod
    def _intro(self) -> str:
        """What the env is about, the first paragraph of the instructions."""

    # -- protocol ----------------------------------------------------------------------------------

    def _parse(self, reply: str) -> ToolCall | None:
        found = parse_action(reply)
        return None if found is None else ToolCall(found.kind, found.content, found.well_formed)

    def instructions(self) -> str:
        """The rules as a system prompt: the task, the tools, the answer format, the call budget."""
        assert self._toolbox is not None
        if not self.tools_enabled:
            return (
                f"{self._intro()}\nThink inside <think> and </think> whenever you like; then reply with "
                f"your answer.\n{self._ANSWER_RULES}"
            )
        return (
            f"{self._intro()}\nThink inside <think> and </think> whenever you like; each reply must then "
            f"make exactly one call.\n{self._toolbox.describe()}\n{self._ANSWER_RULES}\n"
            f"You have {self.max_turns} tool calls before you must answer."
        )

    def _reminder(self) -> str:
        if not self.tools_enabled:
            return f"{self._ANSWER_RULES}\n{self._turns_left()}"
        return (
            'Reply with exactly one <tool>{"name": ..., ...}</tool> call (tools: search_entities, '
            f"neighbours, connection, timeline, events) or an answer.\n{self._ANSWER_RULES}\n"
            f"{self._turns_left()}"
        )

    def _no_call_reason(self) -> str:
        return "Your reply makes no call: it has no complete <tool>...</tool> or <answer>...</answer> tag."

    def _refusal(self, call: ToolCall) -> str | None:
        if call.tool == "tool" and not self.tools_enabled:
            return "Tools are switched off in this task: answer from the facts shown."
        if call.tool == "answer" and not call.argument:
            return "The <answer> tag is empty."
        return None

    def _use_tool(self, call: ToolCall) -> StepResult:
        assert self._toolbox is not None
        self._tool_calls += 1
        name, body = self._toolbox.call_json(call.argument)
        error = body.startswith("Error: ")
        self._tool_errors += error
        observation = f"<result>{body}</result>"
        span = (len("<result>"), len("<result>") + len(body))
        info_tool = name if name is not None else "tool"
        return self._reply(
            observation, tool=info_tool, reason=None, tool_output_spans=[span], tool_error=error
        )

    def _step_defaults(self) -> dict[str, Any]:
        return {"tool_output_spans": [], "tool_error": False}

    def _usage_metrics(self) -> dict[str, float]:
        return {"tool_calls": float(self._tool_calls), "tool_errors": float(self._tool_errors)}


@functools.lru_cache(maxsize=2)
def default_store(seed: int = 0) -> TKGStore:
    """The embedded synthetic TKG (built once per process: the store is immutable, so envs share it)."""
    from rlvr.envs.temporal_kg.synthetic import generate_tkg

    return generate_tkg(seed=seed)


def resolve_store(store: TKGStore | str | os.PathLike[str] | None, *, seed: int = 0) -> TKGStore:
    """A store given as an object, a saved directory, or ``None`` for the embedded synthetic one."""
    if store is None:
        return default_store(seed)
    if isinstance(store, TKGStore):
        return store
    return TKGStore.load(store)


class TemporalKGQAEnv(KGToolEnv):
    """``rlvr/TemporalKGQA-v0``: answer a temporal question by querying a temporal knowledge graph.

    Task
        Each episode poses one question about time-stamped facts ``(subject, relation, object, day)``,
        in the style of MultiTQ: who did what when, who was first or last, what happened before,
        after or in the same month as another event, and after the first / before the last time of
        another. By default the graph is the embedded synthetic ICEWS-like TKG
        (``synthetic.generate_tkg(seed=0)``: fictional actors, so no model answers from memory) and
        the questions are generated from it with answers computed by the store
        (``rlvr.envs.temporal_kg.questions``); ``store`` and ``questions`` swap in a saved graph
        (ICEWS, GDELT, ...) and a question file (MultiTQ, ...).

    Action
        Text with exactly one call (``<think>`` blocks are ignored; the first complete tag counts):

        - ``<tool>{"name": ..., ...}</tool>``: a JSON tool call (``search_entities``, ``neighbours``,
          ``connection``, ``timeline``, ``events``; time filters ``after``, ``before``, ``within``,
          ``relation``, ``order``, ``limit``; ``info["instructions"]`` lists them). The observation
          is ``<result>...</result>``: one fact per line, ``YYYY-MM-DD: subject | relation | object``,
          at most ``max_results`` with a note counting the rest, or a message saying what was wrong
          with the call (unknown entity with the closest names, bad date with the formats).
        - ``<answer>...</answer>``: ends the episode. One answer, or a ranked list, best first: one
          per line (``1. A`` / ``- A``) or ``A; B; C``. Times as ``YYYY-MM-DD``, ``YYYY-MM`` or
          ``YYYY`` (``March 2014`` and the like are read too).

        Anything else is an invalid action: the observation explains the protocol, the turn is used
        up, and the episode goes on. A tool call with bad arguments is a call, not an invalid action.

    Reward
        Hits@1, paid once at the end: 1.0 when the top answer matches a gold answer, else 0.0.
        Entities match after SQuAD normalisation (case, punctuation, articles); times match at the
        gold's granularity (``"2014-03-05"`` is right for gold ``"2014-03"``, ``"2014"`` is not).
        Set-valued questions list every right answer as gold, so any of them pays.

    Episode end
        Terminated by an answer. After ``max_turns`` replies without one, the agent gets one last
        turn in which only ``<answer>`` counts; without an answer there the episode is truncated.

    Info
        ``turn``, ``player`` (``"agent"``, ``None`` once over), ``role``, ``invalid_action``,
        ``invalid_reason``, ``tool`` (the tool called, ``"answer"`` or ``None``), ``tool_error``,
        ``tool_output_spans`` (character spans of tool output in the observation), ``question_id``,
        ``operator``, ``answer_type`` (``"entity"`` or ``"time"``), and at the end ``answer``,
        ``golden_answers`` and ``metrics``: ``return``, ``hits@1``, ``hits@3``, ``hits@10``, ``mrr``
        (over the ranked list: 1/rank of the first right answer, 0 if none; duplicates skipped),
        ``answered``, ``well_formed``, ``tool_calls``, ``tool_errors``, ``invalid_actions``,
        ``turns``, one-hot ``operator_<name>`` and ``answer_type_entity`` / ``answer_type_time``.

    Arguments
        questions: ``None`` (default: generated from the store), a JSONL path in
            ``questions_io``'s format, or a list of ``KGQuestion`` / dicts.
        store: ``None`` (the embedded synthetic TKG), a ``TKGStore`` or a saved store directory.
        tkg_seed: which synthetic TKG when ``store`` is ``None``.
        num_questions, question_seed, operators: how many generated questions, their seed, and
            which operators (``questions.OPERATORS``; default all).
        max_turns: tool calls before the answer-only turn (default 10).
        max_results: most facts one tool call shows (default 20).
        max_action_length: longer replies are invalid actions.

    ``reset(options={"question_id": ...})`` or ``{"question": KGQuestion or dict}`` poses a given
    question; otherwise it is drawn with ``np_random``, so a seed fixes the episode.

    Version history
        v0: first version.
    """

    _ANSWER_RULES = (
        "Finish with <answer>your answer</answer>: the exact entity name or a date (YYYY-MM-DD, YYYY-MM "
        "or YYYY). You may give a ranked list, best first, one per line (1. A, 2. B) or separated by "
        "semicolons; only the first answer is rewarded."
    )

    def __init__(
        self,
        questions: str | os.PathLike[str] | Sequence[KGQuestion | Mapping[str, Any]] | None = None,
        store: TKGStore | str | os.PathLike[str] | None = None,
        *,
        tkg_seed: int = 0,
        num_questions: int = 1000,
        question_seed: int = 0,
        operators: Sequence[str] | None = None,
        max_turns: int = 10,
        max_results: int = 20,
        render_mode: str | None = None,
        max_action_length: int = 16_384,
    ) -> None:
        super().__init__(
            store=store,
            tkg_seed=tkg_seed,
            max_turns=max_turns,
            max_results=max_results,
            render_mode=render_mode,
            max_action_length=max_action_length,
        )
        if num_questions < 1:
            raise ValueError("num_questions must be >= 1")
        self._questions_spec = questions
        self._generation = (num_questions, question_seed, None if operators is None else tuple(operators))
        self._pool: tuple[KGQuestion, ...] | None = None
        self._by_id: dict[str, KGQuestion] = {}
        self._operator_keys: tuple[str, ...] = OPERATORS
        self.question: KGQuestion | None = None

    # -- data, made on first use (constructing an env stays cheap) ---------------------------------

    @property
    def questions(self) -> tuple[KGQuestion, ...]:
        if self._pool is None:
            spec = self._questions_spec
            if spec is None:
                count, seed, operators = self._generation
                pool = generate_questions(self.store, count, seed=seed, operators=operators)
            elif isinstance(spec, str | os.PathLike):
                from rlvr.envs.temporal_kg.questions_io import load_questions

                pool = list(load_questions(spec))
            else:
                pool = [_as_question(item) for item in spec]
            if not pool:
                raise ValueError("no questions to pose (check questions, operators and the store)")
            self._pool = tuple(pool)
            self._by_id = {question.id: question for question in self._pool}
            ops = {question.operator for question in self._pool}
            self._operator_keys = tuple(dict.fromkeys([*OPERATORS, *sorted(op for op in ops if op)]))
        return self._pool

    # -- episodes ----------------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        pool = self.questions
        drawn = pool[int(self.np_random.integers(len(pool)))]
        self.question = pick_question(options, drawn, self._by_id, _as_question)
        self._toolbox = ToolBox(self.store, max_results=self.max_results)
        return self._begin(f"Question: {self.question.question}")

    def _intro(self) -> str:
        return (
            "You answer questions about a temporal knowledge graph: time-stamped facts "
            '"date: subject | relation | object" (who did what to whom, and when). Look the facts up '
            "with the tools; entity and relation names must be exact, so search for names first."
        )

    def _score(self, answer: str) -> tuple[float, dict[str, float]]:
        assert self.question is not None
        items = parse_answer_list(answer)
        rank = rank_of_first_match(items, list(self.question.answers), self.question.answer_type)
        metrics = _rank_metrics(rank)
        return metrics["hits@1"], {**metrics, **self._kind_metrics()}

    def _unanswered_metrics(self) -> dict[str, float]:
        return {**_rank_metrics(None), **self._kind_metrics()}

    def _kind_metrics(self) -> dict[str, float]:
        assert self.question is not None
        keys = self._operator_keys
        if self.question.operator and self.question.operator not in keys:
            keys = (*keys, self.question.operator)  # a question given in reset() with its own label
        metrics = {f"operator_{op}": float(op == self.question.operator) for op in keys}
        for kind in ("entity", "time"):
            metrics[f"answer_type_{kind}"] = float(self.question.answer_type == kind)
        return metrics

    def _task_info(self) -> dict[str, Any]:
        assert self.question is not None
        return {
            "question_id": self.question.id,
            "operator": self.question.operator,
            "answer_type": self.question.answer_type,
        }

    def _final_info(self) -> dict[str, Any]:
        assert self.question is not None
        return {"golden_answers": list(self.question.answers)}


def _rank_metrics(rank: int | None) -> dict[str, float]:
    """Hits@k and reciprocal rank for the rank of the first right answer (``None``: none was right)."""
    if rank is None:
        return {"hits@1": 0.0, "hits@3": 0.0, "hits@10": 0.0, "mrr": 0.0}
    return {
        "hits@1": float(rank <= 1),
        "hits@3": float(rank <= 3),
        "hits@10": float(rank <= 10),
        "mrr": 1 / rank,
    }


def _as_question(item: KGQuestion | Mapping[str, Any]) -> KGQuestion:
    if isinstance(item, KGQuestion):
        return item
    if isinstance(item, Mapping):
        return KGQuestion.from_dict(item)
    raise TypeError(f"a question must be a KGQuestion or a dict, got {type(item).__name__}")
