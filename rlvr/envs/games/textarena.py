"""Any TextArena game (``rlvr/TextArena-v0``) under the rlvr contract.

TextArena's protocol is ``reset(num_players, seed)``, ``get_observation() -> (player_id, messages)``,
``step(action) -> (done, info)`` and ``close() -> (rewards, game_info)``. ``TextArenaGame`` maps it
onto ``TurnGame``, so both env views (gymnasium and PettingZoo) come for free, and fixes what its
users trip over:

* **Randomness.** TextArena games draw from the *global* ``random`` module (a few from numpy's
  global generator) and its ``State`` calls ``random.seed``. Each wrapped game keeps private states
  of both, derived from our seeded generator at reset, and swaps them in only for the duration of a
  call into TextArena. Same seed, same episode; the caller's global streams are left exactly as
  they were.
* **Observations.** We use the game's raw env (TextArena's wrappers are dropped, whatever the id)
  and format its message list ourselves, one ``[GAME] ...`` / ``[Player 1] ...`` line per message,
  delivered once to the seat it was meant for. Nothing carries over from one episode to the next
  (TextArena's ``LLMObservationWrapper`` keeps its history across resets).
* **Failures.** A missing install, an unknown id, a wrong number of players and missing NLTK data
  each raise an error that says what to do, not a traceback from inside TextArena.
"""

from __future__ import annotations

import difflib
import random
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from rlvr.core.game import Bot, TurnGame
from rlvr.core.game_envs import GameAECEnv, GameEnv

__all__ = ["TextArenaAECEnv", "TextArenaEnv", "TextArenaGame"]

_INSTALL_HINT = "TextArena is not installed: pip install 'rlvr-gym[textarena]'"


def _import_textarena() -> ModuleType:
    """TextArena is an optional extra, imported only when a TextArena game is made."""
    try:
        import textarena
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    return textarena


# ----------------------------------------------------------------- private global randomness
_GLOBAL_RNG_LOCK = threading.RLock()
"""Swapping the global generators is safe only if two games never swap at the same time."""


class _PrivateRandom:
    """The global ``random`` and ``numpy.random`` states one TextArena game sees, kept apart.

    Other threads that use the global generators *during* a call into TextArena still share them
    with the game for that moment; the lock only keeps our games from interleaving.
    """

    def __init__(self, seed: int) -> None:
        self._python = random.Random(seed).getstate()
        self._numpy = np.random.RandomState(seed).get_state(legacy=False)

    @contextmanager
    def active(self) -> Iterator[None]:
        """Run the body with this game's states installed, then put the caller's back."""
        with _GLOBAL_RNG_LOCK:
            caller_python, caller_numpy = random.getstate(), np.random.get_state(legacy=False)
            random.setstate(self._python)
            np.random.set_state(self._numpy)
            try:
                yield
            finally:
                self._python, self._numpy = random.getstate(), np.random.get_state(legacy=False)
                random.setstate(caller_python)
                np.random.set_state(caller_numpy)


# ----------------------------------------------------------------- construction errors
_NLTK_RESOURCE = re.compile(r"Resource\s+(?:\x1b\[\d+m)?'?([\w./-]+?)'?(?:\x1b\[\d+m)?\s+not found")


@contextmanager
def _explain_missing_nltk_data(game: str) -> Iterator[None]:
    """Turn NLTK's "resource not found" into an error naming the package to download.

    TextArena's word games call ``nltk.download`` when their module is imported; without network
    access that fails quietly and the game breaks later with a long ``LookupError``.
    """
    try:
        yield
    except LookupError as exc:
        found = None if isinstance(exc, (KeyError, IndexError)) else _NLTK_RESOURCE.search(str(exc))
        if found is None:
            raise
        resource = found.group(1)
        raise LookupError(
            f"TextArena game {game!r} needs the NLTK data package {resource!r}, which is not "
            f"installed (TextArena could not download it). Install it with: "
            f"python -m nltk.downloader {resource}"
        ) from exc


def _make_raw_env(ta: ModuleType, game: str, game_kwargs: Mapping[str, Any]) -> Any:
    """The TextArena env registered as ``game``, built with ``game_kwargs``, without its wrappers."""
    registry: dict[str, Any] = ta.envs.registration.ENV_REGISTRY
    if not isinstance(game, str) or game not in registry:
        known = sorted(registry)
        suggestions = difflib.get_close_matches(str(game), known, n=5) or known[:10]
        raise ValueError(
            f"unknown TextArena game {game!r}; did you mean one of {suggestions}? "
            f"({len(known)} ids are registered, see textarena.envs.registration.ENV_REGISTRY)"
        )
    try:
        env = ta.make(game, **game_kwargs)
    except SyntaxError as exc:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        raise ImportError(
            f"TextArena's {game} cannot be loaded on Python {version}: {exc.msg} "
            f"({exc.filename}, line {exc.lineno}); TextArena {ta.__version__} writes some games "
            f"in syntax that needs a newer Python."
        ) from exc
    while isinstance(env, ta.Wrapper):
        env = env.env
    return env


# ----------------------------------------------------------------- legal moves of known games
def _tictactoe_moves(env: Any) -> list[str]:
    board = env.state.game_state["board"]
    return [f"[{row * 3 + col}]" for row in range(3) for col in range(3) if board[row][col] == ""]


def _kuhn_poker_moves(env: Any) -> list[str]:
    return [f"[{move}]" for move in env.state.game_state["current_legal_action_tree"]]


_LEGAL_MOVES = {"TicTacToeEnv": _tictactoe_moves, "KuhnPokerEnv": _kuhn_poker_moves}
"""TextArena has no legal-move API; for these env classes the list is read off the game state."""

_BRACKETED = re.compile(r"\[[^\[\]\n]{1,40}\]")


def _random_textarena_bot(game: TurnGame, role: str, rng: np.random.Generator) -> str:
    """Uniform over the legal moves where the game has a list (TicTacToe, Kuhn Poker).

    Elsewhere it picks uniformly among the bracketed tokens in its seat's instructions (Poker's
    ``[Check]``, ``[Call]``, ``[Fold]``, ...), which are often but not always legal; TextArena's
    own invalid-move rules deal with the rest. With no token to pick it says nothing (``""``).
    """
    options = game.legal_actions() or sorted(set(_BRACKETED.findall(game.instructions(role))))
    return options[int(rng.integers(len(options)))] if options else ""


# ----------------------------------------------------------------- the game
class TextArenaGame(TurnGame):
    """One TextArena game as a ``TurnGame``: seat ``player_i`` is TextArena's player ``i``.

    Arguments:
        game: a TextArena id (``"TicTacToe-v0"``, ``"Poker-v0"``, ...). Wrapper variants
            (``-raw``, ``-train``) name the same game: wrappers are always dropped.
        num_players: seats to fill; TextArena decides which counts a game accepts.
        game_kwargs: passed to the TextArena env's constructor (``{"max_rounds": 5}``).
        max_turns: our own cap on moves (valid or not); reaching it truncates with 0 for all. It
            guards against games that never end; TextArena's own turn limits apply first.
    """

    name: ClassVar[str] = "TextArena"
    penalize_invalid_moves: ClassVar[bool] = False
    bots: ClassVar[dict[str, Bot]] = {"random": _random_textarena_bot}

    def __init__(
        self,
        game: str = "TicTacToe-v0",
        num_players: int = 2,
        game_kwargs: Mapping[str, Any] | None = None,
        max_turns: int = 1000,
    ) -> None:
        super().__init__(max_turns=max_turns)
        ta = _import_textarena()
        self.game_id = game
        self.num_players = int(num_players)
        self.roles = tuple(f"player_{index}" for index in range(self.num_players))
        self.name = f"TextArena {game}"
        self._ta = ta
        self._game_kwargs = dict(game_kwargs or {})
        self._instructions: dict[str, str] = {}
        self._invalid_reason: str | None = None
        self._played_turn = -1
        # Start one game now so that an unknown id, a wrong player count or missing data fail at
        # make time rather than at the first reset.
        self._start(seed=0)
        self._legal_moves = _LEGAL_MOVES.get(type(self._env).__name__)

    @property
    def textarena_env(self) -> Any:
        """The wrapped raw TextArena env, for inspection (``get_board_str()``, ``state``).

        Calling its methods directly bypasses the private randomness and the message delivery.
        """
        return self._env

    # ------------------------------------------------------------- calls into TextArena
    def _start(self, seed: int) -> None:
        """Build and reset a fresh TextArena env under fresh private randomness.

        A new env per episode, because TextArena envs keep state outside ``reset``'s reach (Kuhn
        Poker shuffles its deck in place, so the same seed deals different cards in a used env).
        Its prompts become our instructions.
        """
        self._random = _PrivateRandom(seed)
        with self._random.active(), _explain_missing_nltk_data(self.game_id):
            self._env = _make_raw_env(self._ta, self.game_id, self._game_kwargs)
            try:
                self._env.reset(num_players=self.num_players, seed=seed)
            except AssertionError as exc:
                raise ValueError(
                    f"TextArena's {self.game_id} cannot start with num_players={self.num_players}: {exc}"
                ) from exc
        state = self._env.state
        self._record_invalid_moves(state)
        prompt = self._ta.ObservationType.PROMPT
        self._instructions = {}
        for pid, role in enumerate(self.roles):
            messages = state.observations[pid]
            self._instructions[role] = "\n".join(text for _, text, kind in messages if kind == prompt)
            state.observations[pid] = [message for message in messages if message[2] != prompt]

    def _record_invalid_moves(self, state: Any) -> None:
        """Note the reason whenever the game calls ``state.set_invalid_move``.

        TextArena reports invalid moves only in prose (a message to the mover) or, on the last
        allowed error, in ``game_info``; the reason itself is never returned.
        """
        original = state.set_invalid_move

        def set_invalid_move(*args: Any, **kwargs: Any) -> Any:
            # The first text argument: some games pass (reward, reason) where the state expects
            # (reason, reward).
            texts = [value for value in (kwargs.get("reason"), *args) if isinstance(value, str)]
            self._invalid_reason = texts[0] if texts else "TextArena rejected the move."
            return original(*args, **kwargs)

        state.set_invalid_move = set_invalid_move

    def _deliver(self, done: bool) -> None:
        """Move every message TextArena queued into the seats' inboxes, one line per message.

        The mover's messages come through ``get_observation`` (some games append their board
        there), everybody else's straight from ``state.observations``.
        """
        state = self._env.state
        if not done:
            with self._random.active():
                mover, messages = self._env.get_observation()
            self._tell_all(mover, messages, state.role_mapping)
        for pid in range(self.num_players):
            messages, state.observations[pid] = state.observations[pid], []
            self._tell_all(pid, messages, state.role_mapping)

    def _tell_all(self, pid: int, messages: list[Any], names: Mapping[int, str]) -> None:
        for sender, text, _ in messages:
            name = "GAME" if sender == self._ta.GAME_ID else names.get(sender, f"Player {sender}")
            self.tell(f"[{name}] {text}", to=self.roles[pid])

    # ------------------------------------------------------------- TurnGame
    def instructions(self, role: str) -> str:
        """TextArena's prompt for this seat, as generated at the latest reset.

        It is not repeated in the first observation: the env views hand it over separately
        (``info["instructions"]``).
        """
        return self._instructions[role]

    def _setup(self) -> None:
        self._start(seed=int(self.rng.integers(2**32)))
        self._played_turn = -1
        self._deliver(done=False)
        self.current_role = self.roles[self._env.state.current_player_id]

    def _legal_actions(self) -> list[str] | None:
        return None if self._legal_moves is None else self._legal_moves(self._env)

    def _play(self, text: str) -> str | None:
        role = self.current_role
        self._played_turn = self.turn
        self._invalid_reason = None
        with self._random.active():
            done, _ = self._env.step(text)
        self._deliver(done)
        reason = self._invalid_reason
        if done:
            self._finish_from_textarena(mover=role if reason is not None else None)
        else:
            self.current_role = self.roles[self._env.state.current_player_id]
        return reason

    def _finish_from_textarena(self, mover: str | None) -> None:
        """End with TextArena's rewards; seats it leaves out score 0."""
        with self._random.active():
            rewards, game_info = self._env.close()
        try:
            returns = {role: float(rewards.get(pid, 0.0)) for pid, role in enumerate(self.roles)}
        except (TypeError, ValueError) as exc:
            raise RuntimeError(
                f"TextArena's {self.game_id} ended with non-numeric rewards {rewards!r}"
            ) from exc
        reasons = [game_info[pid].get("reason") for pid in range(self.num_players) if pid in game_info]
        reason = " ".join(dict.fromkeys(text for text in reasons if text)) or "TextArena ended the game."
        if mover is not None and game_info.get(self.roles.index(mover), {}).get("invalid_move"):
            self.finish(returns, f"{mover} loses on invalid moves: {reason}", offender=mover)
        else:
            self.finish(returns, reason)

    def _handle_invalid(self, role: str, reason: str) -> None:
        """Moves TextArena judged follow its rules; moves it never saw forfeit.

        An action the view rejects before parsing (over-long, missing) cannot be handed to
        TextArena as it stands, and letting the seat retry forever would let a losing seat stall
        into a 0-0 truncation. It scores -1 and every other seat +1, TextArena's two-player outcome
        for a final invalid move.
        """
        super()._handle_invalid(role, reason)
        if self._played_turn != self.turn and not self.is_over:
            returns = {seat: 1.0 for seat in self.roles} | {role: -1.0}
            self.finish(returns, f"{role} made an invalid move ({reason}) and forfeits.", offender=role)


# ----------------------------------------------------------------- the env views
class TextArenaEnv(GameEnv):
    """A TextArena game against scripted or text opponents (gymnasium view).

    ## Description
    Any game in TextArena's registry, chosen with ``game=``: ``gym.make("rlvr/TextArena-v0",
    game="Poker-v0")``. Seat ``player_i`` is TextArena's Player ``i``. Needs the ``textarena``
    extra (``pip install 'rlvr-gym[textarena]'``); word games also need NLTK data, and the error
    says which (``python -m nltk.downloader words``). A few games in TextArena 0.7.4 use Python 3.12
    syntax (Chess, Checkers, ...) and raise ``ImportError`` on older Pythons.

    ## Observation
    Text: every message TextArena addressed to the agent's seat since its last move, one line each,
    prefixed with the sender as TextArena names it (``[GAME] Current Board: ...``, ``[Player 1]
    [4]``); as in TextArena, every seat sees each move echoed, its own included. TextArena's own
    prompt is in ``info["instructions"]`` after reset and is not repeated in the observation.
    Where the game has a known move list (TicTacToe, Kuhn Poker), ``info["legal_actions"]`` holds it
    while the agent is to move.

    ## Action
    Text, passed to TextArena unchanged; most games want a bracketed move (``[4]``, ``[bet]``).
    TextArena's ``ActionFormattingWrapper`` is not applied, so brackets are not added for you.

    ## Reward
    TextArena's reward for the seat, unchanged, paid once when the game ends: mostly +1 win, 0 draw,
    -1 loss; puzzles pay a score in [0, 1]. TextArena's bugs pass through too: in 0.7.4, a two-player
    Poker-v0 pays +3 to the winner and +1 to the loser when invalid moves eliminate a player twice.

    Invalid moves follow TextArena's rules (in two-player games: one retry with a warning, then -1
    for the offender and +1 for the opponent); ``info["invalid_action"]`` and
    ``info["invalid_reason"]`` flag each one. An action too long to hand over
    (``max_action_length``) forfeits at once: -1 / +1.

    ## Episode end
    Terminated when TextArena says the game is done; ``info["metrics"]`` then carries the result.
    Truncated (reward 0) after ``max_turns`` moves, valid or not.

    ## Seeding
    ``reset(seed=s)`` fixes the whole episode: TextArena's randomness is drawn from private copies
    of the global ``random`` and ``numpy.random`` states, so the caller's global generators are
    untouched and two envs with the same seed produce the same transcript. Each episode runs in a
    freshly built TextArena env, since some keep state across their own resets. A game that
    iterates over a set of strings may still order its text differently in another process unless
    ``PYTHONHASHSEED`` is fixed.

    ## Arguments
    ``gym.make("rlvr/TextArena-v0", game="TicTacToe-v0", num_players=2, game_kwargs=None,
    opponent="random", seat=None, max_turns=1000)``

    * ``game``: a TextArena id; an unknown one raises ``ValueError`` with suggestions.
    * ``num_players``: seats; TextArena decides which counts a game accepts (``ValueError`` if not).
    * ``game_kwargs``: passed to the TextArena env's constructor.
    * ``opponent``: ``"random"`` (uniform over the legal moves where known, otherwise over the
      bracketed tokens in the seat's instructions) or a callable ``str -> str`` such as an LLM.
    * ``seat``: the agent's seat; ``None`` alternates with the seed.
    """

    game_class = TextArenaGame


class TextArenaAECEnv(GameAECEnv):
    """A TextArena game with every seat an agent (PettingZoo AEC view).

    ``rlvr.make_aec("rlvr/TextArena-v0", game="Poker-v0", num_players=3)``; agents are
    ``player_0`` .. ``player_{n-1}``. Observations, rewards and arguments are as in
    ``TextArenaEnv``.
    """

    metadata: ClassVar[dict[str, Any]] = {**GameAECEnv.metadata, "name": "rlvr_textarena"}
    game_class = TextArenaGame
