from __future__ import annotations

from fractions import Fraction

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test

import rlvr
from rlvr.envs.games.kuhn_poker import (
    KuhnPoker,
    KuhnPokerEnv,
    best_response_value,
    brute_force_best_response_value,
    expected_value,
    exploitability,
    nash_second_strategy,
    nash_strategy,
    uniform_random_strategy,
)
from rlvr.envs.games.kuhn_poker.rules import (
    TERMINAL_HISTORIES,
    contributions,
    hand_result,
    legal_moves,
    play,
)
from rlvr.envs.games.kuhn_poker.strategy import info_sets

J, Q, K = 0, 1, 2
ALPHAS = [Fraction(0), Fraction(1, 12), Fraction(1, 6), Fraction(1, 4), Fraction(1, 3)]


def _random_strategy(rng: np.random.Generator) -> dict:
    """Exact probabilities in twelfths, for both positions at once."""
    return {
        info_set: Fraction(int(rng.integers(0, 13)), 12)
        for position in (0, 1)
        for info_set in info_sets(position)
    }


def _play_hand(game: KuhnPoker, cards: dict[str, int], moves: list[str]) -> None:
    """Overrides the dealt cards, then plays ``moves`` alternately from the hand's first seat."""
    game.cards = dict(cards)
    for move in moves:
        assert game.act(f"[{move}]").valid


def _fresh_game(rounds: int = 1, **options) -> KuhnPoker:
    game = KuhnPoker(rounds=rounds, **options)
    game.reset(np.random.default_rng(0))
    return game


# ----------------------------------------------------------------- solver
@pytest.mark.parametrize("alpha", ALPHAS)
def test_nash_against_nash_is_worth_minus_one_eighteenth_to_the_first_player(alpha: Fraction) -> None:
    assert expected_value(nash_strategy(alpha), nash_second_strategy()) == Fraction(-1, 18)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_nash_is_exactly_unexploitable(alpha: Fraction) -> None:
    first, second = nash_strategy(alpha), nash_second_strategy()
    assert exploitability(first, second) == 0
    assert best_response_value(second, 0)[0] == Fraction(-1, 18)
    assert best_response_value(first, 1)[0] == Fraction(1, 18)


def test_uniform_random_exploitability_agrees_with_brute_force() -> None:
    uniform = uniform_random_strategy()
    for position in (0, 1):
        assert best_response_value(uniform, position)[0] == brute_force_best_response_value(uniform, position)
    brute = (brute_force_best_response_value(uniform, 0) + brute_force_best_response_value(uniform, 1)) / 2
    assert exploitability(uniform, uniform) == brute > 0


@pytest.mark.parametrize("seed", range(4))
def test_best_response_agrees_with_brute_force_on_random_strategies(seed: int) -> None:
    opponent = _random_strategy(np.random.default_rng(seed))
    for position in (0, 1):
        value, pure = best_response_value(opponent, position)
        assert value == brute_force_best_response_value(opponent, position)
        achieved = expected_value(pure, opponent) if position == 0 else -expected_value(opponent, pure)
        assert achieved == value


def test_float_strategies_give_float_values() -> None:
    value = expected_value(nash_strategy(0.2), nash_second_strategy())
    assert isinstance(value, float) and value == pytest.approx(-1 / 18)


@pytest.mark.parametrize("alpha", [-0.01, 0.34, float("nan")])
def test_nash_strategy_rejects_alpha_outside_the_family(alpha: float) -> None:
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1/3\]"):
        nash_strategy(alpha)


def test_incomplete_strategy_is_rejected_with_the_missing_information_set() -> None:
    partial = nash_second_strategy()
    del partial[(Q, "b")]
    with pytest.raises(ValueError, match=r"\(1, 'b'\)"):
        expected_value(nash_strategy(0), partial)


# ----------------------------------------------------------------- rules of one hand
@pytest.mark.parametrize(
    ("cards", "history", "first_net"),
    [
        ((J, K), "bf", 1),  # the bettor takes the pot even with the worse card
        ((K, J), "cbf", -1),
        ((K, J), "bc", 2),
        ((J, Q), "cbc", -2),
        ((Q, J), "cc", 1),
        ((Q, K), "cc", -1),
    ],
)
def test_hand_results_fold_one_called_showdown_two_unbet_showdown_one(
    cards: tuple[int, int], history: str, first_net: int
) -> None:
    assert hand_result(cards, history) == first_net


@pytest.mark.parametrize("history", TERMINAL_HISTORIES)
def test_the_winner_takes_exactly_the_pot(history: str) -> None:
    pot = sum(contributions(history))
    for cards in [(J, Q), (Q, J), (K, J), (J, K)]:
        first_net = hand_result(cards, history)
        assert first_net is not None
        first_paid, second_paid = contributions(history)
        assert first_net in (pot - first_paid, -first_paid)
        assert -first_net in (pot - second_paid, -second_paid)


def test_unfinished_hands_have_no_result_and_offer_the_right_moves() -> None:
    assert [hand_result((K, J), h) for h in ("", "c", "b", "cb")] == [None] * 4
    assert legal_moves("") == legal_moves("c") == ("check", "bet")
    assert legal_moves("b") == legal_moves("cb") == ("call", "fold")
    assert legal_moves("bc") == ()
    with pytest.raises(ValueError, match="not legal"):
        play("", "call")


# ----------------------------------------------------------------- the match
def test_first_player_alternates_every_hand() -> None:
    game = _fresh_game(rounds=4)
    openers = []
    for _ in range(4):
        openers.append(game.current_role)
        _play_hand(game, {"player_0": K, "player_1": J}, ["check", "check"])
    assert openers == ["player_0", "player_1", "player_0", "player_1"]
    assert [hand.first_role for hand in game.completed_hands] == openers


def test_match_reward_follows_chip_totals() -> None:
    game = _fresh_game(rounds=1)
    _play_hand(game, {"player_0": J, "player_1": K}, ["bet", "call"])
    assert game.returns() == {"player_0": -1.0, "player_1": 1.0}
    assert game.metrics("player_1")["chip_diff"] == 4.0

    game = _fresh_game(rounds=2)
    _play_hand(game, {"player_0": J, "player_1": K}, ["bet", "fold"])  # player_0 +1
    _play_hand(game, {"player_0": J, "player_1": K}, ["check", "check"])  # player_1 +1
    assert game.chips == {"player_0": 0, "player_1": 0}
    assert game.returns() == {"player_0": 0.0, "player_1": 0.0}
    assert game.metrics("player_0")["hands_played"] == 2.0


def test_chips_are_conserved_over_many_random_matches() -> None:
    env = KuhnPokerEnv(seat=0, opponent="random")
    rng = np.random.default_rng(7)
    for seed in range(2000):
        _, info = env.reset(seed=seed)
        done = False
        while not done:
            move = info["legal_actions"][int(rng.integers(len(info["legal_actions"])))]
            _, reward, terminated, truncated, info = env.step(move)
            done = terminated or truncated
        game = env.game
        assert sum(game.chips.values()) == 0
        assert all(sum(hand.chip_changes.values()) == 0 for hand in game.completed_hands)
        assert all(abs(hand.chip_changes["player_0"]) in (1, 2) for hand in game.completed_hands)
        chip_diff = info["metrics"]["chip_diff"]
        assert chip_diff == 2 * game.chips["player_0"]
        assert reward == np.sign(chip_diff) and not truncated


@pytest.mark.parametrize(
    "text", ["[bet]", "bet", "Bet", "\\boxed{bet}", "[check] ... actually [bet]", "I will [BET]."]
)
def test_moves_are_parsed_tolerantly_and_the_last_tag_wins(text: str) -> None:
    game = _fresh_game()
    assert game.act(text).valid
    assert game.public_history() == "b"


def test_illegal_move_forfeits_with_spiral_penalty() -> None:
    env = KuhnPokerEnv(seat=0)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step("[call]")
    assert (reward, terminated, truncated) == (-1.5, True, False)
    assert info["invalid_action"]
    assert info["invalid_reason"] == (
        "[call] is not legal now: no bet is pending. Legal moves: [check], [bet]."
    )
    assert env.game.returns()["player_1"] == 0.5


def test_text_without_a_move_is_invalid() -> None:
    game = _fresh_game()
    result = game.act("I am not sure.")
    assert not result.valid and "Legal moves: [check], [bet]" in (result.reason or "")


def test_each_seat_is_told_only_its_own_card() -> None:
    game = _fresh_game()
    for role in game.roles:
        told = game.take_messages(role)
        other = next(r for r in game.roles if r != role)
        assert f"Your card: {'JQK'[game.card_of(role)]}." in told
        assert f"Your card: {'JQK'[game.card_of(other)]}." not in told
    assert game.legal_actions() == ["[check]", "[bet]"]


def test_render_shows_cards_moves_and_chips() -> None:
    game = _fresh_game(rounds=2)
    _play_hand(game, {"player_0": Q, "player_1": K}, ["check"])
    text = game.render()
    assert "Cards: player_0 Q, player_1 K" in text
    assert "Moves: check" in text and "Chips: player_0 +0, player_1 +0" in text


def test_instructions_give_hands_move_format_and_reward() -> None:
    text = KuhnPoker(rounds=5).instructions("player_1")
    assert "5 hand(s)" in text and "[check]" in text and "\\boxed{bet}" in text
    assert "-1.5" in text and "+1 if you have won more chips" in text


# ----------------------------------------------------------------- bots
def test_nash_bot_takes_alpha_and_rejects_bad_options() -> None:
    game = KuhnPoker()
    assert callable(game.make_bot("nash", alpha=0.2))
    with pytest.raises(ValueError, match="alpha"):
        game.make_bot("optimal", alpha=0.5)
    with pytest.raises(TypeError, match="only alpha"):
        game.make_bot("nash", beta=1)
    assert set(KuhnPoker.bots) == {"random", "optimal"}


def test_nash_bots_average_close_to_the_game_value() -> None:
    hands = 20000
    game = KuhnPoker(rounds=hands)
    game.reset(np.random.default_rng(11))
    bot_rng = np.random.default_rng(12)
    first_bot, second_bot = game.make_bot("nash", alpha=Fraction(1, 3)), game.make_bot("nash")
    bots = {"player_0": first_bot, "player_1": second_bot}
    while not game.is_over:
        role = game.current_role
        assert role is not None
        game.act(bots[role](game, role, bot_rng))
    first_nets = [hand.chip_changes[hand.first_role] for hand in game.completed_hands]
    assert len(first_nets) == hands
    assert np.mean(first_nets) == pytest.approx(-1 / 18, abs=0.03)


# ----------------------------------------------------------------- env contracts
def test_single_agent_view_passes_gymnasium_checker() -> None:
    check_env(gym.make("rlvr/KuhnPoker-v0").unwrapped)


def test_aec_view_passes_pettingzoo_api_test() -> None:
    api_test(rlvr.make_aec("rlvr/KuhnPoker-v0"), num_cycles=100)
