"""The one interface every policy backend implements: a batch of chats in, one completion per chat out.

Backends (scripted, transformers, an OpenAI-compatible server, vLLM) differ in how they generate, not
in what they are asked: the runner gathers every pending turn, hands one batch of chat-message lists to
the policy, and gets back ``Completion`` records that carry the raw text and, when the backend exposes
them, the token ids and logprobs the learner needs. That is the httpx shape: one small interface,
several transports behind it.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from rlvr.core.executors import call_in_thread
from rlvr.core.records import Message

_EXECUTOR_LOCK = threading.Lock()


class PolicyError(RuntimeError):
    """A policy could not produce completions for a batch (a bad reply, a malformed prompt)."""


class PolicyUnavailable(PolicyError):
    """The backend cannot be used at all here: a missing package, model or server.

    The message says what to install or start, or which other backend to pick.
    """


@dataclass(frozen=True)
class SamplingParams:
    """How to sample; backends map these onto their own argument names.

    ``None`` means "the backend's default". ``n`` completions are drawn per conversation (GRPO-style
    groups); ``generate`` then returns them grouped by conversation, in batch order.
    """

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    n: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            # A bare string would otherwise be read as a tuple of one-character stop sequences.
            object.__setattr__(self, "stop", (self.stop,))
        elif not isinstance(self.stop, tuple):
            object.__setattr__(self, "stop", tuple(self.stop))
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1 or None, got {self.max_tokens}")
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")

    def with_overrides(self, **changes: Any) -> SamplingParams:
        """A copy with ``changes`` applied; an unknown name is a ``TypeError`` that lists the known ones."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown sampling parameters {unknown}; known: {sorted(known)}")
        return dataclasses.replace(self, **changes)


@dataclass
class Completion:
    """One generated reply, exactly as the model wrote it (``<think>`` blocks included).

    Token ids and logprobs are ``None`` when the backend does not give them (a scripted policy, an API
    without logprobs); the learner needs them, an evaluation does not.
    """

    text: str
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None
    completion_logprobs: list[float] | None = None
    finish_reason: str | None = None
    """``"stop"`` (the model ended its reply or hit a stop string) or ``"length"`` (``max_tokens``)."""
    usage: dict[str, int] = field(default_factory=dict)
    """Token counts when known: ``prompt_tokens``, ``completion_tokens``."""
    error: str | None = None
    """Set when this one item failed (a timeout, a refused request) while the rest of the batch went
    through; ``text`` is then empty. The runner fails only the episode that asked for it."""


class Policy(abc.ABC):
    """Maps a batch of conversations to completions.

    Subclasses implement ``generate``. ``agenerate`` runs it in a worker thread so a blocking backend
    never stalls the runner's event loop; backends with a native async client override it. A policy
    that answers in microseconds (a scripted one) sets ``blocking = False`` and is called inline,
    because the thread hop would cost more than the call.
    """

    blocking: bool = True
    generate_threads: int = 4
    """Worker threads for blocking ``generate`` calls. They belong to the policy and outlive event
    loops: a local model that already serialises its calls sets 1, so every call lands on the same
    warm thread (torch's per-thread kernel state makes a new thread's first call slower)."""

    @abc.abstractmethod
    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        """``params.n`` completions per conversation, grouped by conversation, in batch order."""

    async def agenerate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        if not self.blocking:
            return self.generate(batch, params)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._generate_executor(), call_in_thread, self.generate, batch, params
        )

    def _generate_executor(self) -> ThreadPoolExecutor:
        executor = self.__dict__.get("_executor")
        if executor is None:
            with _EXECUTOR_LOCK:
                executor = self.__dict__.get("_executor")
                if executor is None:
                    executor = ThreadPoolExecutor(
                        max_workers=self.generate_threads, thread_name_prefix=f"rlvr-{type(self).__name__}"
                    )
                    self.__dict__["_executor"] = executor
        return executor
