from __future__ import annotations

import functools

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test

import rlvr
from rlvr.core.game import GameOverError
from rlvr.envs.games.tictactoe import TicTacToe, rules
from rlvr.envs.games.tictactoe.rules import Board

ENV_ID = "rlvr/TicTacToe-v0"


# ----------------------------------------------------------------- an independent referee
def _line_holders(board: Board) -> set[str]:
    """Marks owning a full line, found by slicing rows, columns and diagonals (not ``rules.LINES``)."""
    rows = [board[start : start + 3] for start in (0, 3, 6)]
    columns = [board[column::3] for column in range(3)]
    diagonals = [board[0::4], board[2:7:2]]
    return {
        line[0] for line in rows + columns + diagonals if line[0] is not None and line.count(line[0]) == 3
    }


def _mark_to_move(board: Board) -> str:
    return "X" if board.count("X") == board.count("O") else "O"


@functools.cache
def _reachable_positions() -> frozenset[Board]:
    """Every board that legal play from the empty board can produce, play stopping at a line."""
    seen = {rules.EMPTY_BOARD}
    frontier = [rules.EMPTY_BOARD]
    while frontier:
        board = frontier.pop()
        if _line_holders(board):
            continue
        mark = _mark_to_move(board)
        for square in range(9):
            if board[square] is None:
                child = (*board[:square], mark, *board[square + 1 :])
                if child not in seen:
                    seen.add(child)
                    frontier.append(child)
    return frozenset(seen)


# ----------------------------------------------------------------- rules
def test_every_reachable_position_is_counted_once() -> None:
    positions = _reachable_positions()
    assert len(positions) == 5478
    outcomes = [rules.winner(board) for board in positions if rules.is_terminal(board)]
    assert (outcomes.count("X"), outcomes.count("O"), outcomes.count(None)) == (626, 316, 16)


def test_winner_matches_an_independent_line_check_on_every_reachable_position() -> None:
    for board in _reachable_positions():
        holders = _line_holders(board)
        assert len(holders) <= 1, board
        assert rules.winner(board) == next(iter(holders), None), board
        assert rules.is_full(board) == (None not in board), board


def test_no_move_is_legal_after_a_win() -> None:
    won = [board for board in _reachable_positions() if _line_holders(board)]
    for board in won:
        last_mover = "O" if _mark_to_move(board) == "X" else "X"
        assert rules.winner(board) == last_mover, board
        assert rules.legal_moves(board) == [], board
        assert rules.minimax(board, _mark_to_move(board)) == rules.Solution(-1, ())


def test_legal_moves_are_the_empty_squares_of_an_open_board() -> None:
    for board in _reachable_positions():
        if not _line_holders(board):
            assert rules.legal_moves(board) == [s for s in range(9) if board[s] is None]


def test_apply_refuses_taken_and_missing_squares() -> None:
    board = rules.apply(rules.EMPTY_BOARD, 4, "X")
    assert board == (None,) * 4 + ("X",) + (None,) * 4
    with pytest.raises(ValueError, match="already taken"):
        rules.apply(board, 4, "O")
    with pytest.raises(ValueError, match=r"0\.\.8"):
        rules.apply(board, 9, "O")


def test_render_shows_square_numbers_on_empty_cells() -> None:
    board = rules.apply(rules.apply(rules.EMPTY_BOARD, 0, "X"), 4, "O")
    assert rules.render(board) == " X | 1 | 2\n---+---+---\n 3 | O | 5\n---+---+---\n 6 | 7 | 8"


def test_minimax_value_is_the_best_child_value_on_every_open_position() -> None:
    for board in _reachable_positions():
        if rules.is_terminal(board):
            continue
        mark = _mark_to_move(board)
        children = {
            s: -rules.minimax(rules.apply(board, s, mark), rules.other(mark)).value
            for s in range(9)
            if board[s] is None
        }
        solution = rules.minimax(board, mark)
        assert solution.value == max(children.values()), board
        assert set(solution.moves) == {s for s, v in children.items() if v == solution.value}, board


def _perfect_play_finals(board: Board) -> set[Board]:
    """Final boards of every game in which both sides only ever play an optimal move."""
    if rules.is_terminal(board):
        return {board}
    mark = _mark_to_move(board)
    return set().union(
        *(_perfect_play_finals(rules.apply(board, s, mark)) for s in rules.minimax(board, mark).moves)
    )


@pytest.mark.parametrize("first_move", range(9))
def test_perfect_play_draws_from_every_first_move(first_move: int) -> None:
    board = rules.apply(rules.EMPTY_BOARD, first_move, "X")
    assert rules.minimax(board, "O").value == 0
    finals = _perfect_play_finals(board)
    assert finals
    assert all(not _line_holders(final) and None not in final for final in finals)


def _worst_result(board: Board, perfect: str) -> int:
    """The perfect side's worst result (+1/0/-1) over every optimal choice and every opponent reply."""
    holders = _line_holders(board)
    if holders:
        return 1 if perfect in holders else -1
    if None not in board:
        return 0
    mark = _mark_to_move(board)
    moves = rules.minimax(board, mark).moves if mark == perfect else rules.legal_moves(board)
    return min(_worst_result(rules.apply(board, s, mark), perfect) for s in moves)


@pytest.mark.parametrize("perfect", ["X", "O"])
def test_perfect_player_never_loses_to_any_opponent(perfect: str) -> None:
    assert _worst_result(rules.EMPTY_BOARD, perfect) == 0


# ----------------------------------------------------------------- the game and its env views
def _new_game(**options: object) -> TicTacToe:
    game = TicTacToe(**options)  # type: ignore[arg-type]
    game.reset(np.random.default_rng(0))
    return game


def _play(game: TicTacToe, squares: list[int]) -> None:
    for square in squares:
        assert game.act(f"[{square}]").valid


def test_random_agent_never_beats_the_optimal_opponent_in_1000_seeded_games() -> None:
    env = gym.make(ENV_ID, opponent="optimal")
    rng = np.random.default_rng(1234)
    finals = []
    for seed in range(1000):
        _, info = env.reset(seed=seed)
        done = False
        while not done:
            _, reward, terminated, truncated, info = env.step(rng.choice(info["legal_actions"]))
            done = terminated or truncated
        assert terminated and not info["invalid_action"]
        finals.append(reward)
    assert max(finals) <= 0.0
    assert finals.count(-1.0) > 500


def test_optimal_bots_draw_each_other() -> None:
    for seed in range(20):
        env = gym.make(ENV_ID, opponent={"player_1": "optimal"}, seat="player_0")
        bot = env.unwrapped.game.make_bot("optimal")
        rng = np.random.default_rng(seed)
        env.reset(seed=seed)
        done = False
        while not done:
            _, reward, terminated, truncated, info = env.step(bot(env.unwrapped.game, "player_0", rng))
            done = terminated or truncated
        assert (reward, terminated, info["metrics"]["draw"]) == (0.0, True, 1.0)


def test_single_agent_view_passes_gymnasium_checker() -> None:
    check_env(gym.make(ENV_ID).unwrapped)


def test_aec_view_passes_pettingzoo_api_test() -> None:
    api_test(rlvr.make_aec(ENV_ID), num_cycles=100)


def test_occupied_square_forfeits_with_spiral_penalty() -> None:
    env = gym.make(ENV_ID, seat=0)
    env.reset(seed=0)
    env.step("[4]")
    _, reward, terminated, truncated, info = env.step("[4]")
    assert (reward, terminated, truncated) == (-1.5, True, False)
    assert info["invalid_action"]
    assert info["invalid_reason"].startswith("Square 4 is already taken. Legal moves: [")
    assert env.unwrapped.game.returns() == {"player_0": -1.5, "player_1": 0.5}


def test_occupied_square_pays_the_other_agent_half_a_point_in_aec() -> None:
    env = rlvr.make_aec(ENV_ID)
    env.reset(seed=0)
    env.step("[4]")
    env.step("[4]")
    assert env.rewards == {"player_0": 0.5, "player_1": -1.5}
    assert env.infos["player_1"]["invalid_action"]
    assert all(env.terminations.values())


@pytest.mark.parametrize(
    ("text", "reason"),
    [("[9]", "[9] is not a square."), ("I pass.", "No square was given.")],
)
def test_move_that_names_no_square_is_invalid(text: str, reason: str) -> None:
    game = _new_game()
    move = game.act(text)
    assert not move.valid and move.reason is not None
    assert move.reason.startswith(reason) and "Legal moves: [0], [1]" in move.reason
    assert game.returns() == {"player_0": -1.5, "player_1": 0.5}


def test_retry_reminds_the_mover_of_the_legal_moves() -> None:
    game = _new_game(invalid_retries=1)
    _play(game, [4])
    game.take_messages("player_1")
    assert not game.act("[4]").valid and not game.is_over
    assert "Square 4 is already taken. Legal moves: [0], [1], [2], [3], [5]" in game.take_messages("player_1")
    assert game.current_role == "player_1"


@pytest.mark.parametrize(
    "text",
    ["[4]", "4", "\\boxed{4}", " 4. ", "[ 4 ]", "Square [0] is tempting, but I play [4].", "[4] not [9]"],
)
def test_moves_are_parsed_tolerantly_and_the_last_square_wins(text: str) -> None:
    game = _new_game()
    assert game.act(text).valid
    assert game.board == rules.apply(rules.EMPTY_BOARD, 4, "X")


def test_three_in_a_row_wins_and_ends_the_game() -> None:
    game = _new_game()
    _play(game, [0, 3, 1, 4, 2])
    assert game.returns() == {"player_0": 1.0, "player_1": -1.0}
    assert game.metrics("player_0")["win"] == 1.0 and game.metrics("player_0")["moves"] == 3.0
    assert game.metrics("player_1")["loss"] == 1.0 and game.metrics("player_1")["moves"] == 2.0
    assert game.legal_actions() is None
    assert "player_0 (X) has three in a row and wins." in game.take_messages("player_1")
    with pytest.raises(GameOverError):
        game.act("[5]")


def test_full_board_without_a_line_is_a_draw() -> None:
    game = _new_game()
    _play(game, [0, 4, 8, 2, 6, 3, 5, 7, 1])
    assert game.returns() == {"player_0": 0.0, "player_1": 0.0}
    assert game.metrics("player_1")["draw"] == 1.0
    assert "draw" in game.render()


def test_observation_shows_the_opponents_move_the_board_and_the_legal_moves() -> None:
    game = _new_game()
    opening = game.take_messages("player_0")
    assert "You are player_0 and play X" in opening
    assert "Legal moves: [0], [1], [2], [3], [4], [5], [6], [7], [8]" in opening
    _play(game, [4])
    observation = game.take_messages("player_1")
    assert "player_0 (X) played [4]." in observation
    assert " 3 | X | 5" in observation
    assert "You play O. Legal moves: [0], [1], [2], [3], [5], [6], [7], [8]" in observation
    assert game.legal_actions() == ["[0]", "[1]", "[2]", "[3]", "[5]", "[6]", "[7]", "[8]"]


def test_instructions_name_the_seats_mark_and_the_move_format() -> None:
    game = TicTacToe()
    assert "with the mark X. You move first." in game.instructions("player_0")
    assert "with the mark O. Your opponent (X) moves first." in game.instructions("player_1")
    assert "[4]" in game.instructions("player_1") and "+1 for a win" in game.instructions("player_1")
    assert "forfeits the game: -1.5 for you, +0.5 for your opponent" in game.instructions("player_0")
    assert "You may correct 2 invalid move(s)" in TicTacToe(invalid_retries=2).instructions("player_0")
