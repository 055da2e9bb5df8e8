"""Policies without a model: any function of the chat, and a uniform random legal mover.

They are real policies, not test doubles: ``CallablePolicy`` seats a human at a prompt or a rule-based
player in a match, and ``RandomLegalPolicy`` is the floor every leaderboard entry must beat.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from rlvr.agents.base import Completion, Policy, PolicyError, SamplingParams
from rlvr.core.records import Message


class CallablePolicy(Policy):
    """Wraps ``fn(messages) -> reply text``; sampling parameters are ignored except ``n``.

    ``fn`` is called once per conversation (``n`` times with ``params.n > 1``), in batch order. Pass
    ``blocking=False`` when ``fn`` is quick and never waits, so the runner calls it inline.
    """

    def __init__(
        self, fn: Callable[[list[Message]], str], name: str | None = None, *, blocking: bool = True
    ) -> None:
        self.fn = fn
        self.blocking = blocking
        self.name = name or getattr(fn, "__name__", type(fn).__name__)

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        n = params.n if params is not None else 1
        completions = []
        for messages in batch:
            for _ in range(n):
                text = self.fn(list(messages))
                if not isinstance(text, str):
                    raise PolicyError(f"{self.name} returned {type(text).__name__}, expected str")
                completions.append(Completion(text=text, finish_reason="stop"))
        return completions


_LEGAL_MOVES = re.compile(r"legal moves\s*:(?P<moves>[^\n]*)", re.IGNORECASE)
_TAG = re.compile(r"\[[^\[\]\n]+\]")


def legal_moves_in(text: str) -> list[str]:
    """The ``[x]`` tags on the line of the last ``Legal moves:`` in ``text`` (brackets kept).

    Our games end each prompt with ``Legal moves: [0], [1], [2]``; the *last* such line counts because
    an invalid-move reply may quote an earlier list.
    """
    found = list(_LEGAL_MOVES.finditer(text))
    return _TAG.findall(found[-1]["moves"]) if found else []


class RandomLegalPolicy(Policy):
    """Plays uniformly among the moves listed in the last user message (see ``legal_moves_in``).

    A seeded policy draws each move from a generator seeded by ``(seed, the conversation, draw
    number)``, so its move is a function of what it was shown, never of which other conversations
    shared its batch: episodes replay identically whether a run is batched differently, sharded over
    Ray workers or resumed halfway. Unseeded, it draws from fresh OS entropy. A prompt without a move
    list is a ``PolicyError``: such an env needs a different policy.
    """

    blocking = False

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        n = params.n if params is not None else 1
        completions = []
        for messages in batch:
            last_user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
            legal = legal_moves_in(last_user)
            if not legal:
                raise PolicyError(
                    "RandomLegalPolicy found no 'Legal moves: [a], [b]' line in the last user message; "
                    "use it only with envs that list their moves"
                )
            key = conversation_key(messages) if self.seed is not None else 0
            for draw in range(n):
                rng = np.random.default_rng([self.seed, key, draw]) if self.seed is not None else self.rng
                move = legal[int(rng.integers(len(legal)))]
                completions.append(Completion(text=move, finish_reason="stop"))
        return completions


def conversation_key(messages: Sequence[Message]) -> int:
    """A stable 64-bit digest of a chat's roles and contents (the same in every process and run)."""
    digest = hashlib.blake2b(digest_size=8)
    for message in messages:
        digest.update(str(message.get("role", "")).encode("utf-8", "surrogatepass") + b"\x00")
        digest.update(str(message.get("content", "")).encode("utf-8", "surrogatepass") + b"\x01")
    return int.from_bytes(digest.digest(), "little")


@dataclass(frozen=True)
class BotSeat:
    """A seat played by one of the env's own scripted bots (``"random"``, ``"optimal"``, ...).

    Bots read the game state directly, so they exist only for our turn-based games (AEC view); they
    move inside ``EpisodeRun.act`` and cost no policy call.
    """

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"bot:{self.name}"


class HumanPolicy(Policy):
    """A person at the terminal: shows each new message and reads the reply from stdin.

    Batches are answered one conversation at a time, in order. End of input (Ctrl-D) is a
    ``PolicyError``, which fails the episode rather than hanging the run.
    """

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin
        self.stdout = stdout

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        stdin, stdout = self.stdin or sys.stdin, self.stdout or sys.stdout
        completions = []
        for messages in batch:
            if len(messages) <= 2 and messages and messages[0].get("role") == "system":
                stdout.write(messages[0]["content"] + "\n\n")
            stdout.write(messages[-1]["content"] + "\n> ")
            stdout.flush()
            line = stdin.readline()
            if not line:
                raise PolicyError("no more input from the terminal")
            completions.append(Completion(text=line.rstrip("\n"), finish_reason="stop"))
        return completions
