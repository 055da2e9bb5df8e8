"""Bradley–Terry ratings: hand-worked gaps, the score equations, the prior, anchoring, the bootstrap."""

from __future__ import annotations

import math
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr.runners.ratings import (
    BASE_RATING,
    bootstrap_ratings,
    fit_bradley_terry,
    pairwise_outcomes,
    pairwise_outcomes_by_episode,
    rate,
)
from rlvr.runners.results_db import SeatRow

GAP_3_TO_1 = 400 * math.log10(3)  # P = 3/4  <=>  10 ** (gap / 400) = 3


def games(a: str, b: str, wins: int, losses: int, draws: int = 0) -> list[tuple[str, str, float]]:
    return [(a, b, 1.0)] * wins + [(a, b, 0.0)] * losses + [(a, b, 0.5)] * draws


def p_beats(ratings: dict[str, float], a: str, b: str) -> float:
    return 1.0 / (1.0 + 10 ** ((ratings[b] - ratings[a]) / 400))


def seat(key: str, index: int, agent: str, reward: float, role: str | None = None) -> SeatRow:
    return SeatRow(key, "env", 0, role or f"player_{index}", index, agent, reward, 1, 0, 0, {}, ())


# -- the point estimate ------------------------------------------------------------------------------


def test_equal_records_give_equal_ratings_at_the_base():
    ratings = fit_bradley_terry(games("A", "B", 2, 2))
    assert ratings == pytest.approx({"A": BASE_RATING, "B": BASE_RATING})


def test_three_to_one_is_400_log10_3_without_the_prior():
    ratings = fit_bradley_terry(games("A", "B", 3, 1), prior_games=0)
    assert ratings["A"] - ratings["B"] == pytest.approx(GAP_3_TO_1, abs=1e-6)
    assert (ratings["A"] + ratings["B"]) / 2 == pytest.approx(BASE_RATING)
    assert p_beats(ratings, "A", "B") == pytest.approx(0.75)
    # A tiny prior barely moves it; the default one shrinks it, but not to nothing.
    tiny = fit_bradley_terry(games("A", "B", 3, 1), prior_games=1e-6)
    assert tiny["A"] - tiny["B"] == pytest.approx(GAP_3_TO_1, abs=0.01)
    default = fit_bradley_terry(games("A", "B", 3, 1))
    assert 0.5 * GAP_3_TO_1 < default["A"] - default["B"] < GAP_3_TO_1


def test_draws_count_as_half_a_win_each():
    # Two draws carry the same information as one win and one loss.
    assert fit_bradley_terry(games("A", "B", 3, 1, draws=2), prior_games=0) == pytest.approx(
        fit_bradley_terry(games("A", "B", 4, 2), prior_games=0)
    )
    assert fit_bradley_terry(games("A", "B", 0, 0, draws=5)) == pytest.approx({"A": 1000.0, "B": 1000.0})


def test_the_side_a_game_is_written_from_does_not_matter():
    forward = games("A", "B", 3, 1) + games("B", "C", 2, 1)
    backward = [(b, a, 1.0 - s) for a, b, s in forward]
    assert fit_bradley_terry(forward) == pytest.approx(fit_bradley_terry(backward))


def test_an_unbeaten_agent_is_finite_with_the_prior_and_refused_without():
    ratings = fit_bradley_terry(games("A", "B", 10, 0))
    assert all(math.isfinite(value) for value in ratings.values())
    assert ratings["A"] - ratings["B"] > GAP_3_TO_1
    with pytest.raises(ValueError, match="does not exist"):
        fit_bradley_terry(games("A", "B", 10, 0), prior_games=0)
    # Two groups that never met: no MLE either.
    with pytest.raises(ValueError, match="does not exist"):
        fit_bradley_terry(games("A", "B", 1, 1) + games("C", "D", 1, 1), prior_games=0)


def test_round_robin_ordering_is_transitive():
    outcomes = games("A", "B", 3, 1) + games("B", "C", 3, 1) + games("A", "C", 4, 0)
    ratings = fit_bradley_terry(outcomes)
    assert ratings["A"] > ratings["B"] > ratings["C"]
    assert sum(ratings.values()) / 3 == pytest.approx(BASE_RATING)
    assert [r.agent for r in rate(outcomes, resamples=0)] == ["A", "B", "C"]


def test_anchoring_shifts_without_changing_gaps():
    outcomes = games("A", "B", 3, 1) + games("B", "C", 3, 1) + games("A", "C", 3, 1)
    by_mean = fit_bradley_terry(outcomes)
    by_c = fit_bradley_terry(outcomes, anchor="C")
    assert by_c["C"] == BASE_RATING
    for agent in "AB":
        assert by_c[agent] - by_c["C"] == pytest.approx(by_mean[agent] - by_mean["C"])
    with pytest.raises(ValueError, match="anchor"):
        fit_bradley_terry(outcomes, anchor="Z")


def test_self_play_and_empty_input_carry_no_information():
    assert fit_bradley_terry([]) == {}
    assert fit_bradley_terry([("A", "A", 1.0)] * 5) == {}
    with_self = fit_bradley_terry(games("A", "B", 3, 1) + [("A", "A", 1.0)] * 5)
    assert with_self == pytest.approx(fit_bradley_terry(games("A", "B", 3, 1)))


def test_scores_outside_zero_one_are_refused():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit_bradley_terry([("A", "B", 2.0)])


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 4),
    counts=st.lists(
        st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(0, 2)), min_size=6, max_size=6
    ),
)
def test_the_mle_solves_the_score_equations(n, counts):
    """At the unregularised MLE each agent's expected score equals its actual score (Zermelo)."""
    agents = "ABCD"[:n]
    outcomes = []
    for (a, b), (wins, losses, draws) in zip(combinations(agents, 2), counts, strict=False):
        outcomes += games(a, b, wins, losses, draws)
    ratings = fit_bradley_terry(outcomes, prior_games=0)
    for agent in agents:
        actual = sum(s if a == agent else 1 - s for a, b, s in outcomes if agent in (a, b))
        expected = sum(
            p_beats(ratings, agent, b if a == agent else a) for a, b, _ in outcomes if agent in (a, b)
        )
        assert expected == pytest.approx(actual, abs=1e-6)


# -- intervals -----------------------------------------------------------------------------------------


ROUND_ROBIN = (
    games("A", "B", 7, 3, 2) + games("B", "C", 6, 4, 1) + games("A", "C", 8, 2) + games("C", "D", 5, 5)
)


def test_bootstrap_is_deterministic_for_a_seed():
    first = rate(ROUND_ROBIN, resamples=50, seed=7)
    assert rate(ROUND_ROBIN, resamples=50, seed=7) == first
    assert rate(ROUND_ROBIN, resamples=50, seed=8) != first


def test_intervals_contain_the_point_estimate():
    for rating in rate(ROUND_ROBIN, resamples=100, seed=1):
        assert rating.low <= rating.rating <= rating.high
        assert rating.high - rating.low > 10  # real uncertainty from ~10 games a pair
    anchored = {r.agent: r for r in rate(ROUND_ROBIN, anchor="D", resamples=50)}
    assert anchored["D"].rating == anchored["D"].low == anchored["D"].high == BASE_RATING
    for rating in anchored.values():
        assert rating.low <= rating.rating <= rating.high


def test_rating_rows_report_games_and_score():
    rows = {r.agent: r for r in rate(ROUND_ROBIN, resamples=0)}
    assert rows["A"].games == 22 and rows["A"].score == pytest.approx((7 + 1 + 8) / 22)
    assert rows["D"].games == 10 and rows["D"].score == pytest.approx(0.5)
    assert math.isnan(rows["A"].low) and math.isnan(rows["A"].high)


def test_grouped_outcomes_are_resampled_together():
    # Two episodes that each hold a full copy of the games: every resample has the same content.
    doubled = ROUND_ROBIN + ROUND_ROBIN
    groups = ["one"] * len(ROUND_ROBIN) + ["two"] * len(ROUND_ROBIN)
    samples = bootstrap_ratings(doubled, groups=groups, resamples=10)
    point = fit_bradley_terry(doubled)
    for agent, draws in samples.items():
        assert draws == pytest.approx([point[agent]] * 10)
    with pytest.raises(ValueError, match="groups"):
        bootstrap_ratings(ROUND_ROBIN, groups=["x"], resamples=10)


def test_a_single_episode_has_no_interval():
    (a, b) = rate(games("A", "B", 3, 1), groups=["e"] * 4, resamples=50)
    assert math.isnan(a.low) and math.isnan(b.high) and a.rating > b.rating


def test_agents_missing_from_a_resample_are_nan_not_made_up():
    outcomes = games("A", "B", 20, 20) + games("A", "C", 1, 0)  # C appears in 1 game of 41
    samples = bootstrap_ratings(outcomes, resamples=40, seed=0)
    assert any(math.isnan(value) for value in samples["C"])
    assert not any(math.isnan(value) for value in samples["A"])


# -- outcomes from stored seats -------------------------------------------------------------------------


def test_pairwise_outcomes_from_seat_rows():
    rows = [
        seat("e1", 0, "A", 1.0),
        seat("e1", 1, "B", -1.0),
        seat("e2", 1, "A", 0.0),  # listed out of seat order on purpose
        seat("e2", 0, "B", 0.0),
        seat("e3", 0, "A", 1.0, role="agent"),  # single-seat: no opponent
        seat("e4", 0, "A", 1.0),  # self-play: no information
        seat("e4", 1, "A", -1.0),
        seat("e5", 0, "A", 3.0),  # three seats: every pair
        seat("e5", 1, "B", 1.0),
        seat("e5", 2, "C", 3.0),
    ]
    by_episode = pairwise_outcomes_by_episode(rows)
    assert by_episode == {
        "e1": [("A", "B", 1.0)],
        "e2": [("B", "A", 0.5)],
        "e5": [("A", "B", 1.0), ("A", "C", 0.5), ("B", "C", 0.0)],
    }
    assert pairwise_outcomes(rows) == [game for pairs in by_episode.values() for game in pairs]
