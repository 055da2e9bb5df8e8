"""``rlvr/WebSearch-v0``, search-augmented QA; its manual is ``WebSearchEnv``'s docstring."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from rlvr.envs.search.answers import (
    SCORES,
    contains_match,
    exact_match,
    format_aware_reward,
    gold_in_text,
    score_answer,
    token_f1,
)
from rlvr.envs.search.backends import Document, SearchBackend, SearchError, make_backend
from rlvr.envs.search.datasets import load_questions
from rlvr.envs.search.pages import chunk_text
from rlvr.envs.search.protocol import describe_protocol, parse_call
from rlvr.envs.search.world import Question
from rlvr.envs.tool_use import StepResult, ToolCall, ToolUseEnv, pick_question

REWARDS = (*SCORES, "format")
_MAX_QUERY_CHARS = 512


def render_results(documents: Sequence[Document], *, max_chars: int, show_urls: bool = False) -> str:
    """Search-R1's rendering, ``Doc i(Title: t) text``, one result per line, each cut to ``max_chars``."""
    if not documents:
        return "No results."
    lines = []
    for number, document in enumerate(documents, start=1):
        text = " ".join(document.contents.split())
        if len(text) > max_chars:
            text = text[:max_chars].rsplit(" ", 1)[0] + " ..."
        where = f" <{document.url}>" if show_urls and document.url else ""
        lines.append(f"Doc {number}(Title: {document.title}){where} {text}")
    return "\n".join(lines)


class WebSearchEnv(ToolUseEnv):
    """``rlvr/WebSearch-v0``: answer a question by searching a corpus or the web (Search-R1, ASearcher).

    Task
        Each episode poses one question. By default it comes from a generated encyclopedia of a
        fictional world (``rlvr.envs.search.world``; single- and multi-hop, answers computed from the
        world), searched through the embedded BM25 index, so it runs offline and no model can answer
        from memory. ``questions`` and ``backend`` swap in NQ/HotpotQA-style sets and real engines.

    Action
        Text with exactly one call (``<think>`` blocks are ignored; the first complete tag counts):

        - ``<search>query</search>``: the observation is the top ``top_k`` results in Search-R1's form,
          ``<information>Doc 1(Title: ...) text ...</information>``.
        - ``<open>ref</open>`` (or ASearcher's ``<access>``): ``ref`` is a result number of the last
          search, a document id or a URL; the observation is the next unread part of that page
          (``page_chars`` characters per part). Off with ``allow_open=False``.
        - ``<answer>text</answer>``: ends the episode and is scored.

        Anything else is an invalid action: the observation explains the protocol, the turn is used
        up, and the episode goes on. A failing search engine is reported in the observation
        (``info["search_error"]``), never raised.

    Reward
        Paid once, at the end, on the SQuAD-normalised answer, best over the gold answers:
        ``"em"`` (default) exact match, ``"f1"`` token F1, ``"contains"`` ZeroSearch's substring
        match, or ``"format"``: Search-R1's format-aware reward (1.0 correct and every reply well
        formed, 0.8 correct otherwise, 0.2 wrong but well formed plus ``retrieval_bonus`` when a gold
        answer was in retrieved text, 0.1 wrong and badly formed; correctness by exact match). A reply
        is well formed when it is exactly one tag besides ``<think>`` blocks and whitespace. No answer
        at all pays 0.

    Episode end
        Terminated by an answer. After ``max_turns`` replies without one, the agent gets one last
        turn in which only ``<answer>`` counts; without an answer there the episode is truncated.

    Info
        ``turn``, ``player`` (``"agent"``, ``None`` once over), ``role``, ``invalid_action``,
        ``invalid_reason``, ``question_id``, ``tool`` (the call made: search/open/answer or ``None``),
        ``retrieved_ids`` (ids returned by this step), ``search_error``, ``tool_output_spans``
        (character spans of engine output in the observation, for trainers that concatenate turns
        into one sequence and must keep tool text out of the loss; rlvr's learner never trains on
        observation tokens), and at the end ``metrics``: ``return``, ``em``, ``f1``, ``contains``,
        ``answered``, ``well_formed``, ``gold_retrieved``, ``searches``, ``opens``, ``invalid_actions``,
        ``search_errors``, ``turns``, ``hops``; also ``answer``, ``golden_answers`` and
        ``all_retrieved_ids``.

    Arguments
        questions: ``"world"`` (default), a FlashRAG set (``"nq"``, ``"hotpotqa:dev"``, needs the
            ``datasets`` extra and a network), a JSONL path in FlashRAG's shape, or a list of
            ``Question`` / dicts.
        backend: ``"local"`` (default: the world's index), ``"retriever"``, ``"web"``, ... or a config
            mapping ``{"type": ..., ...}`` (see ``rlvr.envs.search.backends``) or a ``SearchBackend``.
        split: ``"train"``, ``"test"`` or ``"all"`` of the generated questions.
        world_seed, world_size: which generated world (``"tiny"``, ``"default"`` or a passage count).
        hops: keep only generated questions with these hop counts.
        top_k, max_turns, reward, retrieval_bonus: see above.
        allow_open, page_chars: the page tool and its part size.
        result_chars: most characters of one result shown.
        show_urls: print each result's URL after its title (web backends).

    ``reset(options={"question_id": ...})`` or ``{"question": Question or dict}`` poses a given question;
    otherwise it is drawn with ``np_random``, so a seed fixes the episode (given a deterministic
    backend: the local index, a replay cassette).

    Version history
        v0: first version.
    """

    def __init__(
        self,
        questions: str | os.PathLike[str] | Sequence[Question | Mapping[str, Any]] = "world",
        backend: str | Mapping[str, Any] | SearchBackend = "local",
        *,
        split: str = "all",
        world_seed: int = 0,
        world_size: str | int = "default",
        hops: int | Sequence[int] | None = None,
        top_k: int = 3,
        max_turns: int = 8,
        reward: str = "em",
        retrieval_bonus: float = 0.0,
        allow_open: bool = True,
        page_chars: int = 1500,
        result_chars: int = 600,
        show_urls: bool = False,
        render_mode: str | None = None,
        max_action_length: int = 16_384,
    ) -> None:
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {', '.join(REWARDS)}")
        if top_k < 1 or max_turns < 1 or page_chars < 100 or result_chars < 50:
            raise ValueError("top_k and max_turns must be >= 1, page_chars >= 100, result_chars >= 50")
        options: dict[str, Any] = {}
        if questions == "world":
            options = {"seed": world_seed, "size": world_size, "split": split, "hops": hops}
        pool = load_questions(questions, **options)
        if not pool:
            raise ValueError("no questions to pose (check questions, split and hops)")
        self.questions: tuple[Question, ...] = tuple(pool)
        self._by_id = {question.id: question for question in self.questions}
        self._backend_spec = backend
        self._owns_backend = not isinstance(backend, SearchBackend)
        self._backend: SearchBackend | None = backend if isinstance(backend, SearchBackend) else None
        self.world_seed, self.world_size = world_seed, world_size
        self.top_k, self.reward_name = top_k, reward
        self.retrieval_bonus = retrieval_bonus
        self.allow_open, self.page_chars, self.result_chars = allow_open, page_chars, result_chars
        self.show_urls = show_urls
        self.question: Question | None = None
        super().__init__(max_turns=max_turns, render_mode=render_mode, max_action_length=max_action_length)

    # -- the engine ---------------------------------------------------------------------------------

    @property
    def backend(self) -> SearchBackend:
        """The search engine, made on first use (building the world's index the first time on a machine)."""
        if self._backend is None:
            spec = self._backend_spec
            if spec == "local":
                from rlvr.envs.search.backends.local import LocalIndex

                self._backend = LocalIndex(world_seed=self.world_seed, world_size=self.world_size)
            else:
                self._backend = make_backend(spec)  # type: ignore[arg-type]
        return self._backend

    def close(self) -> None:
        if self._owns_backend and self._backend is not None:
            self._backend.close()
            self._backend = None

    # -- episode state ------------------------------------------------------------------------------

    def _clear(self) -> None:
        super()._clear()
        self._searches = self._opens = self._search_errors = 0
        self._retrieved_ids: list[str] = []
        self._retrieved_texts: list[str] = []
        self._last_results: list[Document] = []
        self._pages: dict[str, tuple[Document, list[str], int]] = {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        drawn = self.questions[int(self.np_random.integers(len(self.questions)))]
        self.question = pick_question(options or {}, drawn, self._by_id, _as_question)
        return self._begin(f"Question: {self.question.question}")

    # -- protocol -----------------------------------------------------------------------------------

    def _parse(self, reply: str) -> ToolCall | None:
        return parse_call(reply)

    def instructions(self) -> str:
        return (
            f"{describe_protocol(can_open=self.allow_open, top_k=self.top_k)}\n"
            f"You have {self.max_turns} calls before you must answer."
        )

    def _reminder(self) -> str:
        return f"{describe_protocol(can_open=self.allow_open, top_k=self.top_k)}\n{self._turns_left()}"

    def _no_call_reason(self) -> str:
        return "Your reply makes no call: it has no complete <search>, <open> or <answer> tag."

    def _refusal(self, call: ToolCall) -> str | None:
        if call.tool == "open" and not self.allow_open:
            return "Opening pages is switched off in this task; use <search> or <answer>."
        return None

    def _use_tool(self, call: ToolCall) -> StepResult:
        return self._search(call) if call.tool == "search" else self._open(call)

    # -- tools --------------------------------------------------------------------------------------

    def _search(self, call: ToolCall) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._searches += 1
        query = call.argument[:_MAX_QUERY_CHARS]
        try:
            results = self.backend.search(query, self.top_k)
        except SearchError as error:
            self._search_errors += 1
            body = f"The search failed: {error}"
            return self._tool_reply(self._information(body), (), tool="search", error=str(error))
        self._last_results = list(results)
        self._remember(results)
        body = render_results(results, max_chars=self.result_chars, show_urls=self.show_urls)
        return self._tool_reply(self._information(body), [d.id for d in results], tool="search")

    def _resolve(self, ref: str) -> str:
        number = ref.removeprefix("Doc").strip().rstrip(".)")
        if number.isdigit() and 1 <= int(number) <= len(self._last_results):
            document = self._last_results[int(number) - 1]
            return document.url or document.id
        return ref

    def _open(self, call: ToolCall) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._opens += 1
        ref = self._resolve(call.argument)
        if ref not in self._pages:
            try:
                page = self.backend.fetch(ref)
            except SearchError as error:
                self._search_errors += 1
                body = f"Opening {ref} failed: {error}"
                return self._tool_reply(self._information(body), (), tool="open", error=str(error))
            if page is None:
                body = f"No page found for {ref!r}. Open a result number of your last search, an id or a URL."
                return self._tool_reply(self._information(body), (), tool="open")
            self._pages[ref] = (page, chunk_text(page.contents, self.page_chars), 0)
        page, parts, shown = self._pages[ref]
        if shown >= len(parts):
            body = f"You have read all {len(parts)} part(s) of {page.title!r}."
            return self._tool_reply(self._information(body), (), tool="open")
        self._pages[ref] = (page, parts, shown + 1)
        self._remember([Document(id=page.id, title=page.title, contents=parts[shown], url=page.url)])
        more = " Open it again for the next part." if shown + 1 < len(parts) else ""
        header = f"Page (Title: {page.title}){f' <{page.url}>' if page.url else ''}"
        body = f"{header}, part {shown + 1} of {len(parts)}:{more}\n{parts[shown]}"
        return self._tool_reply(self._information(body), [page.id], tool="open")

    def _remember(self, documents: Sequence[Document]) -> None:
        for document in documents:
            self._retrieved_ids.append(document.id)
            self._retrieved_texts.append(f"{document.title} {document.contents}")

    @staticmethod
    def _information(body: str) -> str:
        return f"<information>{body}</information>"

    def _tool_reply(
        self, observation: str, retrieved: Sequence[str], *, tool: str, error: str | None = None
    ) -> StepResult:
        """A tool's output: engine text between ``<information>`` tags, whose span goes in info."""
        spans = [(len("<information>"), len(observation) - len("</information>"))]
        return self._reply(
            observation,
            tool=tool,
            reason=None,
            retrieved_ids=list(retrieved),
            search_error=error,
            tool_output_spans=spans,
        )

    def _step_defaults(self) -> dict[str, Any]:
        return {"retrieved_ids": [], "search_error": None, "tool_output_spans": []}

    def _score(self, answer: str) -> tuple[float, dict[str, float]]:
        assert self.question is not None
        golds = self.question.golden_answers
        if self.reward_name == "format":
            reward = format_aware_reward(
                exact_match(answer, golds) == 1.0,
                self._all_well_formed,
                retrieved_gold=gold_in_text(golds, self._retrieved_texts),
                retrieval_bonus=self.retrieval_bonus,
            )
        else:
            reward = score_answer(answer, golds, self.reward_name)
        scores = {
            "em": exact_match(answer, golds),
            "f1": token_f1(answer, golds),
            "contains": contains_match(answer, golds),
        }
        return reward, {**scores, **self._retrieval_metrics()}

    def _unanswered_metrics(self) -> dict[str, float]:
        return {"em": 0.0, "f1": 0.0, "contains": 0.0, **self._retrieval_metrics()}

    def _retrieval_metrics(self) -> dict[str, float]:
        assert self.question is not None
        golds = self.question.golden_answers
        return {
            "gold_retrieved": float(gold_in_text(golds, self._retrieved_texts)),
            "hops": float(self.question.hops),
        }

    # -- info ---------------------------------------------------------------------------------------

    def _task_info(self) -> dict[str, Any]:
        assert self.question is not None
        return {"question_id": self.question.id}

    def _final_info(self) -> dict[str, Any]:
        assert self.question is not None
        return {
            "golden_answers": list(self.question.golden_answers),
            "all_retrieved_ids": list(self._retrieved_ids),
        }

    def _usage_metrics(self) -> dict[str, float]:
        return {
            "searches": float(self._searches),
            "opens": float(self._opens),
            "search_errors": float(self._search_errors),
        }


def _as_question(given: Question | Mapping[str, Any]) -> Question:
    return given if isinstance(given, Question) else load_questions([given])[0]
