"""Bradley–Terry ratings on the Elo scale for head-to-head games, with bootstrap intervals.

Mean reward says how an agent did against whoever it happened to meet; a rating says how strong it is
given *who* it met, which is what makes agents comparable when their schedules differ. The model is

    P(a beats b) = 1 / (1 + 10 ** ((R_b - R_a) / 400))

i.e. logistic in the rating gap with 400 / ln(10) Elo points per logit, so a 400-point gap means
10:1 odds. Ratings are fitted by (penalised) maximum likelihood over all games at once, not by
sequential Elo updates, so the order in which episodes were played does not matter.

Everything here is a pure function of plain data: a game is ``(agent_a, agent_b, score_a)`` with
``score_a`` 1 for a win of ``agent_a``, 0 for a loss and 0.5 for a draw (a draw counts as half a win
for each side).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from rlvr.runners.results_db import SeatRow

Outcome = tuple[str, str, float]
"""One game: ``(agent_a, agent_b, score_a)``, score 1 / 0.5 / 0 for a win / draw / loss of ``agent_a``."""

ELO_PER_LOGIT = 400.0 / math.log(10.0)
BASE_RATING = 1000.0
DEFAULT_PRIOR_GAMES = 1.0
DEFAULT_RESAMPLES = 200


@dataclass(frozen=True)
class Rating:
    """One agent's rating with its bootstrap interval (``low``/``high``, same Elo scale)."""

    agent: str
    rating: float
    low: float
    high: float
    games: int
    """Games that count for the rating (self-play excluded)."""
    score: float
    """Points per game, draws as half: 0.5 means as many wins as losses."""


# -- outcomes from stored episodes -------------------------------------------------------------------


def score(reward_a: float, reward_b: float) -> float:
    """The game score of a seat against another in the same episode: higher reward wins."""
    if reward_a > reward_b:
        return 1.0
    if reward_a < reward_b:
        return 0.0
    return 0.5


def pairwise_outcomes_by_episode(rows: Iterable[SeatRow]) -> dict[str, list[Outcome]]:
    """The games inside each multi-seat episode, keyed by ``episode_key``.

    Seats are paired in seat order (every pair when there are more than two seats). Single-seat
    episodes have no opponent and give nothing; self-play pairs (the same agent in both seats) are
    dropped, because a game against yourself says nothing about relative strength.
    """
    seats: dict[str, list[SeatRow]] = defaultdict(list)
    for row in rows:
        seats[row.episode_key].append(row)
    games: dict[str, list[Outcome]] = {}
    for key, episode in seats.items():
        ordered = sorted(episode, key=lambda row: row.seat_index)
        pairs = [
            (first.agent, second.agent, score(first.reward, second.reward))
            for first, second in combinations(ordered, 2)
            if first.agent != second.agent
        ]
        if pairs:
            games[key] = pairs
    return games


def pairwise_outcomes(rows: Iterable[SeatRow]) -> list[Outcome]:
    """All games of ``rows`` (see ``pairwise_outcomes_by_episode``), flattened."""
    return [game for games in pairwise_outcomes_by_episode(rows).values() for game in games]


# -- the fit ---------------------------------------------------------------------------------------------


def _encode(outcomes: Sequence[Outcome]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Agents, and per game between two different agents: their indices, ``score_a`` and its position
    in ``outcomes`` (self-play is dropped: its likelihood does not depend on the ratings)."""
    agents = rated_agents(outcomes)
    index = {agent: k for k, agent in enumerate(agents)}
    kept = [k for k, (a, b, _) in enumerate(outcomes) if a != b]
    i = np.array([index[outcomes[k][0]] for k in kept], dtype=int)
    j = np.array([index[outcomes[k][1]] for k in kept], dtype=int)
    scores = np.array([outcomes[k][2] for k in kept], dtype=float)
    bad = scores[(scores < 0.0) | (scores > 1.0) | np.isnan(scores)]
    if bad.size:
        raise ValueError(f"scores must lie in [0, 1], got {bad[0]}")
    return agents, i, j, scores, np.array(kept, dtype=int)


def _tables(
    n: int, i: np.ndarray, j: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``games[a, b]`` played between a and b and ``points[a, b]`` that a scored against b, each game
    counted ``weights`` times (a bootstrap resample is just other weights)."""
    w = np.ones(len(i)) if weights is None else weights
    games = np.zeros((n, n))
    points = np.zeros((n, n))
    np.add.at(games, (i, j), w)
    np.add.at(games, (j, i), w)
    np.add.at(points, (i, j), w * scores)
    np.add.at(points, (j, i), w * (1.0 - scores))
    return games, points


def _strongly_connected(points: np.ndarray) -> bool:
    """Whether every agent can reach every other along "scored at least a draw against" edges.

    This is Ford's (1957) condition for the unpenalised maximum likelihood to exist: otherwise some
    group of agents never lost a point to the rest and its rating gap to them runs off to infinity.
    """
    beaten = points > 0
    n = len(points)

    def reach(adjacency: np.ndarray) -> int:
        seen, stack = {0}, [0]
        while stack:
            for k in np.flatnonzero(adjacency[stack.pop()]):
                if int(k) not in seen:
                    seen.add(int(k))
                    stack.append(int(k))
        return len(seen)

    return n <= 1 or (reach(beaten) == n and reach(beaten.T) == n)


def _objective(theta: np.ndarray, games: np.ndarray, points: np.ndarray, prior_games: float) -> float:
    """Negative penalised log-likelihood (logit scale)."""
    gap = theta[:, None] - theta[None, :]
    value = -float(np.sum(points * -np.logaddexp(0.0, -gap)))
    if prior_games:
        value += prior_games * float(np.sum(0.5 * np.logaddexp(0.0, -theta) + 0.5 * np.logaddexp(0.0, theta)))
    return value


def _fit_logits(
    games: np.ndarray, points: np.ndarray, prior_games: float, max_iter: int = 100, tol: float = 1e-10
) -> np.ndarray:
    """Newton's method with backtracking; the objective is convex, so this finds the optimum."""
    n = len(games)
    theta = np.zeros(n)
    current = _objective(theta, games, points, prior_games)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))  # p[i, j] = P(i beats j)
        gradient = np.sum(points - games * p, axis=1)
        weights = games * p * (1.0 - p)
        hessian = weights - np.diag(weights.sum(axis=1))  # of the log-likelihood: negative semidefinite
        if prior_games:
            q = 1.0 / (1.0 + np.exp(-theta))
            gradient += prior_games * (0.5 - q)
            hessian -= np.diag(prior_games * q * (1.0 - q))
        # Without a prior the Hessian is singular along "shift everyone": the minimum-norm solution
        # never moves in that direction, which is exactly the freedom the anchoring removes later.
        step = np.linalg.lstsq(-hessian, gradient, rcond=None)[0]
        size = 1.0
        while size > 1e-8:
            candidate = theta + size * step
            value = _objective(candidate, games, points, prior_games)
            if value <= current + 1e-12:
                break
            size /= 2.0
        else:
            break
        theta, previous, current = candidate, current, value
        if np.max(np.abs(size * step)) < tol or previous - current < tol * (1.0 + abs(current)):
            break
    return theta


def rated_agents(outcomes: Iterable[Outcome]) -> list[str]:
    """The agents with at least one game against another agent, sorted."""
    return sorted({name for a, b, _ in outcomes if a != b for name in (a, b)})


def _anchored(logits: np.ndarray, agents: Sequence[str], anchor: str | None) -> dict[str, float]:
    """Elo-scale ratings with ``anchor`` (or, with no anchor, the mean rating) at ``BASE_RATING``."""
    elo = logits * ELO_PER_LOGIT
    if anchor is None:
        elo = elo - elo.mean() + BASE_RATING
    else:
        elo = elo - elo[list(agents).index(anchor)] + BASE_RATING
    return {agent: float(value) for agent, value in zip(agents, elo, strict=True)}


def _fit_tables(
    games: np.ndarray, points: np.ndarray, agents: Sequence[str], anchor: str | None, prior_games: float
) -> dict[str, float]:
    """The anchored fit from count tables, refusing where the plain MLE does not exist."""
    if prior_games == 0 and not _strongly_connected(points):
        raise ValueError(
            "the unregularised Bradley-Terry MLE does not exist here: some agents never lost a point to "
            "the others (or never met them); use prior_games > 0"
        )
    return _anchored(_fit_logits(games, points, prior_games), agents, anchor)


def fit_bradley_terry(
    outcomes: Sequence[Outcome], *, anchor: str | None = None, prior_games: float = DEFAULT_PRIOR_GAMES
) -> dict[str, float]:
    """Maximum-likelihood Bradley–Terry ratings on the Elo scale.

    Maximises ``sum over games of s_ab * log P(a beats b) + (1 - s_ab) * log P(b beats a)`` with
    ``P(a beats b) = 1 / (1 + 10 ** ((R_b - R_a) / 400))``, plus a weak prior: each agent is credited
    with ``prior_games`` virtual draws against a fixed reference player (logit 0 before anchoring).
    The prior is what keeps an agent that won every game finite (its plain MLE is +infinity); it
    shrinks small samples towards each other, and the default of one virtual game is soon outweighed
    by real ones (3 wins to 1 fits about 165 points instead of the MLE's 191).

    With ``prior_games=0`` this is the plain MLE, which exists only when no group of agents is
    unbeaten by the rest (see ``_strongly_connected``); otherwise a ``ValueError`` says so.

    Ratings are then shifted so that ``anchor`` (an agent's name) or, when ``anchor`` is ``None``, the
    mean rating equals 1000. Self-play games are ignored.
    """
    if prior_games < 0:
        raise ValueError(f"prior_games must be >= 0, got {prior_games}")
    agents, i, j, scores, _ = _encode(outcomes)
    if not agents:
        return {}
    if anchor is not None and anchor not in agents:
        raise ValueError(f"anchor {anchor!r} played no rated games (agents: {', '.join(agents)})")
    games, points = _tables(len(agents), i, j, scores)
    return _fit_tables(games, points, agents, anchor, prior_games)


def bootstrap_ratings(
    outcomes: Sequence[Outcome],
    *,
    groups: Sequence[Hashable] | None = None,
    anchor: str | None = None,
    prior_games: float = DEFAULT_PRIOR_GAMES,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Ratings refitted on ``resamples`` resamples of the episodes, drawn with replacement.

    ``groups`` names the episode each outcome came from, so that the games of one many-seat episode
    are resampled together; by default each outcome is its own episode. The same ``seed`` gives the
    same draws. An agent absent from a resample gets NaN there. Resamples are put on the point
    estimate's scale: with an anchor, the anchor is 1000 in each (resamples without it are dropped);
    without one, the agents present keep the mean they have in the full-data fit. With fewer than two
    episodes there is nothing to resample and every agent gets an empty array.
    """
    if groups is not None and len(groups) != len(outcomes):
        raise ValueError(f"groups has {len(groups)} entries for {len(outcomes)} outcomes")
    agents, i, j, scores, positions = _encode(outcomes)
    labels = [groups[k] for k in positions] if groups is not None else list(range(len(positions)))
    episode_of = {label: e for e, label in enumerate(dict.fromkeys(labels))}
    group = np.array([episode_of[label] for label in labels], dtype=int)
    episodes = len(episode_of)
    if episodes < 2 or resamples <= 0:
        return {agent: np.empty(0) for agent in agents}
    full = fit_bradley_terry(outcomes, anchor=anchor, prior_games=prior_games)
    full_elo = np.array([full[agent] for agent in agents])
    rng = np.random.default_rng(seed)
    draws = np.full((resamples, len(agents)), np.nan)
    for row in range(resamples):
        weights = np.bincount(rng.integers(0, episodes, size=episodes), minlength=episodes)[group]
        games, points = _tables(len(agents), i, j, scores, weights.astype(float))
        present = np.flatnonzero(games.sum(axis=1) > 0)
        names = [agents[k] for k in present]
        if anchor is not None and anchor not in names:
            continue
        try:
            fitted = _fit_tables(
                games[np.ix_(present, present)], points[np.ix_(present, present)], names, anchor, prior_games
            )
        except ValueError:  # no MLE on this resample (only possible without a prior)
            continue
        values = np.array([fitted[name] for name in names])
        if anchor is None:
            values += full_elo[present].mean() - values.mean()
        draws[row, present] = values
    return {agent: draws[:, column] for column, agent in enumerate(agents)}


def rate(
    outcomes: Sequence[Outcome],
    *,
    groups: Sequence[Hashable] | None = None,
    anchor: str | None = None,
    prior_games: float = DEFAULT_PRIOR_GAMES,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> list[Rating]:
    """Point ratings (``fit_bradley_terry``) with percentile bootstrap intervals, best first.

    The interval is the central ``confidence`` share of the bootstrap ratings, widened if need be to
    contain the point estimate (with a prior and few games the two can disagree slightly, and an
    interval that excludes its own estimate only confuses the reader). The anchor's own interval is a
    single point: every rating is measured relative to it. With ``resamples=0`` or a single episode
    (nothing to resample) intervals are NaN.
    """
    point = fit_bradley_terry(outcomes, anchor=anchor, prior_games=prior_games)
    samples = bootstrap_ratings(
        outcomes, groups=groups, anchor=anchor, prior_games=prior_games, resamples=resamples, seed=seed
    )
    tail = (1.0 - confidence) / 2.0 * 100.0
    games: dict[str, int] = defaultdict(int)
    points: dict[str, float] = defaultdict(float)
    for a, b, score_a in outcomes:
        if a == b:
            continue
        games[a] += 1
        games[b] += 1
        points[a] += score_a
        points[b] += 1.0 - score_a
    ratings = []
    for agent, value in point.items():
        draws = samples[agent][~np.isnan(samples[agent])]
        if len(draws):
            low, high = np.percentile(draws, [tail, 100.0 - tail])
            low, high = min(float(low), value), max(float(high), value)
        else:
            low = high = math.nan
        ratings.append(Rating(agent, value, low, high, games[agent], points[agent] / games[agent]))
    return sorted(ratings, key=lambda rating: (-rating.rating, rating.agent))
