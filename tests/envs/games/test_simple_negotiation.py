from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given
from hypothesis import strategies as st
from pettingzoo.test import api_test

import rlvr
from rlvr.envs.games.simple_negotiation import SimpleNegotiation, rules
from rlvr.envs.games.simple_negotiation.bots import greedy_move
from rlvr.envs.games.simple_negotiation.rules import RESOURCES, Move, Offer

ENV_ID = "rlvr/SimpleNegotiation-v0"
TEN_OF_EACH = dict.fromkeys(RESOURCES, 10)
# Worked example: player_0 values Sheep highly and Ore cheaply, player_1 the other way round.
VALUES_0 = {"Wheat": 5, "Wood": 10, "Sheep": 18, "Brick": 25, "Ore": 32}  # 10 of each: 900
VALUES_1 = {"Wheat": 6, "Wood": 8, "Sheep": 12, "Brick": 20, "Ore": 40}  # 10 of each: 860


def staged_game(turns: int = 2, **options: object) -> SimpleNegotiation:
    """A game whose two inventories (10 of everything) and values are the worked example's."""
    game = SimpleNegotiation(turns=turns, **options)
    game.reset(np.random.default_rng(0))
    game.initial_inventories = {role: dict(TEN_OF_EACH) for role in game.roles}
    game.inventories = {role: dict(TEN_OF_EACH) for role in game.roles}
    game.values = {"player_0": dict(VALUES_0), "player_1": dict(VALUES_1)}
    return game


# ----------------------------------------------------------------- the verifier
def test_value_change_is_worked_by_hand() -> None:
    final = dict(TEN_OF_EACH, Ore=9, Sheep=13)
    # One Ore (32) out, three Sheep (3 * 18 = 54) in.
    assert rules.value_change(TEN_OF_EACH, final, VALUES_0) == 22
    assert rules.trade_reward(TEN_OF_EACH, final, VALUES_0) == pytest.approx(22 / 900)


def test_trade_reward_is_clipped_to_plus_one() -> None:
    windfall = dict(TEN_OF_EACH, Ore=100)  # +90 Ore * 32 = +2880 on a start of 900
    assert rules.trade_reward(TEN_OF_EACH, windfall, VALUES_0) == 1.0
    assert rules.trade_reward(TEN_OF_EACH, dict.fromkeys(RESOURCES, 0), VALUES_0) == -1.0


def test_accepted_trade_pays_both_players_their_own_gain() -> None:
    game = staged_game(turns=2)
    assert game.act("[Offer: 1 Ore -> 3 Sheep]").valid
    assert game.act("[Accept]").valid
    assert game.is_over and not game.is_truncated
    assert game.inventories["player_0"] == dict(TEN_OF_EACH, Ore=9, Sheep=13)
    assert game.inventories["player_1"] == dict(TEN_OF_EACH, Ore=11, Sheep=7)
    # player_0: -32 + 3 * 18 = +22 on 900; player_1: +40 - 3 * 12 = +4 on 860.
    assert game.returns() == pytest.approx({"player_0": 22 / 900, "player_1": 4 / 860})
    metrics = game.metrics("player_1")
    assert (metrics["value_change"], metrics["initial_value"], metrics["final_value"]) == (4, 860, 864)
    assert (metrics["trades"], metrics["deal"]) == (1.0, 1.0)


def test_no_trade_scores_zero_for_both() -> None:
    game = staged_game(turns=2)
    game.act("[Offer: 1 Ore -> 3 Sheep]")
    game.act("[Deny]")
    assert game.returns() == {"player_0": 0.0, "player_1": 0.0}
    assert game.metrics("player_0")["deal"] == 0.0


# ----------------------------------------------------------------- offers
def test_offer_parser_reads_the_canonical_form() -> None:
    assert rules.parse_offer("Offer: 3 Sheep, 2 Ore -> 5 Brick, 2 Wheat") == Offer(
        give={"Sheep": 3, "Ore": 2}, receive={"Brick": 5, "Wheat": 2}
    )


@pytest.mark.parametrize(
    "payload",
    [
        "offer 3 sheep, 2 ore -> 5 brick",
        "OFFER: I give 3 Sheeps and 2 Ores -> 5 Bricks.",
        "Offer: I offer 1 Sheep, 2 Sheep, 2 Ore => 5 Brick",
        "Offer:3x Sheep + 2 Ore → 5 Brick",
    ],
)
def test_offer_parser_is_tolerant_of_form(payload: str) -> None:
    assert rules.parse_offer(payload) == Offer(give={"Sheep": 3, "Ore": 2}, receive={"Brick": 5})


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("Offer: 3 Gold -> 1 Ore", "Unknown resource 'Gold'"),
        ("Offer: 0 Wheat -> 1 Ore", "whole numbers of at least 1"),
        ("Offer: 1.5 Wheat -> 1 Ore", "whole numbers of at least 1"),
        ("Offer: -2 Wheat -> 1 Ore", "whole numbers of at least 1"),
        ("Offer: 3 Wheat", "exactly one '->'"),
        ("Offer: -> 1 Ore", "nothing to give"),
        ("Offer: some Wheat -> 1 Ore", "Could not read 'some Wheat'"),
        ("Offer: 2 Wheat -> 1 Wheat", "on both sides"),
    ],
)
def test_offer_parser_explains_what_is_wrong(payload: str, reason: str) -> None:
    result = rules.parse_offer(payload)
    assert isinstance(result, str) and reason in result


bundles = st.dictionaries(st.sampled_from(RESOURCES), st.integers(1, 99), min_size=1)


@given(give=bundles, receive=bundles)
def test_formatted_offers_parse_back(give: dict[str, int], receive: dict[str, int]) -> None:
    receive = {name: units for name, units in receive.items() if name not in give} or {"Wheat": 1}
    give = {name: units for name, units in give.items() if name not in receive} or {"Ore": 1}
    offer = Offer(give=give, receive=receive)
    assert rules.parse_move(rules.format_offer(offer)) == Move("offer", "", offer)


def test_last_action_tag_wins_and_the_rest_is_talk() -> None:
    move = rules.parse_move("I could [Accept], but no.\n[Offer: 1 Ore -> 3 Sheep] Deal? [maybe]")
    assert move == Move("offer", "I could [Accept], but no. Deal? [maybe]", Offer({"Ore": 1}, {"Sheep": 3}))
    assert rules.parse_move("fine \\boxed{accept}") == Move("accept", "fine")
    assert rules.parse_move("just chatting") == Move("talk", "just chatting")


def test_apply_trade_moves_units_and_refuses_an_unpaid_one() -> None:
    offer = Offer({"Ore": 2}, {"Sheep": 5})
    offerer, acceptor = rules.apply_trade({"Ore": 2, "Sheep": 0}, {"Ore": 0, "Sheep": 5}, offer)
    assert (offerer, acceptor) == ({"Ore": 0, "Sheep": 5}, {"Ore": 2, "Sheep": 0})
    assert not rules.can_afford({"Ore": 1}, offer.give)
    with pytest.raises(ValueError):
        rules.apply_trade({"Ore": 1}, {"Sheep": 5}, offer)


# ----------------------------------------------------------------- invalid moves
def test_offer_beyond_ones_inventory_is_invalid() -> None:
    game = staged_game()
    result = game.act("[Offer: 11 Ore -> 1 Wheat]")
    assert not result.valid and "hold only" in (result.reason or "")
    assert game.returns() == {"player_0": -1.5, "player_1": 0.5}


def test_malformed_offer_is_invalid() -> None:
    game = staged_game()
    result = game.act("[Offer: 2 Gold -> 1 Wheat]")
    assert not result.valid and "Unknown resource" in (result.reason or "")
    assert game.is_over


def test_accept_without_a_pending_offer_is_invalid() -> None:
    game = staged_game()
    result = game.act("[Accept]")
    assert not result.valid and "no offer" in (result.reason or "")
    assert game.returns() == {"player_0": -1.5, "player_1": 0.5}


def test_an_offer_is_void_after_the_other_players_next_move() -> None:
    game = staged_game(turns=4)
    game.act("[Offer: 1 Ore -> 3 Sheep]")
    game.act("Let me think.")
    result = game.act("[Accept]")  # nothing from player_1 to accept; player_0's own offer is gone
    assert not result.valid and game.returns()["player_0"] == -1.5


def test_accepting_requires_holding_what_is_asked() -> None:
    game = staged_game(turns=4, invalid_retries=1)
    game.act("[Offer: 1 Wheat -> 11 Ore]")
    result = game.act("[Accept]")
    assert not result.valid and "cannot accept" in (result.reason or "")
    assert game.inventories == {role: TEN_OF_EACH for role in game.roles}
    assert game.offer_to("player_1") == Offer({"Wheat": 1}, {"Ore": 11})  # a retry leaves it standing
    assert game.act("[Deny]").valid


# ----------------------------------------------------------------- flow and information
def test_game_ends_naturally_after_the_given_number_of_turns() -> None:
    env = gym.make(ENV_ID, turns=4, opponent="greedy", seat=0).unwrapped
    env.reset(seed=0)
    _, _, terminated, truncated, _ = env.step("[Deny]")
    assert not (terminated or truncated)
    _, reward, terminated, truncated, info = env.step("[Deny]")
    assert terminated and not truncated
    assert info["metrics"]["turns"] == 4.0
    assert reward == env.game.returns()["player_0"]


def test_turns_must_stay_below_the_safety_limit() -> None:
    with pytest.raises(ValueError, match="must exceed turns"):
        SimpleNegotiation(turns=50)
    with pytest.raises(ValueError, match="turns must be >= 1"):
        SimpleNegotiation(turns=0)
    assert SimpleNegotiation(turns=60, max_turns=61).turns == 60


def test_talk_is_forwarded_to_the_other_player_only() -> None:
    game = staged_game(turns=4)
    game.take_messages("player_0")
    game.take_messages("player_1")
    game.act("Good price! [Offer: 1 Ore -> 3 Sheep] Take it.")
    heard = game.take_messages("player_1")
    assert "player_0 says: Good price! Take it." in heard
    assert "player_0 offers to give 1 Ore in exchange for 3 Sheep" in heard
    assert "says" not in game.take_messages("player_0")


def _view(role: str, values_0: dict[str, int] | None) -> list[str]:
    """Everything ``role`` is shown in a scripted game, with player_0's values replaced if given."""
    game = SimpleNegotiation(turns=6)
    game.reset(np.random.default_rng(5))
    if values_0 is not None:
        game.values["player_0"] = values_0
    seen = [game.instructions(role), game.take_messages(role)]
    for move in ["Hi [Offer: 1 Wheat -> 1 Wood]", "[Accept]", "[Offer: 1 Sheep -> 1 Ore]", "no", "", "ok"]:
        game.act(move)
        seen.append(game.take_messages(role))
    return seen


def test_private_values_never_reach_the_other_player() -> None:
    other_values = {"Wheat": 6, "Wood": 12, "Sheep": 17, "Brick": 21, "Ore": 39}
    assert _view("player_1", None) == _view("player_1", other_values)
    assert _view("player_0", None) != _view("player_0", other_values)  # the probe does see them


def test_greedy_bot_accepts_exactly_the_offers_that_raise_its_value() -> None:
    rng = np.random.default_rng(0)
    assert greedy_move(TEN_OF_EACH, VALUES_1, Offer({"Ore": 1}, {"Sheep": 3}), rng) == "[Accept]"
    assert greedy_move(TEN_OF_EACH, VALUES_1, Offer({"Ore": 1}, {"Sheep": 4}), rng) != "[Accept]"


@pytest.mark.parametrize("pairing", [("random", "random"), ("greedy", "random"), ("greedy", "greedy")])
def test_bot_games_conserve_units_and_pay_the_verified_reward(pairing: tuple[str, str]) -> None:
    deals = 0
    for seed in range(60):
        game = SimpleNegotiation()
        game.reset(np.random.default_rng(seed))
        bots = {role: game.make_bot(name) for role, name in zip(game.roles, pairing, strict=True)}
        totals = {name: sum(game.inventories[role][name] for role in game.roles) for name in RESOURCES}
        bot_rng = np.random.default_rng(seed)
        while not game.is_over:
            role = game.current_role
            assert role is not None
            assert game.act(bots[role](game, role, bot_rng)).valid
            for name in RESOURCES:
                assert sum(game.inventories[role][name] for role in game.roles) == totals[name]
                assert all(game.inventories[role][name] >= 0 for role in game.roles)
        assert game.turn == game.turns
        for role in game.roles:
            expected = rules.trade_reward(
                game.initial_inventories[role], game.inventories[role], game.values[role]
            )
            assert game.returns()[role] == expected
        deals += game.trades > 0
    assert deals > 0


# ----------------------------------------------------------------- API contracts
def test_gymnasium_view_passes_env_checker() -> None:
    check_env(gym.make(ENV_ID).unwrapped)


def test_aec_view_passes_pettingzoo_api_test() -> None:
    api_test(rlvr.make_aec(ENV_ID), num_cycles=100)
