"""TicTacToe rules as pure functions of a board, apart from any env or prompt.

A board is a tuple of 9 cells, squares 0..8 row-major (0 1 2 / 3 4 5 / 6 7 8); a cell holds ``"X"``,
``"O"`` or ``None``. Tuples are immutable and hashable, so ``minimax`` can memoise on them and a test
can enumerate every reachable position without an env.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

Cell = str | None
Board = tuple[Cell, ...]

MARKS: tuple[str, str] = ("X", "O")
EMPTY_BOARD: Board = (None,) * 9
LINES: tuple[tuple[int, int, int], ...] = (
    (0, 1, 2),
    (3, 4, 5),
    (6, 7, 8),
    (0, 3, 6),
    (1, 4, 7),
    (2, 5, 8),
    (0, 4, 8),
    (2, 4, 6),
)


def other(mark: str) -> str:
    """The opponent's mark."""
    return "O" if mark == "X" else "X"


@functools.cache  # boards are hashable tuples and only 5,478 are reachable: memoise
def winner(board: Board) -> str | None:
    """The mark holding a full line, or ``None``.

    Play stops at the first completed line, so a reachable board never has two winning marks.
    """
    for a, b, c in LINES:
        if board[a] is not None and board[a] == board[b] == board[c]:
            return board[a]
    return None


def is_full(board: Board) -> bool:
    return all(cell is not None for cell in board)


def is_terminal(board: Board) -> bool:
    return winner(board) is not None or is_full(board)


def legal_moves(board: Board) -> list[int]:
    """Empty squares in increasing order; none once somebody has won, since play stops there."""
    if winner(board) is not None:
        return []
    return [square for square, cell in enumerate(board) if cell is None]


def apply(board: Board, square: int, mark: str) -> Board:
    """The board after ``mark`` takes ``square``; raises ``ValueError`` for a move the rules forbid."""
    if mark not in MARKS:
        raise ValueError(f"mark must be 'X' or 'O', got {mark!r}")
    if not 0 <= square < 9:
        raise ValueError(f"square must be in 0..8, got {square}")
    if board[square] is not None:
        raise ValueError(f"square {square} is already taken")
    return (*board[:square], mark, *board[square + 1 :])


@functools.cache
def render(board: Board) -> str:
    """A 3x3 grid; empty cells show their square number so a reader knows what to write."""
    cells = [cell if cell is not None else str(square) for square, cell in enumerate(board)]
    rows = [f" {cells[r]} | {cells[r + 1]} | {cells[r + 2]}" for r in (0, 3, 6)]
    return "\n---+---+---\n".join(rows)


class Solution(NamedTuple):
    """The game-theoretic value for the side to move (+1 win, 0 draw, -1 loss) and every move that
    achieves it; ``moves`` is empty on a finished board."""

    value: int
    moves: tuple[int, ...]


@functools.cache
def minimax(board: Board, mark: str) -> Solution:
    """Perfect play for ``mark`` to move on ``board`` (negamax over the full game tree).

    The value is exact; among equally valued moves none is preferred (a win now and a win later both
    count as +1), so a caller that wants variety samples from ``moves``.
    """
    won = winner(board)
    if won is not None:
        return Solution(1 if won == mark else -1, ())
    moves = legal_moves(board)
    if not moves:
        return Solution(0, ())
    values = {square: -minimax(apply(board, square, mark), other(mark)).value for square in moves}
    best = max(values.values())
    return Solution(best, tuple(square for square, value in values.items() if value == best))
