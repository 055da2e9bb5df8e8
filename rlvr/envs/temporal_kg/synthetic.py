"""A generated ICEWS-like temporal KG of fictional actors, so the TKG envs run offline and leak-free.

Real event graphs (ICEWS, GDELT) are what models have read about; a generated one with invented names
can only be answered by looking facts up. What is kept from ICEWS is the shape that makes its questions
hard:

* **Actors** like ICEWS's: countries, sector actors named after them ("Government (Veloria)",
  "Citizen (Veloria)", "Police (Veloria)"), one leader per country, international organisations, and
  many people; names are built from syllables, pronounceable and unique.
* **Heavy-tailed activity**: a few countries and leaders appear in thousands of facts, most people in a
  handful (log-normal activity weights), and most interactions stay inside a country.
* **Relationships with a tone**: a pair of actors has three favourite relations drawn from cooperative
  or hostile CAMEO-style relations (plus "Make statement"), so a pair keeps doing the same few things.
* **Bursts**: events come in episodes (a pair interacts several times within days, often on one day),
  episodes cluster around "crisis" days shared by the whole world, the other side often answers, and
  symmetric relations ("Consult", "Sign formal agreement") and visits are recorded from both sides on
  the same day, as ICEWS records them. This gives the same-day events, ties and repeated interactions
  that make "first", "last", "before" and "after" questions non-trivial.

Everything is vectorised numpy driven by one ``np.random.Generator`` seeded with ``seed`` (names are
assembled in a Python loop over the actors only), so 500k facts take a couple of seconds and the same
arguments always give the same graph. Exactly ``facts`` distinct facts are returned.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rlvr.envs.temporal_kg.store import Fact, TKGStore
from rlvr.envs.temporal_kg.timeutil import day_of

SYNTHETIC_VERSION = 1
"""Bumped whenever generation changes what a seed produces."""

# (relation, weight, tone) with tone 0 = neutral, 1 = cooperative, 2 = hostile. Weights follow ICEWS's
# rough frequencies: statements and consultations dominate, force and sanctions are rare.
RELATIONS: tuple[tuple[str, float, int], ...] = (
    ("Make statement", 30.0, 0),
    ("Consult", 14.0, 1),
    ("Make an appeal or request", 8.0, 0),
    ("Express intent to cooperate", 8.0, 1),
    ("Praise or endorse", 6.0, 1),
    ("Host a visit", 5.0, 1),
    ("Make a visit", 5.0, 1),
    ("Engage in negotiation", 4.0, 1),
    ("Express intent to meet or negotiate", 4.0, 1),
    ("Engage in diplomatic cooperation", 4.0, 1),
    ("Criticize or denounce", 6.0, 2),
    ("Accuse", 4.0, 2),
    ("Sign formal agreement", 3.0, 1),
    ("Provide aid", 3.0, 1),
    ("Make optimistic comment", 3.0, 0),
    ("Demand", 2.0, 2),
    ("Reject", 2.0, 2),
    ("Threaten", 2.0, 2),
    ("Arrest, detain, or charge with legal action", 2.0, 2),
    ("Meet at a 'third' location", 1.5, 1),
    ("Impose sanctions", 1.0, 2),
    ("Use conventional military force", 1.0, 2),
    ("Return, release person(s)", 0.8, 1),
    ("Deny responsibility", 0.8, 0),
)
MIRRORED = {
    "Consult": "Consult",
    "Make a visit": "Host a visit",
    "Host a visit": "Make a visit",
    "Sign formal agreement": "Sign formal agreement",
    "Engage in negotiation": "Engage in negotiation",
    "Meet at a 'third' location": "Meet at a 'third' location",
}
"""Relations ICEWS records from both sides: the mirror fact (object, mirror, subject) on the same day."""

SECTORS = (
    "Government",
    "Citizen",
    "Head of Government",
    "Police",
    "Military",
    "Ministry of Foreign Affairs",
    "Opposition Party",
    "Business",
    "Parliament",
    "Media",
    "Protester",
    "Ministry of Defense",
    "Court",
    "Armed Rebel",
    "Ministry of Finance",
    "Labor Union",
)
_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "r", "s", "st", "t")
_ONSETS += ("tr", "v", "z", "th", "sh", "j", "kr", "pl", "w", "y")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "i", "ai", "ea", "ou", "ei")
_CODAS = ("", "", "", "n", "r", "l", "s", "m", "k", "nd", "rt", "th", "x")
_SOFT_CODAS = ("n", "r", "l", "m")
_COUNTRY_SUFFIXES = ("nia", "land", "stan", "ra", "ria", "mark", "via", "lia", "dor", "ca", "var", "ntia")
_REGIONS = (
    "Northern",
    "Southern",
    "Eastern",
    "Western",
    "Central",
    "Coastal",
    "Highland",
    "Island",
    "Pacific",
)
_REGIONS += ("Atlantic", "Continental", "Inland", "Polar", "Desert", "River", "Mountain")
_ORG_NOUNS = ("Council", "Union", "Alliance", "Development Bank", "Commission", "Cooperation Forum")
_ORG_NOUNS += (
    "Court of Justice",
    "Trade Bloc",
    "Security Pact",
    "Assembly",
    "Monetary Fund",
    "Health Agency",
)
_ORG_NOUNS += ("Refugee Agency", "Energy Agency", "Peace Mission", "Summit", "League", "Red Crescent")

_HOSTILE_PAIR_SHARE = 0.22
_LOCAL_PARTNER_SHARE = 0.45
_CRISIS_SHARE = 0.3
_ANSWER_BACK_SHARE = 0.3
_MIRROR_SHARE = 0.6


def _word(rng: np.random.Generator, low: int, high: int, *, ending: bool = True) -> str:
    """Onset-vowel syllables; only soft codas inside the word, so no unpronounceable clusters."""
    count = int(rng.integers(low, high + 1))
    parts = []
    for i in range(count):
        parts.append(_ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))])
        if i < count - 1:
            if rng.random() < 0.25:
                parts.append(_SOFT_CODAS[rng.integers(len(_SOFT_CODAS))])
        elif ending:
            parts.append(_CODAS[rng.integers(len(_CODAS))])
    return "".join(parts).capitalize()


def _unique(make: Callable[[np.random.Generator], str], taken: set[str], rng: np.random.Generator) -> str:
    for _ in range(1000):
        name = make(rng)
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("could not invent a new unique name")  # pragma: no cover - 1000 clashes in a row


def _country_name(rng: np.random.Generator) -> str:
    if rng.random() < 0.25:
        return _word(rng, 2, 3)
    # The stem ends in a vowel (no final coda), so every suffix starts with a consonant.
    return _word(rng, 1, 2, ending=False) + _COUNTRY_SUFFIXES[rng.integers(len(_COUNTRY_SUFFIXES))]


def _person_name(rng: np.random.Generator) -> str:
    return f"{_word(rng, 1, 2)} {_word(rng, 2, 3)}"


def _org_name(rng: np.random.Generator) -> str:
    noun = _ORG_NOUNS[rng.integers(len(_ORG_NOUNS))]
    roll = rng.random()
    if roll < 0.5:
        return f"{_REGIONS[rng.integers(len(_REGIONS))]} {noun}"
    if roll < 0.8:
        return f"{noun} of {_word(rng, 2, 3)}"
    return f"{_word(rng, 2, 2)} {noun}"


class _Actors:
    """Names, home country (index into countries, -1 for organisations) and activity of every actor."""

    def __init__(self, rng: np.random.Generator, total: int) -> None:
        countries = int(np.clip(round(total * 0.04), 4, 250))
        orgs = int(np.clip(round(total * 0.03), 2, 400))
        sectors = int(np.clip(round(total * 0.3 / countries), 2, len(SECTORS)))
        people = max(total - countries * (1 + sectors + 1) - orgs, 0)
        taken: set[str] = set()
        names: list[str] = []
        home: list[int] = []
        activity: list[np.ndarray] = []
        country_names = [_unique(_country_name, taken, rng) for _ in range(countries)]
        names += country_names
        home += list(range(countries))
        activity.append(rng.lognormal(3.0, 0.8, countries))
        for c, country in enumerate(country_names):
            sector_names = [f"{sector} ({country})" for sector in SECTORS[:sectors]]
            taken.update(sector_names)
            names += sector_names
            home += [c] * sectors
            activity.append(rng.lognormal(1.0, 0.9, sectors) * np.linspace(3.0, 1.0, sectors))
        names += [_unique(_person_name, taken, rng) for _ in range(countries)]  # one leader per country
        home += list(range(countries))
        activity.append(rng.lognormal(2.3, 0.7, countries))
        names += [_unique(_org_name, taken, rng) for _ in range(orgs)]
        home += [-1] * orgs
        activity.append(rng.lognormal(1.2, 0.8, orgs))
        names += [_unique(_person_name, taken, rng) for _ in range(people)]
        home += rng.integers(countries, size=people).tolist()
        activity.append(rng.lognormal(0.0, 1.2, people))
        self.names = names
        self.home = np.asarray(home, dtype=np.int64)
        self.activity = np.concatenate(activity)
        self.countries = countries
        # CSR of actors by home country, for drawing a partner from the same country.
        local = np.flatnonzero(self.home >= 0)
        self.by_home = local[np.argsort(self.home[local], kind="stable")]
        self.home_offsets = np.zeros(countries + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.home[local], minlength=countries), out=self.home_offsets[1:])


class _Pairs:
    """Recurring relationships: who, how often (weight), and their three favourite relations."""

    def __init__(self, rng: np.random.Generator, actors: _Actors, count: int) -> None:
        p = actors.activity / actors.activity.sum()
        size = len(actors.names)
        subject = rng.choice(size, count, p=p)
        partner = rng.choice(size, count, p=p)
        home = actors.home[subject]
        local = (rng.random(count) < _LOCAL_PARTNER_SHARE) & (home >= 0)
        lo, hi = actors.home_offsets[home[local]], actors.home_offsets[home[local] + 1]
        partner[local] = actors.by_home[lo + (rng.random(local.sum()) * (hi - lo)).astype(np.int64)]
        keep = subject != partner
        self.subject, self.object = subject[keep], partner[keep]
        kept = int(keep.sum())
        self.weight = np.sqrt(actors.activity[self.subject] * actors.activity[self.object])
        self.weight *= rng.lognormal(0.0, 1.0, kept)
        hostile = rng.random(kept) < _HOSTILE_PAIR_SHARE
        weights = np.asarray([weight for _, weight, _ in RELATIONS])
        tones = np.asarray([tone for _, _, tone in RELATIONS])
        self.favourites = np.empty((kept, 3), dtype=np.int64)
        for mask, tone in ((~hostile, 1), (hostile, 2)):
            allowed = np.where((tones == 0) | (tones == tone), weights, 0.0)
            self.favourites[mask] = rng.choice(
                len(RELATIONS), (int(mask.sum()), 3), p=allowed / allowed.sum()
            )


def _events(
    rng: np.random.Generator, pairs: _Pairs, count: int, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """About ``count`` events (before mirroring and de-duplication) as subject/relation/object/day arrays."""
    episodes = max(int(count / 2.5), 1)
    pair = rng.choice(len(pairs.weight), episodes, p=pairs.weight / pairs.weight.sum())
    crises = rng.integers(days, size=max(days // 45, 1))
    near_crisis = rng.random(episodes) < _CRISIS_SHARE
    begin = rng.integers(days, size=episodes)
    begin[near_crisis] = crises[rng.integers(len(crises), size=int(near_crisis.sum()))] + np.rint(
        rng.normal(0.0, 4.0, int(near_crisis.sum()))
    ).astype(np.int64)
    size = rng.geometric(0.4, episodes)
    episode = np.repeat(np.arange(episodes), size)
    first = np.zeros(len(episode), dtype=bool)
    first[np.cumsum(size) - size] = True
    gap = np.where(rng.random(len(episode)) < 0.45, 0, rng.geometric(0.25, len(episode)))
    gap[first] = 0
    elapsed = np.cumsum(gap)
    elapsed -= np.repeat(elapsed[first], size)
    day = begin[episode] + elapsed
    which = rng.choice(3, len(episode), p=[0.55, 0.3, 0.15])
    relation = pairs.favourites[pair[episode], which]
    subject, obj = pairs.subject[pair[episode]].copy(), pairs.object[pair[episode]].copy()
    back = rng.random(len(episode)) < _ANSWER_BACK_SHARE
    subject[back], obj[back] = obj[back], subject[back].copy()
    names = [name for name, _, _ in RELATIONS]
    mirror_of = np.asarray([names.index(MIRRORED.get(name, name)) for name in names])
    mirrored = np.isin(relation, [names.index(name) for name in MIRRORED])
    mirrored &= rng.random(len(episode)) < _MIRROR_SHARE
    subject = np.concatenate([subject, obj[mirrored]])
    obj = np.concatenate([obj, subject[: len(episode)][mirrored]])
    relation = np.concatenate([relation, mirror_of[relation[mirrored]]])
    day = np.concatenate([day, day[mirrored]])
    inside = (day >= 0) & (day < days)
    return subject[inside], relation[inside], obj[inside], day[inside]


def _distinct(columns: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Columns with duplicate rows removed, in first-seen order."""
    keys = np.stack(columns, axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    first.sort()
    return tuple(column[first] for column in columns)


def generate_tkg(
    seed: int = 0,
    *,
    facts: int = 20_000,
    entities: int | None = None,
    start: str = "2014-01-01",
    days: int = 730,
) -> TKGStore:
    """An ICEWS-like store of exactly ``facts`` distinct point events over ``days`` days from ``start``.

    ``entities`` is the size of the actor pool (default ``max(60, facts // 25)``, ICEWS05-15's ratio);
    only actors that take part in some fact are kept, so the store has at most that many.
    """
    if facts < 1 or days < 1:
        raise ValueError("facts and days must be positive")
    total = max(60, facts // 25) if entities is None else entities
    if total < 20:
        raise ValueError("entities must be at least 20 (countries, their sectors and leaders)")
    rng = np.random.default_rng(seed)
    actors = _Actors(rng, total)
    pairs = _Pairs(rng, actors, max(facts // 5, 20))
    collected: tuple[np.ndarray, ...] = tuple(np.empty(0, dtype=np.int64) for _ in range(4))
    want = facts
    for _ in range(50):
        batch = _events(rng, pairs, int(want * 1.1) + 10, days)
        collected = _distinct(tuple(np.concatenate(pair) for pair in zip(collected, batch, strict=True)))
        if len(collected[0]) >= facts:
            break
        want = facts - len(collected[0])
    else:  # pragma: no cover - needs a graph too small to hold ``facts`` distinct facts
        raise ValueError(f"cannot generate {facts} distinct facts with {total} actors over {days} days")
    keep = np.sort(rng.choice(len(collected[0]), facts, replace=False))
    subject, relation, obj, day = (column[keep] for column in collected)
    used = np.unique(np.concatenate([subject, obj]))
    remap = np.full(len(actors.names), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return TKGStore.from_arrays(
        [actors.names[i] for i in used],
        [name for name, _, _ in RELATIONS],
        remap[subject],
        relation,
        remap[obj],
        day_of(start) + day,
    )


def generate_fact_list(
    seed: int = 0,
    *,
    facts: int = 20_000,
    entities: int | None = None,
    start: str = "2014-01-01",
    days: int = 730,
) -> list[Fact]:
    """``generate_tkg``'s facts as a list, in time order (ties by subject, relation, object)."""
    return list(generate_tkg(seed, facts=facts, entities=entities, start=start, days=days))
