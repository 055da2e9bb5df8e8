"""TicTacToe (``rlvr/TicTacToe-v0``): the classic 3x3 game, played in text.

The rules live in ``rules`` (pure functions of a board, with a memoised perfect ``minimax``), the
prompts and scoring in ``game``; the two env views below are thin shells around ``game.TicTacToe``.
"""

from typing import Any, ClassVar

from rlvr.core.game_envs import GameAECEnv, GameEnv
from rlvr.envs.games.tictactoe.game import TicTacToe

__all__ = ["TicTacToe", "TicTacToeAECEnv", "TicTacToeEnv"]


class TicTacToeEnv(GameEnv):
    """TicTacToe against a scripted or text opponent (gymnasium view).

    ## Description
    Two players take turns marking the squares of a 3x3 board, numbered 0 to 8 row by row. The
    first to hold three squares in a row, column or diagonal wins; a full board with no line is a
    draw. ``player_0`` plays X and always moves first, ``player_1`` plays O. With perfect play on both
    sides every game is a draw, so the ``"optimal"`` opponent can be tied but never beaten.

    ## Observation
    Text (``UnicodeText``): everything said to the agent's seat since its last move: the
    opponent's move (``"player_0 (X) played [4]."``), then the board with empty squares showing
    their numbers, then the legal moves::

        Current board:
         0 | 1 | 2
        ---+---+---
         3 | X | 5
        ---+---+---
         6 | 7 | 8
        You play O. Legal moves: [0], [1], [2], [3], [5], [6], [7], [8]

    ``reset`` puts the rules in ``info["instructions"]``; while the agent is to move,
    ``info["legal_actions"]`` lists the moves as they should be written.

    ## Action
    Text naming one square: ``"[4]"`` (canonical), also ``"4"`` alone or ``"\\boxed{4}"``. Inside a
    longer reply the last bracketed or boxed square counts, so reasoning may mention other squares
    first.

    ## Reward
    Paid once, when the game ends: +1 win, 0 draw, -1 loss. An invalid move (a square that is taken,
    a number outside 0..8, no square at all, or an over-long reply) forfeits: -1.5 for the agent,
    +0.5 for the opponent (SPIRAL). With ``invalid_retries=n`` the mover is told why and may try
    again ``n`` times before the forfeit.

    ## Episode end
    Terminated on three in a row, a full board, or a forfeit. Truncated (reward 0) after
    ``max_turns`` moves, valid or not; a game lasts at most 9 valid moves, so this only happens when
    retries are allowed.

    ## Arguments
    ``gym.make("rlvr/TicTacToe-v0", opponent="optimal", seat=None, invalid_retries=0, max_turns=50)``

    * ``opponent``: ``"random"`` (uniform over legal squares), ``"optimal"`` (perfect minimax,
      uniform among the best squares), or a callable ``str -> str`` such as an LLM.
    * ``seat``: ``0`` / ``"player_0"`` to play X, ``1`` / ``"player_1"`` to play O; ``None``
      alternates with the reset seed.
    * ``invalid_penalty`` (-1.5), ``invalid_reward_others`` (0.5), ``invalid_retries`` (0),
      ``max_turns`` (50), ``max_action_length``.

    ## Version history
    * v0: initial.
    """

    game_class = TicTacToe


class TicTacToeAECEnv(GameAECEnv):
    """TicTacToe with both seats as agents (PettingZoo AEC view), e.g. for self-play.

    Agents are ``player_0`` (X, moves first) and ``player_1`` (O). Observations, actions and
    rewards are those of ``TicTacToeEnv``; on a forfeit the offender gets -1.5 and the other +0.5.
    Arguments: ``invalid_penalty``, ``invalid_reward_others``, ``invalid_retries``, ``max_turns``,
    ``max_action_length``, ``render_mode``.
    """

    metadata: ClassVar[dict[str, Any]] = {**GameAECEnv.metadata, "name": "tictactoe_v0"}
    game_class = TicTacToe
