"""TicTacToe as a ``TurnGame``: prompts, move parsing and scoring around the pure rules."""

from __future__ import annotations

import functools
from typing import ClassVar

import numpy as np

from rlvr.core.game import Bot, TurnGame
from rlvr.core.parsing import extract_choice, last_tagged_payload
from rlvr.envs.games.tictactoe import rules

_SQUARES = [str(square) for square in range(9)]


def optimal_bot(game: TurnGame, role: str, rng: np.random.Generator) -> str:
    """Perfect play: never loses, and samples uniformly among the optimal moves for variety."""
    if not isinstance(game, TicTacToe):
        raise TypeError(f"the TicTacToe optimal bot cannot play {type(game).__name__}")
    moves = rules.minimax(game.board, game.marks[role]).moves
    return f"[{moves[int(rng.integers(len(moves)))]}]"


# Per-board text is memoised: at most 5,478 reachable boards, and these run on every move.
@functools.cache
def _tagged_legal_moves(board: rules.Board) -> tuple[str, ...]:
    return tuple(f"[{square}]" for square in rules.legal_moves(board))


@functools.cache
def _legal_moves_line(board: rules.Board) -> str:
    return "Legal moves: " + ", ".join(_tagged_legal_moves(board))


@functools.cache
def _board_prompt(board: rules.Board, mark: str) -> str:
    return f"Current board:\n{rules.render(board)}\nYou play {mark}. {_legal_moves_line(board)}"


class TicTacToe(TurnGame):
    """Two seats take turns marking squares 0..8; three in a row wins.

    ``player_0`` plays X and always moves first; ``player_1`` plays O. Win / draw / loss score
    +1 / 0 / -1.
    """

    name: ClassVar[str] = "TicTacToe"
    bots: ClassVar[dict[str, Bot]] = {**TurnGame.bots, "optimal": optimal_bot}
    board: rules.Board = rules.EMPTY_BOARD
    """The position; empty until the first move (and before the first reset, so render works)."""

    @property
    def marks(self) -> dict[str, str]:
        """Each seat's mark: the first seat plays X."""
        return dict(zip(self.roles, rules.MARKS, strict=True))

    def instructions(self, role: str) -> str:
        mark = self.marks[role]
        first = "You move first." if mark == "X" else "Your opponent (X) moves first."
        return (
            f"You are playing TicTacToe as {role}, with the mark {mark}. {first}\n"
            "The board has 9 squares numbered 0 to 8, row by row:\n"
            f"{rules.render(rules.EMPTY_BOARD)}\n"
            "Players take turns putting their mark on an empty square. The first to get three marks "
            "in a row (across, down or diagonally) wins; if the board fills up first, it is a draw.\n"
            "Write your move as the square number in brackets, e.g. [4]. If you write several, the "
            "last one counts.\n"
            f"Reward: +1 for a win, 0 for a draw, -1 for a loss. {self._invalid_rule()}"
        )

    def _invalid_rule(self) -> str:
        """The forfeit rule as configured, so the prompt never promises a retry that is not there."""
        retries = (
            f"You may correct {self.invalid_retries} invalid move(s); after that, one more "
            if self.invalid_retries
            else "An "
        )
        return (
            f"{retries}invalid move (a square that is taken or does not exist) forfeits the game: "
            f"{self.invalid_penalty:+g} for you, {self.invalid_reward_others:+g} for your opponent."
        )

    def _setup(self) -> None:
        self.board = rules.EMPTY_BOARD
        self.moves_made = dict.fromkeys(self.roles, 0)
        self.current_role = self.roles[0]
        for role, mark in self.marks.items():
            self.tell(f"New game of TicTacToe. You are {role} and play {mark}; X moves first.", to=role)
        self._prompt_mover()

    def _prompt_mover(self) -> None:
        """Show the seat to move the board and what it may write."""
        assert self.current_role is not None
        self.tell(_board_prompt(self.board, self.marks[self.current_role]), to=self.current_role)

    def _legal_moves_line(self) -> str:
        return _legal_moves_line(self.board)

    def _legal_actions(self) -> list[str]:
        return list(_tagged_legal_moves(self.board))

    def _play(self, text: str) -> str | None:
        choice = extract_choice(text, _SQUARES)
        if choice is None:
            payload = last_tagged_payload(text)
            what = f"[{payload}] is not a square." if payload is not None else "No square was given."
            return f"{what} Write a square number from 0 to 8 in brackets. {self._legal_moves_line()}"
        square = int(choice)
        if self.board[square] is not None:
            return f"Square {square} is already taken. {self._legal_moves_line()}"
        role = self.current_role
        assert role is not None
        mark = self.marks[role]
        self.board = rules.apply(self.board, square, mark)
        self.moves_made[role] += 1
        announcement = f"{role} ({mark}) played [{square}]."
        opponent = self.roles[1] if role == self.roles[0] else self.roles[0]
        # The mover is not told its own move back (its reply is already in its history): the
        # opponent hears it with the board and its options, or everybody hears it with the result.
        if not rules.is_terminal(self.board):
            self.current_role = opponent
            self.tell(f"{announcement}\n{_board_prompt(self.board, self.marks[opponent])}", to=opponent)
            return None
        self.tell(f"{announcement}\nFinal board:\n{rules.render(self.board)}")
        if rules.winner(self.board) == mark:
            self.finish({role: 1.0, opponent: -1.0}, f"{role} ({mark}) has three in a row and wins.")
        else:
            self.finish(dict.fromkeys(self.roles, 0.0), "The board is full with no three in a row: a draw.")
        return None

    def _role_metrics(self, role: str) -> dict[str, float]:
        return {"moves": float(self.moves_made[role])}

    def render(self) -> str:
        if self.is_over:
            status = self.end_reason
        elif self.current_role is None:
            status = "No game yet: call reset()."
        else:
            status = f"{self.current_role} ({self.marks[self.current_role]}) to move."
        return f"{rules.render(self.board)}\n{status}"
